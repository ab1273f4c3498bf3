"""The only replication module that touches protobuf and grpc: encoding, client, servicer."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from smgrpc._pb.replication.v1 import replication_pb2 as rpb
from smgrpc._pb.replication.v1 import replication_pb2_grpc as rpbg
from smgrpc.core.errors import Unauthenticated
from smgrpc.crypto.cluster import ClusterKey, PeerAuthError
from smgrpc.replication.messages import Batch, Reply, Result, WireState, WireVersion

SERVICE = rpb.DESCRIPTOR.services_by_name["Replication"]
METHOD = "/smgrpc.replication.v1.Replication/Push"
MAX_MESSAGE = 64 * 1024 * 1024


class PeerUnavailable(Exception):
    """The peer Region could not be reached or refused the call (retry with backoff)."""


def encode_batch(b: Batch) -> bytes:
    msg = rpb.PushBatch(
        source_region=b.source,
        target_region=b.target,
        prev_seq=b.prev_seq,
        last_seq=b.last_seq,
        snapshot=b.snapshot,
        snapshot_end=b.snapshot_end,
        live_lineages=b.live_lineages,
    )
    for s in b.states:
        st = msg.states.add(
            lineage=s.lineage,
            epoch=s.epoch,
            generation=s.generation,
            primary_arn=s.primary_arn,
            name=s.name,
            removed=s.removed,
            force_overwrite=s.force_overwrite,
            replica_kms_key_id=s.replica_kms_key_id,
            metadata_json=json.dumps(s.metadata, separators=(",", ":")),
            promoted=s.promoted,
        )
        for v in s.versions:
            st.versions.add(
                version_id=v.version_id,
                stages=v.stages,
                created_at=v.created_at,
                sealed_value=v.sealed_value,
                has_value=v.has_value,
            )
    return msg.SerializeToString()


def decode_batch(data: bytes) -> Batch:
    m = rpb.PushBatch.FromString(data)
    states = tuple(
        WireState(
            s.lineage,
            s.epoch,
            s.generation,
            s.primary_arn,
            s.name,
            s.removed,
            s.force_overwrite,
            s.replica_kms_key_id,
            json.loads(s.metadata_json) if s.metadata_json else {},
            tuple(
                WireVersion(
                    v.version_id, tuple(v.stages), v.created_at, v.sealed_value, v.has_value
                )
                for v in s.versions
            ),
            s.promoted,
        )
        for s in m.states
    )
    return Batch(
        m.source_region,
        m.target_region,
        m.prev_seq,
        m.last_seq,
        states,
        m.snapshot,
        m.snapshot_end,
        tuple(m.live_lineages),
    )


def _reply_out(r: Reply) -> rpb.PushReply:
    out = rpb.PushReply(applied_seq=r.applied_seq, gap=r.gap)
    for x in r.results:
        out.results.add(
            lineage=x.lineage,
            outcome=x.outcome,
            message=x.message,
            last_accessed_day=x.last_accessed_day or "",
        )
    return out


def _reply_in(m: Any) -> Reply:
    return Reply(
        m.applied_seq,
        m.gap,
        tuple(
            Result(x.lineage, x.outcome, x.message, x.last_accessed_day or None) for x in m.results
        ),
    )


class PeerClient:
    """Pushes signed batches to one peer Region."""

    def __init__(
        self, source: str, target: str, address: str, key: ClusterKey, timeout: float = 10.0
    ) -> None:
        self.source, self.target, self.key, self.timeout = source, target, key, timeout
        self._channel = grpc.aio.insecure_channel(
            address,
            options=[
                ("grpc.max_send_message_length", MAX_MESSAGE),
                ("grpc.max_receive_message_length", MAX_MESSAGE),
                ("grpc.initial_reconnect_backoff_ms", 100),
                ("grpc.max_reconnect_backoff_ms", 1000),
            ],
        )
        self._stub = rpbg.ReplicationStub(self._channel)  # type: ignore[no-untyped-call]

    async def push(self, batch: Batch) -> Reply:
        body = encode_batch(batch)
        ts = time.time()
        sig = self.key.sign(METHOD, self.source, self.target, ts, body)
        metadata = (
            ("smgrpc-peer-region", self.source),
            ("smgrpc-timestamp", repr(ts)),
            ("smgrpc-signature", sig),
        )
        try:
            reply = await self._stub.Push(
                rpb.PushEnvelope(batch=body), metadata=metadata, timeout=self.timeout
            )
        except grpc.aio.AioRpcError as exc:
            raise PeerUnavailable(f"{exc.code().name}") from None
        return _reply_in(reply)

    async def close(self) -> None:
        await self._channel.close()


class ReplicationServicer:
    """Receives pushes: authenticate (constant time), decode, hand to the applier."""

    def __init__(
        self,
        region: str,
        peers: set[str],
        key: ClusterKey | None,
        apply: Callable[[Batch], Awaitable[Reply]],
    ) -> None:
        self.region, self.peers, self.key, self.apply = region, peers, key, apply
        self._applying: set[asyncio.Future[Reply]] = set()
        # Highest timestamp accepted per peer: a captured push replayed later is refused.
        self._last_ts: dict[str, float] = {}

    async def Push(self, request: rpb.PushEnvelope, context: Any) -> rpb.PushReply:
        md = {k: v for k, v in context.invocation_metadata() or ()}
        source = str(md.get("smgrpc-peer-region", ""))
        try:
            if self.key is None or source not in self.peers:
                raise PeerAuthError("unknown peer")
            ts = float(md.get("smgrpc-timestamp", "0"))
            self.key.verify(
                METHOD,
                source,
                self.region,
                ts,
                request.batch,
                str(md.get("smgrpc-signature", "")),
                time.time(),
            )
            if ts <= self._last_ts.get(source, 0.0):
                raise PeerAuthError("replayed push")
            batch = decode_batch(request.batch)
            if batch.source != source or batch.target != self.region:
                raise PeerAuthError("batch addressed elsewhere")
            self._last_ts[source] = ts
        except (PeerAuthError, ValueError, DecodeError) as exc:
            raise Unauthenticated("Replication calls must be signed by a peer Region.") from exc
        # Once started, an apply runs to completion even if the peer hangs up (or dies) meanwhile.
        # The store's transaction is itself cancellation-safe; this also keeps the applier's
        # post-commit bookkeeping (its cached applied position) from being skipped, which would
        # make the next push look like lost history and cost a needless snapshot.
        task = asyncio.ensure_future(self.apply(batch))
        self._applying.add(task)
        task.add_done_callback(self._applying.discard)
        return _reply_out(await asyncio.shield(task))
