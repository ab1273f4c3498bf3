"""AWS's client-side caching library (pip aws-secretsmanager-caching) reading through the AWS
listener of a real `smgrpc serve` process: cached reads make no call, a PutSecretValue shows
once the refresh interval passed, binary values, stages, the decorators and errors."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from aws_secretsmanager_caching import (
    InjectKeywordedSecretString,
    InjectSecretString,
    SecretCache,
    SecretCacheConfig,
)
from botocore.exceptions import ClientError

from tests.awswire.conftest import AwsRegion

TTL = 2  # seconds (the library refreshes after a random ttl/2..ttl)


class Calls:
    """Counts the HTTP requests a boto3 client sends, by operation."""

    def __init__(self, client: Any) -> None:
        self.seen: list[str] = []
        client.meta.events.register("before-send.secrets-manager", self._sent)

    def _sent(self, request: Any, **_: Any) -> None:
        target = request.headers["X-Amz-Target"]
        text = target.decode() if isinstance(target, bytes) else target
        self.seen.append(text.split(".", 1)[1])


@pytest.fixture
def cache(aws: AwsRegion) -> tuple[SecretCache, Calls]:
    client = aws.client()
    calls = Calls(client)
    return SecretCache(SecretCacheConfig(secret_refresh_interval=TTL), client=client), calls


def test_cached_reads_and_refresh_after_put(
    aws: AwsRegion, cache: tuple[SecretCache, Calls]
) -> None:
    sc, calls = cache
    sm = aws.client()
    sm.create_secret(Name="cache/db", SecretString="v1")
    assert sc.get_secret_string("cache/db") == "v1"
    assert calls.seen == ["DescribeSecret", "GetSecretValue"]
    for _ in range(20):
        assert sc.get_secret_string("cache/db") == "v1"
    assert len(calls.seen) == 2  # served from the cache
    sm.put_secret_value(SecretId="cache/db", SecretString="v2")
    assert sc.get_secret_string("cache/db") == "v1"  # still within its refresh interval
    time.sleep(TTL + 0.2)
    assert sc.get_secret_string("cache/db") == "v2"
    assert calls.seen[2:] == ["DescribeSecret", "GetSecretValue"]  # the new version, once
    # The previous version by stage, and an explicit refresh.
    assert sc.get_secret_string("cache/db", "AWSPREVIOUS") == "v1"
    sm.put_secret_value(SecretId="cache/db", SecretString="v3")
    assert sc.refresh_secret_now("cache/db") is True
    assert sc.get_secret_string("cache/db") == "v3"


def test_binary_decorators_and_errors(aws: AwsRegion, cache: tuple[SecretCache, Calls]) -> None:
    sc, _ = cache
    sm = aws.client()
    blob = bytes(range(256))
    sm.create_secret(Name="cache/blob", SecretBinary=blob)
    assert sc.get_secret_binary("cache/blob") == blob
    assert sc.get_secret_string("cache/blob") is None
    sm.create_secret(Name="cache/json", SecretString=json.dumps({"user": "app", "pw": "s3cret"}))

    @InjectKeywordedSecretString("cache/json", sc, user="user", password="pw")
    def connect(user: str, password: str) -> str:
        return f"{user}:{password}"

    @InjectSecretString("cache/json", sc)
    def raw(value: str) -> dict[str, str]:
        return dict(json.loads(value))

    assert connect() == "app:s3cret"
    assert raw() == {"user": "app", "pw": "s3cret"}
    with pytest.raises(ClientError) as info:
        sc.get_secret_string("cache/nope")
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
