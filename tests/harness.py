"""Harness for multi-process tests: real `smgrpc serve` processes on 127.0.0.1.

Every process started through the `servers` fixture is killed (SIGKILL) and reaped in teardown,
whatever the test did. stdout/stderr of each process go to files next to its data directory,
so a test can grep them afterwards (and a failing test's logs are left in tmp_path).
"""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from tests.authn import channel as authed_channel

ROOT = Path(__file__).resolve().parents[1]
_SCRIPT = Path(sys.executable).parent / "smgrpc"
# The installed console script (the real entry point); `python -m` as a fallback.
SMGRPC = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "smgrpc.cli.main"]
START_TIMEOUT = 20.0


def free_port() -> int:
    """A port that was free a moment ago (start() retries if someone else grabs it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_key_file(path: Path, mode: int = 0o600, key: bytes | None = None) -> bytes:
    """A valid master key file (base64 of 32 random bytes) with the given mode."""
    key = key if key is not None else os.urandom(32)
    path.write_bytes(base64.b64encode(key) + b"\n")
    path.chmod(mode)
    return key


def snapshot(data_dir: Path) -> dict[str, bytes]:
    """Exact bytes of the database files (secrets.db and any -wal / -shm) in a data dir."""
    return {p.name: p.read_bytes() for p in sorted(data_dir.glob("secrets.db*"))}


class ServerProcess:
    """One `smgrpc serve` child process."""

    def __init__(self, data_dir: Path, args: Sequence[str], log_dir: Path, n: int) -> None:
        self.data_dir = data_dir
        self.args = list(args)
        self.port = 0
        self.stdout_path = log_dir / f"server-{n}.stdout"
        self.stderr_path = log_dir / f"server-{n}.stderr"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"

    def admin_token(self) -> str | None:
        """The bootstrap admin credential the server wrote (`<data-dir>/admin.token`), if any
        (a different --admin-token-file in args is honoured)."""
        path = self.data_dir / "admin.token"
        if "--admin-token-file" in self.args:
            path = Path(self.args[self.args.index("--admin-token-file") + 1])
        return path.read_text().strip() if path.exists() else None

    def spawn(self, port: int | None = None) -> subprocess.Popen[bytes]:
        """Start the process (no readiness wait)."""
        self.port = port or free_port()
        argv = [
            *SMGRPC,
            "serve",
            "--region",
            "us-east-1",
            "--listen",
            self.addr,
            "--data-dir",
            str(self.data_dir),
            *self.args,
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith("SMGRPC_")}
        with open(self.stdout_path, "ab") as out, open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=err, cwd=ROOT, env=env)
        return self.proc

    async def start(self) -> ServerProcess:
        """Spawn and wait until the health service answers SERVING."""
        for _attempt in range(3):
            self.spawn()
            if await self.wait_ready():
                return self
            self.kill()
            if b"bind" not in self.stderr().lower():  # only a lost race for the port is retried
                break
        raise AssertionError(
            f"server did not become ready (rc={self.proc.poll() if self.proc else None}):\n"
            + self.stderr().decode(errors="replace")[-4000:]
        )

    async def wait_ready(self, within: float = START_TIMEOUT) -> bool:
        assert self.proc is not None
        proc = self.proc
        return await wait_serving(self.addr, within, lambda: proc.poll() is None)

    def kill(self) -> None:
        """SIGKILL and reap."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=10)

    async def terminate(self, within: float = 15.0) -> int:
        """SIGTERM; wait for exit; return the exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return await self.wait(within)

    async def wait(self, within: float) -> int:
        assert self.proc is not None
        deadline = time.monotonic() + within
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"server did not exit within {within}s")
            await asyncio.sleep(0.02)
        return int(self.proc.returncode)

    def stderr(self) -> bytes:
        return self.stderr_path.read_bytes() if self.stderr_path.exists() else b""

    def output(self) -> bytes:
        out = self.stdout_path.read_bytes() if self.stdout_path.exists() else b""
        return out + self.stderr()


class Servers:
    """Factory for server processes; owns them all (teardown kills every one)."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.all: list[ServerProcess] = []

    def new(self, data_dir: Path | None = None, *args: str) -> ServerProcess:
        server = ServerProcess(data_dir or self.tmp / "data", args, self.tmp, len(self.all))
        self.all.append(server)
        return server

    async def start(self, data_dir: Path | None = None, *args: str) -> ServerProcess:
        return await self.new(data_dir, *args).start()

    def run_cli(self, *argv: str, timeout: float = 30.0) -> subprocess.CompletedProcess[bytes]:
        """Run `smgrpc serve ...` to completion (for start-up refusals)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("SMGRPC_")}
        return subprocess.run(
            [*SMGRPC, *argv], capture_output=True, cwd=ROOT, env=env, timeout=timeout, check=False
        )

    def cleanup(self) -> None:
        for server in self.all:
            server.kill()


@pytest.fixture
async def servers(tmp_path: Path) -> AsyncIterator[Servers]:
    s = Servers(tmp_path)
    try:
        yield s
    finally:
        s.cleanup()


async def channel_stub(
    addr: str | ServerProcess, token: str | None = None
) -> tuple[grpc.aio.Channel, pbg.SecretsManagerStub]:
    """A channel + stub; given a ServerProcess, it sends that server's admin credential (read
    per call, so a restarted server's token is picked up); given an address, `token`."""
    if isinstance(addr, ServerProcess):
        server = addr
        ch = authed_channel(server.addr, lambda: token or server.admin_token())
    else:
        ch = authed_channel(addr, token) if token else grpc.aio.insecure_channel(addr)
    return ch, pbg.SecretsManagerStub(ch)


async def wait_serving(addr: str, within: float, alive: Callable[[], bool]) -> bool:
    """Poll the standard health service until SERVING (False if the process died or timed out)."""
    deadline = time.monotonic() + within
    async with grpc.aio.insecure_channel(addr) as ch:
        health = health_pb2_grpc.HealthStub(ch)
        while time.monotonic() < deadline:
            if not alive():
                return False
            try:
                resp = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=0.5)
                if resp.status == health_pb2.HealthCheckResponse.SERVING:
                    return True
            except grpc.aio.AioRpcError:
                pass
            await asyncio.sleep(0.05)
    return False
