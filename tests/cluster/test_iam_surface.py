"""PushIam and MoveIamRegion as an attacker (or a confused operator) sees them.

Both are authenticated like Push before anything of the body is parsed: HMAC over method,
source, target, timestamp and body with the cluster key; every refusal is the same bare
UNAUTHENTICATED. Each method signs in its own domain (a Push signature does not pass for
PushIam), keeps its own durable replay mark (a captured push stays refused after a restart),
and an older or foreign snapshot changes nothing.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import grpc

from smgrpc._pb.replication.v1 import replication_pb2 as rpb
from smgrpc.crypto.cluster import ClusterKey
from smgrpc.replication import iam_wire as iw
from smgrpc.replication.transport import IAM_METHOD, METHOD, MOVE_METHOD, signed_metadata
from tests.cluster.conftest import REGIONS, Cluster
from tests.cluster.test_push_surface import assert_bare_unauthenticated

US, EU, AP = REGIONS


async def raw(port: int, method: str, body: bytes, md: object) -> rpb.IamReply:
    """Send one signed envelope; the IamReply, or the AioRpcError raised."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
        call = ch.unary_unary(method, request_serializer=None, response_deserializer=None)
        out = await call(rpb.PushEnvelope(batch=body).SerializeToString(), metadata=md)
    return rpb.IamReply.FromString(out)


async def refused(port: int, method: str, body: bytes, md: object) -> None:
    try:
        await raw(port, method, body, md)
    except grpc.aio.AioRpcError as exc:
        assert_bare_unauthenticated(exc)
        return
    raise AssertionError("accepted")


def push_body(c: Cluster, source: str, target: str, **change: object) -> bytes:
    """An IAM push of `source`'s current state, with `change` applied (any field)."""
    st = c.regions[source].iam.state
    fields: dict[str, object] = {
        "source": source,
        "target": target,
        "account": st.account,
        "holder": st.holder,
        "epoch": st.epoch,
        "generation": st.generation,
        "users": tuple(st.users.values()),
        **change,
    }
    return iw.encode_push(iw.IamPush(**fields))  # type: ignore[arg-type]


async def test_forged_cross_method_and_replayed_iam_pushes_are_refused(
    cluster: Cluster, tmp_path: Path
) -> None:
    key = ClusterKey.from_file(tmp_path / "cluster.secret")
    eu = cluster.regions[EU]
    port = eu.port
    body = push_body(cluster, US, EU, generation=eu.iam.state.generation + 5, users=())
    other = ClusterKey(os.urandom(32))
    await refused(port, IAM_METHOD, body, signed_metadata(other, IAM_METHOD, US, EU, body))
    await refused(port, IAM_METHOD, body, signed_metadata(key, METHOD, US, EU, body))
    await refused(port, IAM_METHOD, body, signed_metadata(key, IAM_METHOD, "us-west-2", EU, body))
    await refused(port, IAM_METHOD, body, signed_metadata(key, IAM_METHOD, US, AP, body))
    # The Region may not push as the operator, nor the operator as a Region.
    move = iw.encode_move(iw.MoveRequest(EU))
    await refused(port, MOVE_METHOD, move, signed_metadata(key, MOVE_METHOD, US, EU, move))
    await refused(
        port, MOVE_METHOD, move, signed_metadata(other, MOVE_METHOD, iw.OPERATOR, EU, move)
    )
    assert eu.iam.state.holder == US and "admin" in eu.iam.state.users  # nothing changed
    # A valid push (here: one that empties IAM) applies once; its replay is refused, also after
    # the receiver restarts (the durable mark).
    md = signed_metadata(key, IAM_METHOD, US, EU, body)
    got = await raw(port, IAM_METHOD, body, md)
    assert got.applied and got.generation == eu.iam.state.generation and not eu.iam.state.users
    await refused(port, IAM_METHOD, body, md)
    await cluster.stop_region(EU)
    await cluster.start_region(EU)
    await refused(cluster.regions[EU].port, IAM_METHOD, body, md)


async def test_older_duplicate_and_foreign_snapshots_change_nothing(
    cluster: Cluster, tmp_path: Path
) -> None:
    key = ClusterKey.from_file(tmp_path / "cluster.secret")
    eu = cluster.regions[EU]
    before = eu.iam.state
    for change in (
        {"generation": 0, "users": ()},  # older
        {},  # the same version again
        {"holder": AP, "generation": before.generation + 1, "users": ()},  # not its sender's
        {"account": "999999999999", "generation": before.generation + 1, "users": ()},
    ):
        body = push_body(cluster, US, EU, **change)
        got = await raw(eu.port, IAM_METHOD, body, signed_metadata(key, IAM_METHOD, US, EU, body))
        assert not got.applied
        assert (got.holder, got.epoch, got.generation) == (US, before.epoch, before.generation)
        assert eu.iam.state is before


async def test_a_garbled_signed_snapshot_is_refused_without_parsing_further(
    cluster: Cluster, tmp_path: Path
) -> None:
    key = ClusterKey.from_file(tmp_path / "cluster.secret")
    body = base64.b64decode("////")  # signed, but not an IamSnapshot
    md = signed_metadata(key, IAM_METHOD, US, EU, body)
    await refused(cluster.regions[EU].port, IAM_METHOD, body, md)


async def test_a_region_that_is_not_the_iam_region_cannot_take_it_over(
    cluster: Cluster, tmp_path: Path
) -> None:
    """A peer claiming the IAM Region at the current epoch (a second --iam-region, or a
    forged push) is refused, as is an epoch far beyond any move; eu-west-1 keeps us-east-1's
    users (review finding: ap-southeast-2 replaced them with its own `*:*` user)."""
    key = ClusterKey.from_file(tmp_path / "cluster.secret")
    eu = cluster.regions[EU]
    before = eu.iam.state
    for change in (
        {"holder": AP, "generation": before.generation + 1, "users": ()},  # same epoch
        {"holder": AP, "epoch": before.epoch + 10_000, "users": ()},  # beyond any move
    ):
        body = push_body(cluster, AP, EU, **change)
        got = await raw(eu.port, IAM_METHOD, body, signed_metadata(key, IAM_METHOD, AP, EU, body))
        assert not got.applied
        assert (got.holder, got.epoch) == (US, before.epoch)
        assert eu.iam.state is before
        assert set(eu.iam.state.users) == set(before.users)
