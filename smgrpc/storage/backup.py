"""Online backup of a Region's database (SQLite's backup API) and restore into a new data dir.

The backup is taken by one backup step inside one read transaction: in WAL mode that is a
consistent snapshot of the last committed state, and it blocks no writer (a reader never does
in WAL mode), so it runs while the server serves. The copy is a plain single-file database
(journal_mode DELETE), checked with `PRAGMA quick_check`. It holds what the data dir holds:
ciphertext and wrapped keys, never the master key.
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from smgrpc.core.durable import fsync_dir

DB_NAME = "secrets.db"
# replication.iam_receiver's replay mark of the operator's moves (iam_wire.OPERATOR + "#iam")
OPERATOR_MARK = "@operator#iam"


class BackupError(Exception):
    """A backup or restore that can't be done (nothing was written or changed)."""


@dataclass(frozen=True)
class BackupInfo:
    region: str
    secrets: int
    versions: int
    kms_keys: int
    size: int


def _fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _private_empty(path: Path) -> None:
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def describe(db: Path) -> BackupInfo:
    """What a database (a backup or a data dir's) holds; BackupError if it is not a Region's."""
    try:
        with closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise BackupError(f"{db} is damaged (SQLite quick_check: {check})")
            region = conn.execute("SELECT v FROM meta WHERE k = 'region'").fetchone()
            canary = conn.execute("SELECT v FROM meta WHERE k = 'keycheck'").fetchone()
            if region is None or canary is None:
                raise BackupError(f"{db} is not a backup of a Region (no Region record)")
            counts = [
                conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
                for table in ("secrets", "versions", "kms_keys")
            ]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{db} is not a backup of a Region ({exc})") from None
    secrets, versions, keys = (int(n) for n in counts)
    return BackupInfo(bytes(region[0]).decode(), secrets, versions, keys, db.stat().st_size)


def backup(data_dir: Path, out: Path) -> BackupInfo:
    """Copy the data dir's database to `out` (new file, 0600) while a server may be writing.

    Written to a temporary file next to `out`, fsynced, checked, then renamed: `out` is either
    a complete backup or absent.
    """
    db = data_dir / DB_NAME
    if not db.is_file():
        raise BackupError(f"no Region in {data_dir} (no {DB_NAME}); check --data-dir")
    if out.exists():
        raise BackupError(f"{out} already exists; not overwritten")
    tmp = out.with_name(f".{out.name}.partial")
    tmp.unlink(missing_ok=True)
    try:
        _private_empty(tmp)
        with closing(sqlite3.connect(db, timeout=30.0)) as src:
            src.execute("PRAGMA busy_timeout = 30000")
            with closing(sqlite3.connect(tmp)) as dst:
                # pages=-1: the whole database in one step, i.e. in one read transaction (a
                # stepwise copy restarts whenever another connection writes meanwhile).
                src.backup(dst, pages=-1)
                dst.execute("PRAGMA journal_mode = DELETE")
        _fsync(tmp)
        info = describe(tmp)
        os.rename(tmp, out)
        fsync_dir(out.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return info


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _new_life(conn: sqlite3.Connection, region: str, incarnation: str, now: float) -> None:
    """What makes the restored data dir a new life of the Region, not its past (README "Backup
    and restore"), in one transaction. `now` (the restore time) in microseconds is the floor
    every counter jumps to: later than anything the lost history can have reached (counters
    move by one per write, far below a million a second), and later again at every restore,
    even of the same backup."""
    floor = int(now * 1_000_000)
    tables = _tables(conn)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "INSERT INTO meta(k, v) VALUES ('incarnation', ?) "
        "ON CONFLICT(k) DO UPDATE SET v = excluded.v",
        (incarnation.encode(),),
    )
    if "iam_meta" in tables:
        # The IAM Region's generation went back to the backup's: peers compare (epoch,
        # generation) and would answer "not newer" to every IAM write (a revoked key would keep
        # working there). Same holder and epoch (a move made since still wins), generation
        # past any the lost history reached. A replica's IAM copy is left as it is (the IAM
        # Region's next push supersedes it).
        conn.execute(
            "UPDATE iam_meta SET generation = max(generation + 1, ?) WHERE holder = ?",
            (floor, region),
        )
    if "events" in tables:
        # WatchSecrets positions of the lost history must not be reused for other events: the
        # history is cleared and the next position starts past all of them, so any position a
        # client kept gets ExpiredSequenceException (resync).
        top = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
        conn.execute("DELETE FROM events")
        conn.execute("DELETE FROM sqlite_sequence WHERE name = 'events'")
        conn.execute(
            "INSERT INTO sqlite_sequence(name, seq) VALUES ('events', ?)",
            (max(int(top[0]) + 1 if top else 0, floor),),
        )
    if "repl_replay" in tables:
        _replay_floor(conn, tables, now)
    conn.execute("COMMIT")


def _replay_floor(conn: sqlite3.Connection, tables: set[str], now: float) -> None:
    """Replay marks went back to the backup's: a push signed between the backup and now (still
    within the signature's clock window) could be replayed. Every mark, and one for every peer
    the data dir knows of (batches and IAM pushes, and the operator's moves), is raised to the
    restore time."""
    peers = {r[0] for r in conn.execute("SELECT peer_region FROM repl_replay")}
    for table, column in (("repl_applied", "source_region"), ("repl_cursor", "region")):
        if table in tables:
            peers |= {r[0] for r in conn.execute(f"SELECT {column} FROM {table}")}  # noqa: S608
    if "iam_meta" in tables:
        peers |= {r[0] for r in conn.execute("SELECT holder FROM iam_meta")}
    names = {p for p in peers if p} | {f"{p}#iam" for p in peers if p and "#" not in p}
    names.add(OPERATOR_MARK)
    conn.executemany(
        "INSERT INTO repl_replay(peer_region, last_ts) VALUES (?, ?) ON CONFLICT(peer_region) "
        "DO UPDATE SET last_ts = max(last_ts, excluded.last_ts)",
        [(n, now) for n in sorted(names)],
    )


def restore(source: Path, data_dir: Path, incarnation: str, now: float | None = None) -> BackupInfo:
    """Make a new data dir from a backup, with a new incarnation id (see README "Backup and
    restore"); refuses a data dir that has any file in it (but our own partial file, left by
    a restore that was killed: it is replaced). `now`: the restore time (default: the clock)."""
    info = describe(source)
    now = time.time() if now is None else now
    tmp = data_dir / f".{DB_NAME}.partial"
    if data_dir.is_dir() and [p.name for p in data_dir.iterdir()] == [tmp.name]:
        tmp.unlink()  # an interrupted restore's (never renamed: the dir has no database)
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise BackupError(
            f"refusing to restore into {data_dir}: it is not an empty directory (restore makes "
            "a new data dir; nothing was changed)"
        )
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        _private_empty(tmp)
        with closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)) as src:
            with closing(sqlite3.connect(tmp, isolation_level=None)) as dst:
                src.backup(dst, pages=-1)
                _new_life(dst, info.region, incarnation, now)
        _fsync(tmp)
        os.rename(tmp, data_dir / DB_NAME)
        fsync_dir(data_dir)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return info
