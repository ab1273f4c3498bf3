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
from smgrpc.api.calllog import Site, access_entry, undecodable
from smgrpc.api.errors import internal, to_status, unavailable
from smgrpc.api.handlers import CallGuard, Gate, Metadata, Prepare, RequestIds, Undecodable
from smgrpc.core.errors import LimitExceeded, ServiceError, error_kind

log = logging.getLogger("smgrpc.api")
Recheck = Callable[[], calls.Authorized | None]
StreamBehavior = Callable[[Any, grpc.aio.ServicerContext, Recheck], Awaitable[None]]
UNAVAILABLE = grpc.StatusCode.UNAVAILABLE


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
            raise undecodable()
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


def wrap_stream(
    method: str,
    behavior: StreamBehavior,
    gate: Gate | None = None,
    access: AccessLog | None = None,
    guard: CallGuard | None = None,
) -> Callable[..., Awaitable[None]]:
    """The grpc unary-stream handler of `behavior` (see the module docstring)."""
    gate = gate or Gate(max_inflight=1 << 30, max_streams=1 << 30)
    site = Site(method, access, None)
    alog = site.log
    new_id = RequestIds()

    async def handler(
        request: Any, context: grpc.aio.ServicerContext, metadata: Metadata | None = None
    ) -> None:
        started = time.perf_counter()
        request_id = new_id()
        peer = context.peer() or ""
        who: list[str | None] = [None]

        def entry(code: grpc.StatusCode, aws: str = "") -> None:
            access_entry(alog, method, request_id, code, aws, "-", started, peer, who[0])

        if gate.closed:
            status = unavailable(request_id)
            await site.refuse(context, request_id, started, peer, UNAVAILABLE, "", status)
        if len(gate.streams) >= gate.max_streams:
            gate.refused += 1
            exc = too_many(gate.max_streams)
            status = to_status(exc, request_id)
            await site.refuse(context, request_id, started, peer, status.code, exc.aws_code, status)
        task = asyncio.current_task()
        assert task is not None
        gate.streams.add(task)
        md = metadata if metadata is not None else context.invocation_metadata() or ()
        check = _rechecker(guard, method, request, context, peer, md)
        held: list[str | None] = [None]  # the principal whose stream count this one holds

        def recheck() -> calls.Authorized | None:
            auth = check()
            who[0] = auth.principal.arn if auth is not None else None
            if who[0] is not None and held[0] is None:  # first authenticated: count it
                if not gate.hold_stream(who[0]):
                    gate.refused += 1
                    raise too_many_for(gate.max_streams_per_principal)
                held[0] = who[0]
            return auth

        try:
            await behavior(request, context, recheck)
            entry(grpc.StatusCode.OK)
        except ServiceError as exc:
            status = to_status(exc, request_id)
            entry(status.code, exc.aws_code)
            await context.abort_with_status(status)
        except asyncio.CancelledError:
            if gate.closed and task.uncancel() == 0:  # our shutdown, not the client leaving
                entry(UNAVAILABLE)
                await context.abort_with_status(unavailable(request_id))
            entry(grpc.StatusCode.CANCELLED)
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
            entry(grpc.StatusCode.INTERNAL, "InternalServiceError")
            await context.abort_with_status(internal(request_id))
        finally:
            gate.streams.discard(task)
            if held[0] is not None:
                gate.release_stream(held[0])

    return handler
