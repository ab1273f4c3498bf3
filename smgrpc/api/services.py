"""A service's grpc handlers, built from its descriptor rather than the generated
add_*_to_server, so that a request that fails to decode (e.g. invalid UTF-8 in a string field)
reaches our wrapper and gets InvalidParameterException instead of grpc's default UNKNOWN.
Unary methods run through handlers.wrap, server-streaming ones through streams.wrap_stream.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from operator import itemgetter
from typing import Any, NamedTuple

import grpc
from google.protobuf.message import DecodeError

from smgrpc.api.access import AccessLog
from smgrpc.api.handlers import CallGuard, CallObserver, Gate, Undecodable, wrap
from smgrpc.api.streams import wrap_stream


def _safe_deserializer(cls: Any) -> Callable[[bytes], Any]:
    def decode(data: bytes) -> Any:
        try:
            return cls.FromString(data)
        except DecodeError:
            return Undecodable()

    return decode


class _CallHandler(tuple, grpc.RpcMethodHandler):  # type: ignore[type-arg,misc]
    """The method handler grpc runs for one call: a unary-unary handler bound to that call's
    invocation metadata (grpc's own handler object, built per call, as grpc's interceptors
    see it; grpc reads only these attributes). A tuple (unary, request_deserializer,
    response_serializer), as grpc's own handlers are: made without a Python __init__."""

    __slots__ = ()
    request_streaming = False
    response_streaming = False
    unary_stream = None
    stream_unary = None
    stream_stream = None
    unary_unary = property(itemgetter(0))
    request_deserializer = property(itemgetter(1))
    response_serializer = property(itemgetter(2))


class _Service(grpc.GenericRpcHandler):  # type: ignore[misc]
    """One service's methods. grpc hands `service()` the call's metadata (it has already
    built the tuple to find the handler): each call's handler is bound to it, so `wrap` and
    the guard need not ask the context for a second copy (~1.5-5 us per call)."""

    def __init__(self, methods: dict[str, tuple[Any, Any, Any, bool]]) -> None:
        # "/<service>/<method>" -> (wrapped handler, decode, encode, server-streaming)
        self._methods = methods

    def service(self, handler_call_details: Any) -> grpc.RpcMethodHandler | None:
        got = self._methods.get(handler_call_details.method)
        if got is None:
            return None
        call = functools.partial(got[0], metadata=handler_call_details.invocation_metadata)
        if got[3]:
            return grpc.unary_stream_rpc_method_handler(call, got[1], got[2])
        return _CallHandler((call, got[1], got[2]))


class Method(NamedTuple):
    """One method as served: its wrapped handler and its request and response classes."""

    handler: Any  # handlers.wrap's (unary) or streams.wrap_stream's (server-streaming)
    request: Any
    response: Any
    streaming: bool


def wrapped_methods(
    service_descriptor: Any,
    pb_module: Any,
    servicer: Any,
    gate: Gate | None = None,
    access: AccessLog | None = None,
    guard: CallGuard | None = None,
    audit: Any = None,
    observer: CallObserver | None = None,
    ids: Callable[[], str] | None = None,
) -> dict[str, Method]:
    """Method name -> the method as served: unary ones through `wrap`, server-streaming ones
    the servicer serves through `streams.wrap_stream`. audit: the Region's api.audit.Auditor
    (the calls of IAM-guarded services are audited, streams included). ids: the request ids of
    unary calls (handlers.wrap; default: random)."""
    methods = {}
    sa = audit.service(service_descriptor.full_name) if audit and guard else None
    for method in service_descriptor.methods:
        req_cls = getattr(pb_module, method.input_type.name)
        resp_cls = getattr(pb_module, method.output_type.name)
        seen = observer.method(service_descriptor.name, method.name) if observer else None
        if method.server_streaming:
            behavior = getattr(servicer, method.name, None)
            if behavior is None or method.client_streaming:
                continue  # a streaming method the servicer does not serve: UNIMPLEMENTED
            wrapped = wrap_stream(method.name, behavior, gate, access, guard, sa, seen)
        else:
            wrapped = wrap(method.name, getattr(servicer, method.name), gate, access, guard, sa,
                           seen, ids)  # fmt: skip
        methods[method.name] = Method(wrapped, req_cls, resp_cls, method.server_streaming)
    return methods


def generic_handler(
    service_descriptor: Any,
    pb_module: Any,
    servicer: Any,
    gate: Gate | None = None,
    access: AccessLog | None = None,
    guard: CallGuard | None = None,
    audit: Any = None,
    observer: CallObserver | None = None,
) -> grpc.GenericRpcHandler:
    """grpc's handlers for every method of the service (`wrapped_methods`), each request
    decoded so that protobuf's refusal reaches `wrap` as handlers.Undecodable."""
    built = wrapped_methods(
        service_descriptor, pb_module, servicer, gate, access, guard, audit, observer
    )
    return _Service(
        {
            f"/{service_descriptor.full_name}/{name}": (
                m.handler,
                _safe_deserializer(m.request),
                m.response.SerializeToString,
                m.streaming,
            )
            for name, m in built.items()
        }
    )
