"""Group commit (audit/writer.py): records are written in groups, one write (and, with fsync,
one fdatasync) per group; a group that cannot be written refuses every call waiting in it;
the file's identity is checked once per group, so a file replaced between two groups is never
written into; a group at concurrency 1 is written at once, under concurrent load it waits a
little for more."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.audit import chain
from smgrpc.audit.logfile import LogFile
from smgrpc.audit.writer import HEAD_FILE, AuditError, AuditWriter
from smgrpc.crypto.audit_key import load_signer
from tests.audit.helpers import check, events, records
from tests.conftest import admin_channel, make_config, pb, running


def _writer(tmp_path: Path, sync: str, **kw: object) -> AuditWriter:
    w = AuditWriter(
        tmp_path / "audit.log",
        load_signer(tmp_path),
        "us-east-1",
        sync=sync,
        head=tmp_path / HEAD_FILE,
        **kw,  # type: ignore[arg-type]
    )
    w.open()
    w.start(asyncio.get_running_loop())
    return w


def _rec(n: int) -> bytes:
    return chain.body({"recordType": "Event", "eventName": f"Test{n}"})


def _names(path: Path) -> list[str]:
    return [r["eventName"] for r in records(path) if r["recordType"] == "Event"]


@pytest.mark.parametrize("sync", ["fsync", "write"])
async def test_a_failed_group_refuses_every_call_in_it_and_records_none(
    tmp_path: Path, sync: str
) -> None:
    w = _writer(tmp_path, sync)
    log = tmp_path / "audit.log"

    def swap() -> None:
        log.unlink()
        os.symlink("/dev/full", log)  # the next group's write: ENOSPC

    ok = w.submit(_rec(0), wait=True)  # fsync: written, now being synced...
    if sync == "write":  # (written at once, each its own group)
        swap()
    futs = [w.submit(_rec(n), wait=True) for n in (1, 2, 3)]  # ...so these are one group
    w.submit(_rec(4), wait=False)  # nobody waits for it: kept, written once the log works
    if sync == "fsync":
        swap()
    assert ok is not None
    if sync == "fsync":
        await asyncio.wait_for(ok, 5)  # written before the file went: recorded
    for fut in futs:
        assert fut is not None
        with pytest.raises(AuditError):
            await asyncio.wait_for(fut, 5)
    assert w.broken
    if sync == "fsync":
        assert w.failures == 1  # one group, three calls refused
    log.unlink()
    fut = w.submit(_rec(5), wait=True)
    assert fut is not None
    await asyncio.wait_for(fut, 5)
    assert not w.broken
    await w.aclose()
    # The new file continues the chain: the carried record, then the next group; none of
    # the refused ones.
    assert _names(log) == ["Test4", "Test5"]
    assert records(log)[0]["reason"] == "reopen"
    assert all(n not in _names(log) for n in ("Test1", "Test2", "Test3"))


@pytest.mark.parametrize("sync", ["fsync", "write"])
async def test_a_file_renamed_away_between_two_groups_is_not_written_into(
    tmp_path: Path, sync: str
) -> None:
    """logrotate's way (rename, then a new file at PATH): the next group goes to PATH."""
    cfg = make_config(tmp_path, audit_log=tmp_path / "audit.log", audit_sync=sync)
    log = cfg.audit_log
    assert log is not None
    async with running(cfg) as region:
        async with admin_channel(region) as ch:
            stub = pbg.SecretsManagerStub(ch)
            await stub.CreateSecret(pb.CreateSecretRequest(name="s", secret_string="v"))
            await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="s"))
            moved = tmp_path / "moved.log"
            log.rename(moved)
            log.write_bytes(b"")  # a new, empty file at PATH (logrotate's `create`)
            await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="s"))
            await stub.DescribeSecret(pb.DescribeSecretRequest(secret_id="s"))
    before, after = records(moved), records(log)
    assert [e["eventName"] for e in events(log)][-2:] == ["GetSecretValue", "DescribeSecret"]
    assert after[0]["reason"] == "reopen" and after[0]["prevHash"] == before[-1]["hash"]
    assert "DescribeSecret" not in [e["eventName"] for e in events(moved)]
    # PATH alone no longer holds records 1..n (they are in the moved file, which verify does
    # not know of): refused unless the operator says older records were moved on purpose.
    assert not check(log, cfg.data_dir).ok
    kept = check(log, cfg.data_dir, allow_pruned=True)
    assert kept.ok and kept.pruned == before[-1]["recordSeq"], kept


