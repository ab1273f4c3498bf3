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
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

DB_NAME = "secrets.db"


class BackupError(Exception):
    """A backup or restore that can't be done (nothing was written or changed)."""


@dataclass(frozen=True)
class BackupInfo:
    region: str
    secrets: int
    versions: int
    kms_keys: int
    size: int


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
        _fsync_dir(out.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return info


def restore(source: Path, data_dir: Path, incarnation: str) -> BackupInfo:
    """Make a new data dir from a backup, with a new incarnation id (see README "Backup and
    restore"); refuses a data dir that has any file in it (but our own partial file, left by
    a restore that was killed: it is replaced)."""
    info = describe(source)
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
                dst.execute(
                    "INSERT INTO meta(k, v) VALUES ('incarnation', ?) "
                    "ON CONFLICT(k) DO UPDATE SET v = excluded.v",
                    (incarnation.encode(),),
                )
        _fsync(tmp)
        os.rename(tmp, data_dir / DB_NAME)
        _fsync_dir(data_dir)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return info
