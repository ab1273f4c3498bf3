"""The one transaction of a master key rotation (see crypto.rekey) and the data dir lock.

Every re-wrapped row and the new canary are written in a single BEGIN IMMEDIATE .. COMMIT
(WAL, synchronous=FULL): a crash at any point leaves the data dir wholly under the old master
key (not committed) or wholly under the new one. The key rows' triggers (migration 0007)
accept a changed material only while the transaction holds the meta 'rekey' marker, which it
deletes again before COMMIT.

A running server and every other `smgrpc kms` command hold a shared lock on `<data
dir>/serve.lock` (flock), taken before they read the canary and the key rows; the rotation
takes it exclusively, so it never runs under a process that keeps the old master key in
memory. Key rows are also inserted only while the canary is still the one the writer's
master key verified (SqliteStore.add_kms_key/add_kms_material `canary=`): `Rekeyed` else.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from smgrpc.core.keyset import WrappedKeySet

LOCK_NAME = "serve.lock"
Checkpoint = Callable[[str], None]


class DataDirBusy(Exception):
    """A server (or another rotation) is using the data dir."""


class Rekeyed(DataDirBusy):
    """The data dir's key-check canary is not the one the writer's master key verified: a
    master key rotation committed meanwhile (nothing was written)."""

    def __init__(self) -> None:
        super().__init__(
            "the data dir's master key was rotated while this ran (smgrpc kms "
            "rotate-master-key): nothing was written; run it again with the new master key"
        )


def lock(data_dir: Path, *, exclusive: bool) -> int:
    """An open fd holding the data dir's lock (shared: a server; exclusive: a rotation)."""
    fd = os.open(data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        if not exclusive:
            raise DataDirBusy(
                f"{data_dir} is being re-keyed by `smgrpc kms rotate-master-key`: nothing was "
                "done; wait until it finishes, then run this again with the new master key file"
            ) from None
        raise DataDirBusy(
            f"{data_dir} is in use by a running server (or a `smgrpc kms` command): stop it first"
        ) from None
    return fd


def _read(conn: sqlite3.Connection, account: str) -> WrappedKeySet:
    canary = conn.execute("SELECT v FROM meta WHERE k = 'keycheck'").fetchone()
    stored = conn.execute("SELECT account FROM iam_meta").fetchone()
    return WrappedKeySet(
        stored[0] if stored else account,
        bytes(canary[0]) if canary else b"",
        tuple((r[0], bytes(r[1])) for r in conn.execute("SELECT key_id, material FROM kms_keys")),
        tuple(
            (r[0], int(r[1]), bytes(r[2]))
            for r in conn.execute("SELECT key_id, term, material FROM kms_materials")
        ),
        tuple(
            (r[0], bytes(r[1]), bytes(r[2]))
            for r in conn.execute("SELECT access_key_id, sealed, digest FROM iam_access_keys")
        ),
    )


def _write(conn: sqlite3.Connection, new: WrappedKeySet) -> None:
    conn.execute("INSERT INTO meta(k, v) VALUES ('rekey', x'01')")
    conn.executemany(
        "UPDATE kms_keys SET material = ? WHERE key_id = ?", [(w, k) for k, w in new.keys]
    )
    conn.executemany(
        "UPDATE kms_materials SET material = ? WHERE key_id = ? AND term = ?",
        [(w, k, t) for k, t, w in new.materials],
    )
    conn.executemany(
        "UPDATE iam_access_keys SET sealed = ?, digest = ? WHERE access_key_id = ?",
        [(s, d, k) for k, s, d in new.access_keys],
    )
    conn.execute("UPDATE meta SET v = ? WHERE k = 'keycheck'", (new.canary,))
    conn.execute("DELETE FROM meta WHERE k = 'rekey'")


def rekey(
    db: Path,
    account: str,
    rewrap: Callable[[WrappedKeySet], WrappedKeySet],
    checkpoint: Checkpoint,
) -> WrappedKeySet:
    """Read what the master key wraps, `rewrap` it, write it back: one transaction."""
    with closing(sqlite3.connect(db, isolation_level=None, timeout=30.0)) as conn:
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("BEGIN IMMEDIATE")
        try:
            new = rewrap(_read(conn, account))
            _write(conn, new)
            checkpoint("rewrapped")  # written, not committed
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    checkpoint("committed")
    return new
