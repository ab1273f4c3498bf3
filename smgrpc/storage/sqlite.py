"""The SQLite store of one Region: one owned write connection, BEGIN IMMEDIATE, WAL, FULL sync.

The process owns its database, so every secret's metadata is kept in memory (a write-through
cache updated only after COMMIT), with a sorted index per listing order and one by deletion
date (kept up to date at each COMMIT), and sealed blobs in an LRU bounded in bytes: reads take
no thread hop.
A version, its labels and the secret's metadata change commit in one transaction.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import sqlite3
import sys
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from itertools import compress, islice, pairwise
from operator import attrgetter, is_not
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
from sortedcontainers import SortedList

from smgrpc.core.aio import settle
from smgrpc.core.arn import name_from_partial_arn
from smgrpc.core.events import Change
from smgrpc.core.listing import SORT_KEYS, SORT_VALUE, Position, sort_key
from smgrpc.core.model import (
    DEFAULT_KMS_ALIAS,
    KmsKeyRecord,
    KmsMaterialRecord,
    Sealed,
    Secret,
    Version,
)
from smgrpc.core.rotation import due_at
from smgrpc.storage import codec
from smgrpc.storage.batch import Op, run_batch
from smgrpc.storage.migrate import migrate
from smgrpc.storage.rekey import Rekeyed
from smgrpc.storage.sqlite_events import DEFAULT_RETENTION, SqliteEvents
from smgrpc.storage.sqlite_iam import SqliteIam

BLOB_CACHE_BYTES = 64 * 1024 * 1024
# What one cached entry costs beyond its blob bytes (key tuple, Sealed object, dict slot).
_BLOB_OVERHEAD = 400
# Index entries taken per step of a scan; the scan resumes by key, so writes in between are fine.
_SCAN_CHUNK = 256
# A key row is written only under the canary its master key verified (None: unchecked).
_SAME_CANARY = "WHERE ? IS NULL OR (SELECT v FROM meta WHERE k = 'keycheck') = ?"
_LOAD_CHUNK = 5000  # rows per hop to the connection's thread at start-up
_FREEZE_AT = 10_000  # secrets loaded from which the GC no longer tracks what was loaded
T = TypeVar("T")


def guard_driver_logs() -> None:
    """aiosqlite logs every statement WITH its parameters at DEBUG (wrapped data keys,
    ciphertext, key material): whoever configured logging, never let it below INFO."""
    driver = logging.getLogger("aiosqlite")
    driver.setLevel(max(logging.INFO, driver.getEffectiveLevel()))


def _create_private(path: Path) -> None:
    """The data directory (0700) and an empty database file (0600), unless they exist."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def _readonly_uri(path: Path) -> str | None:
    """URI that reads the database without creating or changing any file (None: no database).

    A plain read-only open of a WAL database creates the -wal and -shm files, so after a clean
    shutdown (no -wal left) open it immutable: no locks, no files created, and the database file
    alone is the whole truth. A leftover -wal (crash) may hold committed pages, so read through
    it; readers never write the database or the -wal (SQLite may rebuild its -shm index).
    """
    if not path.exists():
        return None
    wal = path.with_name(path.name + "-wal")
    query = "mode=ro" if wal.exists() and wal.stat().st_size > 0 else "mode=ro&immutable=1"
    return f"{path.resolve().as_uri()}?{query}"


async def _query_readonly(path: Path, sql: str, params: tuple[object, ...] = ()) -> list[Any]:
    """Rows of one query, without creating or modifying anything (pre-start checks).

    Best effort: no rows when there is no database, no such table, or it cannot be read.
    """
    uri = await asyncio.to_thread(_readonly_uri, path)
    if uri is None:
        return []
    conn = await aiosqlite.connect(uri, uri=True)
    try:
        return list(await conn.execute_fetchall(sql, params))
    except sqlite3.OperationalError:
        return []
    finally:
        await conn.close()


async def read_meta_readonly(path: Path, key: str) -> bytes | None:
    """Read one meta value without creating or modifying anything (pre-start key check)."""
    rows = await _query_readonly(path, "SELECT v FROM meta WHERE k = ?", (key,))
    return bytes(rows[0][0]) if rows else None