async def test_concurrent_reads_share_groups(tmp_path: Path) -> None:
    """With fsync, concurrent reads are recorded in fewer groups (fdatasyncs) than calls."""
    cfg = make_config(tmp_path, audit_log=tmp_path / "audit.log")
    async with running(cfg) as region:
        async with admin_channel(region) as ch:
            stub = pbg.SecretsManagerStub(ch)
            await stub.CreateSecret(pb.CreateSecretRequest(name="s", secret_string="v"))
            assert region.auditor is not None
            w = region.auditor.writer
            groups, written = w.groups, w.written
            got = await asyncio.gather(
                *(stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="s")) for _ in range(40))
            )
            assert all(g.secret_string == "v" for g in got)
            # Every read's record was written before its response (40 events more)...
            assert w.written - written >= 40
            assert len(events(cfg.audit_log, "GetSecretValue")) == 40  # type: ignore[arg-type]
            # ...in far fewer groups than calls.
            assert w.groups - groups < 30
    assert check(cfg.audit_log, cfg.data_dir).ok  # type: ignore[arg-type]


async def test_a_lone_call_is_written_at_once_a_concurrent_one_waits_a_little(
    tmp_path: Path,
) -> None:
    w = _writer(tmp_path, "fsync", delay=0.2)
    loop = asyncio.get_running_loop()
    size = w.file.size
    fut = w.submit(_rec(1), wait=True)  # one caller so far: written now (concurrency 1)
    assert w.file.size > size and w.groups == 0  # written, being synced
    assert fut is not None
    await asyncio.wait_for(fut, 5)
    assert w.groups == 1
    # Three callers at once: the first is written at once (nobody else had been seen), the
    # two others arrive while it syncs; then they wait for a third (three were seen waiting)
    # and all go in one group as soon as it comes.
    burst = [w.submit(_rec(n), wait=True) for n in (2, 3, 4)]
    await asyncio.wait_for(burst[0], 5)  # type: ignore[arg-type]
    size = w.file.size
    await asyncio.sleep(0.02)
    assert w.file.size == size and w.groups == 2  # waiting for more
    third = w.submit(_rec(5), wait=True)
    assert w.file.size > size  # the group is complete: written at once
    await asyncio.wait_for(asyncio.gather(*burst[1:], third), 5)
    assert w.groups == 3
    # With nothing else coming, a waiting group still goes out after the delay.
    at = loop.time()
    lone = w.submit(_rec(6), wait=True)
    await asyncio.wait_for(lone, 5)  # type: ignore[arg-type]
    assert loop.time() - at >= 0.15
    await w.aclose()
    assert _names(tmp_path / "audit.log") == [f"Test{n}" for n in range(1, 7)]
    assert check(tmp_path / "audit.log", tmp_path).ok


def test_a_rolled_back_group_leaves_no_trace_and_the_chain_goes_on(tmp_path: Path) -> None:
    """What a failed fdatasync does: the group is cut off the file, the chain rewound."""
    f = LogFile(
        tmp_path / "audit.log",
        load_signer(tmp_path),
        "us-east-1",
        max_bytes=1 << 20,
        durable=True,
        head=tmp_path / HEAD_FILE,
    )
    f.open()
    f.append([_rec(1)])
    mark = f.mark()
    f.append([_rec(2), _rec(3)])
    f.rollback(mark)
    assert (tmp_path / "audit.log").stat().st_size == mark[0]
    f.append([_rec(4)])
    f.close(clean=True)
    assert _names(tmp_path / "audit.log") == ["Test1", "Test4"]
    assert check(tmp_path / "audit.log", tmp_path).ok
