"""Unary handler plumbing: admission (Gate), the guard seam, one error wrapper, request ids.

api/services.py builds each service's handlers from its descriptor (unary ones through `wrap`,
server-streaming ones through api/streams.py); the access-log entry and the undecodable-request
error both kinds share live in api/calllog.py.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import grpc

from smgrpc.api import calls
from smgrpc.api.access import AccessLog
from smgrpc.api.calllog import EXPIRED as EXPIRED_STATUS
from smgrpc.api.calllog import AuditRefused, Site, Unobserved, access_entry
from smgrpc.api.calllog import MethodObserver as MethodObserver  # re-exported
from smgrpc.api.calllog import undecodable as _undecodable
from smgrpc.api.errors import audit_unavailable, internal, throttled, to_status, unavailable
from smgrpc.core.errors import InternalServiceError, ServiceError, error_kind

log = logging.getLogger("smgrpc.api")
EXPIRED = grpc.StatusCode.DEADLINE_EXCEEDED
OK = grpc.StatusCode.OK
UNAVAILABLE = grpc.StatusCode.UNAVAILABLE
THROTTLED = grpc.StatusCode.RESOURCE_EXHAUSTED
_DOWN, _BUSY, _AUDIT = "ServiceUnavailable", "ThrottlingException", "InternalServiceError"
_VARIANT = "89ab"


class RequestIds:
    """Random (version 4) UUID strings, one per call, as str(uuid.uuid4()) makes them.

    uuid.uuid4() costs a getrandom call and a UUID object per call (~4 us, ~1 % of a call);
    here the random bits come from one os.urandom call per 256 ids, formatted in one go, so a
    call only takes the next string.
    """

    def __init__(self, batch: int = 256) -> None:
        self._batch = batch
        self._ids: list[str] = []

    def __call__(self) -> str:
        ids = self._ids
        if not ids:
            ids.extend(self._format(os.urandom(16 * self._batch).hex()))
        return ids.pop()

    @staticmethod
    def _format(hexes: str) -> list[str]:
        # Version nibble 4; variant bits 10 (RFC 4122): 8, 9, a or b.
        return [
            f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"
            for h in (hexes[at : at + 32] for at in range(0, len(hexes), 32))
        ]


class Undecodable:
    """Marker for a request body that could not be decoded (never holds the bytes): `wrap`
    authenticates the caller first, then answers `error` (default: protobuf's refusal,
    InvalidParameterException; the AWS listener passes its codec's error)."""

    __slots__ = ("error",)

    def __init__(self, error: ServiceError | None = None) -> None:
        self.error = error


Behavior = Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]


class Prepare(Exception):
    """Raised by a guard that needs slow work done first (compiling a large policy): `wrap`
    runs `work` in a worker thread, off the event loop, then asks the guard again."""

    def __init__(self, work: Callable[[], object]) -> None:
        super().__init__("guard preparation")
        self.work = work


Metadata = Sequence[tuple[str, str | bytes]]


class CallGuard(Protocol):
    """Authentication then authorization of one call (api/guard.py ServiceGuard).

    `metadata` is the call's invocation metadata and `peer` its context.peer() string, both
    read once per call by `wrap` (grpc builds a new metadata tuple on every
    context.invocation_metadata() call)."""

    def fast(
        self, metadata: Metadata, peer: str, method: str, request: Any
    ) -> calls.Authorized | None:
        """The call's allow if an identical earlier call's is still valid (None: decide)."""

    def authenticate(self, context: Any, metadata: Metadata) -> Any: ...

    def authorize(
        self,
        principal: Any,
        method: str,
        request: Any,
        context: Any,
        peer: str,
        metadata: Metadata = (),
        inline: bool = False,
    ) -> calls.Authorized:
        """inline=False: a large policy not compiled yet raises Prepare (compile it off the
        loop, then ask again with inline=True)."""


class CallObserver(Protocol):
    def method(self, service: str, name: str) -> MethodObserver: ...


_Unobserved = Unobserved  # scripts/bench_metrics.py's name for it


def _aborted(context: Any) -> grpc.StatusCode:
    """The status a servicer's own context.abort() set (replication's UNAUTHENTICATED)."""
    code = context.code()
    return code if isinstance(code, grpc.StatusCode) else grpc.StatusCode.UNKNOWN


class CallAuditor(Protocol):
    """The audit trail of one service's calls (api/audit.py ServiceAudit)."""

    def call(
        self, method: str, request_id: str, peer: str, md: Metadata, principal: Any, request: Any
    ) -> Any:
        """The call's records: `await .before()` then `await .after(response)` (False: the
        audit log is unavailable, refuse the call)."""

    def refused(self, rec: Any, exc: ServiceError, *facts: Any) -> None: ...

    def refused_early(
        self, method: str, request_id: str, peer: str, code: grpc.StatusCode, aws_code: str
    ) -> None: ...


