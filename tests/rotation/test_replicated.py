"""Rotation of a replicated secret: only the primary rotates, the rotated versions replicate,
RotateSecret on a replica is refused, and a promoted replica picks up (abandons) a run."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from tests.authn import channel as authed_channel
from tests.cluster.conftest import Cluster, converged, start_cluster, stop_cluster
from tests.cluster.conftest import eventually as until
from tests.conftest import CANARY, aws_error
from tests.rotation.conftest import (
    FUNCTION,
    FunctionProcess,
    describe,
    holder,
    lambda_arn,
    rotator_token,
    value,
)

US, EU = "us-east-1", "eu-west-1"


@pytest.fixture
async def pair(tmp_path: Path, function: FunctionProcess) -> AsyncIterator[Cluster]:
    c = await start_cluster(
        tmp_path,
        (US, EU),
        rotation_poll_interval=0.05,
        rotation_step_timeout=30.0,
        rotation_functions=((FUNCTION, function.addr),),
    )
    try:
        yield c
    finally:
        await stop_cluster(c)


async def replicated(c: Cluster, name: str) -> None:
    await c.stubs[US].CreateSecret(
        pb.CreateSecretRequest(
            name=name, secret_string=CANARY, add_replica_regions=[pb.ReplicaRegionType(region=EU)]
        )
    )
    await until(lambda: converged(c, name, (US, EU)))


async def test_the_rotated_version_reaches_the_replica_which_refuses_rotate(pair: Cluster) -> None:
    us, eu = pair.stubs[US], pair.stubs[EU]
    await replicated(pair, "r")
    out = await us.RotateSecret(
        pb.RotateSecretRequest(
            secret_id="r",
            client_request_token=str(uuid.uuid4()),
            rotation_lambda_arn=lambda_arn("smgrpc-builtin-password", US),
            rotation_rules=pb.RotationRulesType(automatically_after_days=10),
        )
    )

    async def rotated_everywhere() -> bool:
        return holder(await describe(eu, "r"), "AWSCURRENT") == out.version_id and await converged(
            pair, "r", (US, EU)
        )

    await until(rotated_everywhere)
    assert await value(eu, "r") == await value(us, "r") != CANARY
    assert await value(eu, "r", "AWSPREVIOUS") == CANARY
    err = await aws_error(
        eu.RotateSecret(
            pb.RotateSecretRequest(
                secret_id="r",
                client_request_token=str(uuid.uuid4()),
                rotation_lambda_arn=lambda_arn("smgrpc-builtin-password", EU),
            )
        )
    )
    assert err.aws_code == "InvalidParameterException"
    assert "replica" in err.message
    assert pair.regions[EU].scheduler.running == frozenset()


async def test_a_promoted_replica_abandons_the_run_of_another_regions_function(
    pair: Cluster, function: FunctionProcess
) -> None:
    us, eu = pair.stubs[US], pair.stubs[EU]
    await replicated(pair, "p")
    token = await rotator_token(pair.channels[0])
    function.connect(f"127.0.0.1:{pair.regions[US].port}", token)
    function.control({"hang": ["setSecret"]})
    out = await us.RotateSecret(
        pb.RotateSecretRequest(
            secret_id="p",
            client_request_token=str(uuid.uuid4()),
            rotation_lambda_arn=lambda_arn(FUNCTION, US),
            rotation_rules=pb.RotationRulesType(automatically_after_days=10),
        )
    )

    async def pending_on_replica() -> bool:
        d = await describe(eu, "p")
        return "setSecret" in function.steps() and holder(d, "AWSPENDING") == out.version_id

    await until(pending_on_replica)
    async with authed_channel(f"127.0.0.1:{pair.regions[EU].port}", token) as ch:
        await until(lambda: describe(pbg.SecretsManagerStub(ch), "p"))  # its user reached EU
    assert pair.regions[EU].scheduler.running == frozenset()  # a replica never rotates
    pair.isolate(US)
    await eu.StopReplicationToReplica(pb.StopReplicationToReplicaRequest(secret_id="p"))

    # Promoted, eu-west-1 finds the run; its function is us-east-1's (a Lambda ARN names its
    # Region), which eu-west-1 cannot invoke: the run is abandoned cleanly there.
    async def abandoned_in_eu() -> bool:
        d = await describe(eu, "p")
        s = pair.regions[EU].store.find(d.arn)
        return holder(d, "AWSPENDING") is None and s is not None and s.rotating is None

    await until(abandoned_in_eu)
    d = await describe(eu, "p")
    assert holder(d, "AWSCURRENT") != out.version_id
    assert await value(eu, "p") == CANARY
    assert function.steps().count("setSecret") == 1  # eu-west-1 never invoked it
    pair.heal()
