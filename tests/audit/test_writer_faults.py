"""The writer's edges: the signed head follows a burst even when traffic stops; rotation
never replaces a rotated file; records nobody waits for are bounded and every loss counted."""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter
from pathlib import Path

import pytest

from smgrpc.audit import chain
from smgrpc.audit.logfile import HEAD_EVERY
from smgrpc.audit.verify import files_of
from smgrpc.audit.writer import HEAD_FILE, AuditError, AuditWriter
from smgrpc.crypto.audit_key import load_signer
from tests.audit.helpers import check, records


def _writer(
    tmp_path: Path, sync: str, start: bool = True, log: Path | None = None, **kw: object
) -> AuditWriter:
    w = AuditWriter(
        log or tmp_path / "audit.log",
        load_signer(tmp_path),
        "us-east-1",
        sync=sync,
        head=tmp_path / HEAD_FILE,
        **kw,  # type: ignore[arg-type]
    )
    w.open()
    if start:
        w.start(asyncio.get_running_loop())
    return w


def _rec(n: int) -> bytes:
    return chain.body({"recordType": "Event", "eventName": f"GetSecretValue{n}"})


def _head_seq(tmp_path: Path) -> int:
    return int(json.loads((tmp_path / HEAD_FILE).read_bytes())["recordSeq"])


@pytest.mark.parametrize("sync", ["fsync", "write"])
async def test_the_head_follows_a_burst_once_traffic_stops(tmp_path: Path, sync: str) -> None:
    """A short burst, then silence: within ~HEAD_EVERY the head names the burst's last
    record, so cutting the burst off the end fails verify and a restart refuses the log."""
    w = _writer(tmp_path, sync)
    log = tmp_path / "audit.log"
    for n in range(3):
        fut = w.submit(_rec(n), wait=True)
        assert fut is not None
        await asyncio.wait_for(fut, 5)
    assert w.file.seq == 4  # the open checkpoint and the burst
    await asyncio.sleep(HEAD_EVERY + 0.5)  # idle: nothing else is written
    assert _head_seq(tmp_path) == 4
    # Cut the burst off the end (the server still runs, never closed).
    first = log.read_bytes().splitlines(keepends=True)[0]
    log.write_bytes(first)
    report = check(log, tmp_path)
    assert not report.ok and "cut off the end" in report.reason
    with pytest.raises(AuditError, match="records were removed"):
        _writer(tmp_path, sync, start=False)
    await w.aclose()


async def _write(w: AuditWriter, numbers: range) -> None:
    for n in numbers:  # one group each
        fut = w.submit(_rec(n), wait=True)
        assert fut is not None
        await asyncio.wait_for(fut, 5)


def _events(log: Path) -> Counter[str]:
    return Counter(
        r["eventName"] for f in files_of(log) for r in records(f) if r["recordType"] == "Event"
    )


async def test_rotation_never_replaces_a_file_already_there(tmp_path: Path) -> None:
    """logrotate renamed audit.log to audit.log.1 (the writer goes on in a new file at PATH):
    the writer's own rotation then goes to audit.log.2, not over audit.log.1."""
    w = _writer(tmp_path, "fsync", max_bytes=4096)
    log = tmp_path / "audit.log"
    await _write(w, range(3))
    moved = tmp_path / "audit.log.1"
    log.rename(moved)
    log.write_bytes(b"")
    kept = moved.read_bytes()
    await _write(w, range(3, 40))  # ~9 KB: rotated twice
    await w.aclose()
    assert moved.read_bytes() == kept
    assert [p.name for p in files_of(log)] == [f"audit.log.{n}" for n in (1, 2, 3)] + ["audit.log"]
    assert records(tmp_path / "audit.log.2")[-1]["reason"] == "rotate"
    assert _events(log) == Counter(f"GetSecretValue{n}" for n in range(40))  # each once


async def _chattr(flag: str, path: Path) -> int:
    """chattr FLAG PATH (an immutable directory: nothing in it can be renamed or created)."""
    quiet = asyncio.subprocess.DEVNULL
    try:
        proc = await asyncio.create_subprocess_exec(
            "chattr", flag, str(path), stdout=quiet, stderr=quiet
        )
    except FileNotFoundError:
        return 127
    return await proc.wait()


async def test_a_failed_rotation_keeps_the_file_and_is_not_retried_every_group(
    tmp_path: Path,
) -> None:
    """The rename fails (an immutable directory): the active file stays open and in use, no
    record is lost or written twice, and the next try is ROTATE_RETRY later, not per group."""
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "audit.log"
    w = _writer(tmp_path, "fsync", log=log, max_bytes=2048)
    if await _chattr("+i", logs):
        await w.aclose()
        pytest.skip("chattr +i is not permitted here")
    try:
        await _write(w, range(30))  # ~6.6 KB: every group after the 9th finds rotation due
    finally:
        assert await _chattr("-i", logs) == 0
    await w.aclose()
    assert files_of(log) == [log]
    reasons = [r["reason"] for r in records(log) if r["recordType"] == "Checkpoint"]
    assert reasons == ["open", "rotate", "close"]
    assert _events(log) == Counter(f"GetSecretValue{n}" for n in range(30))
    assert check(log, tmp_path).ok


async def test_records_nobody_waits_for_are_bounded_and_their_loss_counted(
    tmp_path: Path,
) -> None:
    """While a group syncs (the thread holds the file), a flood of queued records stops at
    max_queue: the rest are counted in `dropped`, the log is broken (calls that wait are
    refused) until the next group is written."""
    w = _writer(tmp_path, "fsync", max_queue=5)
    first = w.submit(_rec(0), wait=True)  # written, now syncing in the thread
    for n in range(1, 11):  # nothing runs on the loop meanwhile: the sync cannot hand back
        assert w.submit(_rec(n), wait=False) is None
    assert w.dropped == 5 and w.broken
    with pytest.raises(AuditError, match="queue is full"):
        w.submit(_rec(99), wait=True)
    assert first is not None
    await asyncio.wait_for(first, 5)
    await _write(w, range(11, 12))  # after the queued five: the log works again
    assert not w.broken
    await w.aclose()
    assert w.dropped == 5
    assert _events(tmp_path / "audit.log") == Counter(
        f"GetSecretValue{n}" for n in (0, 1, 2, 3, 4, 5, 11)
    )


async def test_records_still_carried_at_close_are_counted_as_dropped(tmp_path: Path) -> None:
    w = _writer(tmp_path, "fsync")
    log = tmp_path / "audit.log"
    log.unlink()
    os.symlink("/dev/full", log)  # every write: ENOSPC
    for n in range(3):
        w.submit(_rec(n), wait=False)
    for _ in range(100):
        await asyncio.sleep(0.01)
        if w.failures:
            break
    assert w.broken and w.dropped == 0  # carried, to be written once the log works
    await w.aclose()
    assert w.dropped == 3
