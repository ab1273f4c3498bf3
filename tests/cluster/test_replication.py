"""Replication across in-process Regions: AWS semantics of the three operations and the push."""

from __future__ import annotations

import asyncio
import time

import grpc

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from tests.cluster.conftest import Cluster, converged, eventually
from tests.conftest import aws_error

US, EU, AP = "us-east-1", "eu-west-1", "ap-southeast-2"
REPLICA_MSG = (
    "Operation not permitted on a replica secret. Call must be made in primary secret's region."
)


async def missing(stub, name: str) -> bool:  # type: ignore[no-untyped-def]
    try:
        await stub.DescribeSecret(pb.DescribeSecretRequest(secret_id=name))
    except grpc.aio.AioRpcError as exc:
        return exc.code() == grpc.StatusCode.NOT_FOUND
    return False


async def statuses(c: Cluster, region: str, name: str) -> dict[str, str]:
    d = await c.stubs[region].DescribeSecret(pb.DescribeSecretRequest(secret_id=name))
    return {r.region: r.status for r in d.replication_status}


async def test_create_with_replicas_reaches_every_region(cluster: Cluster) -> None:
    us = cluster.stubs[US]
    out = await us.CreateSecret(
        pb.CreateSecretRequest(
            name="app/db",
            secret_string="v1",
            add_replica_regions=[pb.ReplicaRegionType(region=EU), pb.ReplicaRegionType(region=AP)],
        )
    )
    assert [r.region for r in out.replication_status] == [EU, AP]
    assert {r.status for r in out.replication_status} <= {"InProgress", "InSync"}
    got = await eventually(
        lambda: cluster.stubs[EU].GetSecretValue(pb.GetSecretValueRequest(secret_id="app/db"))
    )
    assert got.secret_string == "v1"
    assert got.arn == out.arn.replace(US, EU)  # same suffix, Region swapped
    assert got.version_id == out.version_id
    await eventually(lambda: _all_in_sync(cluster, "app/db"))
    assert await converged(cluster, "app/db", (US, EU, AP))
    d = await cluster.stubs[EU].DescribeSecret(pb.DescribeSecretRequest(secret_id="app/db"))
    assert d.primary_region == US
    d = await us.DescribeSecret(pb.DescribeSecretRequest(secret_id="app/db"))
    assert d.primary_region == US
    assert {r.kms_key_id for r in d.replication_status} == {"alias/aws/secretsmanager"}


async def _all_in_sync(c: Cluster, name: str) -> bool:
    return set((await statuses(c, US, name)).values()) == {"InSync"}


