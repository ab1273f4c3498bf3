"""Generic handler plumbing: safe decoding, one error wrapper, request ids.

Built from the service descriptor rather than the generated add_*_to_server so that a request
that fails to decode (e.g. invalid UTF-8 in a string field) reaches our wrapper and gets
InvalidParameterException instead of grpc's default UNKNOWN.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from smgrpc.api.errors import internal, to_status, unavailable
from smgrpc.core.errors import InvalidParameter, ServiceError, error_kind

log = logging.getLogger("smgrpc.api")


class Undecodable:
    """Marker for a request body that protobuf refused (never holds the bytes)."""


def _safe_deserializer(cls: Any) -> Callable[[bytes], Any]:
    def decode(data: bytes) -> Any:
        try:
            return cls.FromString(data)
        except DecodeError:
            return Undecodable()

    return decode


Behavior = Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]


class Gate:
    """Closed when the server begins to shut down: calls that have not started yet are refused.

    grpc cancels calls still queued when server.stop() runs (CANCELLED, which clients do not
    retry and cannot tell from "maybe done"); closing the gate first answers them UNAVAILABLE,
    which is retryable and guarantees the call did nothing.
    """

    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


def wrap(method: str, behavior: Behavior, gate: Gate | None = None) -> Behavior:
    """Map domain errors to status; anything unexpected to INTERNAL with a request id."""

    async def handler(request: Any, context: grpc.aio.ServicerContext) -> Any:
        request_id = str(uuid.uuid4())
        if gate is not None and gate.closed:
            await context.abort_with_status(unavailable(request_id))
        try:
            if isinstance(request, Undecodable):
                raise InvalidParameter(
                    "The request could not be decoded: a string field holds invalid UTF-8 or "
                    "the message is malformed. Send binary data in SecretBinary."
                )
            return await behavior(request, context)
        except ServiceError as exc:
            await context.abort_with_status(to_status(exc, request_id))
        except (asyncio.CancelledError, grpc.aio.AbortError):
            raise
        except Exception as exc:  # noqa: BLE001 - last resort; the message may hold secret text
            # Log the type and frames only: an exception's message may contain secret material.
            # SQLite's result code name (SQLITE_BUSY, SQLITE_FULL, ...) is a fixed constant, and
            # tells the operator a locked database from a full disk.
            frames = "".join(traceback.format_tb(exc.__traceback__))
            kind = error_kind(exc)
            log.error(
                "internal error in %s (request id %s): %s\n%s", method, request_id, kind, frames
            )
            await context.abort_with_status(internal(request_id))

    return handler


def generic_handler(
    service_descriptor: Any, pb_module: Any, servicer: Any, gate: Gate | None = None
) -> grpc.GenericRpcHandler:
    """Unary handlers for every method of the service, each going through `wrap`."""
    handlers = {}
    for method in service_descriptor.methods:
        req_cls = getattr(pb_module, method.input_type.name)
        resp_cls = getattr(pb_module, method.output_type.name)
        handlers[method.name] = grpc.unary_unary_rpc_method_handler(
            wrap(method.name, getattr(servicer, method.name), gate),
            request_deserializer=_safe_deserializer(req_cls),
            response_serializer=resp_cls.SerializeToString,
        )
    return grpc.method_handlers_generic_handler(service_descriptor.full_name, handlers)
