"""A secret's resource policy replicates with the secret; replicas refuse to change it.

The same scenario runs over in-process Regions (fast) and over real `smgrpc serve` processes
(slow-marked). GetResourcePolicy answers on a replica (replication-security.md §E.1: AWS
replicates the policy; moto refuses the read), Put/DeleteResourcePolicy there answer the
replica InvalidParameterException.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import grpc
import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from tests.cluster.conftest import eventually, start_cluster, stop_cluster
from tests.cluster.procs import ProcCluster
from tests.conftest import aws_error

US, EU = "us-east-1", "eu-west-1"
REPLICA_MSG = (
    "Operation not permitted on a replica secret. Call must be made in primary secret's region."
)


def policy(user: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::123456789012:user/{user}"},
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": "*",
                }
            ],
        }
    )


async def policy_on(stub: Any, name: str) -> str | None:
    got = await stub.GetResourcePolicy(pb.GetResourcePolicyRequest(secret_id=name))
    return got.resource_policy if got.HasField("resource_policy") else None


async def shows(stub: Any, name: str, expected: str | None) -> bool:
    return await policy_on(stub, name) == expected


async def scenario(stubs: dict[str, Any]) -> None:
    us, eu = stubs[US], stubs[EU]
    # A policy put before replication travels in the first state the replica gets.
    await us.CreateSecret(pb.CreateSecretRequest(name="early", secret_string="v"))
    await us.PutResourcePolicy(
        pb.PutResourcePolicyRequest(secret_id="early", resource_policy=policy("early"))
    )
    await us.ReplicateSecretToRegions(
        pb.ReplicateSecretToRegionsRequest(
            secret_id="early", add_replica_regions=[pb.ReplicaRegionType(region=EU)]
        )
    )
    await eventually(lambda: shows(eu, "early", policy("early")), what="early policy on EU")

    made = await us.CreateSecret(
        pb.CreateSecretRequest(
            name="s", secret_string="v", add_replica_regions=[pb.ReplicaRegionType(region=EU)]
        )
    )
    await eventually(lambda: eu.DescribeSecret(pb.DescribeSecretRequest(secret_id="s")))
    assert await policy_on(eu, "s") is None
    await us.PutResourcePolicy(
        pb.PutResourcePolicyRequest(secret_id="s", resource_policy=policy("a"))
    )
    await eventually(lambda: shows(eu, "s", policy("a")), what="put reaches EU")
    got = await eu.GetResourcePolicy(pb.GetResourcePolicyRequest(secret_id="s"))
    assert got.arn == made.arn.replace(US, EU)  # the replica's own ARN

    for call in (
        eu.PutResourcePolicy(
            pb.PutResourcePolicyRequest(secret_id="s", resource_policy=policy("x"))
        ),
        eu.DeleteResourcePolicy(pb.DeleteResourcePolicyRequest(secret_id="s")),
    ):
        err = await aws_error(call)
        assert (err.code, err.aws_code, err.message) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "InvalidParameterException",
            REPLICA_MSG,
        )
    assert await policy_on(eu, "s") == policy("a")
    assert await policy_on(us, "s") == policy("a")

    await us.PutResourcePolicy(
        pb.PutResourcePolicyRequest(secret_id="s", resource_policy=policy("b"))
    )
    await eventually(lambda: shows(eu, "s", policy("b")), what="replacement reaches EU")
    await us.DeleteResourcePolicy(pb.DeleteResourcePolicyRequest(secret_id="s"))
    await eventually(lambda: shows(eu, "s", None), what="delete reaches EU")
    # Validate answers on the replica too (it changes nothing).
    out = await eu.ValidateResourcePolicy(
        pb.ValidateResourcePolicyRequest(secret_id="s", resource_policy=policy("c"))
    )
    assert out.policy_validation_passed and not out.validation_errors


async def test_policy_replicates_in_process(tmp_path: Path) -> None:
    c = await start_cluster(tmp_path, (US, EU))
    try:
        await scenario(c.stubs)
    finally:
        await stop_cluster(c)


@pytest.mark.slow
async def test_policy_replicates_between_processes(tmp_path: Path) -> None:
    c = ProcCluster(tmp_path, (US, EU))
    try:
        await c.start()
        await scenario(c.stubs)
    finally:
        await c.close()
