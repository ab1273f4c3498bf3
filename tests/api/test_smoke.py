"""End-to-end smoke: create, read, error detail."""

from __future__ import annotations

import grpc

from tests.conftest import aws_error, pb


async def test_create_then_get(stub) -> None:
    created = await stub.CreateSecret(
        pb.CreateSecretRequest(name="db/pass", secret_string="s3cret")
    )
    assert created.arn.startswith("arn:aws:secretsmanager:us-east-1:123456789012:secret:db/pass-")
    assert len(created.arn.rsplit("-", 1)[1]) == 6
    got = await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="db/pass"))
    assert got.secret_string == "s3cret"
    assert list(got.version_stages) == ["AWSCURRENT"]
    assert got.version_id == created.version_id


async def test_not_found_has_error_info(stub) -> None:
    err = await aws_error(stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="missing")))
    assert err.code == grpc.StatusCode.NOT_FOUND
    assert err.aws_code == "ResourceNotFoundException"
    assert err.reason == "RESOURCE_NOT_FOUND"
    assert err.message == "Secrets Manager can't find the specified secret."
