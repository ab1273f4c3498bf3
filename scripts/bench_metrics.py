"""scripts/bench metrics: what --metrics-listen costs a call.

1. Micro: the call observer's per-call work (MethodStats.ended, OK and error paths) against the
   no-op observer, in ns per call (timeit, best of 5).
2. End to end: GetSecretValue throughput and latency (scripts/bench_loadgen.py, a separate
   process) against two real `smgrpc serve` processes, one without and one with
   --metrics-listen, alternated run by run; then the metrics server again while a thread scrapes
   /metrics 10 times a second (Prometheus scrapes every 15-60 s). Ratios matter, not absolute
   numbers: the load generator shares the machine's cores with the server.

Prints a table and, with --json PATH, writes the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import timeit
import urllib.request
from pathlib import Path
from typing import Any

import grpc

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.api.handlers import _Unobserved
from smgrpc.metrics.calls import Calls

ROOT = Path(__file__).resolve().parents[1]
SMGRPC = str(ROOT / ".venv" / "bin" / "smgrpc")
GET = "/smgrpc.secretsmanager.v1.SecretsManager/GetSecretValue"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def micro() -> dict[str, float]:
    """ns per call of the observer's work, and of the no-op the unobserved wrap pays."""
    stats = Calls(grpc.StatusCode.OK).method("SecretsManager", "GetSecretValue")
    noop = _Unobserved()
    ok, nf, pc = grpc.StatusCode.OK, grpc.StatusCode.NOT_FOUND, time.perf_counter
    cases = {
        "noop_ns": lambda: noop.ended(ok, "", pc()),
        "ok_ns": lambda: stats.ended(ok, "", pc()),
        "error_ns": lambda: stats.ended(nf, "ResourceNotFoundException", pc()),
        "perf_counter_ns": lambda: pc(),
    }
    n = 200_000
    return {k: min(timeit.repeat(f, number=n, repeat=5)) / n * 1e9 for k, f in cases.items()}


class Server:
    def __init__(self, work: Path, name: str, metrics: bool) -> None:
        self.port = free_port()
        self.metrics_port = free_port() if metrics else 0
        self.data = work / name
        argv = [SMGRPC, "serve", "--listen", f"127.0.0.1:{self.port}"]
        argv += ["--data-dir", str(self.data), "--log-level", "WARNING"]
        if metrics:
            argv += ["--metrics-listen", f"127.0.0.1:{self.metrics_port}"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("SMGRPC_")}
        self.proc = subprocess.Popen(argv, env=env, stderr=subprocess.DEVNULL)
        self.token = self.data / "admin.token"
        deadline = time.monotonic() + 30
        while not self.token.exists():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise SystemExit(f"{name} did not start")
            time.sleep(0.05)
        md = (("authorization", f"Bearer {self.token.read_text().strip()}"),)
        with grpc.insecure_channel(f"127.0.0.1:{self.port}") as ch:
            grpc.channel_ready_future(ch).result(timeout=30)
            stub = pbg.SecretsManagerStub(ch)
            stub.CreateSecret(
                pb.CreateSecretRequest(name="bench", secret_string="x" * 64), metadata=md
            )

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)


def load(server: Server, args: argparse.Namespace) -> dict[str, Any]:
    body = pb.GetSecretValueRequest(secret_id="bench").SerializeToString().hex()
    argv = [sys.executable, str(ROOT / "scripts" / "bench_loadgen.py"), "--target"]
    argv += [f"127.0.0.1:{server.port}", "--method", GET, "--body-hex", body]
    argv += ["--conns", str(args.conns), "--streams", str(args.streams)]
    argv += ["--duration", str(args.duration), "--warmup", "1", "--token-file", str(server.token)]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=120)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def server_mean_seconds(port: int) -> float:
    """Mean server-side GetSecretValue time, from the server's own latency histogram."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    got = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.labels.get("operation") == "GetSecretValue" and sample.name.endswith(
                ("_sum", "_count")
            ):
                got[sample.name.rsplit("_", 1)[1]] = sample.value
    return got["sum"] / got["count"]


class Scraper(threading.Thread):
    def __init__(self, port: int, every: float) -> None:
        super().__init__(daemon=True)
        self.url, self.every = f"http://127.0.0.1:{port}/metrics", every
        self.done = threading.Event()
        self.scrapes, self.seconds = 0, 0.0

    def run(self) -> None:
        while not self.done.wait(self.every):
            began = time.perf_counter()
            with urllib.request.urlopen(self.url, timeout=5) as resp:
                resp.read()
            self.seconds += time.perf_counter() - began
            self.scrapes += 1


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=float, default=4.0)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--conns", type=int, default=2)
    p.add_argument("--streams", type=int, default=8)
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    figures: dict[str, Any] = {"micro": micro()}
    print(
        "observer cost per call (ns): "
        + ", ".join(f"{k} {v:.0f}" for k, v in figures["micro"].items())
    )
    runs: dict[str, list[dict[str, Any]]] = {"off": [], "on": [], "on+scrape": []}
    scrape_ms: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        off, on = Server(Path(tmp), "off", False), Server(Path(tmp), "on", True)
        try:
            for _ in range(args.repeat):  # alternated: drift in the machine's load hits all
                runs["off"].append(load(off, args))
                runs["on"].append(load(on, args))
                scraper = Scraper(on.metrics_port, 0.1)
                scraper.start()
                runs["on+scrape"].append(load(on, args))
                scraper.done.set()
                scraper.join()
                scrape_ms.append(scraper.seconds / max(1, scraper.scrapes) * 1000)
            mean_call = server_mean_seconds(on.metrics_port)
        finally:
            off.stop()
            on.stop()
    summary = {}
    for name, rs in runs.items():
        summary[name] = {
            k: statistics.median(r[k] for r in rs) for k in ("rps", "p50_ms", "p99_ms")
        }
        summary[name]["errors"] = sum(sum(r["errors"].values()) for r in rs)
    base = summary["off"]["rps"]
    shape = f"{args.conns}x{args.streams} streams, {args.duration:g} s x {args.repeat}"
    print(f"GetSecretValue, {shape} (medians):")
    for name, s in summary.items():
        ratio = s["rps"] / base
        print(
            f"  {name:10} {s['rps']:8.0f} calls/s ({ratio:.3f}x)  p50 {s['p50_ms']:.2f} ms"
            f"  p99 {s['p99_ms']:.2f} ms  errors {s['errors']}"
        )
    print(f"  one scrape of /metrics: {statistics.median(scrape_ms):.2f} ms (median)")
    share = (figures["micro"]["ok_ns"] - figures["micro"]["noop_ns"]) / (mean_call * 1e9)
    print(
        f"  server-side GetSecretValue (its own histogram): {mean_call * 1e6:.0f} us mean; "
        f"the observer's extra work is {share:.2%} of it"
    )
    figures.update(
        summary=summary,
        scrape_ms=statistics.median(scrape_ms),
        server_call_us=mean_call * 1e6,
        observer_share=share,
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
