"""WatchSecrets lag: from an acknowledged PutSecretValue to its VersionAdded event arriving.

`.venv/bin/python scripts/bench_watch.py [--puts N] [--watchers W] [--gap S]` starts a real
`smgrpc serve` process on loopback (a fresh temp data dir), opens W streams, then makes N
PutSecretValue calls one after another (a pause of S seconds between two) and records, per
put and per stream, the arrival time of its event minus the time the put's response arrived
(negative: the event came first, the usual case: the stream wakes at COMMIT, the response is
sent after it), and minus the time the put was sent (an upper bound of the lag, the whole
call included). Prints p50/p99/max in milliseconds. Never run by the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb  # noqa: E402
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""


async def wait_token(path: Path, proc: asyncio.subprocess.Process) -> str:
    for _ in range(300):
        if token := await asyncio.to_thread(_read, path):
            return token
        if proc.returncode is not None:
            raise SystemExit("the server exited")
        await asyncio.sleep(0.1)
    raise SystemExit("no admin token")


async def run(puts: int, watchers: int, gap: float) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    port = free_port()
    exe = ROOT / ".venv" / "bin" / "smgrpc"
    argv = [str(exe), "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(tmp / "r")]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMGRPC_")}
    proc = await asyncio.create_subprocess_exec(
        *argv, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=env
    )
    try:
        token = await wait_token(tmp / "r" / "admin.token", proc)
        md = (("authorization", f"Bearer {token}"),)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
            stub = pbg.SecretsManagerStub(ch)
            await asyncio.wait_for(ch.channel_ready(), 30)
            await stub.CreateSecret(
                pb.CreateSecretRequest(name="bench", secret_string="v0"), metadata=md
            )
            arrived: list[dict[str, float]] = [{} for _ in range(watchers)]
            streams = [
                stub.WatchSecrets(pb.WatchSecretsRequest(secret_ids=["bench"]), metadata=md)
                for _ in range(watchers)
            ]
            for s in streams:
                await s.read()  # the first heartbeat: live

            async def reader(i: int) -> None:
                while (msg := await streams[i].read()) is not grpc.aio.EOF:
                    if msg.type == "VersionAdded":
                        arrived[i][msg.version_id] = time.perf_counter()

            tasks = [asyncio.create_task(reader(i)) for i in range(watchers)]
            acked: dict[str, float] = {}
            sent: dict[str, float] = {}
            for n in range(puts):
                t0 = time.perf_counter()
                out = await stub.PutSecretValue(
                    pb.PutSecretValueRequest(secret_id="bench", secret_string=f"v{n}"),
                    metadata=md,
                )
                acked[out.version_id] = time.perf_counter()
                sent[out.version_id] = t0
                await asyncio.sleep(gap)
            await asyncio.sleep(0.5)
            for t in tasks:
                t.cancel()
            for what, base in (("after the ack", acked), ("after the call began", sent)):
                lags = sorted(
                    (got[vid] - at) * 1000
                    for got in arrived
                    for vid, at in base.items()
                    if vid in got
                )
                missing = puts * watchers - len(lags)
                q = statistics.quantiles(lags, n=100)
                print(
                    f"watchers={watchers} puts={puts} event arrival {what}: ms p50={q[49]:.2f} "
                    f"p99={q[98]:.2f} max={lags[-1]:.2f} min={lags[0]:.2f} missing={missing}"
                )
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 15)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--puts", type=int, default=500)
    p.add_argument("--watchers", type=int, default=1)
    p.add_argument("--gap", type=float, default=0.002)
    a = p.parse_args()
    asyncio.run(run(a.puts, a.watchers, a.gap))


if __name__ == "__main__":
    main()
