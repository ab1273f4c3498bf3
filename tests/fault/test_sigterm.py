"""Graceful SIGTERM: health goes NOT_SERVING, in-flight calls finish, exit code 0.

Calls that arrive after SIGTERM are refused with UNAVAILABLE (retryable; guaranteed not run),
never INTERNAL/UNKNOWN, and never CANCELLED (what grpc answers for calls still queued when the
server stops: see handlers.Gate and Config.shutdown_drain).
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections import Counter
from dataclasses import dataclass

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from smgrpc.api.errors import SHUTTING_DOWN
from tests.conftest import pb
from tests.harness import Servers, channel_stub

CLIENTS = 20
GRACE = 10.0  # Config.shutdown_grace default


@dataclass
class Call:
    started: float
    op: str
    outcome: str = "pending"  # "ok" or a status code name
    details: str = ""
    ended: float = 0.0
    version: str = ""
    secret: str = ""


async def _client(stub: object, n: int, calls: list[Call], stop: asyncio.Event) -> None:
    i = 0
    while not stop.is_set():
        i += 1
        secret = f"term/s{n % 5}"
        if i % 2:
            call = Call(time.monotonic(), "get", secret=secret)
            coro = stub.GetSecretValue(  # type: ignore[attr-defined]
                pb.GetSecretValueRequest(secret_id=secret)
            )
        else:
            call = Call(time.monotonic(), "put", version=str(uuid.uuid4()), secret=secret)
            coro = stub.PutSecretValue(
                pb.PutSecretValueRequest(  # type: ignore[attr-defined]
                    secret_id=secret, client_request_token=call.version, secret_string=f"v{n}-{i}"
                )
            )
        calls.append(call)
        try:
            await coro
            call.outcome = "ok"
        except grpc.aio.AioRpcError as exc:
            call.outcome = exc.code().name
            call.details = exc.details() or ""
            call.ended = time.monotonic()
            if exc.code() == grpc.StatusCode.UNAVAILABLE:
                return  # the server is going away; a real client would back off here


async def _watch(addr: str, seen: list[tuple[float, str]], serving: asyncio.Event) -> None:
    async with grpc.aio.insecure_channel(addr) as ch:
        stream = health_pb2_grpc.HealthStub(ch).Watch(health_pb2.HealthCheckRequest(service=""))
        try:
            async for resp in stream:
                name = health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)
                seen.append((time.monotonic(), name))
                if name == "SERVING":
                    serving.set()
                if name == "NOT_SERVING":
                    break  # stop watching, as a load balancer would, so the drain can finish
        except grpc.aio.AioRpcError:
            pass
        finally:
            stream.cancel()


async def _poll_check(addr: str, seen: list[str]) -> None:
    """Unary health Check every few ms until the server stops answering."""
    async with grpc.aio.insecure_channel(addr) as ch:
        health = health_pb2_grpc.HealthStub(ch)
        while True:
            try:
                resp = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
            except grpc.aio.AioRpcError:
                return
            seen.append(health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status))
            await asyncio.sleep(0.02)


async def test_sigterm_drains_in_flight_calls_and_exits_zero(servers: Servers) -> None:
    server = await servers.start()
    ch, stub = await channel_stub(server)
    for i in range(5):
        await stub.CreateSecret(pb.CreateSecretRequest(name=f"term/s{i}", secret_string="init"))
    health_seen: list[tuple[float, str]] = []
    serving = asyncio.Event()
    watcher = asyncio.create_task(_watch(server.addr, health_seen, serving))
    await asyncio.wait_for(serving.wait(), 5)
    calls: list[Call] = []
    stop = asyncio.Event()
    tasks = [asyncio.create_task(_client(stub, n, calls, stop)) for n in range(CLIENTS)]
    checks: list[str] = []
    poller: asyncio.Task[None] | None = None
    try:
        await asyncio.sleep(0.5)
        assert server.proc is not None
        t_term = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        in_flight_at_term = sum(c.outcome == "pending" for c in calls)
        poller = asyncio.create_task(_poll_check(server.addr, checks))
        rc = await server.wait(GRACE + 5)
        exit_after = time.monotonic() - t_term
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
        await asyncio.wait_for(watcher, 5)
        await asyncio.wait_for(poller, 5)
    finally:
        stop.set()
        for t in [*tasks, watcher, *([poller] if poller else [])]:
            t.cancel()
        await ch.close()

    assert rc == 0, server.stderr().decode()[-3000:]
    assert exit_after < GRACE, f"exit took {exit_after:.2f}s"
    before = [c for c in calls if c.started < t_term]
    outcomes = {c.outcome for c in before}
    assert outcomes <= {"ok", "UNAVAILABLE"}, outcomes
    # Nor after it: never INTERNAL / UNKNOWN, and not CANCELLED either.
    odd = [
        (c.op, round(c.started - t_term, 3), c.outcome, c.details)
        for c in calls
        if c.outcome not in ("ok", "UNAVAILABLE")
    ]
    assert not odd, odd
    assert sum(c.outcome == "ok" for c in before) > 20
    assert in_flight_at_term > 0, "no call was in flight at SIGTERM"
    # The health service said NOT_SERVING once the drain began.
    assert [s for _, s in health_seen][:1] == ["SERVING"]
    assert "NOT_SERVING" in [s for t, s in health_seen if t >= t_term], health_seen
    assert "NOT_SERVING" in checks, checks  # a plain Check sees the drain too
    log = server.output()
    assert b"signal received: draining" in log
    assert b"Traceback" not in log and b"internal error" not in log, log.decode()[-3000:]

    # Every acknowledged write survived the shutdown; every refused one did nothing.
    server = await servers.start(server.data_dir)
    ch, stub = await channel_stub(server)
    try:
        for c in calls:
            if c.op != "put":
                continue
            req = pb.GetSecretValueRequest(secret_id=c.secret, version_id=c.version)
            if c.outcome == "ok":
                assert (await stub.GetSecretValue(req)).version_id == c.version
            else:
                with pytest.raises(grpc.aio.AioRpcError) as info:
                    await stub.GetSecretValue(req)
                assert info.value.code() == grpc.StatusCode.NOT_FOUND
    finally:
        await ch.close()
    refused = [c for c in calls if c.outcome == "UNAVAILABLE"]
    assert all(
        SHUTTING_DOWN in c.details
        or "connect" in c.details.lower()
        or "socket" in c.details.lower()
        for c in refused
    ), {c.details for c in refused}
    print(
        f"\nSIGTERM: {len(before)} calls started before "
        f"({dict(Counter(c.outcome for c in before))}),"
        f" {in_flight_at_term} in flight, {len(calls) - len(before)} after "
        f"({dict(Counter(c.outcome for c in calls if c.started >= t_term))}), "
        f"health Check saw {dict(Counter(checks))}, exit after {exit_after:.3f}s"
    )
