"""scripts/bench scale: a Region with many secrets (default 100k, 2 versions and 3 tags each).

Figures (targets from issue 6): start-up of `smgrpc serve` until health SERVING (<= 5 s), the
server's RSS (<= 300 MB), ListSecrets page latency over many pages, p50/p99, unfiltered
(<= 20 ms) and with an `all` filter (<= 50 ms), the longest health-check delay seen while
listing (the event loop stall, + client noise), and the purge pass time.

The database is written directly with SQL (rows laid out as the store writes them, every value
sealed by the Region's real keyring, so each one decrypts); the server then loads it through
its normal start-up path. The client is Python grpc.aio on the same 2 cores: latencies include
its share. Never run by the tests. Exit status 0: all targets met, 1: a target missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb  # noqa: E402
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg  # noqa: E402
from smgrpc.app import open_keyring, paging_tokens  # noqa: E402
from smgrpc.config import Config  # noqa: E402
from smgrpc.core.arn import secret_arn  # noqa: E402
from smgrpc.core.model import Secret, SecretValue, Version  # noqa: E402
from smgrpc.core.ports import SystemClock  # noqa: E402
from smgrpc.core.secrets import SecretUseCases  # noqa: E402
from smgrpc.core.values import ValueUseCases  # noqa: E402
from smgrpc.crypto.keyring import Keyring  # noqa: E402
from smgrpc.crypto.master import load_master_key  # noqa: E402
from smgrpc.storage import codec  # noqa: E402
from smgrpc.storage.sqlite import SqliteStore  # noqa: E402

REGION, ACCOUNT = "us-east-1", "123456789012"
TARGETS = {"page_ms": 20.0, "filtered_page_ms": 50.0, "rss_mb": 300.0, "startup_s": 5.0}
T0 = 1_790_000_000.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def populate(data_dir: Path, n: int) -> float:
    """n secrets, 2 versions (AWSCURRENT, AWSPREVIOUS), 3 tags, written with SQL; seconds."""
    config = Config(region=REGION, account=ACCOUNT, data_dir=data_dir)
    store, keyring = await open_keyring(config, SystemClock())  # master key, default KMS key
    await store.close()
    t = time.perf_counter()
    db = sqlite3.connect(config.db_path)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = OFF")  # population only; the server opens it normally
    step = 5000
    for start in range(0, n, step):
        secrets, versions = [], []
        for i in range(start, min(n, start + step)):
            name = f"app/service{i:07d}/db"
            arn = secret_arn(REGION, ACCOUNT, name, f"{i % 1000000:06d}")
            created = T0 + i
            vs = []
            for k, stages in ((0, ("AWSPREVIOUS",)), (1, ("AWSCURRENT",))):
                vid = f"{i:012d}-{k}".ljust(32, "0")
                value = SecretValue(string=f'{{"user":"svc{i}","password":"p{i}-{k}"}}')
                sealed = keyring.seal(value, ref=None, secret_arn=arn, version_id=vid)
                v = Version(vid, created + k, stages, sealed.kms_key_id)
                vs.append(v)
                versions.append(
                    (
                        arn,
                        vid,
                        v.created_at,
                        codec.stages_json(v),
                        v.kms_key_id,
                        1,
                        None,
                        sealed.wrapped_key,
                        sealed.ciphertext,
                    )
                )
            s = Secret(
                arn=arn,
                name=name,
                created_at=created,
                last_changed_at=created + 1,
                description=f"Database credentials for service {i}",
                tags=(
                    ("env", ("prod", "dev", "staging", "test")[i % 4]),
                    ("team", f"team{i % 50}"),
                    ("app", f"app{i}"),
                ),
                versions=tuple(vs),
            )
            secrets.append((arn, name, i + 1, codec.secret_meta(s)))
        db.executemany("INSERT INTO secrets(arn, name, seq, meta) VALUES (?, ?, ?, ?)", secrets)
        db.executemany("INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", versions)
        db.commit()
    db.close()
    return time.perf_counter() - t


class Prober:
    """Health checks every 10 ms on their own channel; the slowest answer per phase."""

    def __init__(self, addr: str) -> None:
        self.addr = addr
        self.worst = 0.0
        self._stop = asyncio.Event()

    async def run(self) -> None:
        async with grpc.aio.insecure_channel(self.addr) as ch:
            stub = health_pb2_grpc.HealthStub(ch)
            while not self._stop.is_set():
                t = time.perf_counter()
                await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=30)
                self.worst = max(self.worst, time.perf_counter() - t)
                await asyncio.sleep(0.01)

    def take(self) -> float:
        worst, self.worst = self.worst, 0.0
        return worst

    def stop(self) -> None:
        self._stop.set()


# While the server starts, connections are refused: without these the channel's reconnect
# backoff (1 s, 1.6 s, 2.6 s, ...) would add up to seconds to the measured start-up.
FAST_RECONNECT = [
    ("grpc.initial_reconnect_backoff_ms", 20),
    ("grpc.min_reconnect_backoff_ms", 20),
    ("grpc.max_reconnect_backoff_ms", 50),
]


async def wait_serving(addr: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    async with grpc.aio.insecure_channel(addr, options=FAST_RECONNECT) as ch:
        stub = health_pb2_grpc.HealthStub(ch)
        while True:
            try:
                r = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
                if r.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(addr)
            await asyncio.sleep(0.01)


async def page_latencies(
    stub: pbg.SecretsManagerStub, pages: int, **kw: Any
) -> tuple[list[float], int]:
    """Follow NextTokens for up to `pages` pages (from the start again at the end)."""
    lat, seen, token = [], 0, None
    for _ in range(pages):
        req = pb.ListSecretsRequest(max_results=100, **kw)
        if token:
            req.next_token = token
        t = time.perf_counter()
        resp = await stub.ListSecrets(req)
        lat.append((time.perf_counter() - t) * 1000)
        seen += len(resp.secret_list)
        token = resp.next_token if resp.HasField("next_token") else None
    return lat, seen


def spawn(data_dir: Path, addr: str) -> subprocess.Popen[bytes]:
    """`smgrpc serve` on the data dir (its output in server.log beside it)."""
    with open(data_dir.parent / "server.log", "ab") as log:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "smgrpc.cli.main",
                "serve",
                "--region",
                REGION,
                "--listen",
                addr,
                "--data-dir",
                str(data_dir),
                "--log-level",
                "WARNING",
            ],
            stdout=log,
            stderr=log,
            cwd=ROOT,
        )


async def measure_server(data_dir: Path, pages: int) -> dict[str, Any]:
    port = free_port()
    addr = f"127.0.0.1:{port}"
    t = time.perf_counter()
    proc = spawn(data_dir, addr)
    out: dict[str, Any] = {}
    try:
        await wait_serving(addr, 600)
        out["startup_s"] = time.perf_counter() - t
        out["rss_after_start_mb"] = rss_mb(proc.pid)
        prober = Prober(addr)
        probe = asyncio.create_task(prober.run())
        async with grpc.aio.insecure_channel(addr) as ch:
            stub = pbg.SecretsManagerStub(ch)
            await stub.ListSecrets(pb.ListSecretsRequest(max_results=1))
            prober.take()
            phases = {
                "unfiltered": {},
                "unfiltered_by_name_desc": {"sort_by": "name", "sort_order": "desc"},
                # 1 secret in 50 (team7), so a page scans ~5,000 secrets.
                "all_filter_2pct": {"filters": [pb.Filter(key="all", values=["team7"])]},
                # 1 in 4, several words: the per-string check after the quick reject.
                "all_filter_25pct": {"filters": [pb.Filter(key="all", values=["prod", "db"])]},
            }
            for label, kw in phases.items():
                lat, seen = await page_latencies(stub, pages, **kw)
                out[label] = {
                    "pages": len(lat),
                    "secrets": seen,
                    "p50_ms": statistics.median(lat),
                    "p99_ms": pct(lat, 99),
                    "max_ms": max(lat),
                    "worst_health_check_ms": prober.take() * 1000,
                }
            # Worst case: a filter nothing matches scans every secret for one (empty) page.
            nomatch = [pb.Filter(key="all", values=[f"zz{i}" for i in range(10)])]
            for attempt in ("first", "again"):  # the first computes every secret's words
                lat, _ = await page_latencies(stub, 1, filters=nomatch)
                out[f"all_filter_nomatch_full_scan_{attempt}"] = {
                    "ms": lat[0],
                    "worst_health_check_ms": prober.take() * 1000,
                }
        prober.stop()
        await probe
        out["rss_after_listing_mb"] = rss_mb(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return out


class StepClock:
    def __init__(self) -> None:
        self.t = time.time()

    def now(self) -> float:
        return self.t


async def measure_purge(data_dir: Path, due: int) -> dict[str, Any]:
    """In-process on the real store: a purge pass with nothing due, then with `due` due."""
    config = Config(region=REGION, account=ACCOUNT, data_dir=data_dir)
    t = time.perf_counter()
    store = await SqliteStore.open(config.db_path)
    load = time.perf_counter() - t
    try:
        master = load_master_key(config.key_path, create=False)
        keyring = Keyring(master, REGION, ACCOUNT, await store.kms_keys())
        clock = StepClock()
        tokens = paging_tokens(keyring)
        values = ValueUseCases(store, keyring, clock, tokens=tokens)
        uc = SecretUseCases(store, keyring, clock, values, REGION, ACCOUNT, tokens=tokens)
        t = time.perf_counter()
        assert await uc.purge_due() == []
        empty = time.perf_counter() - t
        for i in range(due):
            await uc.delete_secret(f"app/service{i:07d}/db", 7, None)
        clock.t += 8 * 86400
        t = time.perf_counter()
        purged = await uc.purge_due()
        took = time.perf_counter() - t
        assert len(purged) == due, len(purged)
    finally:
        await store.close()
    return {
        "store_load_s": load,
        "empty_pass_ms": empty * 1000,
        "due": due,
        f"pass_with_{due}_due_ms": took * 1000,
    }


def rounded(x: Any) -> Any:
    if isinstance(x, float):
        return round(x, 2)
    if isinstance(x, dict):
        return {k: rounded(v) for k, v in x.items()}
    return x


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="smgrpc-scale-", dir=args.tmp) as tmp:
        data_dir = Path(tmp) / REGION
        result: dict[str, Any] = {"secrets": args.secrets, "versions_per_secret": 2, "tags": 3}
        cached = args.reuse / f"{args.secrets}" / REGION if args.reuse else None
        if cached is not None and cached.is_dir():
            shutil.copytree(cached, data_dir)  # the purge phase changes it: work on a copy
            result["populate_s"] = None
        else:
            result["populate_s"] = await populate(data_dir, args.secrets)
            if cached is not None:
                shutil.copytree(data_dir, cached)
        result["db_mb"] = (data_dir / "secrets.db").stat().st_size / 2**20
        result["server"] = await measure_server(data_dir, args.pages)
        if not args.server_only:
            result["purge"] = await measure_purge(data_dir, args.due)
    return result


def verdict(r: dict[str, Any]) -> list[str]:
    s = r["server"]
    checks = [
        ("startup_s", s["startup_s"], TARGETS["startup_s"]),
        ("rss_mb (after listing)", s["rss_after_listing_mb"], TARGETS["rss_mb"]),
        ("unfiltered page p99 ms", s["unfiltered"]["p99_ms"], TARGETS["page_ms"]),
        (
            "all-filter (2%) page p99 ms",
            s["all_filter_2pct"]["p99_ms"],
            TARGETS["filtered_page_ms"],
        ),
    ]
    return [
        f"{'met ' if v <= lim else 'MISSED'} {k}: {v:.1f} (target <= {lim:g})"
        for k, v, lim in checks
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="scripts/bench scale", description=__doc__.split("\n")[0])
    ap.add_argument("--secrets", type=int, default=100_000)
    ap.add_argument("--pages", type=int, default=200, help="pages per listing phase")
    ap.add_argument("--due", type=int, default=100, help="secrets due in the purge pass")
    ap.add_argument("--tmp", default=os.environ.get("TMPDIR"), help="where the data dir goes")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument(
        "--reuse",
        type=Path,
        help="keep the populated data dir under this folder and start from a copy next time",
    )
    ap.add_argument("--server-only", action="store_true", help="skip the purge phase")
    args = ap.parse_args(argv)
    r = asyncio.run(run(args))
    text = json.dumps(rounded(r), indent=2)
    print(text)
    if args.json:
        args.json.write_text(text)
    lines = verdict(r)
    print("\n".join(lines))
    return 0 if all(line.startswith("met") for line in lines) else 1


if __name__ == "__main__":
    sys.exit(main())
