"""Replication benchmark: lag primary -> replica, catch-up after an outage, write cost of replicas.

Three Regions run as separate local processes (us-east-1 primary, eu-west-1 and
ap-southeast-2 replicas), linked directly over loopback. Figures (targets from issue 3):
  * lag: PutSecretValue acknowledged in us-east-1 -> the new value readable in eu-west-1,
    p50/p99 over --writes sequential writes (target p99 <= 50 ms). Measured by polling
    the replica right after the ack with 0.5 ms pauses (the client shares the 2 cores).
  * catch-up: eu-west-1 is stopped, --changes changes are made on the primary (spread over
    --secrets secrets), eu-west-1 is started again; time from its health check answering
    SERVING until every secret there holds its last value (target <= 10 s).
  * write cost: PutSecretValue throughput at concurrency 16 on a secret with two replicas vs a
    secret with none, same servers, interleaved runs, medians (target >= 0.8x).
fsync on this VM is ~175 us (write-back virtual disk): absolute write figures are optimistic.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb  # noqa: E402
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg  # noqa: E402

REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
SMGRPC = str(ROOT / ".venv" / "bin" / "smgrpc")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.ports = {r: free_port() for r in REGIONS}
        self.secret = tmp / "cluster.secret"
        fd = os.open(self.secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(base64.b64encode(os.urandom(32)))
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, region: str) -> None:
        peers = []
        for other in REGIONS:
            if other != region:
                peers += ["--peer", f"{other}=127.0.0.1:{self.ports[other]}"]
        log = open(self.tmp / f"{region}.log", "ab")  # noqa: SIM115 - owned by the process
        self.procs[region] = subprocess.Popen(
            [
                SMGRPC,
                "serve",
                "--region",
                region,
                "--listen",
                f"127.0.0.1:{self.ports[region]}",
                "--data-dir",
                str(self.tmp / region),
                "--cluster-secret-file",
                str(self.secret),
                "--iam-region",
                REGIONS[0],
                "--log-level",
                "WARNING",
                *peers,
            ],
            stdout=log,
            stderr=log,
        )

    def stop(self, region: str) -> None:
        p = self.procs.pop(region)
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)

    def stop_all(self) -> None:
        for r in list(self.procs):
            self.procs[r].kill()
            self.procs[r].wait()
            del self.procs[r]

    def addr(self, region: str) -> str:
        return f"127.0.0.1:{self.ports[region]}"


async def wait_serving(addr: str, timeout: float = 30.0) -> float:
    deadline = time.monotonic() + timeout
    async with grpc.aio.insecure_channel(addr) as ch:
        stub = health_pb2_grpc.HealthStub(ch)
        while True:
            try:
                r = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
                if r.status == health_pb2.HealthCheckResponse.SERVING:
                    return time.perf_counter()
            except grpc.aio.AioRpcError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(addr)
            await asyncio.sleep(0.02)


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]


async def value_in(stub: pbg.SecretsManagerStub, name: str) -> str | None:
    try:
        return (await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id=name))).secret_string
    except grpc.aio.AioRpcError:
        return None


async def measure_lag(
    primary: pbg.SecretsManagerStub, replica: pbg.SecretsManagerStub, writes: int
) -> list[float]:
    name = "bench/lag"
    await primary.CreateSecret(
        pb.CreateSecretRequest(
            name=name,
            secret_string="v0",
            add_replica_regions=[
                pb.ReplicaRegionType(region=REGIONS[1]),
                pb.ReplicaRegionType(region=REGIONS[2]),
            ],
        )
    )
    while await value_in(replica, name) != "v0":
        await asyncio.sleep(0.01)
    lags = []
    for i in range(1, writes + 1):
        want = f"v{i}"
        await primary.PutSecretValue(pb.PutSecretValueRequest(secret_id=name, secret_string=want))
        acked = time.perf_counter()
        while await value_in(replica, name) != want:
            await asyncio.sleep(0.0005)  # poll gently: the client shares the 2 cores
        lags.append((time.perf_counter() - acked) * 1000)
    return lags


async def put_rate(stub: pbg.SecretsManagerStub, name: str, seconds: float, conc: int) -> float:
    done = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < stop:
            await stub.PutSecretValue(
                pb.PutSecretValueRequest(secret_id=name, secret_string="x" * 100)
            )
            done += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(conc)))
    return done / (time.perf_counter() - t0)


async def run(args: argparse.Namespace) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="smgrpc-bench-repl-"))
    c = Cluster(tmp)
    out: dict[str, object] = {}
    try:
        for r in REGIONS:
            c.start(r)
        for r in REGIONS:
            await wait_serving(c.addr(r))
        chans = {r: grpc.aio.insecure_channel(c.addr(r)) for r in REGIONS}
        stubs = {r: pbg.SecretsManagerStub(ch) for r, ch in chans.items()}
        us, eu = stubs[REGIONS[0]], stubs[REGIONS[1]]

        lags = await measure_lag(us, eu, args.writes)
        out["lag_ms"] = {
            "writes": len(lags),
            "p50": round(pct(lags, 50), 2),
            "p99": round(pct(lags, 99), 2),
            "max": round(max(lags), 2),
        }
        print(
            f"lag over {len(lags)} writes: p50 {pct(lags, 50):.2f} ms, "
            f"p99 {pct(lags, 99):.2f} ms (target p99 <= 50 ms)",
            flush=True,
        )

        # Write cost of two replicas: interleaved runs on the same servers.
        await us.CreateSecret(pb.CreateSecretRequest(name="bench/solo", secret_string="x"))
        await us.CreateSecret(
            pb.CreateSecretRequest(
                name="bench/replicated",
                secret_string="x",
                add_replica_regions=[
                    pb.ReplicaRegionType(region=REGIONS[1]),
                    pb.ReplicaRegionType(region=REGIONS[2]),
                ],
            )
        )
        solo, repl = [], []
        for _ in range(args.repeat):
            solo.append(await put_rate(us, "bench/solo", args.duration, 16))
            repl.append(await put_rate(us, "bench/replicated", args.duration, 16))
        ratio = statistics.median(repl) / statistics.median(solo)
        out["write_throughput"] = {
            "no_replicas_rps": round(statistics.median(solo)),
            "two_replicas_rps": round(statistics.median(repl)),
            "ratio": round(ratio, 3),
            "runs": args.repeat,
        }
        print(
            f"PutSecretValue c=16: no replicas {statistics.median(solo):.0f}/s, two replicas "
            f"{statistics.median(repl):.0f}/s, ratio {ratio:.2f} (target >= 0.8)",
            flush=True,
        )

        # Catch-up after an outage of eu-west-1.
        names = [f"bench/catchup/{i}" for i in range(args.secrets)]
        for n in names:
            await us.CreateSecret(
                pb.CreateSecretRequest(
                    name=n,
                    secret_string="0",
                    add_replica_regions=[pb.ReplicaRegionType(region=REGIONS[1])],
                )
            )
        for n in names:
            while await value_in(eu, n) != "0":
                await asyncio.sleep(0.01)
        await chans[REGIONS[1]].close()
        c.stop(REGIONS[1])
        per = args.changes // len(names)
        t0 = time.perf_counter()
        queue = [(n, i) for i in range(1, per + 1) for n in names]
        sem = asyncio.Semaphore(16)

        async def one(n: str, i: int) -> None:
            async with sem:
                await us.PutSecretValue(pb.PutSecretValueRequest(secret_id=n, secret_string=str(i)))

        await asyncio.gather(*(one(n, i) for n, i in queue))
        queued_s = time.perf_counter() - t0
        c.start(REGIONS[1])
        ready = await wait_serving(c.addr(REGIONS[1]))
        chans[REGIONS[1]] = grpc.aio.insecure_channel(c.addr(REGIONS[1]))
        eu = pbg.SecretsManagerStub(chans[REGIONS[1]])
        pending = set(names)
        while pending:
            for n in list(pending):
                if await value_in(eu, n) == str(per):
                    pending.discard(n)
        catchup = time.perf_counter() - ready
        out["catch_up"] = {
            "changes": len(queue),
            "secrets": len(names),
            "queued_in_s": round(queued_s, 2),
            "seconds": round(catchup, 3),
        }
        print(
            f"catch-up: {len(queue)} changes on {len(names)} secrets queued in {queued_s:.1f} s; "
            f"replica caught up {catchup:.2f} s after it answered SERVING (target <= 10 s)",
            flush=True,
        )
        for ch in chans.values():
            await ch.close()
    finally:
        c.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--writes", type=int, default=1000)
    p.add_argument("--changes", type=int, default=10_000)
    p.add_argument("--secrets", type=int, default=1000)
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--json")
    args = p.parse_args(argv)
    out = asyncio.run(run(args))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    lag = out["lag_ms"]["p99"]  # type: ignore[index]
    ok = (
        lag <= 50
        and out["catch_up"]["seconds"] <= 10  # type: ignore[index]
        and out["write_throughput"]["ratio"] >= 0.8
    )  # type: ignore[index]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
