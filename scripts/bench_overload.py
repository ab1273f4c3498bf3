"""Overload burst (issue 6 item 13): CONNS connections x STREAMS concurrent GetSecretValue calls.

Starts a real `smgrpc serve` (or uses --target), creates one secret, then fires the whole burst
at once from PROCS client processes and prints the count of each gRPC status code, and how
many refusals carried ErrorInfo + RetryInfo. Usage:

  scripts/bench overload [--conns 500] [--streams 100] [--procs 2] [--target HOST:PORT]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb  # noqa: E402
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg  # noqa: E402


def _details(exc: grpc.aio.AioRpcError) -> tuple[bool, bool]:
    status = rpc_status.from_call(exc)  # type: ignore[arg-type]
    if status is None:
        return False, False
    info = any(d.Is(error_details_pb2.ErrorInfo.DESCRIPTOR) for d in status.details)
    retry = any(d.Is(error_details_pb2.RetryInfo.DESCRIPTOR) for d in status.details)
    return info, retry


async def _burst(
    target: str, conns: int, streams: int, timeout: float, write: bool
) -> dict[str, int]:
    channels = [
        grpc.aio.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)])
        for _ in range(conns)
    ]
    await asyncio.gather(*(asyncio.wait_for(ch.channel_ready(), 30) for ch in channels))
    counts: dict[str, int] = {}

    async def one(stub: pbg.SecretsManagerStub) -> None:
        try:
            if write:
                await stub.PutSecretValue(
                    pb.PutSecretValueRequest(secret_id="burst", secret_string="y"), timeout=timeout
                )
            else:
                await stub.GetSecretValue(
                    pb.GetSecretValueRequest(secret_id="burst"), timeout=timeout
                )
            key = "OK"
        except grpc.aio.AioRpcError as exc:
            info, retry = _details(exc)
            key = (
                exc.code().name + (" +ErrorInfo" if info else "") + (" +RetryInfo" if retry else "")
            )
        counts[key] = counts.get(key, 0) + 1

    stubs = [pbg.SecretsManagerStub(ch) for ch in channels]
    await asyncio.gather(*(one(s) for s in stubs for _ in range(streams)))
    for ch in channels:
        await ch.close()
    return counts


def _client(
    target: str,
    conns: int,
    streams: int,
    timeout: float,
    write: bool,
    q: multiprocessing.Queue[dict[str, int]],
) -> None:
    q.put(asyncio.run(_burst(target, conns, streams, timeout, write)))


async def _prepare(target: str) -> None:
    async with grpc.aio.insecure_channel(target) as ch:
        await asyncio.wait_for(ch.channel_ready(), 30)
        stub = pbg.SecretsManagerStub(ch)
        try:
            await stub.CreateSecret(pb.CreateSecretRequest(name="burst", secret_string="x" * 64))
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.ALREADY_EXISTS:
                raise


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--conns", type=int, default=500)
    p.add_argument("--streams", type=int, default=100)
    p.add_argument("--procs", type=int, default=2)
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--target")
    p.add_argument("--write", action="store_true", help="PutSecretValue instead of GetSecretValue")
    p.add_argument("--server-arg", action="append", default=[])
    args = p.parse_args()
    server = None
    tmp = tempfile.TemporaryDirectory()
    target = args.target
    if target is None:
        port = 56000 + os.getpid() % 1000
        target = f"127.0.0.1:{port}"
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "smgrpc"),
                "serve",
                "--listen",
                target,
                "--data-dir",
                str(Path(tmp.name) / "d"),
                *args.server_arg,
            ],
            stderr=open(Path(tmp.name) / "server.log", "wb"),
        )
    try:
        asyncio.run(_prepare(target))
        q: multiprocessing.Queue[dict[str, int]] = multiprocessing.Queue()
        per = max(1, args.conns // args.procs)
        t0 = time.perf_counter()
        procs = [
            multiprocessing.Process(
                target=_client, args=(target, per, args.streams, args.timeout, args.write, q)
            )
            for _ in range(args.procs)
        ]
        for pr in procs:
            pr.start()
        total: dict[str, int] = {}
        for _ in procs:
            for k, v in q.get().items():
                total[k] = total.get(k, 0) + v
        for pr in procs:
            pr.join()
        elapsed = time.perf_counter() - t0
        print(
            json.dumps(
                {
                    "calls": per * args.procs * args.streams,
                    "seconds": round(elapsed, 1),
                    "by_status": dict(sorted(total.items())),
                },
                indent=1,
            )
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        tmp.cleanup()


if __name__ == "__main__":
    main()
