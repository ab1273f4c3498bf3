"""Leak canary (§C.8 rule 7): a secret value driven through error paths appears nowhere else.

A real server process runs with --log-level DEBUG; afterwards the canary must be absent from its
stdout/stderr, from every error message, detail and trailer the client saw, and from the raw
bytes of secrets.db, secrets.db-wal and secrets.db-shm.
"""

from __future__ import annotations

import base64
import sqlite3
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from tests.conftest import CANARY, pb
from tests.harness import Servers, channel_stub

SERVICE = "/smgrpc.secretsmanager.v1.SecretsManager/"
BAD_UTF8 = b"\xc3\x28"  # a 2-byte lead followed by a non-continuation byte
# A value over a model limit: the model's ValidationException (ARCHITECTURE §3), or the
# InvalidParameterException some AWS paths answer (§D row 17); never an echo of the value.
TOO_LONG = ("ValidationException", "InvalidParameterException")


def _len_field(number: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field (wire type 2), encoded by hand."""

    def varint(n: int) -> bytes:
        out = bytearray()
        while True:
            byte, n = n & 0x7F, n >> 7
            out.append(byte | (0x80 if n else 0))
            if not n:
                return bytes(out)

    return varint(number << 3 | 2) + varint(len(payload)) + payload


class Seen:
    """Everything the client was told about failed calls."""

    def __init__(self) -> None:
        self.blobs: list[bytes] = []

    def add(self, exc: grpc.aio.AioRpcError) -> None:
        parts: list[Any] = [exc.details() or "", exc.debug_error_string() or ""]
        for key, value in exc.trailing_metadata() or ():
            parts += [key, value]
        for key, value in exc.initial_metadata() or ():
            parts += [key, value]
        status = rpc_status.from_call(exc)  # type: ignore[arg-type]
        if status is not None:
            parts.append(status.SerializeToString())
            parts += [d.value for d in status.details]
        self.blobs += [p if isinstance(p, bytes) else str(p).encode() for p in parts]

    async def expect(self, call: Awaitable[Any], code: grpc.StatusCode, *aws_codes: str) -> str:
        try:
            await call
        except grpc.aio.AioRpcError as exc:
            self.add(exc)
            assert exc.code() == code, (exc.code(), exc.details())
            status = rpc_status.from_call(exc)  # type: ignore[arg-type]
            assert status is not None
            info = error_details_pb2.ErrorInfo()
            assert any(d.Unpack(info) for d in status.details if d.Is(info.DESCRIPTOR))
            assert info.metadata["awsErrorCode"] in aws_codes, (aws_codes, exc.details())
            return exc.details() or ""
        raise AssertionError("the call succeeded but an error was expected")


def _forms(text: str) -> list[bytes]:
    """The canary as raw bytes and in the encodings a leak would most likely take."""
    raw = text.encode()
    return [raw, base64.b64encode(raw), raw.hex().encode(), text.encode("utf-16-le")]


def _assert_absent(where: str, data: bytes) -> None:
    for form in _forms(CANARY):
        assert form not in data, f"canary found in {where}"


async def test_canary_never_leaks_through_error_paths(servers: Servers) -> None:
    server = await servers.start(None, "--log-level", "DEBUG")
    seen = Seen()
    ch, stub = await channel_stub(server)
    raw: Callable[[str], Any] = lambda method: ch.unary_unary(SERVICE + method)  # noqa: E731
    try:
        token = str(uuid.uuid4())
        await stub.CreateSecret(
            pb.CreateSecretRequest(name="leak/db", client_request_token=token, secret_string=CANARY)
        )
        oversize = CANARY + "x" * (65537 - len(CANARY))
        binary_oversize = CANARY.encode() * (65537 // len(CANARY) + 1)
        inv = grpc.StatusCode.INVALID_ARGUMENT
        await seen.expect(
            stub.CreateSecret(pb.CreateSecretRequest(name="leak/big", secret_string=oversize)),
            inv,
            *TOO_LONG,
        )
        await seen.expect(
            stub.PutSecretValue(
                pb.PutSecretValueRequest(secret_id="leak/db", secret_string=oversize)
            ),
            inv,
            *TOO_LONG,
        )
        await seen.expect(
            stub.PutSecretValue(
                pb.PutSecretValueRequest(secret_id="leak/db", secret_binary=binary_oversize)
            ),
            inv,
            *TOO_LONG,
        )
        await seen.expect(
            stub.UpdateSecret(pb.UpdateSecretRequest(secret_id="leak/db", secret_string=oversize)),
            inv,
            *TOO_LONG,
        )
        await seen.expect(
            stub.CreateSecret(
                pb.CreateSecretRequest(
                    name="leak/both", secret_string=CANARY, secret_binary=CANARY.encode()
                )
            ),
            inv,
            "InvalidParameterException",
        )
        await seen.expect(
            stub.PutSecretValue(
                pb.PutSecretValueRequest(
                    secret_id="leak/db", secret_string=CANARY, secret_binary=CANARY.encode()
                )
            ),
            inv,
            "InvalidParameterException",
        )
        # The same token with a different value: a conflict, never an echo of either value.
        await seen.expect(
            stub.PutSecretValue(
                pb.PutSecretValueRequest(
                    secret_id="leak/db", client_request_token=token, secret_string=CANARY + "-other"
                )
            ),
            grpc.StatusCode.ALREADY_EXISTS,
            "ResourceExistsException",
        )
        await seen.expect(
            stub.CreateSecret(
                pb.CreateSecretRequest(
                    name="leak/db", client_request_token=token, secret_string=CANARY + "-other"
                )
            ),
            grpc.StatusCode.ALREADY_EXISTS,
            "ResourceExistsException",
        )
        # A sensitive member that is too short (RotationToken) is not echoed either.
        await seen.expect(
            stub.PutSecretValue(
                pb.PutSecretValueRequest(
                    secret_id="leak/db", secret_string="v", rotation_token=CANARY
                )
            ),
            inv,
            *TOO_LONG,
        )
        # Values for a secret that does not exist, or is scheduled for deletion.
        await seen.expect(
            stub.PutSecretValue(
                pb.PutSecretValueRequest(secret_id="leak/missing", secret_string=CANARY)
            ),
            grpc.StatusCode.NOT_FOUND,
            "ResourceNotFoundException",
        )
        # Invalid UTF-8 in string fields, sent as raw protobuf bytes: INVALID_ARGUMENT, not UNKNOWN.
        bad = CANARY.encode() + BAD_UTF8
        for method, body in (
            ("CreateSecret", _len_field(1, b"leak/utf8") + _len_field(6, bad)),
            ("CreateSecret", _len_field(1, bad) + _len_field(6, CANARY.encode())),
            ("PutSecretValue", _len_field(1, b"leak/db") + _len_field(4, bad)),
            ("UpdateSecret", _len_field(1, b"leak/db") + _len_field(6, bad)),
        ):
            msg = await seen.expect(raw(method)(body), inv, "InvalidParameterException")
            assert "UTF-8" in msg
        await seen.expect(
            stub.DescribeSecret(pb.DescribeSecretRequest(secret_id="leak/utf8")),
            grpc.StatusCode.NOT_FOUND,
            "ResourceNotFoundException",
        )
        # Nothing was changed by any failed call: the stored value is the original canary.
        got = await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="leak/db"))
        assert got.secret_string == CANARY and got.version_id == token
        versions = await stub.ListSecretVersionIds(
            pb.ListSecretVersionIdsRequest(secret_id="leak/db", include_deprecated=True)
        )
        assert [v.version_id for v in versions.versions] == [token]

        live = {p.name: p.read_bytes() for p in server.data_dir.glob("secrets.db*")}
        assert "secrets.db-wal" in live  # the running server's WAL is checked too
    finally:
        await ch.close()
    assert await server.terminate() == 0

    for blob in seen.blobs:
        _assert_absent("an error the client saw", blob)
    for name, data in live.items():
        _assert_absent(f"{name} (while serving)", data)
    for p in server.data_dir.glob("secrets.db*"):
        _assert_absent(f"{p.name} (after stop)", p.read_bytes())
    log = server.output()
    assert b"DEBUG" in log, "the server did not log at DEBUG"
    _assert_absent("the server's log", log)

    # Second line: no wrapped data key or ciphertext reaches the DEBUG log either (rule 5).
    conn = sqlite3.connect(server.data_dir / "secrets.db")
    try:
        blobs = [
            bytes(b)
            for row in conn.execute("SELECT wrapped_key, ciphertext FROM versions")
            for b in row
            if b is not None
        ]
        blobs += [bytes(r[0]) for r in conn.execute("SELECT material FROM kms_keys")]
    finally:
        conn.close()
    assert blobs
    for blob in blobs:
        for form in (repr(blob)[2:34].encode(), blob.hex()[:32].encode(), blob[:16]):
            assert form not in log, "key material or ciphertext in the server's log"