async def test_every_change_propagates_and_replica_refuses_writes(cluster: Cluster) -> None:
    us, eu = cluster.stubs[US], cluster.stubs[EU]
    await us.CreateSecret(
        pb.CreateSecretRequest(
            name="s", secret_string="one", description="d1", tags=[pb.Tag(key="team", value="a")]
        )
    )
    rep = await us.ReplicateSecretToRegions(
        pb.ReplicateSecretToRegionsRequest(
            secret_id="s", add_replica_regions=[pb.ReplicaRegionType(region=EU)]
        )
    )
    assert rep.arn.startswith("arn:aws:secretsmanager:us-east-1:")
    await eventually(lambda: eu.DescribeSecret(pb.DescribeSecretRequest(secret_id="s")))
    put = await us.PutSecretValue(pb.PutSecretValueRequest(secret_id="s", secret_string="two"))
    await us.UpdateSecret(pb.UpdateSecretRequest(secret_id="s", description="d2"))
    await us.TagResource(pb.TagResourceRequest(secret_id="s", tags=[pb.Tag(key="env", value="p")]))
    await us.UpdateSecretVersionStage(
        pb.UpdateSecretVersionStageRequest(
            secret_id="s", version_stage="BLUE", move_to_version_id=put.version_id
        )
    )
    await eventually(lambda: converged(cluster, "s", (US, EU)))
    d = await eu.DescribeSecret(pb.DescribeSecretRequest(secret_id="s"))
    assert d.description == "d2"
    assert sorted((t.key, t.value) for t in d.tags) == [("env", "p"), ("team", "a")]
    assert sorted(d.version_ids_to_stages[put.version_id].stages) == ["AWSCURRENT", "BLUE"]
    for call in (
        eu.PutSecretValue(pb.PutSecretValueRequest(secret_id="s", secret_string="x")),
        eu.UpdateSecret(pb.UpdateSecretRequest(secret_id="s", description="x")),
        eu.TagResource(pb.TagResourceRequest(secret_id="s", tags=[pb.Tag(key="k", value="v")])),
        eu.UntagResource(pb.UntagResourceRequest(secret_id="s", tag_keys=["env"])),
        eu.DeleteSecret(pb.DeleteSecretRequest(secret_id="s")),
        eu.RestoreSecret(pb.RestoreSecretRequest(secret_id="s")),
        eu.UpdateSecretVersionStage(
            pb.UpdateSecretVersionStageRequest(
                secret_id="s", version_stage="BLUE", remove_from_version_id=put.version_id
            )
        ),
        eu.ReplicateSecretToRegions(
            pb.ReplicateSecretToRegionsRequest(
                secret_id="s", add_replica_regions=[pb.ReplicaRegionType(region=AP)]
            )
        ),
        eu.RemoveRegionsFromReplication(
            pb.RemoveRegionsFromReplicationRequest(secret_id="s", remove_replica_regions=[US])
        ),
        eu.CreateSecret(pb.CreateSecretRequest(name="s", secret_string="x")),
    ):
        err = await aws_error(call)
        assert (err.code, err.aws_code, err.message) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "InvalidParameterException",
            REPLICA_MSG,
        )
    assert await converged(cluster, "s", (US, EU))  # nothing changed on the replica


async def test_delete_primary_with_replicas_refused_then_remove_deletes_replica(
    cluster: Cluster,
) -> None:
    us, eu = cluster.stubs[US], cluster.stubs[EU]
    out = await us.CreateSecret(
        pb.CreateSecretRequest(
            name="gone",
            secret_string="v",
            add_replica_regions=[pb.ReplicaRegionType(region=EU), pb.ReplicaRegionType(region=AP)],
        )
    )
    err = await aws_error(
        us.DeleteSecret(
            pb.DeleteSecretRequest(secret_id="gone", force_delete_without_recovery=True)
        )
    )
    assert err.aws_code == "InvalidParameterException"
    assert err.message == f"You can't delete secret gone that still has replica regions [{EU},{AP}]"
    await eventually(lambda: eu.DescribeSecret(pb.DescribeSecretRequest(secret_id="gone")))
    rem = await us.RemoveRegionsFromReplication(
        pb.RemoveRegionsFromReplicationRequest(secret_id="gone", remove_replica_regions=[EU, AP])
    )
    assert rem.arn == out.arn and len(rem.replication_status) == 0

    await eventually(lambda: missing(eu, "gone"))
    await us.DeleteSecret(
        pb.DeleteSecretRequest(secret_id="gone", force_delete_without_recovery=True)
    )


