"""AccessRecorder: LastAccessedDate noted in memory, flushed in one transaction (real SQLite)."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from smgrpc.core.access import AccessRecorder, with_access
from smgrpc.core.model import Secret, Version
from smgrpc.storage.sqlite import SqliteStore

D1, D2, D3 = "2026-12-01", "2026-12-02", "2026-12-03"


def _secret(name: str, *vids: str, day: str | None = None) -> Secret:
    versions = tuple(
        Version(vid, 1.0 + i, ("AWSCURRENT",) if i == 0 else (), "k", has_value=False)
        for i, vid in enumerate(vids)
    )
    arn = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}-abcdef"
    return Secret(arn, name, 1.0, 1.0, last_accessed_day=day, versions=versions)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = await SqliteStore.open(tmp_path / "secrets.db", busy_timeout=0.2)
    yield s
    await s.close()


async def _save(store: SqliteStore, *secrets: Secret) -> None:
    async with store.transaction() as tx:
        for s in secrets:
            await tx.save(s)


def _on_disk(db: Path) -> dict[tuple[str, str], str | None]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT arn, version_id, last_access FROM versions").fetchall()
    finally:
        conn.close()
    return {(arn, vid): day for arn, vid, day in rows}


def _found(store: SqliteStore, name: str) -> Secret:
    s = store.find(name)
    assert s is not None
    return s


def test_with_access_never_lowers_and_keeps_unchanged_objects() -> None:
    s = _secret("a", "v1", "v2", day=D2)
    s = s.evolve(versions=(s.versions[0], Version("v2", 2.0, (), "k", True, D3)))
    out = with_access(s, {"v1": D1, "v2": D2})
    assert out.last_accessed_day == D2
    assert out.versions[0].last_accessed_day == D1
    assert out.versions[1] is s.versions[1]  # D3 stays (never lowered), same object
    assert with_access(out, {"v1": D1}) is out
    raised = with_access(out, {"v2": "2026-12-09"})
    assert (raised.last_accessed_day, raised.versions[1].last_accessed_day) == (
        "2026-12-09",
        "2026-12-09",
    )


async def test_note_is_seen_at_once_and_flushed_in_one_go(store: SqliteStore, tmp_path) -> None:
    await _save(store, _secret("a", "a1", "a2"), _secret("b", "b1"))
    rec = AccessRecorder(store)
    a, b = _found(store, "a"), _found(store, "b")
    rec.note(a, a.versions[1], D1)
    rec.note(a, a.versions[1], D1)  # coalesced
    rec.note(b, b.versions[0], D1)
    assert rec.pending == 2
    # Visible right away through the overlay; storage not touched yet.
    seen = rec.view(a)
    assert seen.last_accessed_day == D1
    assert [v.last_accessed_day for v in seen.versions] == [None, D1]
    assert rec.view_all([a, b])[1].last_accessed_day == D1
    assert _found(store, "a").last_accessed_day is None
    assert set(_on_disk(tmp_path / "secrets.db").values()) == {None}

    await rec.flush()
    assert rec.pending == 0
    assert _found(store, "a").last_accessed_day == D1
    assert _on_disk(tmp_path / "secrets.db") == {
        (a.arn, "a1"): None,
        (a.arn, "a2"): D1,
        (b.arn, "b1"): D1,
    }
    # Already stored for that day: a read notes nothing more (no write per read).
    a = _found(store, "a")
    rec.note(a, a.versions[1], D1)
    assert rec.pending == 0
    await rec.flush()  # nothing pending: no transaction at all


async def test_flush_skips_secrets_gone_and_never_lowers(store: SqliteStore, tmp_path) -> None:
    await _save(store, _secret("gone", "g1"), _secret("kept", "k1"))
    rec = AccessRecorder(store)
    gone, kept = _found(store, "gone"), _found(store, "kept")
    rec.note(gone, gone.versions[0], D2)
    rec.note(kept, kept.versions[0], D1)
    async with store.transaction() as tx:
        await tx.delete(gone)
        # Meanwhile another write stored a later date for `kept`.
        await tx.save(with_access(kept, {"k1": D3}))
    await rec.flush()
    assert rec.pending == 0
    assert store.find("gone") is None
    assert _found(store, "kept").last_accessed_day == D3
    assert _on_disk(tmp_path / "secrets.db") == {(kept.arn, "k1"): D3}


async def test_failed_flush_is_logged_kept_and_retried(
    store: SqliteStore, tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    await _save(store, _secret("a", "a1"), _secret("b", "b1"))
    rec = AccessRecorder(store)
    a, b = _found(store, "a"), _found(store, "b")
    rec.note(a, a.versions[0], D1)
    rec.note(b, b.versions[0], D1)
    db = tmp_path / "secrets.db"
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        with caplog.at_level(logging.WARNING, logger="smgrpc.core"):
            await rec.flush()  # must not raise
        # All or nothing: neither secret was written, both notes are still pending and shown.
        assert rec.pending == 2
        assert rec.view(a).last_accessed_day == D1
        assert _found(store, "a").last_accessed_day is None
        # A read after the failure is noted as usual (a later day for a).
        rec.note(a, a.versions[0], D2)
    finally:
        other.execute("ROLLBACK")
        other.close()
    logged = [r.getMessage() for r in caplog.records]
    assert logged == [
        "could not record LastAccessedDate of 2 secrets (kept, retried): "
        "OperationalError SQLITE_BUSY"
    ]
    assert a.arn not in logged[0]
    await rec.flush()
    assert rec.pending == 0
    assert _on_disk(db) == {(a.arn, "a1"): D2, (b.arn, "b1"): D1}
