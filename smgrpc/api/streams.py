"""Server-streaming calls (WatchSecrets): what handlers.wrap does for a unary call, for a stream.

Admission: refused UNAVAILABLE once the gate is closed, LimitExceededException (with a
RetryInfo) beyond the gate's `max_streams`, or, once authenticated, beyond its
`max_streams_per_principal` for that principal (by ARN); streams do not count against
`max_inflight`.
Authentication and authorization as every call (the service's guard); the behavior gets a
`recheck` that authenticates the call again and, if the IAM snapshot gave another principal,
authorizes it again, so a stream never outlives its credential or its policies. One access-log
entry when the stream ends (its status and duration). Domain errors end the stream with their
rich status; anything unexpected with INTERNAL. The gate's close() cancels the stream task:
it then ends with UNAVAILABLE, never CANCELLED, and never holds the drain.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from smgrpc.api import calls
from smgrpc.api.access import AccessLog
from smgrpc.api.calllog import AuditRefused, MethodObserver, Site, access_entry, undecodable
from smgrpc.api.errors import audit_unavailable, internal, to_status, unavailable
from smgrpc.api.handlers import (
    CallAuditor,
    CallGuard,
    Gate,
    Metadata,
    Prepare,
    RequestIds,
    Undecodable,
)
from smgrpc.core.errors import InternalServiceError, LimitExceeded, ServiceError, error_kind

log = logging.getLogger("smgrpc.api")
Recheck = Callable[[], calls.Authorized | None]
StreamBehavior = Callable[[Any, grpc.aio.ServicerContext, Recheck], Awaitable[None]]
UNAVAILABLE = grpc.StatusCode.UNAVAILABLE
_DOWN, _AUDIT = "ServiceUnavailable", "InternalServiceError"


def too_many(limit: int) -> LimitExceeded:
    return LimitExceeded(
        f"This Region serves at most {limit} WatchSecrets streams at once; retry later.",
        retry_after=1.0,
    )


def too_many_for(limit: int) -> LimitExceeded:
    return LimitExceeded(
        f"This Region serves at most {limit} WatchSecrets streams at once to one principal; "
        "close one or retry later.",
        retry_after=1.0,
    )


def _rechecker(
    guard: CallGuard | None, method: str, request: Any, context: Any, peer: str, md: Metadata
) -> Recheck:
    last: list[Any] = [None, None]  # (principal, its Authorized)

    def recheck() -> calls.Authorized | None:
        if isinstance(request, Undecodable):
            raise undecodable(request.error)
        if guard is None:
            return None
        principal = guard.authenticate(context, md)
        if principal is not last[0]:
            try:
                auth = guard.authorize(principal, method, request, context, peer, md)
            except Prepare:  # a policy too large to compile on the loop at once: do it inline
                auth = guard.authorize(principal, method, request, context, peer, md, inline=True)
            last[0], last[1] = principal, auth
            calls.CURRENT.set(auth)
        return last[1]  # type: ignore[no-any-return]

    return recheck


class _Call:
    """One stream's facts and its reports: one access-log entry and one count at its end, one
    audit Event (when it goes live, or when it is refused before)."""

    __slots__ = ("site", "audit", "request_id", "started", "peer", "md", "request", "caller",
                 "audited")  # fmt: skip

    def __init__(
        self, site: Site, audit: CallAuditor | None, request_id: str, started: float, peer: str,
        request: Any,
    ) -> None:  # fmt: skip
        self.site, self.audit, self.request = site, audit, request
        self.request_id, self.started, self.peer = request_id, started, peer
        self.md: Metadata = ()
        self.caller: Any = None  # the Principal of the last check
        self.audited = audit is None  # its Event is recorded (or nothing to record)

    def end(self, code: grpc.StatusCode, aws: str = "") -> None:
        who = self.caller.arn if self.caller is not None else None
        s = self.site
        access_entry(s.log, s.method, self.request_id, code, aws, "-", self.started, self.peer,
                     who)  # fmt: skip
        s.seen.ended(code, aws, self.started)

    def refused(self, exc: ServiceError) -> None:
        """The stream ends in an error before it went live: that is its audit Event."""
        if self.audit is not None and not self.audited:
            self.audited = True
            self.audit.refused(None, exc, self.site.method, self.request_id, self.peer, self.md,
                               self.caller, self.request)  # fmt: skip

    async def live(self) -> None:
        """Before the stream's first message: its audit Event, written (fail-closed, as a read)."""
        if self.audited or self.audit is None:
            return
        self.audited = True
        rec = self.audit.call(self.site.method, self.request_id, self.peer, self.md, self.caller,
                              self.request)  # fmt: skip
        if not (await rec.before() and await rec.after(None)):
            raise AuditRefused