async def test_promotion_fences_old_primary(cluster: Cluster) -> None:
    us, eu = cluster.stubs[US], cluster.stubs[EU]
    out = await us.CreateSecret(
        pb.CreateSecretRequest(
            name="dr", secret_string="v1", add_replica_regions=[pb.ReplicaRegionType(region=EU)]
        )
    )
    await eventually(lambda: converged(cluster, "dr", (US, EU)))
    cluster.isolate(US)  # the primary Region is cut off
    stop = await eu.StopReplicationToReplica(pb.StopReplicationToReplicaRequest(secret_id="dr"))
    assert stop.arn == out.arn.replace(US, EU)
    before = await eu.GetSecretValue(pb.GetSecretValueRequest(secret_id="dr"))
    await us.PutSecretValue(pb.PutSecretValueRequest(secret_id="dr", secret_string="old-primary"))
    # The promoted copy is a primary now: it takes writes.
    await eu.PutSecretValue(pb.PutSecretValueRequest(secret_id="dr", secret_string="new-primary"))
    cluster.heal()

    async def dropped() -> bool:
        return EU not in await statuses(cluster, US, "dr")

    await eventually(dropped)
    got = await eu.GetSecretValue(pb.GetSecretValueRequest(secret_id="dr"))
    assert got.secret_string == "new-primary"
    prev = await eu.GetSecretValue(
        pb.GetSecretValueRequest(secret_id="dr", version_stage="AWSPREVIOUS")
    )
    assert prev.version_id == before.version_id
    d = await eu.DescribeSecret(pb.DescribeSecretRequest(secret_id="dr"))
    assert not d.HasField("primary_region") or d.primary_region == EU
    assert (
        await us.GetSecretValue(pb.GetSecretValueRequest(secret_id="dr"))
    ).secret_string == "old-primary"
    err = await aws_error(
        us.StopReplicationToReplica(pb.StopReplicationToReplicaRequest(secret_id="dr"))
    )
    assert err.aws_code == "InvalidParameterException"


async def test_name_conflict_without_and_with_force(cluster: Cluster) -> None:
    us, eu = cluster.stubs[US], cluster.stubs[EU]
    await eu.CreateSecret(pb.CreateSecretRequest(name="clash", secret_string="local"))
    await us.CreateSecret(pb.CreateSecretRequest(name="clash", secret_string="primary"))
    await us.ReplicateSecretToRegions(
        pb.ReplicateSecretToRegionsRequest(
            secret_id="clash", add_replica_regions=[pb.ReplicaRegionType(region=EU)]
        )
    )

    async def failed() -> bool:
        d = await us.DescribeSecret(pb.DescribeSecretRequest(secret_id="clash"))
        return any(
            r.status == "Failed"
            and r.status_message == "Secret with this name already exists in this region"
            for r in d.replication_status
        )

    await eventually(failed)
    assert (
        await eu.GetSecretValue(pb.GetSecretValueRequest(secret_id="clash"))
    ).secret_string == "local"
    await us.ReplicateSecretToRegions(
        pb.ReplicateSecretToRegionsRequest(
            secret_id="clash",
            add_replica_regions=[pb.ReplicaRegionType(region=EU)],
            force_overwrite_replica_secret=True,
        )
    )
    await eventually(lambda: converged(cluster, "clash", (US, EU)))
    got = await eu.GetSecretValue(pb.GetSecretValueRequest(secret_id="clash"))
    assert got.secret_string == "primary"

    # The replica holds the value before the primary has read its ack: InSync follows.
    async def in_sync() -> bool:
        return (await statuses(cluster, US, "clash"))[EU] == "InSync"

    await eventually(in_sync)


async def test_replica_down_during_writes_catches_up(cluster: Cluster) -> None:
    us = cluster.stubs[US]
    await us.CreateSecret(
        pb.CreateSecretRequest(
            name="busy", secret_string="0", add_replica_regions=[pb.ReplicaRegionType(region=EU)]
        )
    )
    await eventually(lambda: converged(cluster, "busy", (US, EU)))
    cluster.link(US, EU).cut()
    t0 = time.monotonic()
    for i in range(1, 51):
        await us.PutSecretValue(pb.PutSecretValueRequest(secret_id="busy", secret_string=str(i)))
    assert time.monotonic() - t0 < 5  # the primary never waits for the dead Region

    async def retrying() -> bool:
        st = await statuses(cluster, US, "busy")
        return st[EU] == "InProgress"

    await eventually(retrying)
    cluster.heal()
    await eventually(lambda: converged(cluster, "busy", (US, EU)))
    await eventually(lambda: _all_in_sync(cluster, "busy"))
    got = await cluster.stubs[EU].GetSecretValue(pb.GetSecretValueRequest(secret_id="busy"))
    assert got.secret_string == "50"


