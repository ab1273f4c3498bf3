"""Client deadlines that cancel writes mid-flight never wedge the store or desync memory."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from tests.conftest import FakeClock, admin_channel, make_config, pb, start_region


async def _describe(stub: pbg.SecretsManagerStub) -> dict[str, list[str]]:
    d = await stub.DescribeSecret(pb.DescribeSecretRequest(secret_id="c"))
    return {k: sorted(v.stages) for k, v in d.version_ids_to_stages.items()}


async def test_cancelled_writes_leave_a_consistent_store(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    region = await start_region(cfg, clock=FakeClock())
    try:
        async with admin_channel(region) as ch:
            stub = pbg.SecretsManagerStub(ch)
            await stub.CreateSecret(pb.CreateSecretRequest(name="c", secret_string="0"))
            outcomes: dict[str, int] = {}

            async def put(i: int) -> None:
                try:
                    await stub.PutSecretValue(
                        pb.PutSecretValueRequest(secret_id="c", secret_string=str(i)),
                        timeout=0.0005 * (i % 8 + 1),
                    )
                    outcomes["ok"] = outcomes.get("ok", 0) + 1
                except grpc.aio.AioRpcError as exc:
                    outcomes[exc.code().name] = outcomes.get(exc.code().name, 0) + 1

            await asyncio.gather(*(put(i) for i in range(200)))
            assert outcomes.get("DEADLINE_EXCEEDED", 0) > 0, outcomes
            assert set(outcomes) <= {"ok", "DEADLINE_EXCEEDED"}, outcomes
            # The store still takes writes, and memory matches the database after a restart.
            await stub.PutSecretValue(pb.PutSecretValueRequest(secret_id="c", secret_string="end"))
            before = await _describe(stub)
            assert sum(1 for s in before.values() if "AWSCURRENT" in s) == 1
    finally:
        await region.stop(0.5)
    region = await start_region(cfg, clock=FakeClock())
    try:
        async with admin_channel(region) as ch:
            stub = pbg.SecretsManagerStub(ch)
            assert await _describe(stub) == before
            got = await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="c"))
            assert got.secret_string == "end"
    finally:
        await region.stop(0.5)
