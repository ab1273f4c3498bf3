"""A restored data dir is a new life of its Region, not a replay of its past.

Real `smgrpc backup` / `smgrpc restore` and `smgrpc serve` processes, real SQLite files:
WatchSecrets positions of the lost history are refused (ExpiredSequenceException) instead of
being reused for other events; replay marks are raised to the restore time; the IAM Region's
generation jumps past anything the lost history reached; a killed restore's partial file does
not block the next run.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.storage.backup import restore
from tests.api.watch_helpers import open_stream
from tests.harness import Servers, channel_stub, servers
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


async def test_a_watch_position_from_the_lost_history_is_expired_after_a_restore(
    servers: Servers, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    server = await servers.start(data)
    ch, stub = await channel_stub(server)
    await stub.CreateSecret(pb.CreateSecretRequest(name="kept", secret_string="v"))
    at_backup = await _newest(stub, server.admin_token())
    rc, _, err = await cli("backup", "--data-dir", str(data), "--out", str(tmp_path / "b.db"))
    assert rc == 0, err
    for i in range(3):  # the history the restore loses; a client has seen it
        await stub.CreateSecret(pb.CreateSecretRequest(name=f"lost{i}", secret_string="v"))
    lost = await _newest(stub, server.admin_token())
    assert lost == at_backup + 3
    await ch.close()
    await server.terminate()

    restored = tmp_path / "restored"
    rc, _, err = await cli("restore", "--from", str(tmp_path / "b.db"), "--data-dir", str(restored))
    assert rc == 0, err
    shutil.copy2(data / "admin.token", tmp_path / "admin.token")
    again = await servers.start(
        restored,
        "--master-key-file",
        str(data / "master.key"),
        "--admin-token-file",
        str(tmp_path / "admin.token"),
    )
    ch, stub = await channel_stub(again)
    try:
        for i in range(5):  # other changes: they must not take the lost positions
            await stub.CreateSecret(pb.CreateSecretRequest(name=f"new{i}", secret_string="v"))
        token = again.admin_token()
        newest = await _newest(stub, token)
        for old in (at_backup, lost - 1, lost):
            got = await open_stream(stub, token, after_sequence=old).error()
            assert got.aws_code == EXPIRED, (old, got)
            assert int(got.info["newestSequence"]) == newest
        assert newest > lost + 5
        # Positions of the new life resume as usual.
        s = open_stream(stub, token, after_sequence=newest - 2)
        try:
            assert (await s.next()).type == "Heartbeat"
            assert [(await s.event()).name for _ in range(2)] == ["new3", "new4"]
        finally:
            s.close()
    finally:
        await ch.close()


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


async def test_restore_raises_every_replay_mark_to_the_restore_time(tmp_path: Path) -> None:
    src = tmp_path / "b.db"
    _make_region_db(src)
    before = time.time() - 3600
    with _db(src) as conn:
        conn.executemany(
            "INSERT INTO repl_replay VALUES (?, ?)",
            [("eu-west-1", before), ("eu-west-1#iam", before), ("far", time.time() + 99)],
        )
        conn.execute("INSERT INTO repl_applied VALUES ('ap-southeast-2', 7)")  # no mark yet
        conn.execute("INSERT INTO repl_cursor VALUES ('sa-east-1', 3)")
        conn.commit()
    t0 = time.time()
    restore(src, tmp_path / "r", "inc")
    now = time.time()
    with _db(tmp_path / "r" / "secrets.db") as conn:
        marks = dict(conn.execute("SELECT peer_region, last_ts FROM repl_replay"))
    # A push signed between the backup and the restore (still within the signature's clock
    # window) is not later than the mark: refused as a replay.
    for peer in ("eu-west-1", "ap-southeast-2", "sa-east-1"):
        assert t0 <= marks.get(peer, 0) <= now and t0 <= marks.get(f"{peer}#iam", 0) <= now
    assert t0 <= marks.get("@operator#iam", 0) <= now
    assert marks["far"] > now  # never lowered


async def test_restore_moves_the_iam_regions_generation_past_the_lost_history(
    tmp_path: Path,
) -> None:
    src = tmp_path / "b.db"
    _make_region_db(src)
    with _db(src) as conn:
        conn.execute("INSERT INTO iam_meta VALUES (1, '123456789012', 'us-east-1', 2, 120)")
        conn.commit()
    restore(src, tmp_path / "r1", "inc1")
    await asyncio.sleep(0.01)
    restore(src, tmp_path / "r2", "inc2")  # the same backup again, later
    rows = []
    for d in ("r1", "r2"):
        with _db(tmp_path / d / "secrets.db") as conn:
            rows.append(conn.execute("SELECT holder, epoch, generation FROM iam_meta").fetchone())
    # Same holder and epoch (a move made since the backup still wins); a generation past any
    # the lost history reached (one per IAM write), and past the first restore's.
    assert rows[0][:2] == ("us-east-1", 2) and rows[0][2] > 120 + 10**12
    assert rows[1][:2] == ("us-east-1", 2) and rows[1][2] > rows[0][2]
    # A replica Region's copy of IAM is left alone (the IAM Region's next push supersedes it).
    eu = tmp_path / "eu.db"
    _make_region_db(eu, "eu-west-1")
    with _db(eu) as conn:
        conn.execute("INSERT INTO iam_meta VALUES (1, '123456789012', 'us-east-1', 2, 120)")
        conn.commit()
    restore(eu, tmp_path / "r3", "inc3")
    with _db(tmp_path / "r3" / "secrets.db") as conn:
        assert conn.execute("SELECT epoch, generation FROM iam_meta").fetchone() == (2, 120)


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
