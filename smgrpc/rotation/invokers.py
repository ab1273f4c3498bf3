"""How a Region invokes one rotation step: over gRPC (a registered function) or in-process.

An invoker runs one step of one rotation and either returns (the step succeeded) or raises
StepFailed with a code and whether retrying may help. Nothing a function says reaches an
exception or our API: a function's status message is logged (truncated, printable only) next
to its code, never kept.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import grpc
from cryptography.hazmat.primitives import serialization

from smgrpc._pb.rotation.v1 import rotation_pb2 as rpb
from smgrpc._pb.rotation.v1 import rotation_pb2_grpc as rpbg
from smgrpc.crypto.tls import TlsFileError, read_ca, read_pair

log = logging.getLogger("smgrpc.rotation")

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
TRANSIENT = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
    }
)
MAX_LOGGED_MESSAGE = 120  # characters of a function's status message that reach the log
MAX_MESSAGE = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RotationEvent:
    """The event of one step (a Lambda's event; the rotation token is kept out of reprs)."""

    step: str
    secret_id: str  # the secret's ARN
    client_request_token: str  # the new version's id
    rotation_token: str = field(repr=False)


class StepFailed(Exception):
    """A step did not succeed: `code` (a gRPC code name or an AWS error code) only."""

    def __init__(self, code: str, *, transient: bool) -> None:
        super().__init__(f"rotation step failed ({code})")
        self.code = code
        self.transient = transient


class Invoker(Protocol):
    async def invoke(self, event: RotationEvent, timeout: float) -> None:  # noqa: ASYNC109
        """Run one step within `timeout` seconds; raise StepFailed if it did not succeed."""
        ...

    async def close(self) -> None: ...


def printable(text: str | None, limit: int = MAX_LOGGED_MESSAGE) -> str:
    """A function's status message as it may be logged: printable ASCII, at most `limit`."""
    clean = "".join(c if " " <= c <= "~" else "?" for c in (text or "")[:limit])
    return clean + ("..." if text and len(text) > limit else "")


@dataclass(frozen=True)
class FunctionTls:
    """--rotation-ca (the only root) and the optional client pair (--rotation-cert/-key)."""

    ca_pem: bytes
    cert_pem: bytes | None = None
    key_pem: bytes | None = field(default=None, repr=False)


def read_function_tls(ca: Path | None, cert: Path | None, key: Path | None) -> FunctionTls | None:
    """Read and check the rotation TLS files (blocking: call it off the loop)."""
    if ca is None:
        return None
    root = read_ca(ca, "--rotation-ca").public_bytes(serialization.Encoding.PEM)
    if cert is None or key is None:
        return FunctionTls(root)
    pair = read_pair(cert, key, "--rotation-cert/--rotation-key")
    return FunctionTls(root, pair.cert_pem, pair.key_pem)


def function_channel(address: str, tls: FunctionTls | None) -> grpc.aio.Channel:
    options: list[tuple[str, Any]] = [
        ("grpc.max_send_message_length", MAX_MESSAGE),
        ("grpc.max_receive_message_length", MAX_MESSAGE),
        ("grpc.initial_reconnect_backoff_ms", 100),
        ("grpc.max_reconnect_backoff_ms", 2000),
    ]
    if tls is None:
        return grpc.aio.insecure_channel(address, options=options)
    creds = grpc.ssl_channel_credentials(tls.ca_pem, tls.key_pem, tls.cert_pem)
    return grpc.aio.secure_channel(address, creds, options=options)


class GrpcInvoker:
    """One registered function: one channel, one deadline per call."""

    def __init__(self, name: str, address: str, tls: FunctionTls | None = None) -> None:
        self.name, self.address = name, address
        self._channel = function_channel(address, tls)
        self._stub = rpbg.RotationFunctionStub(self._channel)  # type: ignore[no-untyped-call]

    def __repr__(self) -> str:
        return f"GrpcInvoker({self.name!r}, {self.address!r})"

    async def invoke(self, event: RotationEvent, timeout: float) -> None:  # noqa: ASYNC109
        request = rpb.RotationEvent(
            step=event.step,
            secret_id=event.secret_id,
            client_request_token=event.client_request_token,
            rotation_token=event.rotation_token,
        )
        try:
            await self._stub.Invoke(request, timeout=timeout)
        except grpc.aio.AioRpcError as exc:
            code = exc.code()
            log.warning(
                "rotation function %s: %s of %s failed: %s (%s)",
                self.name,
                event.step,
                event.secret_id,
                code.name,
                printable(exc.details()),
            )
            raise StepFailed(code.name, transient=code in TRANSIENT) from None

    async def close(self) -> None:
        await self._channel.close()


class Registry:
    """The functions this Region can invoke, by NAME (built-ins included)."""

    def __init__(self, invokers: Mapping[str, Invoker]) -> None:
        self._invokers = dict(invokers)

    def __contains__(self, name: object) -> bool:
        return name in self._invokers

    def registered(self, name: str) -> bool:
        """RotationUseCases' `functions`: whether RotateSecret may name this function."""
        return name in self._invokers

    def get(self, name: str) -> Invoker | None:
        return self._invokers.get(name)

    @property
    def names(self) -> Iterable[str]:
        return tuple(self._invokers)

    async def close(self) -> None:
        for invoker in self._invokers.values():
            await invoker.close()


__all__ = [
    "STEPS",
    "TRANSIENT",
    "FunctionTls",
    "GrpcInvoker",
    "Invoker",
    "Registry",
    "RotationEvent",
    "StepFailed",
    "TlsFileError",
    "printable",
    "read_function_tls",
]
