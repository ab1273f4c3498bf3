"""Calls refused before anything is checked are audited too (CloudTrail records
ThrottlingException): throttled, shutting down, or their deadline passed while they waited
(L1). Their Event names no one (userIdentity Unknown) and no parameters: they did nothing."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import grpc
import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.api.handlers import wrap
from tests.audit.helpers import check, events
from tests.conftest import admin_channel, aws_error, make_config, pb, running


def _refusal(e: dict[str, Any], name: str, code: str) -> bool:
    return (
        e["eventName"] == name
        and e.get("errorCode") == code
        and e["userIdentity"] == {"type": "Unknown"}
        and e["requestParameters"] is None
        and e["sourceIPAddress"] == "127.0.0.1"
        and e["resources"] == []
    )


async def test_throttled_and_shutting_down_calls_leave_an_event(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    cfg = make_config(tmp_path, audit_log=log, max_inflight=1)
    async with running(cfg) as region, admin_channel(region) as ch:
        stub = pbg.SecretsManagerStub(ch)
        # One call in flight (its commit waits for another connection's database lock).
        other = sqlite3.connect(cfg.data_dir / "secrets.db", isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            held = asyncio.ensure_future(
                stub.CreateSecret(pb.CreateSecretRequest(name="s", secret_string="v"))
            )
            for _ in range(500):
                if region.gate.inflight:
                    break
                await asyncio.sleep(0.01)
            err = await aws_error(stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="s")))
            assert err.aws_code == "ThrottlingException"
        finally:
            other.execute("ROLLBACK")
            other.close()
        await held
        region.gate.close()  # what SIGTERM does first
        err = await aws_error(stub.ListSecrets(pb.ListSecretsRequest()))
        assert err.aws_code == "ServiceUnavailable"
    got = events(log)
    throttled = [e for e in got if _refusal(e, "GetSecretValue", "ThrottlingException")]
    assert len(throttled) == 1 and throttled[0]["errorMessage"] == "Rate exceeded"
    draining = [e for e in got if _refusal(e, "ListSecrets", "ServiceUnavailable")]
    assert len(draining) == 1
    # CreateSecret's Event is queued when it ends, after the refusal it overlapped.
    assert [e["eventName"] for e in got] == ["GetSecretValue", "CreateSecret", "ListSecrets"]
    assert check(log, cfg.data_dir).ok


class _Expired:
    """grpc's ServicerContext of a call that waited in grpc's queue past its deadline: a real
    server only gets there under load (grpc drops a call whose deadline passed before it is
    dispatched), so this one call is driven through the wrapper directly."""

    def __init__(self) -> None:
        self.aborted: tuple[grpc.StatusCode, str] | None = None

    def peer(self) -> str:
        return "ipv4:127.0.0.1:40000"

    def time_remaining(self) -> float:
        return 0.0

    async def abort(self, code: grpc.StatusCode, details: str) -> None:
        self.aborted = (code, details)
        raise grpc.aio.AbortError()

    async def abort_with_status(self, status: grpc.Status) -> None:
        await self.abort(status.code, status.details)


async def test_a_call_whose_deadline_passed_in_the_queue_leaves_an_event(
    tmp_path: Path,
) -> None:
    log = tmp_path / "audit.log"
    cfg = make_config(tmp_path, audit_log=log)
    async with running(cfg) as region:
        assert region.auditor is not None
        audit = region.auditor.service("smgrpc.secretsmanager.v1.SecretsManager")
        ran: list[object] = []

        async def behavior(request: object, context: object) -> object:
            ran.append(request)
            return pb.ListSecretsResponse()

        handler = wrap("ListSecrets", behavior, audit=audit)
        context = _Expired()
        with pytest.raises(grpc.aio.AbortError):
            await handler(pb.ListSecretsRequest(), context)  # type: ignore[arg-type]
        assert ran == [] and context.aborted is not None
        assert context.aborted[0] == grpc.StatusCode.DEADLINE_EXCEEDED
    expired = [e for e in events(log) if _refusal(e, "ListSecrets", "DEADLINE_EXCEEDED")]
    assert len(expired) == 1, events(log)
    assert expired[0]["errorMessage"] == "The deadline passed before the call started."
