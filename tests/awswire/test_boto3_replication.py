"""The three multi-Region operations through boto3, against two real Regions.

us-east-1 (the IAM Region) and eu-west-1 are `smgrpc serve --aws-listen` processes linked as
peers; boto3 talks to each Region's own AWS listener, signing for that Region with the one
admin key (IAM replicates to eu-west-1). ReplicateSecretToRegions / CreateSecret
AddReplicaRegions, reading the replica in eu-west-1, RemoveRegionsFromReplication and
StopReplicationToReplica, with AWS's answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.awswire.conftest import AwsRegion, start_region
from tests.awswire.raw import eventually
from tests.cluster.conftest import write_cluster_secret
from tests.harness import free_port

REPLICA_READ_ONLY = (
    "Operation not permitted on a replica secret. Call must be made in primary secret's region."
)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AwsRegion, AwsRegion]]:
    home = tmp_path_factory.mktemp("pair")
    secret = write_cluster_secret(home / "cluster.secret")
    us_port, eu_port = free_port(), free_port()
    common = ["--cluster-secret-file", str(secret), "--iam-region", "us-east-1"]
    (home / "us").mkdir()
    (home / "eu").mkdir()
    us = start_region(home / "us", *common, "--peer", f"eu-west-1=127.0.0.1:{eu_port}",
                      port=us_port)  # fmt: skip
    try:
        eu = start_region(home / "eu", *common, "--peer", f"us-east-1=127.0.0.1:{us_port}",
                          region="eu-west-1", port=eu_port, admin=us.admin)  # fmt: skip
    except BaseException:
        us.server.kill()
        raise
    try:
        # The admin key is valid in eu-west-1 once IAM has replicated there.
        eventually(lambda: eu.client().list_secrets(), lambda _: True)
        yield us, eu
    finally:
        eu.server.kill()
        us.server.kill()


def status(sm: Any, sid: str) -> list[tuple[str, str]]:
    d = sm.describe_secret(SecretId=sid)
    return [(r["Region"], r["Status"]) for r in d.get("ReplicationStatus", [])]


def test_replicate_read_remove_and_promote(pair: tuple[AwsRegion, AwsRegion]) -> None:
    us_region, eu_region = pair
    us, eu = us_region.client(), eu_region.client()

    made = us.create_secret(
        Name="repl/a", SecretString="alpha", AddReplicaRegions=[{"Region": "eu-west-1"}]
    )
    assert [(r["Region"], r["Status"]) for r in made["ReplicationStatus"]] == [
        ("eu-west-1", "InProgress")
    ]
    eventually(lambda: status(us, "repl/a"), lambda s: s == [("eu-west-1", "InSync")])
    replica = eventually(lambda: eu.get_secret_value(SecretId="repl/a"), lambda _: True)
    assert replica["SecretString"] == "alpha"
    assert replica["ARN"] == made["ARN"].replace(":us-east-1:", ":eu-west-1:")
    assert eu.describe_secret(SecretId="repl/a")["PrimaryRegion"] == "us-east-1"
    with pytest.raises(ClientError) as info:
        eu.put_secret_value(SecretId="repl/a", SecretString="from the replica")
    assert info.value.response["Error"] == {
        "Code": "InvalidParameterException",
        "Message": REPLICA_READ_ONLY,
    }

    # ReplicateSecretToRegions on an existing secret, then RemoveRegionsFromReplication.
    us.create_secret(Name="repl/b", SecretString="beta")
    out = us.replicate_secret_to_regions(
        SecretId="repl/b", AddReplicaRegions=[{"Region": "eu-west-1"}]
    )
    assert out["ARN"] == us.describe_secret(SecretId="repl/b")["ARN"]
    assert [(r["Region"], r["Status"]) for r in out["ReplicationStatus"]] == [
        ("eu-west-1", "InProgress")
    ]
    eventually(
        lambda: eu.get_secret_value(SecretId="repl/b")["SecretString"], lambda v: v == "beta"
    )
    with pytest.raises(ClientError) as info:  # a Region that is not a peer
        us.replicate_secret_to_regions(
            SecretId="repl/b", AddReplicaRegions=[{"Region": "ap-south-1"}]
        )
    assert info.value.response["Error"]["Code"] == "InvalidParameterException"
    removed = us.remove_regions_from_replication(
        SecretId="repl/b", RemoveReplicaRegions=["eu-west-1"]
    )
    assert removed["ARN"] == out["ARN"] and removed["ReplicationStatus"] == []
    assert "ReplicationStatus" not in us.describe_secret(SecretId="repl/b") or status(
        us, "repl/b") == []  # fmt: skip

    def gone() -> str:
        try:
            eu.describe_secret(SecretId="repl/b")
            return "still there"
        except ClientError as exc:
            return str(exc.response["Error"]["Code"])

    eventually(gone, lambda code: code == "ResourceNotFoundException")

    # StopReplicationToReplica, in the replica's Region: a standalone primary there.
    with pytest.raises(ClientError) as info:  # not a replica
        us.stop_replication_to_replica(SecretId="repl/a")
    assert info.value.response["Error"]["Code"] == "InvalidParameterException"
    stopped = eu.stop_replication_to_replica(SecretId="repl/a")
    assert stopped["ARN"] == replica["ARN"]
    assert "PrimaryRegion" not in eu.describe_secret(SecretId="repl/a")
    put = eu.put_secret_value(SecretId="repl/a", SecretString="eu's own")
    assert eu.get_secret_value(SecretId="repl/a")["VersionId"] == put["VersionId"]
    eventually(lambda: status(us, "repl/a"), lambda s: s == [])  # the old primary lets go
    assert us.get_secret_value(SecretId="repl/a")["SecretString"] == "alpha"
