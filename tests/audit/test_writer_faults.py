"""The writer's edges: the signed head follows a burst even when traffic stops; rotation
never replaces a rotated file; records nobody waits for are bounded and every loss counted."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from smgrpc.audit import chain
from smgrpc.audit.logfile import HEAD_EVERY
from smgrpc.audit.writer import HEAD_FILE, AuditError, AuditWriter
from smgrpc.crypto.audit_key import load_signer
from tests.audit.helpers import check


def _writer(tmp_path: Path, sync: str, start: bool = True, **kw: object) -> AuditWriter:
    w = AuditWriter(
        tmp_path / "audit.log",
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
