"""GrpcInvoker against a real in-process RotationFunction server: success, status codes
(transient or not), deadlines, TLS with --rotation-ca, and what may be logged."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from smgrpc._pb.rotation.v1 import rotation_pb2 as rpb
from smgrpc._pb.rotation.v1 import rotation_pb2_grpc as rpbg
from smgrpc.config import ConfigError
from smgrpc.crypto.certs import make_ca, server_cert
from smgrpc.rotation.engine import function_tls
from smgrpc.rotation.invokers import (
    GrpcInvoker,
    RotationEvent,
    StepFailed,
    printable,
)
from tests.conftest import CANARY, make_config

EVENT = RotationEvent("createSecret", "arn:s", "v" * 36, "t" * 36)


class Answer(rpbg.RotationFunctionServicer):  # type: ignore[misc]
    """Answers each call as `self.mode` says; records the events it got."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.seen: list[rpb.RotationEvent] = []

    async def Invoke(self, request: rpb.RotationEvent, context: Any) -> rpb.RotationResult:  # noqa: N802
        self.seen.append(request)
        if self.mode == "hang":
            await asyncio.Event().wait()
        if self.mode != "ok":
            await context.abort(grpc.StatusCode[self.mode], "x" * 150 + CANARY + "\x1b[31m")
        return rpb.RotationResult()


async def serve(answer: Answer, creds: grpc.ServerCredentials | None = None) -> tuple[Any, int]:
    server = grpc.aio.server()
    rpbg.add_RotationFunctionServicer_to_server(answer, server)
    port = (
        server.add_secure_port("127.0.0.1:0", creds)
        if creds
        else server.add_insecure_port("127.0.0.1:0")
    )
    await server.start()
    return server, port


@pytest.fixture
async def plain() -> AsyncIterator[tuple[Answer, GrpcInvoker]]:
    answer = Answer()
    server, port = await serve(answer)
    invoker = GrpcInvoker("fn", f"127.0.0.1:{port}")
    try:
        yield answer, invoker
    finally:
        await invoker.close()
        await server.stop(0)


async def test_ok_passes_the_event(plain: tuple[Answer, GrpcInvoker]) -> None:
    answer, invoker = plain
    await invoker.invoke(EVENT, 5)
    (got,) = answer.seen
    assert (got.step, got.secret_id, got.client_request_token, got.rotation_token) == (
        "createSecret",
        "arn:s",
        "v" * 36,
        "t" * 36,
    )


@pytest.mark.parametrize(
    ("mode", "transient"),
    [
        ("UNAVAILABLE", True),
        ("RESOURCE_EXHAUSTED", True),
        ("ABORTED", True),
        ("INTERNAL", False),
        ("PERMISSION_DENIED", False),
        ("INVALID_ARGUMENT", False),
        ("NOT_FOUND", False),
    ],
)
async def test_status_codes_fail_the_step_without_the_message(
    plain: tuple[Answer, GrpcInvoker], mode: str, transient: bool, caplog: pytest.LogCaptureFixture
) -> None:
    answer, invoker = plain
    answer.mode = mode
    with pytest.raises(StepFailed) as info:
        await invoker.invoke(EVENT, 5)
    assert (info.value.code, info.value.transient) == (mode, transient)
    assert "x" not in str(info.value).replace("exceeded", "")  # the message is not kept
    assert mode in caplog.text and "x" * 100 in caplog.text  # logged, truncated ...
    assert CANARY not in caplog.text and "\x1b" not in caplog.text  # ... and printable only


async def test_a_hanging_function_hits_the_deadline(plain: tuple[Answer, GrpcInvoker]) -> None:
    answer, invoker = plain
    answer.mode = "hang"
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(StepFailed) as info:
        await invoker.invoke(EVENT, 0.3)
    assert (info.value.code, info.value.transient) == ("DEADLINE_EXCEEDED", True)
    assert 0.25 < loop.time() - started < 2.0


async def test_an_unreachable_function_is_transient() -> None:
    invoker = GrpcInvoker("gone", "127.0.0.1:1")
    try:
        with pytest.raises(StepFailed) as info:
            await invoker.invoke(EVENT, 2)
        assert (info.value.code, info.value.transient) == ("UNAVAILABLE", True)
    finally:
        await invoker.close()


async def test_tls_with_the_rotation_ca(tmp_path: Path) -> None:
    ca = make_ca("rotation ca")
    leaf = server_cert(ca, "fn", ["127.0.0.1"])
    (tmp_path / "ca.pem").write_bytes(ca.cert_pem)
    answer = Answer()
    creds = grpc.ssl_server_credentials([(leaf.key_pem, leaf.cert_pem)])
    server, port = await serve(answer, creds)
    cfg = make_config(tmp_path, rotation_ca=tmp_path / "ca.pem")
    tls = function_tls(cfg)
    secure = GrpcInvoker("fn", f"127.0.0.1:{port}", tls)
    plaintext = GrpcInvoker("fn", f"127.0.0.1:{port}")
    other = make_ca("someone else")
    (tmp_path / "other.pem").write_bytes(other.cert_pem)
    stranger = GrpcInvoker(
        "fn",
        f"127.0.0.1:{port}",
        function_tls(make_config(tmp_path, rotation_ca=tmp_path / "other.pem")),
    )
    try:
        await secure.invoke(EVENT, 5)
        assert len(answer.seen) == 1
        for bad in (plaintext, stranger):
            with pytest.raises(StepFailed) as info:
                await bad.invoke(EVENT, 2)
            assert info.value.code == "UNAVAILABLE"
        assert len(answer.seen) == 1
    finally:
        for inv in (secure, plaintext, stranger):
            await inv.close()
        await server.stop(0)


def test_bad_rotation_tls_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--rotation-ca file .* does not exist"):
        function_tls(make_config(tmp_path, rotation_ca=tmp_path / "missing.pem"))
    (tmp_path / "junk.pem").write_text("junk")
    with pytest.raises(ConfigError, match="is not a PEM certificate"):
        function_tls(make_config(tmp_path, rotation_ca=tmp_path / "junk.pem"))


def test_printable_and_event_repr() -> None:
    assert printable("a\nb\x00c") == "a?b?c"
    assert printable("y" * 200) == "y" * 120 + "..."
    assert "t" * 36 not in repr(EVENT)
