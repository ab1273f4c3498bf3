"""Start-up failures end the process promptly with a clear message (no hang, no traceback)."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import pytest

from tests.harness import ROOT, SMGRPC, Servers, snapshot, write_key_file


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
    # Checked before anything is created; one line of ours, no raw grpc core log line.
    assert not data.exists()
    assert len(r.stderr.splitlines()) == 1 and b"add_port" not in r.stderr, r.stderr
    server = await servers.start(data)
    assert await server.terminate() == 0
    with socket.socket() as taken:  # an existing Region's data dir is not touched either
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        addr = f"127.0.0.1:{taken.getsockname()[1]}"
        before = snapshot(data)
        r = servers.run_cli("serve", "--listen", addr, "--data-dir", str(data), timeout=15)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr
    assert snapshot(data) == before


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


def _serve(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SMGRPC_")}
    return subprocess.run(
        [*SMGRPC, "serve", *argv],
        capture_output=True,
        cwd=ROOT,
        env=base | (env or {}),
        timeout=30,
        check=False,
    )


async def test_serve_refuses_a_data_dir_of_another_region(servers: Servers, tmp_path: Path) -> None:
    server = await servers.start()  # us-east-1
    assert await server.terminate() == 0
    data = server.data_dir
    before = snapshot(data)
    r = _serve("--listen", "127.0.0.1:0", "--data-dir", str(data), "--region", "eu-west-1")
    assert r.returncode == 2, r.stderr
    assert (
        r.stderr
        == (
            f"smgrpc: {data} belongs to Region us-east-1, not eu-west-1: refusing to start "
            "(nothing was modified; use --region us-east-1 or another --data-dir)\n"
        ).encode()
    )
    assert snapshot(data) == before


async def test_a_data_dir_without_region_record_gets_one_on_the_next_start(
    servers: Servers, tmp_path: Path
) -> None:
    """Data dirs from before the record: the next serve records it; kms reads the key ARNs."""
    server = await servers.start()
    assert await server.terminate() == 0
    db = server.data_dir / "secrets.db"
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("DELETE FROM meta WHERE k = 'region'")
        conn.commit()
    r = _serve(
        "--listen", "127.0.0.1:0", "--data-dir", str(server.data_dir), "--region", "eu-west-1"
    )
    assert r.returncode == 2 and b"belongs to Region us-east-1" in r.stderr, r.stderr
    server = await servers.start(server.data_dir)
    assert await server.terminate() == 0
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("SELECT v FROM meta WHERE k = 'region'").fetchall() == [(b"us-east-1",)]


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["--log-level", "verbose"], {}, "--log-level must be one of DEBUG, INFO, WARNING"),
        ([], {"SMGRPC_LOG_LEVEL": "loud"}, "SMGRPC_LOG_LEVEL must be one of DEBUG, INFO"),
        (["--log-format", "xml"], {}, "--log-format must be one of text, json, got 'xml'"),
        (["--listen", "nowhere"], {}, "--listen must look like HOST:PORT, got 'nowhere'"),
        (["--cluster-secret-file", "/nonexistent/c.secret"], {}, "cluster secret file"),
        (
            ["--peer", "eu-west-1=127.0.0.1:1"],
            {},
            "--peer needs --cluster-secret-file",
        ),
    ],
)
def test_bad_settings_are_one_line_errors_and_create_nothing(
    tmp_path: Path, argv: list[str], env: dict[str, str], message: str
) -> None:
    data = tmp_path / "d"
    r = _serve("--listen", "127.0.0.1:0", "--data-dir", str(data), *argv, env=env)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.splitlines()) == 1 and message.encode() in r.stderr, r.stderr
    assert list(tmp_path.iterdir()) == []


def test_open_cluster_secret_is_refused_before_anything_is_created(tmp_path: Path) -> None:
    secret = tmp_path / "cluster.secret"
    write_key_file(secret, mode=0o644)
    data = tmp_path / "d"
    r = _serve(
        "--listen", "127.0.0.1:0", "--data-dir", str(data), "--cluster-secret-file", str(secret)
    )
    assert r.returncode == 2 and b"has mode 0644" in r.stderr, r.stderr
    assert not data.exists()


async def test_json_log_format(servers: Servers, tmp_path: Path) -> None:
    server = await servers.start(None, "--log-format", "json", "--log-level", "debug")
    assert await server.terminate() == 0
    lines = [json.loads(line) for line in server.stderr().decode().splitlines()]
    assert lines, "the server logged nothing"
    for entry in lines:
        assert {"time", "level", "logger", "message"} <= set(entry), entry
    assert any(e["message"].startswith("Region us-east-1 serving on") for e in lines), lines
    assert any(
        e["level"] == "WARNING" and "generated a new master key" in e["message"] for e in lines
    )