async def test_unauthenticated_client_cannot_push(cluster: Cluster) -> None:
    from smgrpc._pb.replication.v1 import replication_pb2 as rpb
    from smgrpc._pb.replication.v1 import replication_pb2_grpc as rpbg

    port = cluster.regions[EU].port
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
        stub = rpbg.ReplicationStub(ch)
        batch = rpb.PushBatch(source_region=US, target_region=EU, last_seq=1)
        err = await aws_error(
            stub.Push(
                rpb.PushEnvelope(batch=batch.SerializeToString()),
                metadata=(
                    ("smgrpc-peer-region", US),
                    ("smgrpc-timestamp", repr(time.time())),
                    ("smgrpc-signature", "00" * 32),
                ),
            )
        )
        assert err.code == grpc.StatusCode.UNAUTHENTICATED


async def test_remove_while_replica_down_never_resurrects(cluster: Cluster) -> None:
    us = cluster.stubs[US]
    await us.CreateSecret(
        pb.CreateSecretRequest(
            name="r", secret_string="v", add_replica_regions=[pb.ReplicaRegionType(region=EU)]
        )
    )
    await eventually(lambda: converged(cluster, "r", (US, EU)))
    await cluster.stop_region(EU)
    rem = await us.RemoveRegionsFromReplication(
        pb.RemoveRegionsFromReplicationRequest(secret_id="r", remove_replica_regions=[EU])
    )
    assert len(rem.replication_status) == 0
    await us.PutSecretValue(pb.PutSecretValueRequest(secret_id="r", secret_string="after"))
    await cluster.start_region(EU)
    await eventually(lambda: missing(cluster.stubs[EU], "r"))
    await us.DeleteSecret(pb.DeleteSecretRequest(secret_id="r", force_delete_without_recovery=True))
    await asyncio.sleep(0.3)
    assert await missing(cluster.stubs[EU], "r")


