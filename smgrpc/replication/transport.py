"""The replication modules that touch protobuf and grpc: encoding, client, servicer (this one)
and the IAM snapshot encoding (iam_wire.py)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import Any, NoReturn, Protocol, TypeVar

import grpc
from google.protobuf.message import DecodeError

from smgrpc._pb.replication.v1 import replication_pb2 as rpb
from smgrpc._pb.replication.v1 import replication_pb2_grpc as rpbg
from smgrpc.core.errors import error_kind
from smgrpc.crypto.certs import region_dns
from smgrpc.crypto.cluster import ClusterKey, PeerAuthError
from smgrpc.replication import iam_wire as iw
from smgrpc.replication.limits import MAX_BATCH_BYTES, MAX_MESSAGE
from smgrpc.replication.messages import (
    Batch,
    ReplayedPush,
    Reply,
    Result,
    WireState,
    WireVersion,
)
from smgrpc.replication.ratelog import Throttled

SERVICE = rpb.DESCRIPTOR.services_by_name["Replication"]
METHOD = "/smgrpc.replication.v1.Replication/Push"
IAM_METHOD = "/smgrpc.replication.v1.Replication/PushIam"
MOVE_METHOD = "/smgrpc.replication.v1.Replication/MoveIamRegion"
STATUS_METHOD = "/smgrpc.replication.v1.Replication/IamStatus"
REFUSED = "Replication calls must be signed by a peer Region."
log = logging.getLogger("smgrpc.replication")
T = TypeVar("T")
M = TypeVar("M")


class PeerUnavailable(Exception):
    """The peer Region could not be reached or refused the call (retry with backoff)."""


class BatchTooLarge(Exception):
    """An encoded batch over MAX_BATCH_BYTES (a shipper bug: it sizes batches before sending)."""


class IamTooLarge(Exception):
    """An IAM snapshot whose encoding exceeds MAX_BATCH_BYTES (it is never sent)."""


def signed_metadata(key: ClusterKey, method: str, source: str, target: str, body: bytes) -> Any:
    ts = time.time()
    return (
        ("smgrpc-peer-region", source),
        ("smgrpc-timestamp", repr(ts)),
        ("smgrpc-signature", key.sign(method, source, target, ts, body)),
    )


# The caller's certificate, from grpc's auth context: the Region it names, or None.
PeerIdentity = Callable[[Mapping[str, Iterable[bytes]]], "str | None"]


@dataclass(frozen=True)
class PeerTls:
    """What a shipper dials with: the peer CA as the only root, and its own peer certificate."""

    peer_ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes = field(repr=False)


def peer_channel(
    address: str, tls: PeerTls | None = None, target: str | None = None
) -> grpc.aio.Channel:
    """A channel to a peer Region (TLS: it must prove it is `target` by its peer certificate)."""
    options: list[tuple[str, Any]] = [
        ("grpc.max_send_message_length", MAX_MESSAGE),
        ("grpc.max_receive_message_length", MAX_MESSAGE),
        ("grpc.initial_reconnect_backoff_ms", 100),
        ("grpc.max_reconnect_backoff_ms", 1000),
    ]
    if tls is None:
        return grpc.aio.insecure_channel(address, options=options)
    # The target's peer certificate (chosen by SNI on its mTLS port) has to name it, whatever
    # host the address uses.
    creds = grpc.ssl_channel_credentials(tls.peer_ca_pem, tls.key_pem, tls.cert_pem)
    if target is not None:
        options.append(("grpc.ssl_target_name_override", region_dns(target)))
    return grpc.aio.secure_channel(address, creds, options=options)


def _state_msg(s: WireState) -> rpb.SecretState:
    st = rpb.SecretState(
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
    return st


def _field_size(payload: int) -> int:
    """Bytes of one length-delimited field (tag < 16, length varint, payload) in an encoding."""
    return 1 + max(1, (payload.bit_length() + 6) // 7) + payload


def state_size(s: WireState) -> int:
    """Exact bytes this state adds to an encoded PushBatch (measured on its real encoding)."""
    return _field_size(_state_msg(s).ByteSize())


def lineage_size(lineage: str) -> int:
    """Exact bytes one entry of live_lineages adds to an encoded PushBatch."""
    return _field_size(len(lineage.encode()))


def header_size(b: Batch) -> int:
    """Exact encoded size of the batch without its states (its real encoding)."""
    return len(encode_batch(replace(b, states=())))


def encode_batch(b: Batch) -> bytes:
    msg = rpb.PushBatch(
        source_region=b.source,
        target_region=b.target,
        prev_seq=b.prev_seq,
        last_seq=b.last_seq,
        snapshot=b.snapshot,
        snapshot_end=b.snapshot_end,
        live_lineages=b.live_lineages,
        lineage_after=b.lineage_after,
        lineage_upto=b.lineage_upto,
        source_incarnation=b.incarnation,
    )
    msg.states.extend(_state_msg(s) for s in b.states)
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
        m.lineage_after,
        m.lineage_upto,
        m.source_incarnation,
    )


def _reply_out(r: Reply) -> rpb.PushReply:
    out = rpb.PushReply(
        applied_seq=r.applied_seq, gap=r.gap, incarnation=r.incarnation, resync=r.resync
    )
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
        m.incarnation,
        m.resync,
    )


MIN_PUSH_RATE = 128 * 1024  # bytes/s a push may need at least: 8 MiB get 64 s more


class PeerClient:
    """Pushes signed batches and IAM snapshots to one peer Region (TLS when configured)."""

    def __init__(
        self,
        source: str,
        target: str,
        address: str,
        key: ClusterKey,
        timeout: float = 10.0,
        tls: PeerTls | None = None,
    ) -> None:
        self.source, self.target, self.key, self.timeout = source, target, key, timeout
        self._channel = peer_channel(address, tls, target)
        self._stub = rpbg.ReplicationStub(self._channel)  # type: ignore[no-untyped-call]

    async def push(self, batch: Batch) -> Reply:
        body = encode_batch(batch)
        if len(body) > MAX_BATCH_BYTES:
            raise BatchTooLarge(f"{len(body)} encoded bytes > {MAX_BATCH_BYTES}")
        metadata = signed_metadata(self.key, METHOD, self.source, self.target, body)
        try:
            # The deadline grows with the body: a full batch on a slow link must arrive before
            # it, or the same batch would be cut off and resent forever.
            timeout = self.timeout + len(body) / MIN_PUSH_RATE
            reply = await self._stub.Push(
                rpb.PushEnvelope(batch=body), metadata=metadata, timeout=timeout
            )
        except grpc.aio.AioRpcError as exc:
            raise PeerUnavailable(f"{exc.code().name}") from None
        return _reply_in(reply)

    async def push_iam(self, push: iw.IamPush) -> iw.IamAck:
        body = iw.encode_push(push)
        if len(body) > MAX_BATCH_BYTES:
            raise IamTooLarge(f"{len(body)} encoded bytes > {MAX_BATCH_BYTES}")
        metadata = signed_metadata(self.key, IAM_METHOD, self.source, self.target, body)
        try:
            reply = await self._stub.PushIam(
                rpb.PushEnvelope(batch=body),
                metadata=metadata,
                timeout=self.timeout + len(body) / MIN_PUSH_RATE,
            )
        except grpc.aio.AioRpcError as exc:
            raise PeerUnavailable(f"{exc.code().name}") from None
        return iw.ack_in(reply)

    async def close(self) -> None:
        await self._channel.close()


class _RawEnvelope:
    """Request "class" of the Push handler: the servicer gets the raw bytes, and decodes them
    only after the call is authenticated (nothing of an unauthenticated body is parsed)."""

    @staticmethod
    def FromString(data: bytes) -> bytes:  # noqa: N802 - the name protobuf classes use
        return data


# Stands in for the generated module when the server's generic handler is built.
WIRE = SimpleNamespace(PushEnvelope=_RawEnvelope, PushReply=rpb.PushReply, IamReply=rpb.IamReply)
Apply = Callable[[Batch, float], Awaitable[Reply]]


class IamEndpoint(Protocol):
    """This Region's side of IAM replication (replication.iam_receiver.IamReceiver)."""

    async def push(self, push: iw.IamPush, accepted_at: float) -> iw.IamAck: ...
    async def move(self, request: iw.MoveRequest, accepted_at: float) -> iw.IamAck: ...
    def status(self) -> iw.IamAck: ...


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ReplicationServicer:
    """Receives pushes: authenticate (constant time) before anything else, then decode and hand
    to the applier. Every refusal is the same bare UNAUTHENTICATED, and is logged (rate-limited,
    with the peer's address and the reason; never any byte of the body). IAM snapshots
    (PushIam) and the operator's MoveIamRegion are authenticated the same way, each method
    with its own signature domain and replay mark.

    peer_identity (peer TLS configured): a push (secrets or IAM) must also come with a peer-CA
    certificate that names its source Region, so a Region holding the shared cluster key still
    cannot push as another; the HMAC stays as defence in depth (and the cluster key seals the
    values inside). The operator's calls (source "operator") are authenticated by the cluster
    secret alone.
    """

    def __init__(
        self,
        region: str,
        peers: Collection[str],
        key: ClusterKey | None,
        apply: Apply,
        iam: IamEndpoint | None = None,
        peer_identity: PeerIdentity | None = None,
    ) -> None:
        self.region, self.peers, self.key, self.apply = region, peers, key, apply
        self.iam = iam
        self.peer_identity = peer_identity
        self._applying: set[asyncio.Future[Any]] = set()
        # A fast pre-check per (method, source); the durable replay marks are checked and
        # raised by the applier / IAM receiver (they survive restarts).
        self._last_ts: dict[tuple[str, str], float] = {}
        self._refusals = Throttled(log, every=10.0)

    async def Push(self, request: bytes, context: Any) -> rpb.PushReply:  # noqa: N802
        batch, source, ts = await self._admit(
            context, request, METHOD, decode_batch, "batch", self._from_to_me, peer=True
        )
        reply = await self._complete(context, METHOD, source, ts, self.apply(batch, ts))
        return _reply_out(reply)

    async def PushIam(self, request: bytes, context: Any) -> rpb.IamReply:  # noqa: N802
        what, to_me = "IAM snapshot", self._from_to_me
        push, source, ts = await self._admit(
            context, request, IAM_METHOD, iw.decode_push, what, to_me, peer=True
        )
        iam = await self._iam(context, source, "this Region takes no IAM snapshots")
        ack = await self._complete(context, IAM_METHOD, source, ts, iam.push(push, ts))
        return iw.ack_out(ack)

    async def MoveIamRegion(self, request: bytes, context: Any) -> rpb.IamReply:  # noqa: N802
        move, source, ts = await self._admit(
            context, request, MOVE_METHOD, iw.decode_move, "IAM move", self._to_me, peer=False
        )
        iam = await self._iam(context, source, "this Region takes no IAM moves")
        ack = await self._complete(context, MOVE_METHOD, source, ts, iam.move(move, ts))
        return iw.ack_out(ack)

    async def IamStatus(self, request: bytes, context: Any) -> rpb.IamReply:  # noqa: N802
        what, to_me = "IAM status call", self._names_me
        _, source, _ = await self._admit(
            context, request, STATUS_METHOD, iw.decode_status, what, to_me, peer=False
        )
        iam = await self._iam(context, source, f"{what} addressed elsewhere")
        return iw.ack_out(iam.status())  # a read: a replay is harmless, no mark kept

    def _from_to_me(self, m: Batch | iw.IamPush, source: str) -> bool:
        return m.source == source and m.target == self.region

    def _to_me(self, m: iw.MoveRequest, _source: str) -> bool:
        return m.target == self.region

    def _names_me(self, target: str, _source: str) -> bool:
        return target == self.region

    async def _admit(
        self,
        context: Any,
        request: bytes,
        method: str,
        decode: Callable[[bytes], M],
        what: str,
        addressed: Callable[[M, str], bool],
        *,
        peer: bool,
    ) -> tuple[M, str, float]:
        """(message, source, timestamp) of a signed call from a peer Region (peer: certificate
        checked) or the operator, else refused (UNAUTHENTICATED, logged): signature and replay,
        then `decode` (after authentication only) and `addressed`; `what` names the message."""
        md = {k: v for k, v in context.invocation_metadata() or ()}
        source = str(md.get("smgrpc-peer-region", ""))
        try:
            if peer:
                self._check_certificate(context, source)
            known = source in self.peers if peer else source == iw.OPERATOR
            body, ts = self._verify(method, request, md, source, known)
            try:
                message = decode(body)
            except (ValueError, DecodeError):
                raise _Refused(f"signed {what} does not decode") from None
            if not addressed(message, source):
                raise _Refused(f"{what} addressed elsewhere")
        except _Refused as exc:
            await self._refuse(context, source, exc.reason)
        return message, source, ts

    async def _iam(self, context: Any, source: str, reason: str) -> IamEndpoint:
        """This Region's IAM endpoint, or the call is refused with `reason`."""
        if self.iam is None:
            await self._refuse(context, source, reason)
        return self.iam

    async def _complete(
        self, context: Any, method: str, source: str, ts: float, work: Awaitable[T]
    ) -> T:
        # Once started, an apply runs to completion even if the peer hangs up (or dies)
        # meanwhile. The store's transaction is itself cancellation-safe; this also keeps the
        # applier's post-commit bookkeeping (its cached positions) from being skipped, which
        # would make the next push look like lost history and cost a needless snapshot.
        task = asyncio.ensure_future(work)
        self._applying.add(task)
        task.add_done_callback(self._settled)
        try:
            result = await asyncio.shield(task)
        except ReplayedPush:  # the applier's durable mark (survives restarts)
            await self._refuse(context, source, "replayed push")
        key = (method, source)
        self._last_ts[key] = max(ts, self._last_ts.get(key, 0.0))
        return result

    def _settled(self, task: asyncio.Future[Any]) -> None:
        self._applying.discard(task)
        # Retrieved here: a caller that hung up never awaits it, and asyncio would log the
        # exception's message (which may hold secret text). The type is enough.
        exc = None if task.cancelled() else task.exception()
        if exc is not None:
            log.error("a replication apply failed: %s", error_kind(exc))

    async def drain(self) -> None:
        """Wait for the applies already started (shutdown: before storage closes)."""
        while self._applying:
            await asyncio.wait(list(self._applying))

    def _check_certificate(self, context: Any, source: str) -> None:
        if self.peer_identity is None:
            return
        named = self.peer_identity(context.auth_context() or {})
        if named is None:
            raise _Refused("no peer certificate from the peer CA")
        if named != source:
            raise _Refused(f"peer certificate names Region {named}")

    def _verify(
        self, method: str, request: bytes, md: dict[str, Any], source: str, known: bool
    ) -> tuple[bytes, float]:
        """The signed body of a call from `source` (known: a source this method accepts)."""
        if self.key is None:
            raise _Refused("this Region has no cluster secret")
        if not known:
            raise _Refused("unknown peer Region")
        try:
            ts = float(md.get("smgrpc-timestamp", "0"))
            body = rpb.PushEnvelope.FromString(request).batch
            self.key.verify(
                method,
                source,
                self.region,
                ts,
                body,
                str(md.get("smgrpc-signature", "")),
                time.time(),
            )
        except (PeerAuthError, ValueError, DecodeError):
            raise _Refused("bad signature, clock skew or malformed envelope") from None
        if ts <= self._last_ts.get((method, source), 0.0):
            raise _Refused("replayed push")
        return body, ts

    async def _refuse(self, context: Any, source: str, reason: str) -> NoReturn:
        peer = str(context.peer() or "?")
        self._refusals.log(
            logging.WARNING,
            f"{peer.rsplit(':', 1)[0]}:{reason}",  # per host: a reconnecting client is one key
            "refused a replication push from %s (claims Region %r): %s",
            peer,
            source[:64],
            reason,
        )
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, REFUSED)
        raise AssertionError("context.abort returned")  # it always raises