class Gate:
    """Admission control in front of every handler: shutdown and the in-flight limit.

    Closed when the server begins to shut down: calls that have not started yet are refused.
    grpc cancels calls still queued when server.stop() runs (CANCELLED, which clients do not
    retry and cannot tell from "maybe done"); closing the gate first answers them UNAVAILABLE,
    which is retryable and guarantees the call did nothing. While `max_inflight` calls are
    running, further calls are refused at once with RESOURCE_EXHAUSTED (ThrottlingException)
    and a RetryInfo, before they do anything: overload is a deliberate, retryable answer.

    Server-streaming calls (WatchSecrets) are counted apart, up to `max_streams` in all and
    `max_streams_per_principal` per authenticated principal (then LimitExceededException with
    a RetryInfo), and never hold the drain: `close()` cancels each open stream's task, and the
    stream ends at once with UNAVAILABLE (api/watch.py).
    """

    def __init__(
        self,
        max_inflight: int = 1000,
        retry_after: float = 0.25,
        max_streams: int = 1000,
        max_streams_per_principal: int = 100,
    ) -> None:
        self.closed = False
        self.max_inflight = max_inflight
        self.retry_after = retry_after
        self.inflight = 0
        self.refused = 0
        self.max_streams = max_streams
        self.max_streams_per_principal = max_streams_per_principal
        self.streams: set[asyncio.Task[Any]] = set()
        self._per_principal: dict[str, int] = {}  # principal ARN -> its open streams

    def hold_stream(self, principal: str) -> bool:
        """Count one more open stream of `principal` (False: it is at its cap; not counted)."""
        held = self._per_principal.get(principal, 0)
        if held >= self.max_streams_per_principal:
            return False
        self._per_principal[principal] = held + 1
        return True

    def release_stream(self, principal: str) -> None:
        held = self._per_principal.get(principal, 0) - 1
        if held > 0:
            self._per_principal[principal] = held
        else:
            self._per_principal.pop(principal, None)

    def close(self) -> None:
        self.closed = True
        for task in list(self.streams):
            task.cancel()


# A secret ARN as we mint them (a client's SecretId can be any text: never log one that is not
# exactly this shape, or a line break in it could forge access-log lines).
_SECRET_ARN = re.compile(
    r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]{1,32}:\d{12}:secret:[\w/+=.@!-]{1,600}"
)


_LOGGABLE: set[str] = set()  # ARNs that passed _SECRET_ARN (bounded)


def _arn_of(response: Any, exc: ServiceError | None) -> str:
    """The secret a call resolved to, for the access log (responses carry it as `arn`).

    Strict in both cases: a forced delete of an unknown secret answers an ARN built from the
    client's own text.
    """
    arn = exc.resource if exc is not None else getattr(response, "arn", None)
    if not isinstance(arn, str):
        return "-"
    if arn in _LOGGABLE:  # the common case: an ARN already checked (a dict lookup, no regex)
        return arn
    if not _SECRET_ARN.fullmatch(arn, 0, 700):
        return "-"
    if len(_LOGGABLE) >= 4096:
        _LOGGABLE.clear()
    _LOGGABLE.add(arn)
    return arn


