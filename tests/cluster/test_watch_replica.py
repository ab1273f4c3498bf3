"""WatchSecrets in a replica Region, with real `smgrpc serve` processes: replicated changes
give events where they are applied, StopReplicationToReplica gives ReplicaPromoted, and a
SIGTERM ends an open stream with UNAVAILABLE at once."""

from __future__ import annotations

import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from tests.api.watch_helpers import Stream, open_stream
from tests.cluster.procs import ProcCluster

US, EU = "us-east-1", "eu-west-1"


@pytest.fixture
async def procs2(tmp_path: Path) -> AsyncIterator[ProcCluster]:
    c = ProcCluster(tmp_path, (US, EU))
    try:
        await c.start()
        yield c
    finally:
        await c.close()


def watch(c: ProcCluster, region: str, **request: object) -> Stream:
    token = c.admin_token.read_text().strip()
    return open_stream(pbg.SecretsManagerStub(c.channels[region]), token, **request)


async def test_replicated_changes_give_events_in_the_replica_region(procs2: ProcCluster) -> None:
    c = procs2
    eu = watch(c, EU)
    us = watch(c, US)
    assert (await eu.next()).type == "Heartbeat"
    assert (await us.next()).type == "Heartbeat"
    made = await c.stubs[US].CreateSecret(
        pb.CreateSecretRequest(
            name="app/db",
            secret_string="v1",
            add_replica_regions=[pb.ReplicaRegionType(region=EU)],
        )
    )
    got = await eu.event(timeout=30)
    assert (got.type, got.name, got.region, got.version_id) == (
        "Created",
        "app/db",
        EU,
        made.version_id,
    )
    assert got.arn == made.arn.replace(US, EU)
    put = await c.stubs[US].PutSecretValue(
        pb.PutSecretValueRequest(secret_id="app/db", secret_string="v2")
    )
    got = await eu.event(timeout=30)
    assert (got.type, got.version_id) == ("VersionAdded", put.version_id)
    await c.stubs[US].UpdateSecret(pb.UpdateSecretRequest(secret_id="app/db", description="d"))
    assert (await eu.event(timeout=30)).type == "MetadataChanged"
    # The primary's own history: the same writes, with its own sequence and ARN.
    assert [e.type for e in await us.events(3)] == ["Created", "VersionAdded", "MetadataChanged"]

    await c.stubs[EU].StopReplicationToReplica(
        pb.StopReplicationToReplicaRequest(secret_id="app/db")
    )
    got = await eu.event(timeout=30)
    assert (got.type, got.name) == ("ReplicaPromoted", "app/db")
    # The old primary drops the Region from its replication settings when told.
    got = await us.event(timeout=30)
    assert (got.type, got.name) == ("MetadataChanged", "app/db")
    eu.close()
    us.close()


async def test_sigterm_ends_open_streams_with_unavailable(procs2: ProcCluster) -> None:
    c = procs2
    await c.stubs[US].CreateSecret(pb.CreateSecretRequest(name="s", secret_string="v"))
    s = watch(c, US, after_sequence=0)
    assert (await s.next()).type == "Heartbeat"
    assert (await s.event()).name == "s"
    # The next Heartbeat (the idle interval, 10 s) comes only after the server moved its cursor
    # past the event: afterSequence is "the last position surely taken", and a SIGTERM that
    # lands while the event's write is still being awaited rightly says 0 (seen under load).
    assert (await s.next(timeout=30)).type == "Heartbeat"
    started = time.monotonic()
    await c.kill(US, signal.SIGTERM)
    took = time.monotonic() - started
    err = await s.error()
    assert (err.code, err.aws_code) == (grpc.StatusCode.UNAVAILABLE, "ServiceUnavailable")
    assert err.info["afterSequence"] == "1"
    assert took < 5.0  # drain (0.5 s) + shutdown, not the 10 s grace
