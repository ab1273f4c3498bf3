"""Error classes by name: known codes only (a misspelling is an AttributeError, not a class
that never matches); a code the client does not know still decodes, to a ServiceError
subclass of that name made when it is first seen."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from smgrpc.client import AsyncSecretsManagerClient, SecretsManagerClient, errors, settings
from smgrpc.client.retry import RetryPolicy


def test_misspelled_codes_are_attribute_errors(client: SecretsManagerClient) -> None:
    for name in ("ResourceNotFoundExceptoin", "ResourceNotFound", "Bogus", "AccessDeniedExcption"):
        with pytest.raises(AttributeError):
            getattr(errors, name)
        with pytest.raises(AttributeError):
            getattr(client.exceptions, name)
    assert not hasattr(errors, "ResourceNotFoundExceptoin")
    # Known codes, with a class of their own or not, are reachable; the decoded one matches.
    assert errors.NoSuchEntity is errors.error_class("NoSuchEntity")
    assert issubclass(errors.ExpiredTokenException, errors.ServiceError)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_secret_value(SecretId="nope")


@pytest.fixture
async def odd_server() -> AsyncIterator[int]:
    """A real grpc.aio server whose every call fails with an AWS code the client has no
    class for (as a newer server might answer)."""

    async def fail(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        detail = any_pb2.Any()
        detail.Pack(
            error_details_pb2.ErrorInfo(
                reason="FROBNICATED", metadata={"awsErrorCode": "FrobnicatedException"}
            )
        )
        status = status_pb2.Status(
            code=code_pb2.FAILED_PRECONDITION, message="frobnicated", details=[detail]
        )
        await context.abort_with_status(rpc_status.to_status(status))
        return b""

    class Handler(grpc.GenericRpcHandler):  # type: ignore[misc]
        def service(self, details: Any) -> grpc.RpcMethodHandler:
            return grpc.unary_unary_rpc_method_handler(fail)

    server = grpc.aio.server()
    server.add_generic_rpc_handlers((Handler(),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield port
    await server.stop(0)


async def test_unknown_server_codes_decode_to_a_service_error(odd_server: int) -> None:
    s = settings(endpoint=f"127.0.0.1:{odd_server}", token="AKIAX:" + "s" * 40, env={})
    async with AsyncSecretsManagerClient(s, retries=RetryPolicy(max_attempts=1)) as c:
        with pytest.raises(errors.ServiceError) as got:
            await c.get_secret_value(SecretId="x")
    exc = got.value
    assert type(exc).__name__ == "FrobnicatedException" and exc.code == "FrobnicatedException"
    assert type(exc) is not errors.ServiceError and exc.message == "frobnicated"
    assert str(exc).startswith("An error occurred (FrobnicatedException) when calling the Get")
    with pytest.raises(AttributeError):
        errors.FrobnicatedException  # noqa: B018 - decoded, yet not a name to catch by
