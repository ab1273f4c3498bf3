"""Deterministic in-process regressions for bugs first seen in tests/cluster/test_process_faults.py.

1. A lost push reply (or a primary killed between the replica's apply and recording the ack):
   the replica answers the resend with a gap "I am ahead"; the outcomes of those changes must
   still be recorded (a new replica stayed InProgress forever).
2. The shipper read outbox rows of a write transaction that was still open on the shared
   connection: it shipped the state from before that write and then skipped the row, so the
   replica missed the change (50 concurrent PutSecretValue calls, the replica kept the old one).
3. A push whose caller goes away mid-apply (primary killed) must not leave the replica's
   connection inside a transaction (every later apply failed with "cannot start a
   transaction within a transaction").
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc.core import replication as repl
from smgrpc.core.model import Secret
from smgrpc.replication import messages as m
from smgrpc.replication.transport import PeerUnavailable
from smgrpc.storage.sqlite import SqliteStore
from tests.cluster.conftest import Cluster, converged, eventually
from tests.cluster.test_replication import statuses

US, EU = "us-east-1", "eu-west-1"


class LoseFirstReply:
    """Wraps a PeerClient: the first push is delivered and applied, but its reply is lost."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.lost = 0

    async def push(self, batch: m.Batch) -> m.Reply:
        reply: m.Reply = await self.inner.push(batch)  # type: ignore[attr-defined]
        if not self.lost and not reply.gap:
            self.lost += 1
            raise PeerUnavailable("DEADLINE_EXCEEDED")
        return reply

    async def close(self) -> None:
        await self.inner.close()  # type: ignore[attr-defined]


async def test_lost_reply_still_records_in_sync(cluster: Cluster) -> None:
    shipper = cluster.regions[US].shippers[EU]
    lossy = LoseFirstReply(shipper.client)
    shipper.client = lossy  # type: ignore[assignment]
    us = cluster.stubs[US]
    await us.CreateSecret(
        pb.CreateSecretRequest(
            name="lost-ack",
            secret_string="v1",
            add_replica_regions=[pb.ReplicaRegionType(region=EU)],
        )
    )
    await eventually(lambda: converged(cluster, "lost-ack", (US, EU)))
    assert lossy.lost == 1

    async def in_sync() -> bool:
        return (await statuses(cluster, US, "lost-ack")) == {EU: "InSync"}

    await eventually(in_sync)


async def test_outbox_read_skips_rows_of_an_open_transaction(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "secrets.db")
    try:
        secret = Secret(
            arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:s-AbCdEf",
            name="s",
            created_at=1.0,
            last_changed_at=1.0,
            lineage="L",
            replicas=(repl.replica_entry(EU, None, False),),
        )
        inside, release = asyncio.Event(), asyncio.Event()

        async def write_then_roll_back() -> None:
            async with store.transaction() as tx:
                await tx.save(secret)  # enqueues (eu-west-1, state)
                inside.set()
                await release.wait()
                raise RuntimeError("rolled back")

        writer = asyncio.create_task(write_then_roll_back())
        await inside.wait()
        reader = asyncio.create_task(store.outbox(EU, 0, 10))
        await asyncio.sleep(0.05)
        release.set()
        with pytest.raises(RuntimeError):
            await writer
        assert await reader == []
    finally:
        await store.close()


async def test_apply_survives_its_caller_going_away(cluster: Cluster) -> None:
    """Cancel pushes at every point of the apply; the replica keeps applying afterwards."""
    us = cluster.stubs[US]
    await us.CreateSecret(
        pb.CreateSecretRequest(
            name="hangup", secret_string="v0", add_replica_regions=[pb.ReplicaRegionType(region=EU)]
        )
    )
    await eventually(lambda: converged(cluster, "hangup", (US, EU)))
    link = cluster.link(US, EU)
    for i in range(30):
        await us.PutSecretValue(
            pb.PutSecretValueRequest(secret_id="hangup", secret_string=f"v{i + 1}")
        )
        await asyncio.sleep(0.001 * (i % 6))
        link.cut()  # the primary's connection drops mid-push: the replica's handler is cancelled
        await asyncio.sleep(0.01)
        link.heal()
    await eventually(lambda: converged(cluster, "hangup", (US, EU)), within=30)
    got = await cluster.stubs[EU].GetSecretValue(pb.GetSecretValueRequest(secret_id="hangup"))
    assert got.secret_string == "v30"