class _Live:
    """The context the behavior writes to: the call's audit Event is recorded before the first
    message goes out (everything else is the grpc context's)."""

    __slots__ = ("_context", "_call")

    def __init__(self, context: Any, call: _Call) -> None:
        self._context, self._call = context, call

    async def write(self, message: Any) -> None:
        await self._call.live()
        await self._context.write(message)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


def wrap_stream(
    method: str,
    behavior: StreamBehavior,
    gate: Gate | None = None,
    access: AccessLog | None = None,
    guard: CallGuard | None = None,
    audit: CallAuditor | None = None,
    observer: MethodObserver | None = None,
) -> Callable[..., Awaitable[None]]:
    """The grpc unary-stream handler of `behavior` (see the module docstring)."""
    gate = gate or Gate(max_inflight=1 << 30, max_streams=1 << 30)
    site = Site(method, access, observer)
    new_id = RequestIds()

    async def handler(
        request: Any, context: grpc.aio.ServicerContext, metadata: Metadata | None = None
    ) -> None:
        started = time.perf_counter()
        request_id = new_id()
        peer = context.peer() or ""
        call = _Call(site, audit, request_id, started, peer, request)
        if gate.closed:
            status = unavailable(request_id)
            await site.refuse(context, request_id, started, peer, UNAVAILABLE, _DOWN, status)
        call.md = metadata if metadata is not None else context.invocation_metadata() or ()
        if len(gate.streams) >= gate.max_streams:
            gate.refused += 1
            exc = too_many(gate.max_streams)
            call.refused(exc)
            status = to_status(exc, request_id)
            await site.refuse(context, request_id, started, peer, status.code, exc.aws_code, status)
        task = asyncio.current_task()
        assert task is not None
        gate.streams.add(task)
        check = _rechecker(guard, method, request, context, peer, call.md)
        held: list[str | None] = [None]  # the principal whose stream count this one holds

        def recheck() -> calls.Authorized | None:
            auth = check()
            call.caller = auth.principal if auth is not None else None
            who = call.caller.arn if call.caller is not None else None
            if who is not None and held[0] is None:  # first authenticated: count it
                if not gate.hold_stream(who):
                    gate.refused += 1
                    raise too_many_for(gate.max_streams_per_principal)
                held[0] = who
            return auth

        try:
            await behavior(request, context if audit is None else _Live(context, call), recheck)
            call.end(grpc.StatusCode.OK)
        except ServiceError as exc:
            status = to_status(exc, request_id)
            call.end(status.code, exc.aws_code)
            call.refused(exc)
            await context.abort_with_status(status)
        except AuditRefused:
            call.end(UNAVAILABLE, _AUDIT)
            await context.abort_with_status(audit_unavailable(request_id))
        except asyncio.CancelledError:
            if gate.closed and task.uncancel() == 0:  # our shutdown, not the client leaving
                call.end(UNAVAILABLE, _DOWN)
                await context.abort_with_status(unavailable(request_id))
            call.end(grpc.StatusCode.CANCELLED)
            raise
        except grpc.aio.AbortError:
            raise
        except Exception as exc:  # noqa: BLE001 - last resort; the message may hold secret text
            frames = "".join(traceback.format_tb(exc.__traceback__))
            log.error(
                "internal error in %s (request id %s): %s\n%s",
                method,
                request_id,
                error_kind(exc),
                frames,
            )
            call.end(grpc.StatusCode.INTERNAL, _AUDIT)
            call.refused(InternalServiceError(f"InternalServiceError (request id {request_id})"))
            await context.abort_with_status(internal(request_id))
        finally:
            gate.streams.discard(task)
            if held[0] is not None:
                gate.release_stream(held[0])

    return handler