def _in_creation_order(versions: Sequence[Version]) -> tuple[Version, ...]:
    """Versions read in rowid order, ordered by creation time, ties in rowid order (as
    ORDER BY created_at, rowid; rows are almost always written in that order already)."""
    vs = tuple(versions)
    if any(a.created_at > b.created_at for a, b in pairwise(vs)):
        return tuple(sorted(vs, key=attrgetter("created_at")))  # stable: rowid order kept
    return vs


def _changed_versions(
    old: Sequence[Version], new: Sequence[Version], blobs: Mapping[str, Sealed]
) -> tuple[list[Version], list[Version]]:
    """(versions of `new` that may need a row written, versions of `old` that may be gone).

    A version a use case left alone is the very object it was in `old`, normally at the same
    position (labels move in place, a new version is appended at the end), so one identity
    pass at C speed skips those: a write to a secret with thousands of versions stays cheap.
    Anything else (fewer versions than before, a blob for an untouched version) gets the
    complete lists, which the caller handles exactly the same way.
    """
    if len(new) >= len(old):
        moved = list(compress(range(len(old)), map(is_not, old, new)))
        touched = [new[i] for i in moved]
        touched.extend(new[len(old) :])
        ids = {v.version_id for v in touched}
        if all(vid in ids for vid in blobs):
            # Replaced in place (same id at the same position) is not gone: no lookup needed.
            return touched, [old[i] for i in moved if new[i].version_id != old[i].version_id]
    return list(new), list(old)


def _deletion_key(s: Secret | None) -> tuple[float, str] | None:
    if s is None or s.deleted_date is None:
        return None
    return (s.deleted_date, s.arn)


def _rotation_due_key(s: Secret | None) -> tuple[float, str] | None:
    """(due time, arn) of a primary that the scheduler may start rotating (core.rotation.due_at:
    the opening of the window that NextRotationDate closes)."""
    if s is None or s.is_replica or s.deleted_date is not None or s.rotating is not None:
        return None
    r = s.rotation
    due = due_at(r) if r.enabled else None
    return None if due is None else (due, s.arn)


def _rotating_key(s: Secret | None) -> tuple[float, str] | None:
    """(started_at, arn) of a primary with a rotation in progress."""
    if s is None or s.is_replica or s.rotating is None:
        return None
    return (s.rotating.started_at, s.arn)


def _move(index: SortedList[tuple[float, str]], was: Any, now: Any) -> None:
    if was != now:
        if was is not None:
            index.remove(was)
        if now is not None:
            index.add(now)


def _blob_size(sealed: Sealed) -> int:
    return len(sealed.wrapped_key) + len(sealed.ciphertext) + _BLOB_OVERHEAD


