"""Regions as real `smgrpc serve` processes, linked through in-loop FaultProxies.

Every Region→Region link goes through a FaultProxy running in the test's event loop: a Region
is started with `--peer OTHER=127.0.0.1:<proxy port>` and the proxy forwards to the other
process's current port, so a Region may come back on a new port after a restart without its
peers noticing. Every child is SIGKILLed and reaped in teardown (and at interpreter exit, in
case teardown never runs); logs stay in tmp_path (`<region>.stdout` / `<region>.stderr`).
"""

from __future__ import annotations

import asyncio
import atexit
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import grpc

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.crypto.cluster import ClusterKey
from smgrpc.replication.iam_operator import iam_status
from smgrpc.replication.iam_wire import IamAck
from tests.cluster.conftest import converged, write_cluster_secret
from tests.cluster.creds import channel as bearer_channel
from tests.cluster.creds import iam_replicated, token_reader
from tests.cluster.proxy import FaultProxy, Links
from tests.harness import wait_serving

ROOT = Path(__file__).resolve().parents[2]
_SCRIPT = ROOT / ".venv" / "bin" / "smgrpc"
SMGRPC = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "smgrpc.cli.main"]
START_TIMEOUT = 20.0

_LIVE: set[subprocess.Popen[bytes]] = set()


@atexit.register
def _kill_leftovers() -> None:  # pragma: no cover - only if a teardown never ran
    for p in list(_LIVE):
        if p.poll() is None:
            p.kill()
            p.wait(5)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RegionProcess:
    """One Region's server process (its data directory survives restarts)."""

    def __init__(
        self,
        region: str,
        data_dir: Path,
        peers: Sequence[tuple[str, int]],
        secret_file: Path,
        log_dir: Path,
        iam_region: str | None = None,
    ) -> None:
        self.region, self.data_dir, self.peers = region, data_dir, list(peers)
        self.iam_region = iam_region
        self.secret_file = secret_file
        self.stdout_path = log_dir / f"{region}.stdout"
        self.stderr_path = log_dir / f"{region}.stderr"
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def spawn(self) -> None:
        self.port = free_port()
        argv = [
            *SMGRPC,
            "serve",
            "--region",
            self.region,
            "--listen",
            self.addr,
            "--data-dir",
            str(self.data_dir),
            "--cluster-secret-file",
            str(self.secret_file),
            "--log-level",
            "INFO",
        ]
        for other, port in self.peers:
            argv += ["--peer", f"{other}=127.0.0.1:{port}"]
        if self.iam_region:
            argv += ["--iam-region", self.iam_region]
        env = {k: v for k, v in os.environ.items() if not k.startswith("SMGRPC_")}
        with open(self.stdout_path, "ab") as out, open(self.stderr_path, "ab") as err:
            err.write(f"---- start #{self.starts} on port {self.port} ----\n".encode())
            err.flush()
            self.proc = subprocess.Popen(argv, stdout=out, stderr=err, cwd=ROOT, env=env)
        _LIVE.add(self.proc)
        self.starts += 1

    async def start(self) -> None:
        for _attempt in range(3):
            self.spawn()
            if await self.wait_ready():
                return
            await self.kill()  # e.g. someone took the port between free_port() and bind
        raise AssertionError(
            f"{self.region} did not become ready:\n"
            + self.stderr().decode(errors="replace")[-4000:]
        )

    async def wait_ready(self, within: float = START_TIMEOUT) -> bool:
        return await wait_serving(self.addr, within, lambda: self.alive)

    async def kill(self, sig: int = signal.SIGKILL, grace: float = 15.0) -> None:
        """Send sig (default SIGKILL) and reap; SIGKILL if it is still alive after grace.

        Waits without blocking the event loop: the FaultProxies run in it, and a draining
        server may need them to finish its in-flight calls.
        """
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            for _ in range(int(grace / 0.02)):
                if self.proc.poll() is not None:
                    break
                await asyncio.sleep(0.02)
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait(timeout=10)
        _LIVE.discard(self.proc)

    @property
    def admin_token(self) -> Path:
        """The bootstrap admin credential (written by the IAM Region's first start)."""
        return self.data_dir / "admin.token"

    def stderr(self) -> bytes:
        return self.stderr_path.read_bytes() if self.stderr_path.exists() else b""


class ProcCluster(Links):
    """Regions as processes; `.stubs` and `.proxies` like tests/cluster/conftest.py's Cluster."""

    def __init__(self, tmp: Path, names: Sequence[str]) -> None:
        self.tmp, self.names = tmp, tuple(names)
        self.iam_region = self.names[0]  # IAM is global: the first Region holds it
        self.procs: dict[str, RegionProcess] = {}
        self.stubs: dict[str, pbg.SecretsManagerStub] = {}
        self.channels: dict[str, grpc.aio.Channel] = {}
        self.proxies: dict[tuple[str, str], FaultProxy] = {}  # (src, dst): the link src -> dst

    async def start(self) -> None:
        secret = write_cluster_secret(self.tmp / "cluster.secret")
        for a in self.names:
            for b in self.names:
                if a != b:
                    p = FaultProxy()
                    await p.start()
                    self.proxies[(a, b)] = p
        for name in self.names:
            peers = [(b, self.proxies[(name, b)].port) for b in self.names if b != name]
            self.procs[name] = RegionProcess(
                name, self.tmp / name, peers, secret, self.tmp, self.iam_region
            )
        await asyncio.gather(*(self.start_region(n) for n in self.names))
        await self.wait_iam()

    @property
    def admin_token(self) -> Path:
        """The cluster's admin credential: the IAM Region's bootstrap admin.token."""
        return self.procs[self.iam_region].admin_token

    async def wait_iam(self, within: float = 30.0) -> IamAck:
        """Until every running Region has the IAM Region's (epoch, generation)."""
        key = ClusterKey.from_file(self.tmp / "cluster.secret")
        live = [(n, p.addr) for n, p in self.procs.items() if p.alive]
        holder = (await iam_status(self.procs[self.iam_region].addr, self.iam_region, key)).holder
        return await iam_replicated(key, live, holder, within)

    async def start_region(self, name: str) -> None:
        proc = self.procs[name]
        await proc.start()
        for (_, dst), p in self.proxies.items():
            if dst == name:
                p.target = ("127.0.0.1", proc.port)
        old = self.channels.pop(name, None)
        if old is not None:
            await old.close()
        # A fresh channel: the old one may sit in reconnect backoff towards a dead port.
        # Every call carries the cluster's admin credential (see wait_iam).
        ch = bearer_channel(proc.addr, token_reader(self.procs[self.iam_region].admin_token))
        self.channels[name] = ch
        self.stubs[name] = pbg.SecretsManagerStub(ch)

    async def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        await self.procs[name].kill(sig)

    async def restart(self, name: str) -> float:
        """Start a stopped Region again; returns how long it took to become ready."""
        t0 = time.monotonic()
        await self.start_region(name)
        return time.monotonic() - t0

    async def close(self) -> None:
        for proc in self.procs.values():
            if proc.proc is not None and proc.proc.poll() is None:
                proc.proc.kill()  # teardown: no drain, whatever the test left running
        for proc in self.procs.values():
            await proc.kill()
        for ch in self.channels.values():
            await ch.close()
        for p in self.proxies.values():
            await p.close()


async def converged_p(c: ProcCluster, name: str, regions: tuple[str, ...]) -> bool:
    """tests/cluster/conftest.py's converged() (it only reads `.stubs`)."""
    return await converged(c, name, regions)  # type: ignore[arg-type]