async def test_far_behind_replica_gets_a_snapshot(cluster: Cluster, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    us = cluster.stubs[US]
    for i in range(5):
        await us.CreateSecret(
            pb.CreateSecretRequest(
                name=f"snap{i}",
                secret_string=f"v{i}",
                add_replica_regions=[pb.ReplicaRegionType(region=EU)],
            )
        )
    for i in range(5):
        await eventually(lambda i=i: converged(cluster, f"snap{i}", (US, EU)))
    await cluster.stop_region(EU)
    shutil.rmtree(tmp_path / EU)  # the replica lost its whole data directory
    await us.PutSecretValue(pb.PutSecretValueRequest(secret_id="snap0", secret_string="new"))
    await cluster.start_region(EU)
    for i in range(5):
        await eventually(lambda i=i: converged(cluster, f"snap{i}", (US, EU)))
    got = await cluster.stubs[EU].GetSecretValue(pb.GetSecretValueRequest(secret_id="snap0"))
    assert got.secret_string == "new"


async def test_replica_reads_keep_their_own_last_accessed_date(cluster: Cluster) -> None:
    us, eu = cluster.stubs[US], cluster.stubs[EU]
    await us.CreateSecret(
        pb.CreateSecretRequest(
            name="la", secret_string="v", add_replica_regions=[pb.ReplicaRegionType(region=EU)]
        )
    )
    await eventually(lambda: eu.DescribeSecret(pb.DescribeSecretRequest(secret_id="la")))
    d = await us.DescribeSecret(pb.DescribeSecretRequest(secret_id="la"))
    assert not d.HasField("last_accessed_date")
    await eu.GetSecretValue(pb.GetSecretValueRequest(secret_id="la"))
    d = await eu.DescribeSecret(pb.DescribeSecretRequest(secret_id="la"))
    assert d.HasField("last_accessed_date")
    d = await us.DescribeSecret(pb.DescribeSecretRequest(secret_id="la"))
    assert not d.HasField("last_accessed_date")  # reads in eu-west-1 are not the primary's


async def test_replica_kms_key_and_unknown_peer(cluster: Cluster) -> None:
    us = cluster.stubs[US]
    err = await aws_error(
        us.CreateSecret(
            pb.CreateSecretRequest(
                name="k", secret_string="v", add_replica_regions=[pb.ReplicaRegionType(region=US)]
            )
        )
    )
    assert (err.aws_code, err.message) == ("InvalidParameterException", "Invalid replica region.")
    err = await aws_error(
        us.CreateSecret(
            pb.CreateSecretRequest(
                name="k",
                secret_string="v",
                add_replica_regions=[pb.ReplicaRegionType(region="xx-nowhere-9")],
            )
        )
    )
    assert err.aws_code == "InvalidParameterException"
    err = await aws_error(us.DescribeSecret(pb.DescribeSecretRequest(secret_id="k")))
    assert err.code == grpc.StatusCode.NOT_FOUND  # nothing was created
    await us.CreateSecret(
        pb.CreateSecretRequest(
            name="k",
            secret_string="v",
            add_replica_regions=[pb.ReplicaRegionType(region=EU, kms_key_id="alias/missing")],
        )
    )

    async def failed() -> bool:
        d = await us.DescribeSecret(pb.DescribeSecretRequest(secret_id="k"))
        return [r.status for r in d.replication_status] == ["Failed"]

    await eventually(failed)
    d = await us.DescribeSecret(pb.DescribeSecretRequest(secret_id="k"))
    assert "alias/missing" in d.replication_status[0].status_message
    assert await missing(cluster.stubs[EU], "k")


async def test_promotion_is_reported_to_the_old_primary_without_new_writes(
    cluster: Cluster,
) -> None:
    us, eu = cluster.stubs[US], cluster.stubs[EU]
    await us.CreateSecret(
        pb.CreateSecretRequest(
            name="quiet", secret_string="v", add_replica_regions=[pb.ReplicaRegionType(region=EU)]
        )
    )
    await eventually(lambda: converged(cluster, "quiet", (US, EU)))
    await eu.StopReplicationToReplica(pb.StopReplicationToReplicaRequest(secret_id="quiet"))

    async def dropped() -> bool:
        return EU not in await statuses(cluster, US, "quiet")

    await eventually(dropped, within=15)
    # Now the old primary can be deleted: it has no replica Regions left.
    await us.DeleteSecret(
        pb.DeleteSecretRequest(secret_id="quiet", force_delete_without_recovery=True)
    )
    assert (
        await eu.GetSecretValue(pb.GetSecretValueRequest(secret_id="quiet"))
    ).secret_string == "v"


async def test_replayed_push_is_refused(cluster: Cluster) -> None:
    from smgrpc._pb.replication.v1 import replication_pb2 as rpb
    from smgrpc._pb.replication.v1 import replication_pb2_grpc as rpbg
    from smgrpc.crypto.cluster import ClusterKey

    key = ClusterKey.from_file(cluster.configs[US].cluster_secret_file)  # type: ignore[arg-type]
    body = rpb.PushBatch(
        source_region=US, target_region=EU, prev_seq=0, last_seq=0, snapshot=True
    ).SerializeToString()
    ts = time.time() - 60  # older than anything the real shipper has sent
    md = (
        ("smgrpc-peer-region", US),
        ("smgrpc-timestamp", repr(ts)),
        ("smgrpc-signature", key.sign("/smgrpc.replication.v1.Replication/Push", US, EU, ts, body)),
    )
    await cluster.stubs[US].CreateSecret(
        pb.CreateSecretRequest(
            name="rp", secret_string="v", add_replica_regions=[pb.ReplicaRegionType(region=EU)]
        )
    )
    await eventually(lambda: converged(cluster, "rp", (US, EU)))
    async with grpc.aio.insecure_channel(f"127.0.0.1:{cluster.regions[EU].port}") as ch:
        err = await aws_error(
            rpbg.ReplicationStub(ch).Push(rpb.PushEnvelope(batch=body), metadata=md)
        )
    assert err.code == grpc.StatusCode.UNAUTHENTICATED
