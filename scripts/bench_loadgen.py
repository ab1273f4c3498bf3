"""Python grpc.aio load generator for scripts/bench (fallback for h2load, and cross-checks).

Opens CONNS channels (separate connections) and runs CONNS x STREAMS tasks, each issuing one
unary call after another with a fixed, already serialized request (no client-side protobuf
work). Unlike h2load it sees the real grpc-status of every call. It spends about as much CPU
per call as the server, on the same cores, so its throughput is client-bound (see
/work/shared/docs/BENCHMARKING.md): compare ratios against a baseline measured the same way.

Prints one JSON object on stdout:
  ok, errors {code: n}, bad_length, total_ok (every call incl. warm-up/tail), rps, p50_ms,
  p99_ms, mean_ms (calls started in the measured window only), cpu_s (this process).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import time

import grpc


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def read_token(path: str | None) -> str | None:
    with open(path) if path else open(os.devnull) as f:
        return f.read().strip() or None


async def run(args: argparse.Namespace, token: str | None = None) -> dict[str, object]:
    body = bytes.fromhex(args.body_hex)
    channels = [
        grpc.aio.insecure_channel(args.target, options=[("grpc.use_local_subchannel_pool", 1)])
        for _ in range(args.conns)
    ]
    for ch in channels:
        await asyncio.wait_for(ch.channel_ready(), 10)
    calls = [ch.unary_unary(args.method) for ch in channels]  # bytes in, bytes out
    metadata = (("authorization", f"Bearer {token}"),) if token else None
    start = time.perf_counter()
    m_start = start + args.warmup
    m_end = m_start + args.duration
    latencies: list[float] = []
    errors: dict[str, int] = {}
    counts = {"bad_length": 0, "total_ok": 0}

    async def worker(call: grpc.aio.UnaryUnaryMultiCallable) -> None:
        while True:
            t0 = time.perf_counter()
            if t0 >= m_end:
                return
            try:
                resp = await call(body, timeout=30, metadata=metadata)
            except grpc.aio.AioRpcError as exc:
                if m_start <= t0:
                    errors[exc.code().name] = errors.get(exc.code().name, 0) + 1
                continue
            t1 = time.perf_counter()
            counts["total_ok"] += 1
            if m_start <= t0:
                if args.expect_len and len(resp) != args.expect_len:
                    counts["bad_length"] += 1
                latencies.append(t1 - t0)

    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    await asyncio.gather(*(worker(calls[i % args.conns]) for i in range(args.conns * args.streams)))
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    for ch in channels:
        await ch.close()
    latencies.sort()
    n = len(latencies)
    return {
        "ok": n,
        "errors": errors,
        "bad_length": counts["bad_length"],
        "total_ok": counts["total_ok"],
        "rps": n / args.duration,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "mean_ms": (sum(latencies) / n * 1000) if n else float("nan"),
        "cpu_s": (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--target", required=True, help="HOST:PORT")
    p.add_argument("--method", required=True, help="/package.Service/Method")
    p.add_argument("--body-hex", required=True, help="serialized request message (not framed)")
    p.add_argument("--conns", type=int, default=4)
    p.add_argument("--streams", type=int, default=4, help="concurrent calls per connection")
    p.add_argument("--duration", type=float, default=10)
    p.add_argument("--warmup", type=float, default=2)
    p.add_argument("--expect-len", type=int, default=0, help="serialized length of a success")
    p.add_argument("--token-file", help="send `authorization: Bearer <its content>` per call")
    args = p.parse_args()
    print(json.dumps(asyncio.run(run(args, read_token(args.token_file)))), flush=True)


if __name__ == "__main__":
    main()
