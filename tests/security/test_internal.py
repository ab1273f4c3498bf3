"""One error boundary (§C.8 rule 2, §D row 28): anything unexpected is INTERNAL + request id.

A tiny extra service is registered through smgrpc.api.handlers.wrap (the same wrapper every
SecretsManager method goes through) and made to raise an exception whose text is the canary.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from smgrpc.api.handlers import wrap
from tests.conftest import CANARY

SERVICE = "smgrpc.test.Boom"
REQUEST_ID = re.compile(r"request id ([0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12})")


async def _explode(request: bytes, context: Any) -> bytes:
    secret_local = CANARY  # a local holding plaintext must not reach the log (no locals capture)
    try:
        raise ValueError(secret_local)
    except ValueError as inner:
        raise RuntimeError(f"while handling {secret_local}") from inner


async def _nested(request: bytes, context: Any) -> bytes:
    def deeper(value: str) -> None:
        raise KeyError(value)

    deeper(CANARY)
    return b""


async def _slow(request: bytes, context: Any) -> bytes:
    await asyncio.sleep(30)
    return b""


@pytest.fixture
async def boom() -> AsyncIterator[grpc.aio.Channel]:
    handlers = {
        name: grpc.unary_unary_rpc_method_handler(wrap(name, behavior))
        for name, behavior in (("Explode", _explode), ("Nested", _nested), ("Slow", _slow))
    }
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield channel
    finally:
        await server.stop(0)


def _log_text(caplog: pytest.LogCaptureFixture) -> str:
    """Everything a log handler could render, including args and exception text."""
    parts = []
    for rec in caplog.records:
        parts += [rec.getMessage(), repr(rec.args), rec.exc_text or "", repr(rec.exc_info)]
    return "\n".join(parts) + caplog.text


@pytest.mark.parametrize(
    ("method", "exc_type"), [("Explode", "RuntimeError"), ("Nested", "KeyError")]
)
async def test_unexpected_exception_is_internal_with_request_id_and_no_canary(
    boom: grpc.aio.Channel, caplog: pytest.LogCaptureFixture, method: str, exc_type: str
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await boom.unary_unary(f"/{SERVICE}/{method}")(b"")
    exc = info.value
    assert exc.code() == grpc.StatusCode.INTERNAL  # never UNKNOWN "Unexpected <class ...>"
    details = exc.details() or ""
    match = REQUEST_ID.search(details)
    assert match, details
    assert details == f"InternalServiceError (request id {match.group(1)})"
    status = rpc_status.from_call(exc)  # type: ignore[arg-type]
    assert status is not None
    err, req = error_details_pb2.ErrorInfo(), error_details_pb2.RequestInfo()
    for d in status.details:
        if d.Is(err.DESCRIPTOR):
            d.Unpack(err)
        if d.Is(req.DESCRIPTOR):
            d.Unpack(req)
    assert (err.reason, err.domain, err.metadata["awsErrorCode"]) == (
        "INTERNAL_SERVICE_ERROR",
        "smgrpc",
        "InternalServiceError",
    )
    assert req.request_id == match.group(1)
    everything_client = [details, exc.debug_error_string() or "", status.SerializeToString()]
    assert all(
        CANARY.encode() not in (p if isinstance(p, bytes) else p.encode())
        for p in everything_client
    )

    text = _log_text(caplog)
    assert exc_type in text  # the type and the request id are logged, for the operator...
    assert match.group(1) in text
    assert "test_internal.py" in text  # ...with the frames
    assert CANARY not in text  # ...but never the exception's message


async def test_cancelled_call_is_not_reported_as_internal(
    boom: grpc.aio.Channel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await boom.unary_unary(f"/{SERVICE}/Slow")(b"", timeout=0.2)
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    await asyncio.sleep(0.2)  # let the server side observe the cancellation
    assert "internal error" not in caplog.text