class Tx:
    """One write transaction; reads see its own pending changes.

    Reads come from memory (or committed rows); writes are collected and run at the end, with
    BEGIN IMMEDIATE and COMMIT, in one hop to the connection's thread.
    """

    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self._conn = store._conn
        self.ops: list[Op] = []
        self.saved: dict[str, Secret] = {}
        self.deleted: dict[str, Secret] = {}
        self.blobs: dict[tuple[str, str], Sealed | None] = {}
        # Creation order numbers given out by this transaction: the store takes them over at
        # COMMIT (a rolled-back create leaves nothing behind in memory).
        self.seqs: dict[str, int] = {}
        self.next_seq = store._next_seq
        self.events = store._events_pending()

    def find(self, secret_id: str) -> Secret | None:
        """Resolve a name, full ARN or partial ARN, including this transaction's changes."""
        return self._store._resolve(secret_id, self)

    def find_arn(self, arn: str) -> Secret | None:
        if arn in self.saved:
            return self.saved[arn]
        if arn in self.deleted:
            return None
        return self._store._by_arn.get(arn)

    async def sealed(self, arn: str, version_id: str) -> Sealed | None:
        if (arn, version_id) in self.blobs:
            return self.blobs[(arn, version_id)]
        return await self._store._sealed((arn, version_id), self._conn)

    async def save(self, new: Secret, blobs: dict[str, Sealed] | None = None) -> None:
        """Write the aggregate: upsert the secret row, insert/update/delete version rows.

        Persistence only: outbox rows and generations are the replication feed's business.
        """
        blobs = blobs or {}
        old = self.find_arn(new.arn)
        old_versions = old.versions if old else ()
        seq = self.seqs.get(new.arn) or (self._store._seq.get(new.arn) if old else None)
        if seq is None:
            self.next_seq += 1
            seq = self.next_seq
        self._op(
            "INSERT INTO secrets(arn, name, seq, meta) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(arn) DO UPDATE SET name = excluded.name, meta = excluded.meta",
            (new.arn, new.name, seq, codec.secret_meta(new)),
        )
        touched, maybe_gone = _changed_versions(old_versions, new.versions, blobs)
        inserts, updates = [], []
        for v in touched:
            prev = old.version(v.version_id) if old else None
            blob = blobs.get(v.version_id)
            if prev is None or blob is not None:
                inserts.append(
                    (
                        new.arn,
                        v.version_id,
                        v.created_at,
                        codec.stages_json(v),
                        v.kms_key_id,
                        int(v.has_value),
                        v.last_accessed_day,
                        blob.wrapped_key if blob else None,
                        blob.ciphertext if blob else None,
                    )
                )
                self.blobs[(new.arn, v.version_id)] = blob
            elif prev is not v and prev != v:  # unchanged versions are the very same objects
                updates.append((codec.stages_json(v), v.last_accessed_day, new.arn, v.version_id))
        gone = [(new.arn, o.version_id) for o in maybe_gone if new.version(o.version_id) is None]
        if inserts:
            self._op(
                "INSERT OR REPLACE INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                inserts,
                many=True,
            )
        if updates:
            self._op(
                "UPDATE versions SET stages = ?, last_access = ? WHERE arn = ? AND version_id = ?",
                updates,
                many=True,
            )
        if gone:
            self._op("DELETE FROM versions WHERE arn = ? AND version_id = ?", gone, many=True)
            for key in gone:
                self.blobs[key] = None
        self.deleted.pop(new.arn, None)
        self.saved[new.arn] = new
        self.seqs[new.arn] = seq

    def _op(self, sql: str, params: Any, *, many: bool = False) -> None:
        self.ops.append((sql, params, many))

    async def enqueue(self, secret: Secret, changes: list[tuple[str, str]]) -> None:
        """Outbox rows (Region, kind) for this secret, in this transaction."""
        if not changes:
            return
        self._op(
            "INSERT INTO outbox(region, arn, lineage, kind) VALUES (?, ?, ?, ?)",
            [(region, secret.arn, secret.lineage or "", kind) for region, kind in changes],
            many=True,
        )

    async def set_applied(
        self, source_region: str, seq: int, incarnation: str | None = None
    ) -> None:
        """Replica side: record the applied position (and the source's incarnation it was
        applied from, if given) in this same transaction."""
        self._op(
            "INSERT INTO repl_applied(source_region, applied_seq) VALUES (?, ?) "
            "ON CONFLICT(source_region) DO UPDATE SET applied_seq = excluded.applied_seq",
            (source_region, seq),
        )
        if incarnation is not None:
            self._op(
                "UPDATE repl_applied SET incarnation = ? WHERE source_region = ?",
                (incarnation, source_region),
            )

    async def applied_incarnation(self, source_region: str) -> str:
        """Replica side: the source's incarnation the applied position is from ('' unknown)."""
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT incarnation FROM repl_applied WHERE source_region = ?", (source_region,)
            )
        )
        return str(rows[0][0]) if rows else ""

    async def set_peer_incarnation(self, region: str, incarnation: str) -> None:
        """Primary side: the replica Region's incarnation the cursor refers to."""
        self._op(
            "INSERT INTO repl_cursor(region, acked_seq, incarnation) VALUES (?, 0, ?) "
            "ON CONFLICT(region) DO UPDATE SET incarnation = excluded.incarnation",
            (region, incarnation),
        )

    async def applied(self, source_region: str) -> int:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT applied_seq FROM repl_applied WHERE source_region = ?", (source_region,)
            )
        )
        return int(rows[0][0]) if rows else 0

    async def replay_mark(self, peer_region: str) -> float:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT last_ts FROM repl_replay WHERE peer_region = ?", (peer_region,)
            )
        )
        return float(rows[0][0]) if rows else 0.0

    async def set_replay_mark(self, peer_region: str, timestamp: float) -> None:
        """Replica side: persist the highest accepted push timestamp (never lowers it)."""
        self._op(
            "INSERT INTO repl_replay VALUES (?, ?) ON CONFLICT(peer_region) "
            "DO UPDATE SET last_ts = max(last_ts, excluded.last_ts)",
            (peer_region, timestamp),
        )

    async def ack(self, region: str, seq: int) -> None:
        """Primary side: the Region applied everything up to seq; forget those rows."""
        self._op(
            "INSERT INTO repl_cursor(region, acked_seq) VALUES (?, ?) ON CONFLICT(region) "
            "DO UPDATE SET acked_seq = max(acked_seq, excluded.acked_seq)",
            (region, seq),
        )
        self._op("DELETE FROM outbox WHERE region = ? AND seq <= ?", (region, seq))

    async def requeue(self, region: str, after: int, upto: int) -> None:
        """Primary side: enqueue again, at the end, the changes (after, upto] for a Region."""
        self._op(
            "INSERT INTO outbox(region, arn, lineage, kind) SELECT region, arn, lineage, kind "
            "FROM outbox WHERE region = ? AND seq > ? AND seq <= ? "
            "GROUP BY arn, lineage, kind ORDER BY min(seq)",
            (region, after, upto),
        )

    async def forget(self, region: str, arn: str) -> None:
        """Primary side: stop shipping a secret to a Region (promoted there, or name conflict)."""
        self._op("DELETE FROM outbox WHERE region = ? AND arn = ?", (region, arn))

    async def record(self, changes: Sequence[Change], at: float) -> None:
        """WatchSecrets events of this transaction (storage.sqlite_events)."""
        self.events.record(changes, at, self._store._ev_retention, self.ops)

    def note(self, arn: str, outcome: str) -> None:
        """Notes are the feed's business (core.ports.EventTx): nothing to persist."""

    async def delete(self, secret: Secret) -> None:
        """Remove a secret and all its versions for good."""
        self._op("DELETE FROM secrets WHERE arn = ?", (secret.arn,))
        self.saved.pop(secret.arn, None)
        self.deleted[secret.arn] = secret


