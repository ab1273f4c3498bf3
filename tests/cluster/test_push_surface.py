"""The replication endpoint as an attacker sees it: authenticate before anything else.

Regressions for issue 6, item 14: an undecodable push answered InvalidParameterException with a
SecretBinary hint (decoded before authenticating), and a captured push replayed after the
receiver restarted passed (the replay window lived in memory).
"""

from __future__ import annotations

import logging
import time

import grpc
import pytest
from grpc_status import rpc_status

from smgrpc._pb.replication.v1 import replication_pb2 as rpb
from smgrpc._pb.replication.v1 import replication_pb2_grpc as rpbg
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc.crypto.cluster import ClusterKey
from tests.cluster.conftest import Cluster, converged, eventually

US, EU = "us-east-1", "eu-west-1"
METHOD = "/smgrpc.replication.v1.Replication/Push"
GENERIC = "Replication calls must be signed by a peer Region."


async def raw_push(
    port: int, body: bytes, metadata: tuple[tuple[str, str], ...]
) -> grpc.aio.AioRpcError:
    """Send raw request bytes to Push; return the error it must answer."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
        call = ch.unary_unary(METHOD, request_serializer=None, response_deserializer=None)
        try:
            await call(body, metadata=metadata)
        except grpc.aio.AioRpcError as exc:
            return exc
    raise AssertionError("the push was accepted")


def assert_bare_unauthenticated(err: grpc.aio.AioRpcError) -> None:
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED
    assert err.details() == GENERIC
    assert rpc_status.from_call(err) is None  # type: ignore[arg-type]  # no details at all


async def test_every_pre_auth_failure_is_a_bare_unauthenticated(
    cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="smgrpc.replication")
    port = cluster.regions[EU].port
    now = repr(time.time())
    good_md = (
        ("smgrpc-peer-region", US),
        ("smgrpc-timestamp", now),
        ("smgrpc-signature", "0" * 64),
    )
    canary = b"CANARY-BODY-BYTES"
    cases = [
        # Not a protobuf at all (used to be InvalidParameterException "... SecretBinary").
        (b"\xff\xff\xff" + canary, good_md),
        # Invalid UTF-8 inside a string field of a well-formed envelope.
        (rpb.PushEnvelope(batch=b"\x0a\x02\xc3\x28" + canary).SerializeToString(), good_md),
        # No metadata, unknown peer, malformed timestamp.
        (rpb.PushEnvelope(batch=canary).SerializeToString(), ()),
        (
            rpb.PushEnvelope(batch=canary).SerializeToString(),
            (("smgrpc-peer-region", "xx-evil-1"),),
        ),
        (
            rpb.PushEnvelope(batch=canary).SerializeToString(),
            (("smgrpc-peer-region", US), ("smgrpc-timestamp", "soon")),
        ),
    ]
    for body, md in cases:
        assert_bare_unauthenticated(await raw_push(port, body, md))
    refusals = [r for r in caplog.records if "refused a replication push" in r.getMessage()]
    assert refusals, "refused pushes are logged"
    assert all("127.0.0.1" in r.getMessage() for r in refusals)  # the peer's address
    assert "CANARY" not in caplog.text  # never a byte of the body


async def test_a_captured_push_replayed_after_a_restart_is_refused(cluster: Cluster) -> None:
    """Capture a genuine signed push, let the receiver restart, replay it: refused."""
    assert cluster.configs[US].cluster_secret_file is not None
    key = ClusterKey.from_file(cluster.configs[US].cluster_secret_file)
    await cluster.stubs[US].CreateSecret(
        pb.CreateSecretRequest(
            name="rp", secret_string="v", add_replica_regions=[pb.ReplicaRegionType(region=EU)]
        )
    )
    await eventually(lambda: converged(cluster, "rp", (US, EU)))
    # A push as the shipper would send it (signed now), accepted once...
    body = rpb.PushBatch(source_region=US, target_region=EU, snapshot=True).SerializeToString()
    ts = time.time()
    md = (
        ("smgrpc-peer-region", US),
        ("smgrpc-timestamp", repr(ts)),
        ("smgrpc-signature", key.sign(METHOD, US, EU, ts, body)),
    )
    envelope = rpb.PushEnvelope(batch=body)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{cluster.regions[EU].port}") as ch:
        await rpbg.ReplicationStub(ch).Push(envelope, metadata=md)
    # ...then the receiver restarts (its memory is gone) and the capture is replayed.
    await cluster.stop_region(EU)
    await cluster.start_region(EU)
    err = await raw_push(cluster.regions[EU].port, envelope.SerializeToString(), md)
    assert_bare_unauthenticated(err)
    # Replication itself still works after the restart.
    await cluster.stubs[US].PutSecretValue(
        pb.PutSecretValueRequest(secret_id="rp", secret_string="w")
    )

    async def arrived() -> bool:
        got = await cluster.stubs[EU].GetSecretValue(pb.GetSecretValueRequest(secret_id="rp"))
        return got.secret_string == "w"

    await eventually(arrived)
