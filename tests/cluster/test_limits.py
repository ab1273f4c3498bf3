"""Replication with maximum-size values: batches and snapshot pages bounded in encoded bytes.

Regression for "replication wedges forever past the receiver's 4 MiB limit" (issue 6, item 5).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import grpc

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.api.server import MAX_RECEIVE
from smgrpc.crypto.cluster import ClusterKey
from smgrpc.replication import messages as m
from smgrpc.replication.limits import MAX_BATCH_BYTES, MAX_MESSAGE
from smgrpc.replication.transport import (
    BatchTooLarge,
    PeerClient,
    encode_batch,
    header_size,
    state_size,
)
from tests.cluster.conftest import Cluster, eventually

US, EU = "us-east-1", "eu-west-1"
VALUE = 65_536


def big(i: int) -> bytes:
    return hashlib.sha256(str(i).encode()).digest() * (VALUE // 32)


async def replica_region_of(stub: pbg.SecretsManagerStub, name: str) -> dict[str, tuple[str, str]]:
    d = await stub.DescribeSecret(pb.DescribeSecretRequest(secret_id=name))
    return {r.region: (r.status, r.status_message) for r in d.replication_status}


async def same_values(c: Cluster, name: str, expect_versions: int) -> bool:
    """Both Regions hold the same labeled versions with byte-identical values."""
    out = []
    for region in (US, EU):
        stub = c.stubs[region]
        listed = await stub.ListSecretVersionIds(pb.ListSecretVersionIdsRequest(secret_id=name))
        digests = {}
        for v in listed.versions:
            got = await stub.GetSecretValue(
                pb.GetSecretValueRequest(secret_id=name, version_id=v.version_id)
            )
            digests[v.version_id] = (
                sorted(v.version_stages),
                hashlib.sha256(got.secret_binary).hexdigest(),
            )
        out.append(digests)
    return len(out[0]) == expect_versions and out[0] == out[1]


async def labeled_secret(stub: pbg.SecretsManagerStub, name: str, versions: int) -> None:
    """A secret (not yet replicated) with `versions` labeled versions of 65,536 bytes each."""
    await stub.CreateSecret(pb.CreateSecretRequest(name=name, secret_binary=big(0)))
    for i in range(1, versions):
        await stub.PutSecretValue(
            pb.PutSecretValueRequest(secret_id=name, secret_binary=big(i), version_stages=[f"L{i}"])
        )


def test_largest_aws_secret_fits_one_batch_on_the_real_encoding() -> None:
    """100 labeled versions of 65,536 bytes, 20 labels of 256 characters each, and the largest
    description, tags and policy: one state, alone in a batch, under the shared limit."""
    key = ClusterKey(os.urandom(32))
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + "n" * 512 + "-AbCdEf"
    versions = []
    for i in range(100):
        vid = f"{i:064d}"
        sealed = key.seal_value(b"\xff" * VALUE, source=US, target=EU, arn=arn, version_id=vid)
        stages = tuple(f"{i:03d}{j:02d}" + "s" * 251 for j in range(20))  # 256 characters
        versions.append(m.WireVersion(vid, stages, time.time(), sealed, True))
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": '"' * 20000}]})
    meta = {
        "description": '"' * 2048,
        "tags": [['"' * 128, '"' * 256] for _ in range(50)],
        "policy": policy,
    }
    state = m.WireState(
        "l" * 36, 2**40, 2**40, arn, "n" * 512, False, True, "k" * 2048, meta, tuple(versions)
    )
    batch = m.Batch(US, EU, 2**62, 2**62, (state,))
    assert len(encode_batch(batch)) == header_size(batch) + state_size(state)  # exact accounting
    assert len(encode_batch(batch)) <= MAX_BATCH_BYTES
    # The receiver takes at least the limit plus the envelope.
    assert MAX_RECEIVE >= MAX_MESSAGE > MAX_BATCH_BYTES


async def test_a_push_at_the_limit_is_accepted_by_the_receiver(cluster: Cluster) -> None:
    """A batch of exactly MAX_BATCH_BYTES encoded bytes goes through a real server; one byte
    more never leaves the sender."""
    assert cluster.configs[US].cluster_secret_file is not None
    key = ClusterKey.from_file(cluster.configs[US].cluster_secret_file)
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:limit-AbCdEf"
    vid = "0" * 32

    def batch_of(n: int) -> m.Batch:
        sealed = key.seal_value(b"x" * n, source=US, target=EU, arn=arn, version_id=vid)
        v = m.WireVersion(vid, ("AWSCURRENT",), time.time(), sealed, True)
        st = m.WireState("lineage-limit", 0, 1, arn, "limit", metadata={}, versions=(v,))
        return m.Batch(US, EU, 0, 0, (st,))

    n = MAX_BATCH_BYTES - 200
    for _ in range(3):
        n += MAX_BATCH_BYTES - len(encode_batch(batch_of(n)))
    exact = batch_of(n)
    assert len(encode_batch(exact)) == MAX_BATCH_BYTES
    client = PeerClient(US, EU, f"127.0.0.1:{cluster.regions[EU].port}", key, timeout=30)
    try:
        reply = await client.push(exact)
        assert reply.applied_seq == 0
        try:
            await client.push(batch_of(n + 1))
            raise AssertionError("an oversized batch was sent")
        except BatchTooLarge:
            pass
    finally:
        await client.close()


async def test_backlog_of_large_secrets_catches_up_and_later_changes_follow(
    cluster: Cluster,
) -> None:
    """70 secrets of 64 KiB written while the replica is down (4.5 MiB: over the old 4 MiB
    receive limit), then a 4-byte secret: all arrive once the replica is back."""
    us = cluster.stubs[US]
    await cluster.stop_region(EU)
    for i in range(70):
        await us.CreateSecret(
            pb.CreateSecretRequest(
                name=f"big{i}",
                secret_binary=big(i),
                add_replica_regions=[pb.ReplicaRegionType(region=EU)],
            )
        )
    await us.CreateSecret(
        pb.CreateSecretRequest(
            name="tiny", secret_string="tiny", add_replica_regions=[pb.ReplicaRegionType(region=EU)]
        )
    )
    await cluster.start_region(EU)
    eu = cluster.stubs[EU]

    async def tiny_arrived() -> bool:
        got = await eu.GetSecretValue(pb.GetSecretValueRequest(secret_id="tiny"))
        return got.secret_string == "tiny"

    await eventually(tiny_arrived, within=60, what="the 4-byte secret behind the backlog")
    for i in (0, 35, 69):
        got = await eu.GetSecretValue(pb.GetSecretValueRequest(secret_id=f"big{i}"))
        assert got.secret_binary == big(i)

    async def all_in_sync() -> bool:
        for i in range(70):
            st = await replica_region_of(us, f"big{i}")
            if st[EU][0] != "InSync":
                return False
        return True

    await eventually(all_in_sync, within=30)


async def test_largest_secrets_replicate_also_through_a_snapshot(
    cluster: Cluster, tmp_path: Path
) -> None:
    """Three secrets with 100 labeled versions of 65,536 bytes each (6.5 MB apiece: one per
    batch) replicate; a wiped replica gets them back through snapshot pages."""
    us = cluster.stubs[US]
    names = [f"max{i}" for i in range(3)]
    for name in names:
        await labeled_secret(us, name, 100)
    for name in names:
        await us.ReplicateSecretToRegions(
            pb.ReplicateSecretToRegionsRequest(
                secret_id=name, add_replica_regions=[pb.ReplicaRegionType(region=EU)]
            )
        )
    for name in names:
        await eventually(lambda name=name: same_values(cluster, name, 100), within=60)
    await cluster.stop_region(EU)
    shutil.rmtree(tmp_path / EU)  # the replica lost its whole data directory
    await us.CreateSecret(
        pb.CreateSecretRequest(
            name="after", secret_string="a", add_replica_regions=[pb.ReplicaRegionType(region=EU)]
        )
    )
    await cluster.start_region(EU)
    for name in names:
        await eventually(lambda name=name: same_values(cluster, name, 100), within=60)
    got = await cluster.stubs[EU].GetSecretValue(pb.GetSecretValueRequest(secret_id="after"))
    assert got.secret_string == "a"


async def test_a_secret_too_large_to_ever_fit_fails_alone_and_never_wedges(
    cluster: Cluster,
) -> None:
    """130 labeled versions of 64 KiB (over the limit even alone): that secret's replica Region
    goes Failed with a clear message; the stream goes on (the next secret arrives)."""
    us = cluster.stubs[US]
    await labeled_secret(us, "huge", 130)
    await us.ReplicateSecretToRegions(
        pb.ReplicateSecretToRegionsRequest(
            secret_id="huge", add_replica_regions=[pb.ReplicaRegionType(region=EU)]
        )
    )
    await us.CreateSecret(
        pb.CreateSecretRequest(
            name="next", secret_string="n", add_replica_regions=[pb.ReplicaRegionType(region=EU)]
        )
    )

    async def failed() -> tuple[str, str] | None:
        st = (await replica_region_of(us, "huge"))[EU]
        return st if st[0] == "Failed" else None

    status, message = await eventually(failed, within=30)
    assert "too large to replicate" in message
    got = await eventually(
        lambda: cluster.stubs[EU].GetSecretValue(pb.GetSecretValueRequest(secret_id="next"))
    )
    assert got.secret_string == "n"
    try:
        await cluster.stubs[EU].DescribeSecret(pb.DescribeSecretRequest(secret_id="huge"))
        raise AssertionError("the oversized secret reached the replica")
    except grpc.aio.AioRpcError as exc:
        assert exc.code() == grpc.StatusCode.NOT_FOUND