class SqliteStore(SqliteEvents, SqliteIam):
    """Storage of one Region (see module docstring); IAM tables: storage.sqlite_iam."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        reader: aiosqlite.Connection | None = None,
        *,
        blob_cache_bytes: int = BLOB_CACHE_BYTES,
        home: tuple[str | None, str | None] = (None, None),
        event_retention: int = DEFAULT_RETENTION,
    ) -> None:
        """home: (region, account) this store serves: partial ARNs of elsewhere find nothing;
        event_retention: WatchSecrets events kept (storage.sqlite_events)."""
        self._conn = conn
        self._events_init(event_retention)
        # Reads outside a transaction use their own connection (and thread): a write waiting
        # for the database lock (busy_timeout) or an fsync never holds them up (WAL).
        self._reader = reader or conn
        self._commits = 0
        self._lock = asyncio.Lock()
        self._by_arn: dict[str, Secret] = {}
        self._by_name: dict[str, Secret] = {}
        self._seq: dict[str, int] = {}
        self._next_seq = 0
        self._blobs: OrderedDict[tuple[str, str], Sealed] = OrderedDict()
        self._blob_bytes = 0
        self._blob_limit = blob_cache_bytes
        # One sorted index of positions (core.listing.sort_key) per listing order, and
        # (deletion date, arn) of the secrets scheduled for deletion.
        self._order: dict[str, SortedList[Position]] = {by: SortedList() for by in SORT_KEYS}
        self._deleting: SortedList[tuple[float, str]] = SortedList()
        # Rotation: (NextRotationDate, arn) of the primaries the scheduler may start, and
        # (started_at, arn) of the rotations in progress.
        self._rotation_due: SortedList[tuple[float, str]] = SortedList()
        self._rotating: SortedList[tuple[float, str]] = SortedList()
        self.home = home

    @classmethod
    async def open(
        cls,
        path: Path,
        *,
        busy_timeout: float = 5.0,
        blob_cache_bytes: int = BLOB_CACHE_BYTES,
        home: tuple[str | None, str | None] = (None, None),
        load_secrets: bool = True,
        event_retention: int = DEFAULT_RETENTION,
    ) -> SqliteStore:
        """busy_timeout: seconds a write waits for another connection's lock, then fails;
        blob_cache_bytes: bound of the sealed-value cache (ciphertext and wrapped keys);
        load_secrets=False: keys and meta only (`smgrpc kms`: seconds at 1M secrets saved)."""
        guard_driver_logs()
        # Names, tags and descriptions are not secret but not public either: owner-only files
        # (SQLite gives the -wal and -shm files the database file's mode).
        await asyncio.to_thread(_create_private, path)
        conn = await aiosqlite.connect(path, isolation_level=None)
        store = cls(
            conn, blob_cache_bytes=blob_cache_bytes, home=home, event_retention=event_retention
        )
        try:  # an open aiosqlite connection's thread keeps the process alive: close on failure
            for pragma in (
                "journal_mode = WAL",
                "synchronous = FULL",
                f"busy_timeout = {int(busy_timeout * 1000)}",
                "foreign_keys = ON",
            ):
                await conn.execute(f"PRAGMA {pragma}")
            await migrate(conn)
            uri = await asyncio.to_thread(lambda: path.resolve().as_uri())
            store._reader = await aiosqlite.connect(
                f"{uri}?mode=ro", uri=True, isolation_level=None
            )
            await store._reader.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            if load_secrets:
                await store._load()
                await store._events_load()
        except BaseException:
            await store.close()
            raise
        return store

    async def close(self) -> None:
        if self._reader is not self._conn:
            await self._reader.close()
        await self._conn.close()

    async def _load(self) -> None:
        """Every secret's metadata into memory, then the indexes (one sort each).

        The cyclic GC is off meanwhile (each of its full passes would walk every object
        loaded so far), and what was loaded is then frozen out of its sight: a full pass over
        100k+ long-lived secrets would stall the event loop for hundreds of milliseconds.
        """
        enabled = gc.isenabled()
        gc.disable()
        try:
            await self._load_rows()
        finally:
            if enabled:
                gc.enable()
        if len(self._by_arn) >= _FREEZE_AT:
            gc.freeze()

    async def _load_rows(self) -> None:
        versions: dict[str, list[Version]] = {}
        # Few distinct label sets and key ids: share one object each (less memory per version).
        stages_of: dict[str, tuple[str, ...]] = {}
        memo: dict[Any, Any] = {}  # tags shared across secrets (this load only)
        intern = sys.intern
        async with self._conn.execute(
            "SELECT arn, version_id, created_at, stages, kms_key_id, has_value, last_access "
            "FROM versions ORDER BY rowid"  # no sort in SQLite: see _in_creation_order
        ) as cur:
            while rows := await cur.fetchmany(_LOAD_CHUNK):
                for arn, vid, created, stages, key_id, has_value, last_access in rows:
                    st = stages_of.get(stages)
                    if st is None:
                        st = stages_of[stages] = tuple(json.loads(stages))
                    v = Version(
                        vid,
                        created,
                        st,
                        intern(key_id),
                        bool(has_value),
                        last_access and intern(last_access),
                    )
                    vs = versions.get(arn)
                    if vs is None:
                        versions[arn] = [v]
                    else:
                        vs.append(v)
        async with self._conn.execute(
            "SELECT arn, name, meta, seq FROM secrets ORDER BY rowid"
        ) as cur:
            while rows := await cur.fetchmany(_LOAD_CHUNK):
                for arn, name, meta, seq in rows:
                    ordered = _in_creation_order(versions.pop(arn, ()))
                    s = codec.secret_from_row(arn, name, meta, ordered, memo)
                    self._by_arn[arn] = s
                    self._by_name[name] = s
                    self._seq[arn] = seq
                    self._next_seq = max(self._next_seq, seq)
        loaded = list(self._by_arn.values())
        for by in SORT_KEYS:  # one sort each, not one insert per secret
            value = SORT_VALUE[by]
            self._order[by] = SortedList([(value(s), s.arn) for s in loaded])
        self._deleting = SortedList(k for k in map(_deletion_key, loaded) if k is not None)
        self._rotation_due = SortedList(k for k in map(_rotation_due_key, loaded) if k is not None)
        self._rotating = SortedList(k for k in map(_rotating_key, loaded) if k is not None)

    # ---- indexes ----

    def _index(self, old: Secret | None, new: Secret | None) -> None:
        """Move a secret's index entries from its old to its new metadata (None: absent)."""
        for by, index in self._order.items():
            was = sort_key(old, by) if old is not None else None
            now = sort_key(new, by) if new is not None else None
            if was != now:
                if was is not None:
                    index.remove(was)
                if now is not None:
                    index.add(now)
        _move(self._deleting, _deletion_key(old), _deletion_key(new))
        _move(self._rotation_due, _rotation_due_key(old), _rotation_due_key(new))
        _move(self._rotating, _rotating_key(old), _rotating_key(new))

    # ---- reads (memory) ----

    def _resolve(self, secret_id: str, tx: Tx | None = None) -> Secret | None:
        def lookup(key: str) -> Secret | None:
            if tx is not None:
                for s in tx.saved.values():
                    if key in (s.arn, s.name):
                        return s
                hit = self._by_arn.get(key) or self._by_name.get(key)
                return None if hit is None or hit.arn in tx.deleted or hit.arn in tx.saved else hit
            return self._by_arn.get(key) or self._by_name.get(key)

        found = lookup(secret_id)
        if found is None:
            name = name_from_partial_arn(secret_id, *self.home)
            if name is not None:
                found = lookup(name)
        return found

    def find(self, secret_id: str) -> Secret | None:
        """Resolve a name, full ARN or partial ARN (AWS lookup order)."""
        # _resolve's first lookup, inlined: every GetSecretValue finds its secret twice (the
        # guard, the use case), almost always by its exact name or ARN.
        hit = self._by_arn.get(secret_id) or self._by_name.get(secret_id)
        return hit if hit is not None else self._resolve(secret_id)

    def all(self) -> list[Secret]:
        """Every secret of this Region in creation order."""
        return sorted(self._by_arn.values(), key=lambda s: self._seq[s.arn])

    async def scan(
        self, sort_by: str, descending: bool, after: Position | None
    ) -> AsyncGenerator[Secret, None]:
        """Secrets in one listing order strictly after a position (see core.ports.Store)."""
        index = self._order[sort_by]
        get = self._by_arn.get
        sort_value = SORT_VALUE[sort_by]
        pos = after
        while True:
            if pos is None:
                it = reversed(index) if descending else iter(index)
            elif descending:
                it = index.irange(maximum=pos, inclusive=(True, False), reverse=True)
            else:
                it = index.irange(minimum=pos, inclusive=(False, True))
            chunk = list(islice(it, _SCAN_CHUNK))
            for value, arn in chunk:
                s = get(arn)
                # Changed since the chunk was taken (the consumer may yield): it sits at its
                # new position now, and shows there if that is still ahead.
                if s is not None and sort_value(s) == value:
                    yield s
            if len(chunk) < _SCAN_CHUNK:
                return
            pos = chunk[-1]

    async def due_for_deletion(self, now: float) -> list[Secret]:
        """Secrets whose deletion date has come, earliest first (from the deletion index)."""
        due = []
        for when, arn in self._deleting:
            if when > now:
                break
            due.append(self._by_arn[arn])
        return due

    async def due_for_rotation(self, now: float, limit: int | None = None) -> list[Secret]:
        """Primaries whose scheduled rotation is due, earliest first (from the rotation index),
        at most `limit`."""
        due = []
        for when, arn in islice(self._rotation_due, limit):
            if when > now:
                break
            due.append(self._by_arn[arn])
        return due

    async def rotations_in_progress(self) -> list[Secret]:
        """Primaries with a rotation in progress, earliest started first (from an index)."""
        by_arn = self._by_arn
        return [by_arn[arn] for _, arn in self._rotating]

    async def sealed(self, arn: str, version_id: str) -> Sealed | None:
        """A version's sealed value: from the cache, else from the read connection."""
        key = (arn, version_id)
        hit = self._blobs.get(key)
        if hit is not None:  # GetSecretValue's common case: no second coroutine
            self._blobs.move_to_end(key)
            return hit
        return await self._sealed(key, self._reader)

    async def _sealed(self, key: tuple[str, str], conn: aiosqlite.Connection) -> Sealed | None:
        hit = self._blobs.get(key)
        if hit is not None:
            self._blobs.move_to_end(key)
            return hit
        commits = self._commits
        rows = list(
            await conn.execute_fetchall(
                "SELECT kms_key_id, wrapped_key, ciphertext FROM versions "
                "WHERE arn = ? AND version_id = ?",
                key,
            )
        )
        if not rows or rows[0][1] is None:
            return None
        # A missing ciphertext beside a wrapped key is damage: let it fail to decrypt.
        sealed = Sealed(rows[0][0], bytes(rows[0][1]), bytes(rows[0][2] or b""))
        if commits == self._commits:  # a commit meanwhile may have replaced it: don't cache
            self._remember(key, sealed)
        return sealed

    def _remember(self, key: tuple[str, str], sealed: Sealed | None) -> None:
        self._forget_blob(key)
        if sealed is None:
            return
        size = _blob_size(sealed)
        if size > self._blob_limit:
            return
        self._blobs[key] = sealed
        self._blob_bytes += size
        while self._blob_bytes > self._blob_limit:
            _, old = self._blobs.popitem(last=False)
            self._blob_bytes -= _blob_size(old)

    def _forget_blob(self, key: tuple[str, str]) -> None:
        old = self._blobs.pop(key, None)
        if old is not None:
            self._blob_bytes -= _blob_size(old)

    @property
    def blob_cache_bytes(self) -> int:
        """Bytes the sealed-value cache holds now (blobs plus per-entry overhead)."""
        return self._blob_bytes

    # ---- writes ----

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """Serialize writers (asyncio lock); run the collected writes in one BEGIN IMMEDIATE ..
        COMMIT on the connection's thread; publish to memory after COMMIT.

        A body that raises writes nothing. Cancellation-safe: a caller cancelled (client
        deadline, peer hung up) while the batch runs waits for it to finish, so memory always
        matches what was committed and the connection never stays inside a transaction.
        """
        async with self._lock:
            tx = Tx(self)
            yield tx
            if tx.ops:
                await settle(self._commit(tx))

    async def _commit(self, tx: Tx) -> None:
        ops = tx.ops
        # aiosqlite has no public "run this function on the connection thread"; _execute is
        # what its own methods use (pinned version). One hop instead of one per statement.
        await self._conn._execute(lambda: run_batch(self._conn._conn, ops))  # type: ignore[no-untyped-call]
        self._publish(tx)

    def _publish(self, tx: Tx) -> None:
        self._commits += 1
        self._next_seq = max(self._next_seq, tx.next_seq)
        for arn, s in tx.deleted.items():
            gone = self._by_arn.pop(arn, None)
            if gone is not None:
                self._index(gone, None)
                if self._by_name.get(gone.name) is gone:
                    del self._by_name[gone.name]
            self._seq.pop(arn, None)
            for v in (*s.versions, *(gone.versions if gone is not None else ())):
                self._forget_blob((arn, v.version_id))
        for arn, s in tx.saved.items():
            old = self._by_arn.get(arn)
            if old is not None and self._by_name.get(old.name) is old:
                del self._by_name[old.name]
            self._by_arn[arn] = s
            self._by_name[s.name] = s
            self._seq[arn] = tx.seqs[arn]
            self._index(old, s)
        for key, sealed in tx.blobs.items():
            self._remember(key, sealed)
        self._events_publish(tx.events)

    # ---- keys and meta ----

    async def kms_keys(self) -> list[KmsKeyRecord]:
        rows = await self._conn.execute_fetchall(
            "SELECT key_id, arn, alias, description, enabled, created_at, material FROM kms_keys "
            "ORDER BY created_at"
        )
        return [KmsKeyRecord(r[0], r[1], r[2], r[3], bool(r[4]), r[5], bytes(r[6])) for r in rows]

    async def add_kms_key(self, rec: KmsKeyRecord, canary: bytes | None = None) -> bool:
        """Insert a new key; False (nothing written) if its id, ARN or alias is taken.

        Key rows are never replaced or deleted (migration 0003 enforces it in the database).
        canary: the key-check canary the wrapping master key verified; the row is inserted only
        if it is still the data dir's, in the same statement (storage.rekey.Rekeyed if not).
        """
        async with self._lock:
            try:
                cur = await self._conn.execute(
                    "INSERT INTO kms_keys(key_id, arn, alias, description, enabled, created_at, "
                    f"material) SELECT ?, ?, ?, ?, ?, ?, ? {_SAME_CANARY}",
                    (
                        rec.key_id,
                        rec.arn,
                        rec.alias,
                        rec.description,
                        int(rec.enabled),
                        rec.created_at,
                        rec.wrapped_material,
                        canary,
                        canary,
                    ),
                )
            except sqlite3.IntegrityError:
                return False
        if cur.rowcount != 1:
            raise Rekeyed()
        return True

    async def kms_materials(self) -> list[KmsMaterialRecord]:
        """Rotated materials (terms >= 1) with the data keys each has wrapped."""
        rows = await self._conn.execute_fetchall(
            "SELECT m.key_id, m.term, m.created_at, m.material, coalesce(u.sealed, 0) "
            "FROM kms_materials m LEFT JOIN kms_usage u ON u.key_id = m.key_id "
            "AND u.term = m.term ORDER BY m.key_id, m.term"
        )
        out = [KmsMaterialRecord(r[0], r[1], r[2], bytes(r[3]), r[4]) for r in rows]
        # Term 0 (kms_keys.material) has usage too, but no material row.
        zero = await self._conn.execute_fetchall(
            "SELECT key_id, sealed FROM kms_usage WHERE term = 0"
        )
        return out + [KmsMaterialRecord(r[0], 0, 0.0, b"", r[1]) for r in zero]

    async def add_kms_material(self, rec: KmsMaterialRecord, canary: bytes | None = None) -> bool:
        """Insert a key's next material; False (nothing written) if that term exists.
        canary: as add_kms_key's."""
        async with self._lock:
            try:
                cur = await self._conn.execute(
                    "INSERT INTO kms_materials(key_id, term, created_at, material) "
                    f"SELECT ?, ?, ?, ? {_SAME_CANARY}",
                    (rec.key_id, rec.term, rec.created_at, rec.wrapped_material, canary, canary),
                )
            except sqlite3.IntegrityError:
                return False
        if cur.rowcount != 1:
            raise Rekeyed()
        return True

    async def add_kms_usage(self, usage: Mapping[tuple[str, int], int]) -> None:
        """Add data keys wrapped per (key id, term) to the recorded counts."""
        async with self._lock:
            await self._conn.executemany(
                "INSERT INTO kms_usage(key_id, term, sealed) VALUES (?, ?, ?) "
                "ON CONFLICT(key_id, term) DO UPDATE SET sealed = sealed + excluded.sealed",
                [(k, t, n) for (k, t), n in usage.items()],
            )

    async def set_kms_key_enabled(self, key_id: str, enabled: bool) -> None:
        """The one change a key row accepts (AWS managed keys refuse disabling)."""
        async with self._lock:
            await self._conn.execute(
                "UPDATE kms_keys SET enabled = ? WHERE key_id = ?", (int(enabled), key_id)
            )

    # ---- replication reads (primary side) ----

    async def peer_incarnation(self, region: str) -> str:
        """Primary side: the replica Region's incarnation its cursor refers to ('' unknown)."""
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT incarnation FROM repl_cursor WHERE region = ?", (region,)
            )
        )
        return str(rows[0][0]) if rows else ""

    async def cursor(self, region: str) -> int:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT acked_seq FROM repl_cursor WHERE region = ?", (region,)
            )
        )
        return int(rows[0][0]) if rows else 0

    async def outbox(self, region: str, after: int, limit: int) -> list[tuple[int, str, str, str]]:
        """(seq, arn, lineage, kind) rows for a Region after a sequence number, in order.

        Only committed rows: the lock keeps this read out of an open write transaction on the
        shared connection (its rows may roll back, or commit after their state was shipped).
        """
        async with self._lock:
            rows = await self._conn.execute_fetchall(
                "SELECT seq, arn, lineage, kind FROM outbox WHERE region = ? AND seq > ? "
                "ORDER BY seq LIMIT ?",
                (region, after, limit),
            )
        return [(int(r[0]), r[1], r[2], r[3]) for r in rows]

    async def data_version(self) -> int:
        """Changes when another connection (e.g. `smgrpc kms`) commits to this database."""
        rows = list(await self._conn.execute_fetchall("PRAGMA data_version"))
        return int(rows[0][0])

    async def get_meta(self, key: str) -> bytes | None:
        rows = list(await self._conn.execute_fetchall("SELECT v FROM meta WHERE k = ?", (key,)))
        return bytes(rows[0][0]) if rows else None

    async def add_meta(self, key: str, value: bytes) -> bytes:
        """Store value unless the key has one already; returns the stored value (write-once)."""
        async with self._lock:
            await self._conn.execute(
                "INSERT INTO meta(k, v) VALUES (?, ?) ON CONFLICT(k) DO NOTHING", (key, value)
            )
        stored = await self.get_meta(key)
        assert stored is not None
        return stored


async def read_region_readonly(path: Path) -> str | None:
    """The Region a data dir belongs to, without creating or modifying anything.

    The `region` meta record; for a database from before the record existed, the Region in the
    ARN of its default KMS key (created at the first start). None: no database or no answer.
    """
    recorded = await read_meta_readonly(path, "region")
    if recorded is not None:
        return recorded.decode()
    rows = await _query_readonly(
        path, "SELECT arn FROM kms_keys WHERE alias = ?", (DEFAULT_KMS_ALIAS,)
    )
    return str(rows[0][0]).split(":")[3] if rows else None
