"""The error contract: status code, ErrorInfo, BadRequest / RequestInfo / ResourceInfo details."""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from smgrpc.app import Region
from tests.api.helpers import aws_error, create, tok
from tests.conftest import admin_channel, pb

SERVICE = "/smgrpc.secretsmanager.v1.SecretsManager/"


async def details(call) -> tuple[grpc.StatusCode, dict[str, object]]:
    try:
        await call
    except grpc.aio.AioRpcError as exc:
        status = rpc_status.from_call(exc)  # type: ignore[arg-type]
        assert status is not None
        out: dict[str, object] = {}
        for d in status.details:
            for cls in (
                error_details_pb2.ErrorInfo,
                error_details_pb2.BadRequest,
                error_details_pb2.RequestInfo,
                error_details_pb2.ResourceInfo,
            ):
                if d.Is(cls.DESCRIPTOR):
                    msg = cls()
                    d.Unpack(msg)
                    out[cls.__name__] = msg
        return exc.code(), out
    raise AssertionError("the call succeeded")


async def test_validation_error_names_the_field(stub) -> None:
    code, d = await details(stub.CreateSecret(pb.CreateSecretRequest(name="x" * 513)))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    info = d["ErrorInfo"]
    assert (info.reason, info.domain, info.metadata["awsErrorCode"]) == (  # type: ignore[attr-defined]
        "VALIDATION",
        "smgrpc",
        "ValidationException",
    )
    (violation,) = d["BadRequest"].field_violations  # type: ignore[attr-defined]
    assert violation.field == "name"
    assert violation.description.startswith("1 validation error detected")
    assert len(d["RequestInfo"].request_id) == 36  # type: ignore[attr-defined]


async def test_not_found_names_the_resource(stub) -> None:
    code, d = await details(stub.DescribeSecret(pb.DescribeSecretRequest(secret_id="missing")))
    assert code == grpc.StatusCode.NOT_FOUND
    res = d["ResourceInfo"]
    assert (res.resource_type, res.resource_name) == ("secretsmanager:secret", "missing")  # type: ignore[attr-defined]
    assert "BadRequest" not in d


async def test_conflict_names_the_secret(stub) -> None:
    c = await create(stub, "s", "v", client_request_token=tok(1))
    code, d = await details(
        stub.CreateSecret(
            pb.CreateSecretRequest(name="s", secret_string="other", client_request_token=tok(1))
        )
    )
    assert code == grpc.StatusCode.ALREADY_EXISTS
    assert d["ResourceInfo"].resource_name == c.arn  # type: ignore[attr-defined]


async def test_request_ids_are_unique(stub) -> None:
    ids = set()
    for _ in range(3):
        _, d = await details(stub.DescribeSecret(pb.DescribeSecretRequest(secret_id="missing")))
        ids.add(d["RequestInfo"].request_id)  # type: ignore[attr-defined]
    assert len(ids) == 3


async def test_error_messages_never_contain_the_value(stub) -> None:
    secret = "TOPSECRET-0123456789"
    await create(stub, "s", secret, client_request_token=tok(1))
    for call in (
        stub.CreateSecret(
            pb.CreateSecretRequest(
                name="s", secret_string=secret + "x", client_request_token=tok(1)
            )
        ),
        stub.PutSecretValue(pb.PutSecretValueRequest(secret_id="s", secret_string=secret * 4000)),
        stub.PutSecretValue(
            pb.PutSecretValueRequest(secret_id="s", secret_string=secret, secret_binary=b"x")
        ),
        stub.PutSecretValue(
            pb.PutSecretValueRequest(
                secret_id="s", secret_string=secret, client_request_token=tok(1) + "x" * 40
            )
        ),
    ):
        err = await aws_error(call)
        assert "TOPSECRET" not in err.message, err


async def test_undecodable_request_is_invalid_parameter(region: Region) -> None:
    # Field 1 (name) holding two bytes that are not UTF-8.
    async with admin_channel(region) as channel:
        call = channel.unary_unary(
            SERVICE + "CreateSecret",
            request_serializer=lambda b: b,
            response_deserializer=pb.CreateSecretResponse.FromString,
        )
        err = await aws_error(call(b"\x0a\x02\xff\xfe"))
    assert (err.code, err.aws_code) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "InvalidParameterException",
    )
    assert "invalid UTF-8" in err.message
