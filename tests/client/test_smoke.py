"""The sync client against a real Region: a first round trip and a decoded error."""

from __future__ import annotations

import grpc
import pytest

from smgrpc.client import SecretsManagerClient, errors
from smgrpc.client.operations import OPERATIONS
from tests.client.conftest import Served


def test_create_get_and_not_found(client: SecretsManagerClient) -> None:
    created = client.create_secret(Name="db", SecretString="s3cr3t")
    got = client.get_secret_value(SecretId="db")
    assert got.secret_string == "s3cr3t"
    assert got.arn == created.arn and got.version_id == created.version_id
    assert list(got.version_stages) == ["AWSCURRENT"]
    with pytest.raises(client.exceptions.ResourceNotFoundException) as info:
        client.get_secret_value(SecretId="nope")
    e = info.value
    assert isinstance(e, errors.ServiceError)
    assert e.code == "ResourceNotFoundException"
    assert e.status == grpc.StatusCode.NOT_FOUND
    assert e.operation == "GetSecretValue"
    assert e.request_id and len(e.request_id) >= 8
    assert str(e) == (
        "An error occurred (ResourceNotFoundException) when calling the GetSecretValue "
        "operation: Secrets Manager can't find the specified secret."
    )


def test_every_unary_operation_has_a_method(served: Served) -> None:
    for op in OPERATIONS.values():
        for cls in (SecretsManagerClient,):
            name = "watch_secrets" if op.streaming else op.python_name
            assert callable(getattr(cls, name, None)), name
