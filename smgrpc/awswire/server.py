"""The AWS JSON 1.1 listener (--aws-listen): a second front door onto api's call pipeline.

For each `POST /` with `X-Amz-Target: secretsmanager.<Operation>` it decodes the JSON body
into the gRPC request message (awswire/codec.py), awaits the very handler the gRPC server
runs for that method (the unary ones of api/services.wrapped_methods: admission, SigV4
authentication through the wire Guard, IAM authorization, audit, access log, metrics, error
mapping) with a dispatch.WireContext, and encodes the response as AWS JSON. A body the codec
refuses is passed on as handlers.Undecodable(error), so the caller is authenticated before the
error is answered, as AWS does. Framing errors (method, path, Content-Type, target, size) are
answered here, before the pipeline, as AWS answers them: they name no operation to count or audit.

HTTP server library: aiohttp's low-level server (web.Server + ServerRunner/TCPSite), chosen
over uvicorn + httptools with a bare ASGI app by a measured comparison on the development
machine (2 shared cores, load average ~7 from other work while measuring, so every figure is
noisy): a POST answering a 250-byte JSON body, h2load --h1 -c 16 -n 20000, 11 alternating
runs each, requests/s median (min-max):
    aiohttp low-level web.Server          8,324  (3,700-11,178)
    aiohttp web.Application + router      7,435  (3,504-10,578)
    uvicorn 0.54 + httptools, bare ASGI   6,603  (2,842-14,867)
No library is measurably faster at this size (the spread within each dwarfs the differences,
and a GetSecretValue through the pipeline costs several times the HTTP handling). aiohttp
embeds cleanly: ServerRunner(handle_signals=False) leaves SIGTERM to app.py (uvicorn's
Server.serve installs its own SIGINT/SIGTERM handlers with signal.signal), shutdown waits for
in-flight requests up to a timeout, TLS is a plain ssl.SSLContext, and its client serves the
tests.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.streams import StreamReader

from smgrpc.api.handlers import Undecodable
from smgrpc.api.services import Method
from smgrpc.awswire import codec
from smgrpc.awswire.dispatch import (
    INTERNAL,
    Answer,
    WireAbort,
    WireContext,
    answer,
    begin_request,
    error_answer,
    ok_answer,
    peer_of,
)
from smgrpc.awswire.httpserver import AwsServer
from smgrpc.core.errors import ServiceError, error_kind

log = logging.getLogger("smgrpc.awswire")
TARGET_PREFIX = "secretsmanager."
# AWS JSON 1.0 and 1.1 bodies are alike for these operations; botocore sends 1.1.
CONTENT_TYPES = frozenset({"application/x-amz-json-1.1", "application/x-amz-json-1.0"})
UNKNOWN_OPERATION = "UnknownOperationException"
TOO_LARGE = "RequestEntityTooLargeException"
UNREADABLE = "SerializationException"  # a body that cannot be read (framing, encoding)
# The wire's own body cap, far below the gRPC receive limit (MAX_RECEIVE, sized for
# replication): the largest request AWS accepts is a 65,536-byte SecretString, at worst
# 393,216 bytes JSON-escaped (\u0001 for each byte), with a Description (2,048 characters,
# 12 KiB escaped) and 50 tags (~20 KiB); a 20,480-character policy escapes to ~120 KiB at
# most. 512 KiB holds every one of those; more is RequestEntityTooLargeException.
MAX_BODY = 512 * 1024
THREAD_AT = 64 * 1024  # larger bodies are decoded in a thread (codec.py: bounded cost)
KEEPALIVE = 75.0  # seconds an idle keep-alive connection is kept (aiohttp's default)
SignedFactory = Callable[[str, str, str, tuple[tuple[str, str], ...], bytes], object]


class ListenError(Exception):
    """The listener cannot be set up as configured (app.py reports it as a ConfigError)."""


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    """The server side of TLS (blocking: reads the files)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    return ctx


def _decode(op: str, body: bytes) -> Any:
    """The request message, or the codec's error as Undecodable (answered after auth)."""
    try:
        return codec.decode(op, body)
    except ServiceError as exc:
        return Undecodable(exc)


class _TooLarge(Exception):
    pass


class _Unreadable(Exception):
    """The body could not be read: bad framing (RequestPayloadError) or the client left."""

    def __init__(self, gone: bool) -> None:
        super().__init__("unreadable body")
        self.gone = gone


async def _read(content: StreamReader, limit: int) -> bytes:
    """The whole body, or _TooLarge past `limit` bytes (chunked bodies too), or _Unreadable."""
    data = bytearray()
    try:
        async for chunk in content.iter_chunked(64 * 1024):
            data += chunk
            if len(data) > limit:
                raise _TooLarge
    except web.RequestPayloadError:
        raise _Unreadable(gone=False) from None
    except ConnectionError:
        raise _Unreadable(gone=True) from None
    return bytes(data)


