"""Background events in the audit trail: rotation steps, purges at the end of the recovery
window, and changes a replica Region applied from its primary."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from pathlib import Path

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from tests.audit.helpers import check, events
from tests.cluster.conftest import converged, eventually, start_cluster, stop_cluster
from tests.conftest import CANARY, FakeClock, admin_channel, make_config, pb, running
from tests.rotation.conftest import lambda_arn

DAY = 86400


async def _until_event(log: Path, name: str, within: float = 20.0) -> list[dict[str, object]]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = events(log, name)  # the log exists from the start
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {name} event in {log}")


async def test_rotation_and_purge_are_recorded_as_service_events(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    clock = FakeClock()
    cfg = make_config(tmp_path, audit_log=log, rotation_poll_interval=0.05)
    async with running(cfg, clock) as region:
        async with admin_channel(region) as ch:
            stub = pbg.SecretsManagerStub(ch)
            made = await stub.CreateSecret(pb.CreateSecretRequest(name="r", secret_string=CANARY))
            await stub.RotateSecret(
                pb.RotateSecretRequest(
                    secret_id="r",
                    client_request_token=str(uuid.uuid4()),
                    rotation_lambda_arn=lambda_arn("smgrpc-builtin-password"),
                    rotation_rules=pb.RotationRulesType(automatically_after_days=7),
                )
            )
            done = await _until_event(log, "RotationSucceeded")
            await stub.DeleteSecret(
                pb.DeleteSecretRequest(secret_id="r", recovery_window_in_days=7)
            )
            clock.advance(8 * DAY)
            purged = await _until_event(log, "EndSecretDeletion")
    started = events(log, "RotationStarted")
    assert [e["resources"] for e in started + done + purged] == [
        [{"ARN": made.arn, "type": "AWS::SecretsManager::Secret"}]
    ] * 3
    for e in started + done + purged:
        assert e["eventType"] == "AwsServiceEvent"
        assert e["userIdentity"] == {
            "type": "AWSService",
            "invokedBy": "secretsmanager.amazonaws.com",
        }
    # The built-in rotator's own PutSecretValue / UpdateSecretVersionStage run in-process,
    # not through the API: the rotation's events are the record of them.
    assert CANARY.encode() not in log.read_bytes()
    assert check(log, cfg.data_dir).ok


async def test_a_replica_records_the_changes_it_applied(tmp_path: Path) -> None:
    us, eu = "us-east-1", "eu-west-1"
    c = await start_cluster(tmp_path, (us, eu))
    try:
        for name in (us, eu):  # restarted with an audit log each
            await c.stop_region(name)
            log_path = tmp_path / f"{name}.audit.log"
            c.configs[name] = dataclasses.replace(c.configs[name], audit_log=log_path)
            await c.start_region(name)
        made = await c.stubs[us].CreateSecret(
            pb.CreateSecretRequest(
                name="rep",
                secret_string=CANARY,
                add_replica_regions=[pb.ReplicaRegionType(region=eu)],
            )
        )
        await eventually(lambda: converged(c, "rep", (us, eu)))
        eu_log = tmp_path / f"{eu}.audit.log"
        got = await _until_event(eu_log, "ReplicationSucceeded")
        await c.stubs[us].RemoveRegionsFromReplication(
            pb.RemoveRegionsFromReplicationRequest(secret_id="rep", remove_replica_regions=[eu])
        )
        # The primary stops replicating to eu-west-1: its replica is removed there.
        deadline = time.monotonic() + 20
        while len(events(eu_log, "ReplicationSucceeded")) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    finally:
        await stop_cluster(c)
    replica_arn = made.arn.replace(us, eu)
    changes = [
        (e["resources"][0]["ARN"], e["additionalEventData"]["change"])  # type: ignore[index]
        for e in events(eu_log, "ReplicationSucceeded")
    ]
    assert changes == [(replica_arn, "applied"), (replica_arn, "removed")]
    assert got[0]["additionalEventData"]["sourceRegion"] == us  # type: ignore[index]
    assert events(tmp_path / f"{us}.audit.log", "CreateSecret")[0]["resources"][0]["ARN"] == (
        made.arn
    )
    for name in (us, eu):
        log_path = tmp_path / f"{name}.audit.log"
        assert CANARY.encode() not in log_path.read_bytes()
        assert check(log_path, c.configs[name].data_dir).ok
