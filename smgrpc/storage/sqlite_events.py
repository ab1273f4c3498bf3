"""SQLite persistence of the WatchSecrets history (core.ports.EventTx / EventLog), migration 0006.

Events are rows of `events`, appended by a write transaction (Tx.record) and committed with
it. Sequence numbers are given in memory under the store's write lock (newest + 1, ...), so
they are contiguous and strictly increasing; `sqlite_sequence` keeps the highest ever used, so
a restart continues after it even when every row was pruned. Retention is bounded: once more
than `retention` + a slack are kept, the transaction that records more also deletes the oldest
(one range delete by primary key, amortised over `slack` writes). The newest events are also
kept in memory (a bounded tail), so a stream that keeps up reads without a thread hop;
older positions are read from the database (the read connection).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Sequence
from itertools import islice
from typing import Any

import aiosqlite

from smgrpc.core.events import Change, SecretEvent
from smgrpc.core.model import Secret
from smgrpc.storage.batch import Op

DEFAULT_RETENTION = 100_000
TAIL = 4096  # newest events kept in memory
GONE = 4096  # last states of deleted secrets kept in memory (EventLog.gone)
_INSERT = "INSERT INTO events(seq, type, arn, name, version_id, at) VALUES (?, ?, ?, ?, ?, ?)"


def slack(retention: int) -> int:
    """Events kept beyond `retention` before a prune (one delete per `slack` events)."""
    return max(1, min(retention // 64, 4096))


class PendingEvents:
    """The events one transaction records (published by the store after COMMIT)."""

    def __init__(self, newest: int, oldest: int) -> None:
        self.events: list[SecretEvent] = []
        self.gone: list[Secret] = []  # last states of the secrets this transaction deleted
        self.newest = newest
        self.oldest = oldest

    def record(self, changes: Sequence[Change], at: float, retention: int, ops: list[Op]) -> None:
        if not changes:
            return
        first = self.newest + 1
        new = [
            SecretEvent(first + i, c.type, c.arn, c.name, c.version_id, at)
            for i, c in enumerate(changes)
        ]
        self.events.extend(new)
        self.gone.extend(c.gone for c in changes if c.gone is not None)
        self.newest = new[-1].sequence
        ops.append(
            (
                _INSERT,
                [(e.sequence, e.type, e.arn, e.name, e.version_id, e.time) for e in new],
                True,
            )
        )
        if self.oldest == 0:
            self.oldest = first  # the first event this Region ever records
        if self.newest - self.oldest + 1 > retention + slack(retention):
            keep_from = self.newest - retention + 1
            ops.append(("DELETE FROM events WHERE seq < ?", (keep_from,), False))
            self.oldest = keep_from


class SqliteEvents:
    """The events half of SqliteStore (state set up by `_events_init`, loaded by `_events_load`)."""

    _conn: aiosqlite.Connection
    _reader: aiosqlite.Connection

    def _events_init(self, retention: int) -> None:
        self._ev_retention = retention
        self._ev_newest = 0
        self._ev_oldest = 0  # 0: nothing recorded yet (then bounds report newest + 1)
        self._ev_tail: deque[SecretEvent] = deque(maxlen=TAIL)
        self._ev_signal = asyncio.Event()
        self._ev_gone: OrderedDict[str, Secret] = OrderedDict()

    async def _events_load(self) -> None:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT seq FROM sqlite_sequence WHERE name = 'events'"
            )
        )
        self._ev_newest = int(rows[0][0]) if rows else 0
        low = list(await self._conn.execute_fetchall("SELECT min(seq) FROM events"))
        self._ev_oldest = int(low[0][0]) if low and low[0][0] is not None else 0
        tail = await self._conn.execute_fetchall(
            "SELECT seq, type, arn, name, version_id, at FROM events ORDER BY seq DESC LIMIT ?",
            (TAIL,),
        )
        self._ev_tail.extend(_event(r) for r in reversed(list(tail)))

    def _events_pending(self) -> PendingEvents:
        return PendingEvents(self._ev_newest, self._ev_oldest)

    def _events_publish(self, pending: PendingEvents) -> None:
        """After COMMIT: the new events become readable and waiting streams wake."""
        if not pending.events:
            return
        self._ev_tail.extend(pending.events)
        for secret in pending.gone:
            self._ev_gone[secret.arn] = secret
            self._ev_gone.move_to_end(secret.arn)
            if len(self._ev_gone) > GONE:
                self._ev_gone.popitem(last=False)
        self._ev_newest = pending.newest
        self._ev_oldest = pending.oldest
        signal, self._ev_signal = self._ev_signal, asyncio.Event()
        signal.set()

    # ---- core.ports.EventLog ----

    def event_bounds(self) -> tuple[int, int]:
        newest = self._ev_newest
        return (self._ev_oldest or newest + 1, newest)

    async def events_after(self, after: int, limit: int) -> list[SecretEvent]:
        newest = self._ev_newest
        if after >= newest or limit <= 0:
            return []
        tail = self._ev_tail
        if tail and after >= tail[0].sequence - 1:
            start = after - tail[0].sequence + 1
            return list(islice(tail, start, start + limit))
        rows = await self._reader.execute_fetchall(
            "SELECT seq, type, arn, name, version_id, at FROM events "
            "WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
            (after, newest, limit),
        )
        return [_event(r) for r in rows]

    async def wait_event(self, after: int) -> None:
        while self._ev_newest <= after:
            await self._ev_signal.wait()

    def gone(self, arn: str) -> Secret | None:
        return self._ev_gone.get(arn)


def _event(row: Any) -> SecretEvent:
    return SecretEvent(int(row[0]), row[1], row[2], row[3], row[4], float(row[5]))
