"""A commit stays shielded until it completes, however many cancellations arrive (defect 7)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

from smgrpc.core.model import Secret, Version
from smgrpc.storage.sqlite import SqliteStore

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:s-abcdef"


def _secret(version_id: str, stages: tuple[str, ...]) -> Secret:
    return Secret(
        arn=ARN,
        name="s",
        created_at=1.0,
        last_changed_at=1.0,
        versions=(Version(version_id, 1.0, stages, "k", has_value=False),),
    )


def _hold_lock(path: Path, seconds: float, held: threading.Event) -> None:
    """Another connection holds the write lock, so our COMMIT hop waits (busy_timeout)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    held.set()
    threading.Event().wait(seconds)
    conn.execute("ROLLBACK")
    conn.close()


async def test_repeated_cancellation_never_releases_the_lock_before_commit(
    tmp_path: Path,
) -> None:
    path = tmp_path / "secrets.db"
    store = await SqliteStore.open(path, busy_timeout=5.0)
    try:
        held = threading.Event()
        holder = threading.Thread(target=_hold_lock, args=(path, 0.4, held))
        holder.start()
        await asyncio.to_thread(held.wait)

        async def first() -> None:
            async with store.transaction() as tx:
                await tx.save(_secret("v1", ("AWSCURRENT",)))

        seen: list[Secret | None] = []

        async def second() -> None:
            async with store.transaction() as tx:
                seen.append(tx.find_arn(ARN))  # must see the first commit: it holds the lock

        t1 = asyncio.create_task(first())
        await asyncio.sleep(0.05)  # t1 is inside its commit, waiting for the other lock
        for _ in range(3):
            t1.cancel()
            await asyncio.sleep(0.02)
        t2 = asyncio.create_task(second())
        await asyncio.sleep(0.05)
        assert not t2.done(), "the lock was released while the first commit was still running"
        results = await asyncio.gather(t1, t2, return_exceptions=True)
        holder.join()
        assert isinstance(results[0], asyncio.CancelledError)
        assert results[1] is None
        assert seen and seen[0] is not None and seen[0].version("v1") is not None
        assert store.find(ARN) is not None  # published with the commit
    finally:
        await store.close()
    reopened = await SqliteStore.open(path)
    try:
        found = reopened.find(ARN)
        assert found is not None and [v.version_id for v in found.versions] == ["v1"]
    finally:
        await reopened.close()
