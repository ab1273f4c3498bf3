"""What unary and streaming calls share: the access-log entry, the refusal of a call before it
is admitted, the metrics observer's seam and the undecodable-request error (api/handlers.py
`wrap` and api/streams.py `wrap_stream` both use them; neither imports the other's internals)."""

from __future__ import annotations

import time
from typing import Any, NamedTuple, NoReturn, Protocol

import grpc

from smgrpc.api.access import AccessLog
from smgrpc.core.errors import InvalidParameter, ServiceError


def access_entry(
    log: AccessLog,
    method: str,
    request_id: str,
    code: grpc.StatusCode,
    aws_code: str,
    arn: str,
    started: float,
    peer: str,
    principal: str | None = None,
) -> None:
    """One access-log entry per call (only these fields: never a value or a credential)."""
    if log.enabled:
        log.record(
            (
                time.time(),
                request_id,
                method,
                code.name,
                aws_code or None,
                None if arn == "-" else arn,
                time.perf_counter() - started,
                peer or "-",
                principal,
            )
        )


class MethodObserver(Protocol):
    """Told how each call of one method ended (metrics.calls.Calls implements it: a few plain
    counter updates, so a call pays well under a microsecond)."""

    def ended(self, code: grpc.StatusCode, aws_code: str, started: float) -> None:
        """code/aws_code as answered; started: the call's time.perf_counter() at arrival."""


class Unobserved:
    def ended(self, code: grpc.StatusCode, aws_code: str, started: float) -> None:
        pass


class AuditRefused(Exception):
    """The call's audit record could not be written: it is refused (fail-closed)."""


class Site:
    """Where one method's calls are reported: the access log and the metrics observer."""

    __slots__ = ("log", "seen", "method")

    def __init__(self, method: str, log: AccessLog | None, seen: MethodObserver | None) -> None:
        self.method = method
        self.log = log or AccessLog(None)
        self.seen: MethodObserver = seen or Unobserved()

    async def refuse(
        self,
        context: Any,
        request_id: str,
        started: float,
        peer: str,
        code: grpc.StatusCode,
        aws: str,
        status: grpc.Status,
        who: str | None = None,
    ) -> NoReturn:
        """End a call that was not run (shut down, expired, over a limit, audit unavailable):
        its access-log entry, its count, then the abort (raises grpc.aio.AbortError)."""
        access_entry(self.log, self.method, request_id, code, aws, "-", started, peer, who)
        self.seen.ended(code, aws, started)
        await context.abort_with_status(status)
        raise AssertionError("abort_with_status returned")  # pragma: no cover


class _Plain(NamedTuple):
    code: grpc.StatusCode
    details: str
    trailing_metadata: tuple[tuple[str, str], ...]


class _PlainStatus(_Plain, grpc.Status):  # type: ignore[misc]
    """A status without error details (as grpc_status builds its own)."""


EXPIRED = _PlainStatus(
    grpc.StatusCode.DEADLINE_EXCEEDED, "The deadline passed before the call started.", ()
)


def undecodable(error: ServiceError | None = None) -> ServiceError:
    """The error of a request that could not be decoded: `error` (the AWS listener's codec
    says what was wrong, awswire/dispatch.py), else protobuf's refusal."""
    if error is not None:
        return error
    return InvalidParameter(
        "The request could not be decoded: a string field holds invalid UTF-8 or "
        "the message is malformed. Send binary data in SecretBinary."
    )
