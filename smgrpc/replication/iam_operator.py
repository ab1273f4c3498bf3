"""The operator's side of IAM replication: `smgrpc iam-region move` as a signed call."""

from __future__ import annotations

import grpc

from smgrpc._pb.replication.v1 import replication_pb2 as rpb
from smgrpc._pb.replication.v1 import replication_pb2_grpc as rpbg
from smgrpc.crypto.cluster import ClusterKey
from smgrpc.replication import iam_wire as iw
from smgrpc.replication.transport import MOVE_METHOD, STATUS_METHOD, peer_channel, signed_metadata


class MoveRefused(Exception):
    """The Region did not take the IAM Region move (unreachable, wrong key or Region)."""


async def move_iam_region(
    address: str,
    target: str,
    key: ClusterKey,
    min_epoch: int = 0,
    wait: float = 10.0,
    ca: bytes | None = None,
) -> iw.IamAck:
    """The operator's `smgrpc iam-region move`: ask `target` (at address) to become the IAM
    Region, signed with the cluster secret (whoever holds it can already sign any push)."""
    body = iw.encode_move(iw.MoveRequest(target, min_epoch))
    return await _operator_call(address, target, key, MOVE_METHOD, body, wait, ca)


async def iam_status(
    address: str, target: str, key: ClusterKey, wait: float = 10.0, ca: bytes | None = None
) -> iw.IamAck:
    """The operator's `smgrpc iam-region status`: `target`'s IAM Region, epoch, generation."""
    body = iw.encode_status(target)
    return await _operator_call(address, target, key, STATUS_METHOD, body, wait, ca)


async def _operator_call(
    address: str,
    target: str,
    key: ClusterKey,
    method: str,
    body: bytes,
    wait: float,
    ca: bytes | None = None,
) -> iw.IamAck:
    """`method` (a full method path) on `target`, signed as the operator; MoveRefused if the
    Region does not answer it. ca: the CA of the Region's TLS port (`--tls-cert`)."""
    channel = (
        grpc.aio.secure_channel(address, grpc.ssl_channel_credentials(ca))
        if ca is not None
        else peer_channel(address)
    )
    async with channel as ch:
        stub = rpbg.ReplicationStub(ch)  # type: ignore[no-untyped-call]
        call = getattr(stub, method.rsplit("/", 1)[1])  # the stub attribute is the RPC's name
        try:
            reply = await call(
                rpb.PushEnvelope(batch=body),
                metadata=signed_metadata(key, method, iw.OPERATOR, target, body),
                timeout=wait,
            )
        except grpc.aio.AioRpcError as exc:
            raise MoveRefused(f"{exc.code().name}: {exc.details()}") from None
    return iw.ack_in(reply)
