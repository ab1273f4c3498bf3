"""Replication per peer and the SIGTERM drain on /metrics and /readyz of real `smgrpc serve`
processes (tests/harness.py): two Regions, the replica killed and brought back."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from pathlib import Path

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from tests.cluster.conftest import write_cluster_secret
from tests.harness import ServerProcess, Servers, channel_stub, free_port, servers
from tests.metrics.scrape import Scrape, get, scrape

__all__ = ["servers"]  # the fixture
US, EU = "us-east-1", "eu-west-1"


async def until(port: int, ok: Callable[[Scrape], bool], within: float = 20.0) -> Scrape:
    """Scrape until `ok` holds (the last scrape in the AssertionError otherwise)."""
    deadline = time.monotonic() + within
    while True:
        m = await scrape(port)
        if ok(m):
            return m
        if time.monotonic() > deadline:
            raise AssertionError(f"never held; last scrape:\n{m.text}")
        await asyncio.sleep(0.1)


def peer(m: Scrape, name: str) -> float:
    return m.value(name, peer=EU)


def link(m: Scrape) -> str:
    states = [s.labels["state"] for s in m.samples if s.name == "smgrpc_replication_link_state"]
    up = [st for st in states if m.value("smgrpc_replication_link_state", peer=EU, state=st)]
    return up[0] if len(up) == 1 else "?"


async def start_at(server: ServerProcess, port: int) -> None:
    server.spawn(port)
    assert await server.wait_ready(), server.stderr().decode(errors="replace")[-3000:]


async def test_replication_per_peer_follows_a_replica_down_and_back(
    servers: Servers, tmp_path: Path
) -> None:
    secret = str(write_cluster_secret(tmp_path / "cluster.secret"))
    us_port, eu_port, us_metrics, eu_metrics = (free_port() for _ in range(4))
    common = ("--cluster-secret-file", secret, "--iam-region", US)
    us = servers.new(
        tmp_path / US,
        *common,
        "--peer",
        f"{EU}=127.0.0.1:{eu_port}",
        "--metrics-listen",
        f"127.0.0.1:{us_metrics}",
    )
    eu = servers.new(
        tmp_path / EU,
        "--region",
        EU,
        *common,
        "--peer",
        f"{US}=127.0.0.1:{us_port}",
        "--metrics-listen",
        f"127.0.0.1:{eu_metrics}",
    )
    await start_at(us, us_port)
    await start_at(eu, eu_port)
    ch, stub = await channel_stub(us)
    async with ch:
        await stub.CreateSecret(
            pb.CreateSecretRequest(
                name="app/db",
                secret_string="v0",
                add_replica_regions=[pb.ReplicaRegionType(region=EU)],
            )
        )
        m = await until(
            us_metrics,
            lambda m: (
                link(m) == "up"
                and peer(m, "smgrpc_replication_pending_changes") == 0
                and peer(m, "smgrpc_replication_last_push_timestamp_seconds") > 0
            ),
        )
        first_push = peer(m, "smgrpc_replication_last_push_timestamp_seconds")
        assert abs(first_push - time.time()) < 60
        assert peer(m, "smgrpc_replication_seconds_behind") == 0
        assert peer(m, "smgrpc_replication_consecutive_failures") == 0
        # The replica counted the pushes it accepted.
        e = await scrape(eu_metrics)
        assert e.value("smgrpc_calls_total", service="Replication", operation="Push", code="OK")

        eu.kill()
        for i in range(3):
            await stub.PutSecretValue(
                pb.PutSecretValueRequest(secret_id="app/db", secret_string=f"v{i + 1}")
            )
        m = await until(
            us_metrics,
            lambda m: (
                link(m) == "down"
                and peer(m, "smgrpc_replication_pending_changes") >= 3
                and peer(m, "smgrpc_replication_seconds_behind") >= 1.0
            ),
        )
        assert peer(m, "smgrpc_replication_consecutive_failures") >= 1
        assert peer(m, "smgrpc_replication_last_push_timestamp_seconds") == first_push

        await start_at(eu, eu_port)
        m = await until(
            us_metrics,
            lambda m: link(m) == "up" and peer(m, "smgrpc_replication_pending_changes") == 0,
        )
        assert peer(m, "smgrpc_replication_seconds_behind") == 0
        assert peer(m, "smgrpc_replication_last_push_timestamp_seconds") > first_push


async def test_readyz_503_during_the_sigterm_drain(servers: Servers, tmp_path: Path) -> None:
    port = free_port()
    server = await servers.start(tmp_path / US, "--metrics-listen", f"127.0.0.1:{port}")
    assert (await get(port, "/readyz"))[0] == 200
    assert server.proc is not None
    server.proc.send_signal(signal.SIGTERM)
    seen: list[int] = []
    while server.proc.poll() is None:
        try:
            seen.append((await get(port, "/readyz"))[0])
        except OSError:  # the listener closed: the process is exiting
            break
        await asyncio.sleep(0.02)
    assert await server.wait(15) == 0
    assert 503 in seen, seen
    assert seen[seen.index(503) :] == [503] * (len(seen) - seen.index(503))  # never ready again
