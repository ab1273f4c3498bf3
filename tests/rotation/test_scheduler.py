"""The scheduler under trouble: a secret whose scheduled rotation can't start (its KMS key was
disabled) is held back on its own and never keeps the rotations due after it from starting."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.core.rotation import due_at
from tests.api.helpers import kms
from tests.api.test_kms import new_key
from tests.conftest import FakeClock, admin_channel, make_config, start_region
from tests.rotation.conftest import eventually
from tests.rotation.test_builtin import BUILTIN, rotated


async def test_a_secret_that_cannot_start_does_not_hold_back_the_others(
    tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="smgrpc.rotation")
    region = await start_region(make_config(tmp_path, rotation_poll_interval=0.05), clock)
    try:
        await new_key(region, "alias/a")
        async with admin_channel(region) as ch:
            stub = pbg.SecretsManagerStub(ch)
            for name, key, days in (("a", "alias/a", 1), ("b", None, 2)):
                await stub.CreateSecret(
                    pb.CreateSecretRequest(name=name, secret_string="v1", kms_key_id=key)
                )
                out = await stub.RotateSecret(
                    pb.RotateSecretRequest(
                        secret_id=name,
                        rotation_lambda_arn=BUILTIN,
                        rotation_rules=pb.RotationRulesType(automatically_after_days=days),
                    )
                )
                await rotated(stub, region, name, out.version_id)
            a, b = region.store.find("a"), region.store.find("b")
            assert a is not None and b is not None
            a_due, b_due = due_at(a.rotation), due_at(b.rotation)
            assert a_due is not None and b_due is not None and a_due < b_due  # a is first
            await kms(region, "disable-key", "alias/a")
            await eventually(
                lambda: _enabled(region, "alias/a"), lambda enabled: not enabled, within=5
            )
            before = len(b.versions)
            clock.advance(b_due - clock.now() + 60)
            region.scheduler.wake()

            async def b_versions() -> int:
                found = region.store.find("b")
                return len(found.versions) if found and found.rotating is None else 0

            await eventually(b_versions, lambda n: n > before)
            after = region.store.find("a")
            assert after is not None and after.rotating is None
            assert len(after.versions) == len(a.versions)  # nothing half-made for a
            assert f"scheduled rotation of {a.arn} could not start (EncryptionFailure)" in (
                caplog.text
            )
    finally:
        await region.stop(0.5)


async def _enabled(region: object, alias: str) -> bool:
    records = region.keyring.records()  # type: ignore[attr-defined]
    return any(r.alias == alias and r.enabled for r in records)
