"""Fail-closed: a call whose record cannot be written is refused (UNAVAILABLE,
InternalServiceError "audit unavailable", RetryInfo) and has done nothing; the log recovers by
itself once it can be written again, and the chain goes on."""

from __future__ import annotations

import os
from pathlib import Path

import grpc
import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.api.errors import AUDIT_UNAVAILABLE
from smgrpc.app import Region
from smgrpc.config import ConfigError
from tests.audit.helpers import check, events, records
from tests.conftest import CANARY, admin_channel, aws_error, make_config, pb, running


def _refused(err: object) -> bool:
    return (
        getattr(err, "code", None) == grpc.StatusCode.UNAVAILABLE
        and getattr(err, "aws_code", None) == "InternalServiceError"
        and getattr(err, "reason", None) == "AUDIT_UNAVAILABLE"
        and getattr(err, "message", None) == AUDIT_UNAVAILABLE
    )


@pytest.mark.parametrize("sync", ["fsync", "write"])
@pytest.mark.parametrize("breakage", ["directory", "disk-full"])
async def test_an_unwritable_audit_log_refuses_calls_which_do_nothing(
    tmp_path: Path, breakage: str, sync: str
) -> None:
    """Both writers: the fsync thread and the loop's own writes (--audit-sync write)."""
    log = tmp_path / "audit.log"
    cfg = make_config(tmp_path, audit_log=log, audit_sync=sync)
    async with running(cfg) as region:
        async with admin_channel(region) as ch:
            stub = pbg.SecretsManagerStub(ch)
            await stub.CreateSecret(pb.CreateSecretRequest(name="before", secret_string="v"))
            before = records(log)
            # The file at the path goes away; what replaces it cannot be written.
            log.unlink()
            if breakage == "directory":
                log.mkdir()
            else:
                os.symlink("/dev/full", log)  # every write: ENOSPC
            create = stub.CreateSecret(pb.CreateSecretRequest(name="x", secret_string=CANARY))
            assert _refused(await aws_error(create))
            assert region.store.find("x") is None  # the refused call did nothing
            put = stub.PutSecretValue(
                pb.PutSecretValueRequest(secret_id="before", secret_string=CANARY)
            )
            assert _refused(await aws_error(put))
            read = stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="before"))
            assert _refused(await aws_error(read))  # no value leaves unrecorded
            s = region.store.find("before")
            assert s is not None and len(s.versions) == 1
            assert region.auditor is not None and region.auditor.writer.broken
            # Writable again: calls are served and recorded, the chain goes on.
            if breakage == "directory":
                log.rmdir()
            else:
                log.unlink()
            await stub.CreateSecret(pb.CreateSecretRequest(name="after", secret_string="v"))
            got = await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="before"))
            assert got.secret_string == "v"
    after = records(log)
    assert after[0]["recordType"] == "Checkpoint" and after[0]["reason"] == "reopen"
    assert after[0]["recordSeq"] == before[-1]["recordSeq"] + 1
    assert after[0]["prevHash"] == before[-1]["hash"]
    # The refused calls left no record (only "after" and the last read are in the new file,
    # and the outcome of CreateSecret(before) if it was still queued when the file vanished).
    seen = {(e["eventName"], (e["requestParameters"] or {}).get("Name")) for e in events(log)}
    assert seen - {("CreateSecret", "before")} == {
        ("CreateSecret", "after"),
        ("GetSecretValue", None),
    }
    assert all(r["recordType"] != "Request" or r["eventName"] == "CreateSecret" for r in after)
    assert CANARY.encode() not in log.read_bytes()
    # The old file is gone: verify says so, unless told it was removed on purpose.
    assert not check(log, cfg.data_dir).ok
    report = check(log, cfg.data_dir, allow_pruned=True)
    assert report.ok and report.first_seq == after[0]["recordSeq"]


async def test_an_audit_log_that_cannot_be_opened_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    region = Region(make_config(tmp_path, audit_log=tmp_path / "dir"))
    with pytest.raises(ConfigError, match="cannot write the audit log"):
        await region.start()
    region2 = Region(make_config(tmp_path, audit_log=Path("/dev/full")))
    with pytest.raises(ConfigError, match="cannot write the audit log"):
        await region2.start()
