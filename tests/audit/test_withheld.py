"""Vault's rule for every response that carries secret material, not only reads: it leaves only
once its Event is written. CreateAccessKey's SecretAccessKey is the mutating case: a call whose
Event cannot be written after its handler ran is refused and returns no secret (M4)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from smgrpc._pb.iam.v1 import iam_pb2 as ipb
from smgrpc._pb.iam.v1 import iam_pb2_grpc as ipbg
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as smpb
from smgrpc.api.audit_records import withheld_methods
from tests.audit.helpers import records
from tests.audit.test_fail_closed import _refused
from tests.conftest import admin_channel, aws_error, make_config, running


def test_the_withheld_methods_come_from_the_descriptors() -> None:
    sm = smpb.DESCRIPTOR.services_by_name["SecretsManager"]
    iam = ipb.DESCRIPTOR.services_by_name["IAM"]
    assert withheld_methods(sm) == {"GetSecretValue", "BatchGetSecretValue", "GetRandomPassword"}
    assert withheld_methods(iam) == {"CreateAccessKey"}


async def _request_written(log: Path, method: str) -> None:
    """Until the call's Request record is in the file (its handler runs next)."""
    for _ in range(500):
        if any(
            r.get("recordType") == "Request" and r.get("eventName") == method for r in records(log)
        ):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"no Request record of {method}")


@pytest.mark.parametrize("sync", ["fsync", "write"])
async def test_create_access_key_is_refused_without_its_secret_if_its_event_cannot_be_written(
    tmp_path: Path, sync: str
) -> None:
    log = tmp_path / "audit.log"
    cfg = make_config(tmp_path, audit_log=log, audit_sync=sync)
    async with running(cfg) as region, admin_channel(region) as ch:
        stub = ipbg.IAMStub(ch)
        await stub.CreateUser(ipb.CreateUserRequest(user_name="u1"))
        # Another connection holds the database's write lock: the handler's commit waits for
        # it (busy_timeout), after the Request record is written and before the Event is.
        other = sqlite3.connect(cfg.data_dir / "secrets.db", isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            call = asyncio.ensure_future(
                aws_error(stub.CreateAccessKey(ipb.CreateAccessKeyRequest(user_name="u1")))
            )
            await _request_written(log, "CreateAccessKey")
            log.unlink()  # the tests' failure injection: what is at the path is unwritable
            log.mkdir()
        finally:
            other.execute("ROLLBACK")
            other.close()
        err = await call
        assert _refused(err), err  # no response at all: no SecretAccessKey left the server
        # The key was made (its Request record says a CreateAccessKey ran); nobody has its
        # secret. Once the log works again it is visible and can be deleted.
        log.rmdir()
        keys = await stub.ListAccessKeys(ipb.ListAccessKeysRequest(user_name="u1"))
        assert len(keys.access_key_metadata) == 1
