"""Start-up failures end the process promptly with a clear message (no hang, no traceback)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from tests.harness import Servers


async def test_port_in_use_exits_promptly_and_leaves_the_data_dir_usable(
    servers: Servers, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        addr = f"127.0.0.1:{taken.getsockname()[1]}"
        data = tmp_path / "data"
        r = servers.run_cli("serve", "--listen", addr, "--data-dir", str(data), timeout=15)
    assert r.returncode == 2, r.stderr
    assert f"cannot listen on {addr}".encode() in r.stderr, r.stderr
    assert b"Traceback" not in r.stderr
    server = await servers.start(data)  # the aborted start closed the database properly
    assert await server.terminate() == 0


async def test_corrupt_database_file_exits_with_a_message(servers: Servers, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "secrets.db").write_bytes(os.urandom(8192))
    r = servers.run_cli("serve", "--listen", "127.0.0.1:0", "--data-dir", str(data), timeout=15)
    assert r.returncode == 2, r.stderr
    assert b"the database could not be used: file is not a database" in r.stderr, r.stderr
    assert b"Traceback" not in r.stderr


async def test_bad_busy_timeout_is_refused(servers: Servers, tmp_path: Path) -> None:
    r = servers.run_cli(
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        str(tmp_path / "d"),
        "--busy-timeout",
        "soon",
        timeout=15,
    )
    assert r.returncode == 2
    assert b"--busy-timeout must be a number of seconds" in r.stderr, r.stderr
    assert not (tmp_path / "d").exists()
