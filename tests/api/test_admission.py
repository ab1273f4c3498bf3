"""Overload is a deliberate answer: admission control refuses with RetryInfo, never CANCELLED."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from tests.api.helpers import ARN_PREFIX, versions
from tests.conftest import CANARY, FakeClock, admin_channel, make_config, pb, start_region


async def _outcome(call: object) -> tuple[str, bool]:
    try:
        await call  # type: ignore[misc]
        return "OK", False
    except grpc.aio.AioRpcError as exc:
        status = rpc_status.from_call(exc)  # type: ignore[arg-type]
        retry = status is not None and any(
            d.Is(error_details_pb2.RetryInfo.DESCRIPTOR) for d in status.details
        )
        return exc.code().name, retry


async def test_writes_beyond_the_inflight_limit_are_refused_retryably(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, max_inflight=8)  # a tiny limit so a modest burst exceeds it
    region = await start_region(cfg, clock=FakeClock())
    try:
        async with admin_channel(region) as ch:
            stub = pbg.SecretsManagerStub(ch)
            await stub.CreateSecret(pb.CreateSecretRequest(name="hot", secret_string="0"))
            calls = [
                stub.PutSecretValue(pb.PutSecretValueRequest(secret_id="hot", secret_string=str(i)))
                for i in range(200)
            ]
            outcomes = await asyncio.gather(*(_outcome(c) for c in calls))
            codes = {code for code, _ in outcomes}
            assert codes <= {"OK", "RESOURCE_EXHAUSTED"}, codes
            refused = [retry for code, retry in outcomes if code == "RESOURCE_EXHAUSTED"]
            assert refused and all(refused), "every refusal carries RetryInfo"
            ok = sum(1 for code, _ in outcomes if code == "OK")
            # Nothing half-done: exactly the accepted writes exist (plus the initial version).
            assert len(await versions(stub, "hot", deprecated=True)) == ok + 1
            assert region.gate.refused == len(refused)
    finally:
        await region.stop(0.5)


async def test_access_log_has_one_line_per_call(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.INFO, logger="smgrpc.access")
    region = await start_region(make_config(tmp_path), clock=FakeClock())
    try:
        async with admin_channel(region) as ch:
            stub = pbg.SecretsManagerStub(ch)
            made = await stub.CreateSecret(
                pb.CreateSecretRequest(name="logged", secret_string=CANARY)
            )
            await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="logged"))
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="nope"))
            forged = f"{ARN_PREFIX}x\n2026-12-01 00:00:00,000 INFO smgrpc.access: DeleteSecret OK"
            with pytest.raises(grpc.aio.AioRpcError):
                await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id=forged))
    finally:
        await region.stop(0.5)
    err = capsys.readouterr().err
    assert "DeleteSecret OK" not in err  # a client's SecretId never forges a log line
    lines = [ln for ln in err.splitlines() if " smgrpc.access: " in ln][:3]
    assert [ln.split(": ", 1)[1].split()[:3] for ln in lines] == [
        ["CreateSecret", "OK", "-"],
        ["GetSecretValue", "OK", "-"],
        ["GetSecretValue", "NOT_FOUND", "ResourceNotFoundException"],
    ]
    assert f"arn={made.arn} " in lines[1]
    # The request id a client sees in its error is the one in the log line.
    status = rpc_status.from_call(info.value)  # type: ignore[arg-type]
    assert status is not None
    rid = error_details_pb2.RequestInfo()
    for d in status.details:
        if d.Is(error_details_pb2.RequestInfo.DESCRIPTOR):
            d.Unpack(rid)
    assert lines[2].endswith(f"request_id={rid.request_id}")
    assert all(" peer=ipv" in ln and "ms arn=" in ln for ln in lines)
    assert CANARY not in "\n".join(lines)


async def test_a_burst_beyond_grpc_cores_pending_limit_is_never_cancelled(tmp_path: Path) -> None:
    """grpc core alone cancels (no details) calls it holds beyond ~1000 not yet taken."""
    region = await start_region(make_config(tmp_path), clock=FakeClock())
    channels = [admin_channel(region) for _ in range(40)]
    try:
        stubs = [pbg.SecretsManagerStub(ch) for ch in channels]
        await stubs[0].CreateSecret(pb.CreateSecretRequest(name="burst", secret_string="x"))
        req = pb.GetSecretValueRequest(secret_id="burst")
        outcomes = await asyncio.gather(
            *(_outcome(s.GetSecretValue(req, timeout=60)) for s in stubs for _ in range(100))
        )
        codes = {code for code, _ in outcomes}
        assert "CANCELLED" not in codes, codes
        assert codes <= {"OK", "RESOURCE_EXHAUSTED"}, codes
    finally:
        for ch in channels:
            await ch.close()
        await region.stop(0.5)


async def test_access_log_in_json(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.INFO, logger="smgrpc.access")
    region = await start_region(make_config(tmp_path, log_format="json"), clock=FakeClock())
    try:
        async with admin_channel(region) as ch:
            stub = pbg.SecretsManagerStub(ch)
            with pytest.raises(grpc.aio.AioRpcError):
                await stub.DescribeSecret(pb.DescribeSecretRequest(secret_id="nope"))
    finally:
        await region.stop(0.5)
    lines = [ln for ln in capsys.readouterr().err.splitlines() if '"smgrpc.access"' in ln]
    assert len(lines) == 1
    rec = json.loads(lines[0])
    assert rec["logger"] == "smgrpc.access" and rec["level"] == "INFO"
    assert (rec["method"], rec["status"], rec["aws_code"]) == (
        "DescribeSecret",
        "NOT_FOUND",
        "ResourceNotFoundException",
    )
    assert rec["duration_ms"] >= 0 and rec["request_id"] and rec["peer"].startswith("ipv")
