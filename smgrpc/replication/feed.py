"""The change feed: every write of a Region goes through here on its way to the store.

Replication rules live here, not in storage. A store (SQLite today, PostgreSQL later) only
persists what it is told inside one transaction: secret rows, version rows, outbox rows,
cursors. The feed wraps the store and its transactions and, on every `save`, decides from the
old and new state (core.replication, pure functions) which outbox rows the change needs and
whether the replicated generation moves; it enqueues those rows in the same transaction, and
after the transaction ends tells its subscriber which Regions got rows (wakes the shippers).
The same way it records, on every save and delete, the WatchSecrets events of the change
(core.events.derive of the old and new state) in that transaction, so nothing acknowledged
is missing from the history, whoever wrote it (use cases, the applier, rotation, purge).

The use cases, the shippers and the applier all hold the feed as their Store, so no save can
bypass the rule, and a new store implements nothing of it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import Any

from smgrpc.core import events
from smgrpc.core import replication as repl
from smgrpc.core.model import Sealed, Secret
from smgrpc.core.ports import Clock, OutboxRow, Store, SystemClock, WriteTx

OnOutbox = Callable[[set[str]], None]


class FeedTx:
    """A store transaction whose saves carry their replication consequences."""

    def __init__(self, tx: WriteTx, woken: set[str], clock: Clock) -> None:
        self._tx = tx
        self._woken = woken
        self._clock = clock
        self._notes: dict[str, list[str]] = {}

    async def save(self, new: Secret, blobs: dict[str, Sealed] | None = None) -> None:
        old = self._tx.find_arn(new.arn)
        changes = repl.outbox_changes(old, new)
        if changes and old is not None and not repl.same_content(old, new):
            new = new.evolve(generation=old.generation + 1)
        await self._tx.save(new, blobs)
        await self.enqueue(new, changes)
        await self._record(events.derive(old, new, self._notes.pop(new.arn, ())))

    async def _record(self, changes: list[events.Change]) -> None:
        if changes:
            await self._tx.record(changes, self._clock.now())

    async def record(self, changes: Sequence[events.Change], at: float) -> None:
        await self._tx.record(changes, at)

    def note(self, arn: str, outcome: str) -> None:
        self._notes.setdefault(arn, []).append(outcome)

    async def enqueue(self, secret: Secret, changes: list[tuple[str, str]]) -> None:
        if not changes or secret.lineage is None:
            return  # a secret that never replicated has no lineage and nothing to ship
        await self._tx.enqueue(secret, changes)
        self._woken.update(region for region, _ in changes)

    def find(self, secret_id: str) -> Secret | None:
        return self._tx.find(secret_id)

    def find_arn(self, arn: str) -> Secret | None:
        return self._tx.find_arn(arn)

    async def sealed(self, arn: str, version_id: str) -> Sealed | None:
        return await self._tx.sealed(arn, version_id)

    async def delete(self, secret: Secret) -> None:
        old = self._tx.find_arn(secret.arn)
        await self._tx.delete(secret)
        await self._record(events.derive(old or secret, None))

    async def ack(self, region: str, seq: int) -> None:
        await self._tx.ack(region, seq)

    async def requeue(self, region: str, after: int, upto: int) -> None:
        await self._tx.requeue(region, after, upto)

    async def forget(self, region: str, arn: str) -> None:
        await self._tx.forget(region, arn)

    async def applied(self, source_region: str) -> int:
        return await self._tx.applied(source_region)

    async def set_applied(self, source_region: str, seq: int) -> None:
        await self._tx.set_applied(source_region, seq)

    async def replay_mark(self, peer_region: str) -> float:
        return await self._tx.replay_mark(peer_region)

    async def set_replay_mark(self, peer_region: str, timestamp: float) -> None:
        await self._tx.set_replay_mark(peer_region, timestamp)


class Feed:
    """A Store whose every transaction goes through FeedTx (see the module docstring)."""

    # Reads go straight to the store: bound in __init__, so GetSecretValue's lookup and blob
    # read cost no pass-through frame (and `sealed` no extra coroutine).
    find: Callable[[str], Secret | None]
    sealed: Callable[[str, str], Coroutine[Any, Any, Sealed | None]]

    def __init__(
        self,
        store: Store,
        on_outbox: OnOutbox | None = None,
        clock: Clock | None = None,
    ) -> None:
        """clock: the time of recorded events (default: the system clock)."""
        self._store = store
        self._on_outbox = on_outbox
        self._clock = clock or SystemClock()
        self.find = store.find
        self.sealed = store.sealed

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[FeedTx]:
        woken: set[str] = set()
        try:
            async with self._store.transaction() as tx:
                yield FeedTx(tx, woken, self._clock)
        finally:
            # Also after an error or a cancellation: the commit may have happened (a commit is
            # never interrupted), and a needless wake only costs the shipper one outbox read.
            if woken and self._on_outbox is not None:
                self._on_outbox(woken)

    def all(self) -> list[Secret]:
        return self._store.all()

    async def cursor(self, region: str) -> int:
        return await self._store.cursor(region)

    async def outbox(self, region: str, after: int, limit: int) -> list[OutboxRow]:
        return await self._store.outbox(region, after, limit)

    def scan(
        self, sort_by: str, descending: bool, after: tuple[str | float, str] | None
    ) -> AsyncGenerator[Secret, None]:
        return self._store.scan(sort_by, descending, after)

    async def due_for_deletion(self, now: float) -> list[Secret]:
        return await self._store.due_for_deletion(now)

    async def due_for_rotation(self, now: float, limit: int | None = None) -> list[Secret]:
        return await self._store.due_for_rotation(now, limit)

    async def rotations_in_progress(self) -> list[Secret]:
        return await self._store.rotations_in_progress()
