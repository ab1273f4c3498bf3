"""The metrics and health HTTP listener (--metrics-listen): /metrics, /healthz, /readyz.

prometheus_client's threaded WSGI server, in its own thread: a scrape never runs on the event
loop, so it cannot stall a gRPC call (collection only copies counters; see collector.py), and
/healthz can tell from outside whether the loop still answers: it asks the loop to run a no-op
(call_soon_threadsafe) and waits at most LOOP_TIMEOUT. Not IAM-protected (nothing secret is
served): loopback by default; a non-loopback address needs TLS (--tls-cert/--tls-key, the same
certificate as the gRPC port) or --insecure, as the gRPC listener does.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.registry import CollectorRegistry

from smgrpc.core.net import is_loopback

log = logging.getLogger("smgrpc.metrics")
LOOP_TIMEOUT = 1.0  # seconds the loop may take to run a no-op before /healthz answers 503
REQUEST_TIMEOUT = 10.0  # a client that sends nothing is dropped after this long
StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class ListenError(Exception):
    """The listener cannot be set up as configured (app.py reports it as a ConfigError: this
    package sits below the configuration layer)."""


def check_bind(address: str, tls: bool, insecure: bool) -> None:
    """Refuse plaintext metrics on an address others can reach, unless the operator said so."""
    if not tls and not insecure and not is_loopback(address):
        raise ListenError(
            f"refusing to serve plaintext metrics on {address}, a non-loopback address: give "
            "--tls-cert and --tls-key, use --metrics-listen 127.0.0.1:PORT, or pass --insecure"
        )


class _Quiet(WSGIRequestHandler):
    timeout = REQUEST_TIMEOUT  # socketserver applies it to each connection

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        """No per-request log lines (a scrape every few seconds)."""


def _loop_lag(loop: asyncio.AbstractEventLoop) -> float | None:
    """Seconds the event loop took to run a no-op scheduled from this thread (None: it did not
    within LOOP_TIMEOUT, or it is closed)."""
    done = threading.Event()
    began = time.perf_counter()
    try:
        loop.call_soon_threadsafe(done.set)
    except RuntimeError:  # the loop is closed
        return None
    return time.perf_counter() - began if done.wait(LOOP_TIMEOUT) else None


class Health:
    """/healthz (alive, loop responsive) and /readyz (serving: `ready()` gives no reason)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, ready: Callable[[], Sequence[str]]) -> None:
        self.loop, self.ready = loop, ready

    def healthz(self) -> tuple[bool, dict[str, object]]:
        lag = _loop_lag(self.loop)
        if lag is None:
            return False, {"status": "unhealthy", "reason": "the event loop does not respond"}
        return True, {"status": "ok", "loopLagSeconds": round(lag, 6)}

    def readyz(self) -> tuple[bool, dict[str, object]]:
        reasons = list(self.ready())
        if not reasons and _loop_lag(self.loop) is None:
            reasons.append("the event loop does not respond")
        if reasons:
            return False, {"status": "not ready", "reasons": reasons}
        return True, {"status": "ready"}


def make_app(registry: CollectorRegistry, health: Health) -> Callable[..., Iterable[bytes]]:
    """The WSGI app: /metrics (prometheus_client's own app), /healthz, /readyz."""
    metrics = make_wsgi_app(registry)
    checks = {"/healthz": health.healthz, "/readyz": health.readyz}

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            result: Iterable[bytes] = metrics(environ, start_response)
            return result
        check = checks.get(path)
        if check is None:
            return _answer(start_response, "404 Not Found", {"status": "no such path"})
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return _answer(start_response, "405 Method Not Allowed", {"status": "GET only"})
        ok, body = check()
        return _answer(start_response, "200 OK" if ok else "503 Service Unavailable", body)

    return app


def _answer(start_response: StartResponse, status: str, body: dict[str, object]) -> list[bytes]:
    data = json.dumps(body).encode() + b"\n"
    start_response(
        status,
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
    )
    return [data]


def _tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    return ctx


class MetricsServer:
    """The listener and its thread. `start()` and `close()` block (run them in a thread)."""

    def __init__(
        self,
        address: str,
        app: Callable[..., Iterable[bytes]],
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        self.address, self.app, self.tls = address, app, tls
        self.port = 0
        self._httpd: ThreadingWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> int:
        host, _, port = self.address.rpartition(":")
        host = host.strip("[]")
        try:
            family, _, _, _, sockaddr = socket.getaddrinfo(
                host, int(port), type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
            )[0]

            class Server(ThreadingWSGIServer):
                address_family = family

                def handle_error(self, request: Any, client_address: Any) -> None:
                    # A client that hung up, spoke plaintext to the TLS port or stayed silent:
                    # no traceback on stderr per port scan.
                    log.debug("metrics request from %s failed", client_address)

            httpd = make_server(str(sockaddr[0]), int(port), self.app, Server, handler_class=_Quiet)
        except OSError as exc:
            raise ListenError(
                f"cannot listen on {self.address} (--metrics-listen): {exc.strerror or exc}"
            ) from None
        if self.tls is not None:
            try:
                ctx = _tls_context(*self.tls)
            except (OSError, ssl.SSLError) as exc:
                httpd.server_close()
                raise ListenError(
                    f"--metrics-listen: cannot use --tls-cert/--tls-key: {exc}"
                ) from None
            # The handshake happens on the first read, in the request's own thread: a client
            # that connects and stays silent cannot hold up the accepting thread.
            httpd.socket = ctx.wrap_socket(
                httpd.socket, server_side=True, do_handshake_on_connect=False
            )
        self._httpd = httpd
        self.port = int(httpd.server_address[1])
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.2},
            daemon=True,
            name="smgrpc-metrics",
        )
        self._thread.start()
        return self.port

    def close(self) -> None:
        if self._httpd is None:
            return
        httpd, self._httpd = self._httpd, None
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
