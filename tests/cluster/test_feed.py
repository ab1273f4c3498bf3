"""The replication feed over a real store: rules in the feed, persistence in the store."""

from __future__ import annotations

from pathlib import Path

from smgrpc.core import replication as repl
from smgrpc.core.model import Secret
from smgrpc.replication.feed import Feed
from smgrpc.storage.sqlite import SqliteStore

EU = "eu-west-1"
ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:s-AbCdEf"


def replicated(description: str = "") -> Secret:
    s = Secret(
        arn=ARN,
        name="s",
        created_at=1.0,
        last_changed_at=1.0,
        description=description,
        lineage="lin-1",
    )
    return s.evolve(replicas=(repl.replica_entry(EU, None, False),))


async def test_every_save_through_the_feed_enqueues_and_bumps_the_generation(
    tmp_path: Path,
) -> None:
    store = await SqliteStore.open(tmp_path / "db.sqlite", home=("us-east-1", "123456789012"))
    woken: list[set[str]] = []
    feed = Feed(store, on_outbox=woken.append)
    try:
        async with feed.transaction() as tx:
            await tx.save(replicated())
        assert woken == [{EU}]
        assert [r[1:] for r in await feed.outbox(EU, 0, 10)] == [(ARN, "lin-1", repl.STATE)]
        async with feed.transaction() as tx:
            cur = tx.find_arn(ARN)
            assert cur is not None
            await tx.save(cur.evolve(description="changed"))
        saved = feed.find(ARN)
        assert saved is not None and saved.generation == 1
        # A status-only change replicates nothing and keeps the generation.
        async with feed.transaction() as tx:
            await tx.save(repl.set_status(saved, EU, repl.IN_SYNC, "ok"))
        rows = await feed.outbox(EU, 0, 10)
        assert len(rows) == 2 and feed.find(ARN).generation == 1  # type: ignore[union-attr]
        # The store alone only persists: no outbox rows, no generation change.
        async with store.transaction() as raw:
            await raw.save(saved.evolve(description="raw"))
        assert len(await store.outbox(EU, 0, 10)) == 2
        assert store.find(ARN).generation == 1  # type: ignore[union-attr]
        # Cursor, ack, requeue, forget.
        async with feed.transaction() as tx:
            await tx.ack(EU, rows[0][0])
        assert await feed.cursor(EU) == rows[0][0]
        assert [r[0] for r in await feed.outbox(EU, 0, 10)] == [rows[1][0]]
        async with feed.transaction() as tx:
            await tx.requeue(EU, 0, rows[1][0])
        again = await feed.outbox(EU, 0, 10)
        assert len(again) == 2 and again[-1][0] > rows[1][0]
        async with feed.transaction() as tx:
            await tx.forget(EU, ARN)
        assert await feed.outbox(EU, 0, 10) == []
    finally:
        await store.close()


async def test_applied_positions_and_replay_marks_persist_and_never_go_back(
    tmp_path: Path,
) -> None:
    path = tmp_path / "db.sqlite"
    store = await SqliteStore.open(path)
    try:
        async with Feed(store).transaction() as tx:
            assert await tx.replay_mark("us-east-1") == 0.0
            await tx.set_replay_mark("us-east-1", 1000.5)
            await tx.set_applied("us-east-1", 7)
        async with Feed(store).transaction() as tx:
            await tx.set_replay_mark("us-east-1", 999.0)  # never lowered
    finally:
        await store.close()
    store = await SqliteStore.open(path)
    try:
        async with Feed(store).transaction() as tx:
            assert await tx.replay_mark("us-east-1") == 1000.5
            assert await tx.applied("us-east-1") == 7
    finally:
        await store.close()