def wrap(
    method: str,
    behavior: Behavior,
    gate: Gate | None = None,
    access: AccessLog | None = None,
    guard: CallGuard | None = None,
    audit: CallAuditor | None = None,
    observer: MethodObserver | None = None,
    ids: Callable[[], str] | None = None,
) -> Behavior:
    """Admission, then authentication and authorization (the guard), the audit record, then
    the call; domain errors mapped to status; unexpected → INTERNAL. `observer` is told every
    call's end. ids: where each call's request id comes from (default: a new random one; the
    AWS listener passes the id it answers in x-amzn-RequestId)."""
    gate = gate or Gate(max_inflight=1 << 30)
    site = Site(method, access, observer)
    seen, alog = site.seen, site.log
    new_id = ids or RequestIds()
    # The default's ready strings, for the common case inline below (a given `ids`: always
    # asked, e.g. the AWS listener's id of the HTTP request).
    ready = new_id._ids if isinstance(new_id, RequestIds) else []

    async def handler(
        request: Any, context: grpc.aio.ServicerContext, metadata: Metadata | None = None
    ) -> Any:
        """metadata: the call's invocation metadata as grpc gave it to the generic handler
        (`_Service`); None: read from the context."""
        started = time.perf_counter()
        request_id = ready.pop() if ready else new_id()
        peer = context.peer() or ""  # once: the guard and the access log share it
        if gate.closed:
            _early(audit, method, request_id, peer, UNAVAILABLE)
            status = unavailable(request_id)
            await site.refuse(context, request_id, started, peer, UNAVAILABLE, _DOWN, status)
        remaining = context.time_remaining()
        if remaining is not None and remaining <= 0:
            # It waited in grpc's queue past its deadline: the client has given up; skip it.
            _early(audit, method, request_id, peer, EXPIRED)
            await site.refuse(context, request_id, started, peer, EXPIRED, "", EXPIRED_STATUS)
        if gate.inflight >= gate.max_inflight:
            gate.refused += 1
            _early(audit, method, request_id, peer, THROTTLED)
            status = throttled(request_id, gate.retry_after)
            await site.refuse(context, request_id, started, peer, THROTTLED, _BUSY, status)
        gate.inflight += 1
        md: Metadata = ()
        caller, rec = None, None  # the Principal, once known; the call's audit records
        try:
            undecodable = isinstance(request, Undecodable)
            if guard is not None:
                md = metadata if metadata is not None else context.invocation_metadata() or ()
                auth = None if undecodable else guard.fast(md, peer, method, request)
                if auth is None:
                    caller = guard.authenticate(context, md)  # known to the log from here on
                    auth = await _decide(guard, caller, method, request, context, peer, md,
                                         undecodable)  # fmt: skip
                caller = auth.principal
                calls.CURRENT.set(auth)
            elif undecodable:
                raise _undecodable(request.error)
            if audit is not None:
                rec = audit.call(method, request_id, peer, md, caller, request)
                if not await rec.before():
                    raise AuditRefused
            response = await behavior(request, context)
            if rec is not None and not await rec.after(response):
                raise AuditRefused
            seen.ended(OK, "", started)
            if alog.enabled:  # access_entry of a success, inline (two calls less)
                arn = getattr(response, "arn", None)
                arn = arn if arn in _LOGGABLE else _arn_of(response, None)
                alog.record((time.time(), request_id, method, "OK", None,
                             None if arn == "-" else arn, time.perf_counter() - started,
                             peer or "-", caller.arn if caller is not None else None))  # fmt: skip
            return response
        except ServiceError as exc:
            status = to_status(exc, request_id)
            _fail(site, audit, exc, status.code, _arn_of(None, exc), request_id, started, peer,
                  (caller, rec, md, request))  # fmt: skip
            await context.abort_with_status(status)
        except AuditRefused:
            who = caller.arn if caller is not None else None
            status = audit_unavailable(request_id)
            await site.refuse(context, request_id, started, peer, UNAVAILABLE, _AUDIT, status, who)
        except asyncio.CancelledError:
            seen.ended(grpc.StatusCode.CANCELLED, "", started)
            raise
        except grpc.aio.AbortError:
            seen.ended(_aborted(context), "", started)
            raise
        except Exception as exc:  # noqa: BLE001 - last resort; the message may hold secret text
            # Log the type and frames only: an exception's message may contain secret material.
            frames = "".join(traceback.format_tb(exc.__traceback__))
            kind = error_kind(exc)
            log.error(
                "internal error in %s (request id %s): %s\n%s", method, request_id, kind, frames
            )
            failed = InternalServiceError(f"InternalServiceError (request id {request_id})")
            _fail(site, audit, failed, grpc.StatusCode.INTERNAL, "-", request_id, started, peer,
                  (caller, rec, md, request))  # fmt: skip
            await context.abort_with_status(internal(request_id))
        finally:
            gate.inflight -= 1

    return handler


async def _decide(
    guard: CallGuard,
    principal: Any,
    method: str,
    request: Any,
    context: Any,
    peer: str,
    md: Metadata,
    undecodable: bool,
) -> calls.Authorized:
    """The slow path (guard.fast() had no answer): authorize the authenticated `principal`;
    a large policy not compiled yet is compiled in a worker thread, off the event loop."""
    if undecodable:
        raise _undecodable(request.error)
    try:
        return guard.authorize(principal, method, request, context, peer, md)
    except Prepare as prep:
        await asyncio.to_thread(prep.work)
    # Decided after the await: authenticate again (a key revoked meanwhile); inline: should the
    # compiled cache have been cleared meanwhile, compile here (~6 ms at the largest policy).
    principal = guard.authenticate(context, md)
    return guard.authorize(principal, method, request, context, peer, md, inline=True)


def _fail(
    site: Site,
    audit: CallAuditor | None,
    exc: ServiceError,
    code: grpc.StatusCode,
    arn: str,
    request_id: str,
    started: float,
    peer: str,
    call: tuple[Any, Any, Metadata, Any],
) -> None:
    """A call that ended in an error: its access-log entry, its count, its audit Event.
    call: (caller Principal or None, its audit records or None, metadata, request)."""
    caller, rec, md, request = call
    who = caller.arn if caller is not None else None
    aws = exc.aws_code
    access_entry(site.log, site.method, request_id, code, aws, arn, started, peer, who)
    site.seen.ended(code, aws, started)
    if audit is not None:
        audit.refused(rec, exc, site.method, request_id, peer, md, caller, request)


_EARLY_AWS = {
    grpc.StatusCode.UNAVAILABLE: "ServiceUnavailable",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "ThrottlingException",
}


def _early(
    audit: CallAuditor | None, method: str, request_id: str, peer: str, code: grpc.StatusCode
) -> None:
    """The audit Event of a call refused before anything was checked (ServiceAudit)."""
    if audit is not None:
        audit.refused_early(method, request_id, peer, code, _EARLY_AWS.get(code, ""))
