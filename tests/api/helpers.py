"""Small helpers shared by the API tests (no fixtures here: those live in tests/conftest.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc

from smgrpc.api.servicer import SecretsManagerServicer
from smgrpc.app import Region
from smgrpc.cli.main import main as cli_main
from smgrpc.core.policies import PolicyUseCases
from tests.conftest import AwsError, aws_error, pb

T = TypeVar("T")

ACCOUNT = "123456789012"
ARN_PREFIX = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:"
NOT_FOUND = "Secrets Manager can't find the specified secret."
MARKED_DELETED = "You tried to perform the operation on a secret that's currently marked deleted."
UPDATE_MARKED_DELETED = (
    "You can't perform this operation on the secret because it was marked for deletion."
)
INVALID_NAME = (
    "Invalid name. Must be a valid name containing alphanumeric characters, or any of the "
    "following: -/_+=.@!"
)
TOKEN_LENGTH = "ClientRequestToken must be 32-64 characters long."
DAY = 86400


def tok(n: int | str) -> str:
    """A valid 32-character ClientRequestToken, distinct per n."""
    return f"tok-{n}-".ljust(32, "0")


def validation_msg(path: str, constraint: str, value: str | None = None) -> str:
    shown = f"Value '{value}' at" if value is not None else "Value at"
    return (
        f"1 validation error detected: {shown} '{path}' failed to satisfy constraint: {constraint}"
    )


async def create(
    stub: Any, name: str, value: str | None = "v", **kw: Any
) -> pb.CreateSecretResponse:
    if value is not None:
        kw["secret_string"] = value
    return await stub.CreateSecret(pb.CreateSecretRequest(name=name, **kw))  # type: ignore[no-any-return]


async def describe(stub: Any, secret_id: str) -> pb.DescribeSecretResponse:
    return await stub.DescribeSecret(pb.DescribeSecretRequest(secret_id=secret_id))  # type: ignore[no-any-return]


async def get(stub: Any, secret_id: str, **kw: Any) -> pb.GetSecretValueResponse:
    return await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id=secret_id, **kw))  # type: ignore[no-any-return]


async def put(
    stub: Any, secret_id: str, value: str | None = None, **kw: Any
) -> pb.PutSecretValueResponse:
    if value is not None:
        kw["secret_string"] = value
    return await stub.PutSecretValue(pb.PutSecretValueRequest(secret_id=secret_id, **kw))  # type: ignore[no-any-return]


async def stage_map(stub: Any, secret_id: str) -> dict[str, list[str]]:
    """DescribeSecret VersionIdsToStages as a plain dict of sorted label lists."""
    d = await describe(stub, secret_id)
    return {vid: sorted(s.stages) for vid, s in d.version_ids_to_stages.items()}


async def versions(stub: Any, secret_id: str, deprecated: bool = False) -> dict[str, list[str]]:
    """ListSecretVersionIds (all pages) as {version id: sorted labels}."""
    out: dict[str, list[str]] = {}
    token: str | None = None
    for _ in range(1000):  # a paging bug must fail the test, not hang it
        req = pb.ListSecretVersionIdsRequest(secret_id=secret_id, include_deprecated=deprecated)
        if token:
            req.next_token = token
        resp = await stub.ListSecretVersionIds(req)
        for v in resp.versions:
            out[v.version_id] = sorted(v.version_stages)
        if not resp.HasField("next_token"):
            return out
        token = resp.next_token
    raise AssertionError("ListSecretVersionIds paging did not end")


async def list_all(stub: Any, **kw: Any) -> list[pb.SecretListEntry]:
    """Every ListSecrets page chained by NextToken."""
    out: list[pb.SecretListEntry] = []
    token: str | None = None
    for _ in range(1000):  # a paging bug must fail the test, not hang it
        req = pb.ListSecretsRequest(**kw)
        if token:
            req.next_token = token
        resp = await stub.ListSecrets(req)
        out.extend(resp.secret_list)
        if not resp.HasField("next_token"):
            return out
        token = resp.next_token
    raise AssertionError("ListSecrets paging did not end")


async def names(stub: Any, **kw: Any) -> list[str]:
    return [e.name for e in await list_all(stub, **kw)]


def flt(key: str, *values: str) -> pb.Filter:
    return pb.Filter(key=key, values=list(values))


async def expect(
    call: Awaitable[Any], code: grpc.StatusCode, aws_code: str, message: str | None = None
) -> AwsError:
    """Assert that a call fails with this status, AWS code and (if given) exact message."""
    err = await aws_error(call)
    assert (err.code, err.aws_code) == (code, aws_code), err
    if message is not None:
        assert err.message == message
    return err


async def poll(
    check: Callable[[], Awaitable[T | None]], within: float = 5.0, interval: float = 0.02
) -> T:
    """Call check until it returns something other than None (or fail after `within` s)."""
    deadline = time.monotonic() + within
    while True:
        got = await check()
        if got is not None:
            return got
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached before the timeout")
        await asyncio.sleep(interval)


async def kms(region: Region, *args: str) -> None:
    """Run `smgrpc kms <args>` (the real CLI entry point) against the Region's data dir.

    It runs in a worker thread (its own event loop and SQLite connection), which is much
    faster than a new interpreter; the running server notices the change within ~0.1 s.
    """
    argv = [
        "kms",
        *args,
        "--data-dir",
        str(region.config.data_dir),
        "--region",
        region.config.region,
    ]
    assert await asyncio.to_thread(cli_main, argv) == 0


def servicer_of(region: Region) -> SecretsManagerServicer:
    """A SecretsManager servicer over a running Region's use cases (for tests that serve it
    behind their own guard, or call its methods directly)."""
    return SecretsManagerServicer(
        region.secrets,
        region.values,
        region.replicas,
        region.config.region,
        policies=PolicyUseCases(region.store),
        rotation=region.rotation,
    )
