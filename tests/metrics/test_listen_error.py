"""The metrics listener reports its own error (ListenError: smgrpc.metrics sits below the
configuration layer); the Region maps it to a ConfigError (tests/metrics/test_metrics.py)."""

from __future__ import annotations

import socket

import pytest

from smgrpc.metrics.http import ListenError, MetricsServer, check_bind


def test_a_port_in_use_is_a_listen_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = MetricsServer(f"127.0.0.1:{port}", lambda *_: [])
        with pytest.raises(ListenError, match=f"cannot listen on 127.0.0.1:{port}"):
            server.start()


def test_plaintext_on_a_public_address_is_a_listen_error() -> None:
    with pytest.raises(ListenError, match="refusing to serve plaintext metrics"):
        check_bind("0.0.0.0:9100", tls=False, insecure=False)