class AwsListener:
    """The listener: `start()` binds and serves (returns the port), `close()` drains.

    methods: operation name -> the method as served (api/services.wrapped_methods, the unary ones);
    signed: builds what the wire Guard verifies from (method, path, query, headers, body)
    (auth.sigv4.SignedRequest); max_body: the largest body accepted (the gRPC receive limit);
    grace: how long `close()` lets requests in flight finish.
    """

    def __init__(
        self,
        address: str,
        methods: Mapping[str, Method],
        signed: SignedFactory,
        *,
        tls: ssl.SSLContext | None = None,
        max_body: int,
        grace: float,
    ) -> None:
        self.address = address
        self._methods = {op: m for op, m in methods.items() if op in codec.OPERATIONS}
        self._signed = signed
        self._tls = tls
        self._max_body = max_body
        self._grace = grace
        self._runner: web.ServerRunner | None = None
        self.port = 0

    @property
    def scheme(self) -> str:
        return "https" if self._tls is not None else "http"

    async def start(self) -> int:
        host, _, port = self.address.rpartition(":")
        server = AwsServer(
            self._handle,
            access_log=None,
            keepalive_timeout=KEEPALIVE,
            auto_decompress=False,  # a Content-Encoding is refused (_framing), never decoded
        )
        runner = web.ServerRunner(server, handle_signals=False, shutdown_timeout=self._grace)
        await runner.setup()
        site = web.TCPSite(runner, host.strip("[]"), int(port), ssl_context=self._tls)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise ListenError(
                f"cannot listen on {self.address} (--aws-listen): {exc.strerror or exc}"
            ) from None
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        return self.port

    async def close(self, grace: float | None = None) -> None:
        """Stop accepting, let requests in flight finish (at most `grace`, default the
        constructor's), close."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        for site in runner.sites:
            await site.stop()  # no new connections
        server = runner.server
        if server is not None:  # what runner.cleanup does, with this call's grace
            await asyncio.sleep(0)  # requests already received start to be handled
            server.pre_shutdown()  # idle keep-alive connections closed
            await server.shutdown(self._grace if grace is None else grace)
        await runner.cleanup()

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        rid = begin_request()
        try:
            status, headers, body = await self._serve(request, rid)
        except Exception as exc:  # noqa: BLE001 - last resort; type only (no secret text)
            log.error("AWS listener: internal error (request id %s): %s", rid, error_kind(exc))
            status, headers, body = answer(
                500, INTERNAL, f"InternalServiceError (request id {rid})", rid
            )
        response = web.Response(status=status, headers=headers, body=body)
        if status == 413 or headers.get("Connection") == "close":
            response.force_close()  # the rest of the body was not read
        return response

    async def _serve(self, request: web.BaseRequest, rid: str) -> Answer:
        refused = self._framing(request, rid)
        if refused is not None:
            return refused
        op = request.headers.get("X-Amz-Target", "")[len(TARGET_PREFIX) :]
        method = self._methods[op]
        if (
            request.version >= (1, 1)
            and request.headers.get("Expect", "").lower() == "100-continue"
        ):
            await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # as aiohttp's router
            request.writer.output_size = 0  # the response proper is still to come
        try:
            body = await _read(request.content, self._max_body)
        except _TooLarge:
            return self._too_large(rid)
        except _Unreadable as exc:
            if exc.gone:  # nobody to answer: not an error of ours
                log.debug("AWS listener: the client left during the body (request id %s)", rid)
            return _closing(answer(400, UNREADABLE, "The request body could not be read.", rid))
        ctx = WireContext(
            peer_of(request.transport.get_extra_info("peername") if request.transport else None),
            request.headers.get("User-Agent", ""),
            self._tls is not None,
            self._signed(
                request.method,
                request.raw_path.partition("?")[0],
                request.raw_path.partition("?")[2],
                tuple(
                    (k.decode("latin-1").lower(), v.decode("latin-1"))
                    for k, v in request.raw_headers
                ),  # fmt: skip
                body,
            ),
        )
        if len(body) > THREAD_AT:
            message = await asyncio.to_thread(_decode, op, body)
        else:
            message = _decode(op, body)
        try:
            response = await method.handler(message, ctx, metadata=ctx.invocation_metadata())
        except WireAbort as abort:
            return error_answer(abort.status, rid)
        return ok_answer(codec.encode(op, response), rid)

    def _framing(self, request: web.BaseRequest, rid: str) -> Answer | None:
        """AWS's answer to a request that names no operation of this service (None: fine)."""
        if request.path != "/":
            return answer(404, UNKNOWN_OPERATION, "The AWS JSON API is served at POST /.", rid)
        if request.method != "POST":
            return answer(
                405, UNKNOWN_OPERATION, f"{request.method} is not allowed: use POST /.", rid
            )
        if request.content_type not in CONTENT_TYPES:
            return answer(
                400,
                UNKNOWN_OPERATION,
                "Content-Type must be application/x-amz-json-1.1 (the AWS JSON 1.1 protocol).",
                rid,
            )
        target = request.headers.get("X-Amz-Target", "")
        if (
            not target.startswith(TARGET_PREFIX)
            or target[len(TARGET_PREFIX) :] not in self._methods
        ):
            return answer(
                400,
                UNKNOWN_OPERATION,
                "X-Amz-Target must name a Secrets Manager operation: secretsmanager.<Operation>.",
                rid,
            )
        if request.headers.get("Content-Encoding", "identity").lower() != "identity":
            text = "Content-Encoding is not supported: send the JSON body uncompressed."
            return _closing(answer(400, UNREADABLE, text, rid))
        length = request.content_length
        if length is not None and length > self._max_body:
            return self._too_large(rid)
        return None

    def _too_large(self, rid: str) -> Answer:
        return answer(
            413, TOO_LARGE, f"The request body is larger than {self._max_body} bytes.", rid
        )


def _closing(refused: Answer) -> Answer:
    """An answer sent before the body was read: the connection is closed after it."""
    status, headers, body = refused
    return status, {**headers, "Connection": "close"}, body
