"""Receiving side of IAM replication: apply a newer IAM snapshot, or become the IAM Region.

A snapshot is applied only if its (epoch, generation) is higher than this Region's; anything
else (a duplicate, a late resend, a fenced old holder's push) is acknowledged as a no-op with
this Region's version, from which the sender learns it is behind. Access-key secrets arrive
sealed under the cluster's IAM wire key and are re-sealed under this Region's master key
(KeyMinter.reseal), so no two Regions store the same ciphertext or digest; a key this Region
already holds keeps its stored form (an AccessKeyId's secret never changes). The commit is one
iam_commit, and the in-memory snapshot is swapped after it, so a credential change takes
effect on the next call here.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Protocol, TypeVar

from smgrpc.core.iam.model import AccessKey, IamState
from smgrpc.core.ports import Store
from smgrpc.core.slices import Slicer
from smgrpc.crypto.cluster import ClusterKey
from smgrpc.replication import iam_wire as iw
from smgrpc.replication.messages import ReplayedPush

log = logging.getLogger("smgrpc.replication")
T = TypeVar("T")
# An epoch moves by one per operator move; a push or move asking for more than this jump is
# refused (an epoch near the int64 limit would wedge every later move).
MAX_EPOCH_JUMP = 1000
MARK_SUFFIX = "#iam"  # replay marks of IAM pushes live next to the batch ones, keyed apart


class IamSink(Protocol):
    """What the receiver needs of IamUseCases."""

    @property
    def state(self) -> IamState: ...

    async def apply_replicated(self, incoming: IamState) -> bool: ...


class Resealer(Protocol):
    def reseal(self, access_key_id: str, secret: str) -> tuple[bytes, bytes]: ...


def version(s: IamState) -> iw.Version:
    return (s.epoch, s.generation)


def ack(s: IamState, applied: bool = False) -> iw.IamAck:
    return iw.IamAck(s.holder, s.epoch, s.generation, applied)


class IamReceiver:
    """Applies IAM snapshots pushed by the IAM Region and the operator's moves to this one."""

    def __init__(
        self, store: Store, iam: IamSink, minter: Resealer, key: ClusterKey, region: str
    ) -> None:
        self.store, self.iam, self.minter, self.key, self.region = store, iam, minter, key, region
        self._marks: dict[str, float] = {}
        self._lock = asyncio.Lock()  # one push or move at a time: versions compare in order

    async def push(self, push: iw.IamPush, accepted_at: float) -> iw.IamAck:
        async with self._lock:
            await self._mark(push.source + MARK_SUFFIX, accepted_at)
            cur = self.iam.state
            if push.version <= version(cur):
                return ack(cur)
            if push.holder != push.source or push.account != cur.account:
                log.error(
                    "ignored an IAM snapshot from %s: it names IAM Region %r, account %r",
                    push.source,
                    push.holder[:64],
                    push.account[:64],
                )
                return ack(cur)
            if push.epoch == cur.epoch and push.source != cur.holder:
                # Only the IAM Region of an epoch writes IAM in it; another Region claiming it
                # at the same epoch is misconfigured (two --iam-region) or hostile. A holder
                # change needs a higher epoch, which only an operator move makes.
                log.error(
                    "refused an IAM snapshot from %s: the IAM Region of epoch %d is %s "
                    "(check --iam-region; moving it is `smgrpc iam-region move`)",
                    push.source,
                    cur.epoch,
                    cur.holder,
                )
                return ack(cur)
            if push.epoch > cur.epoch + MAX_EPOCH_JUMP:
                log.error(
                    "refused an IAM snapshot from %s: epoch %d jumps more than %d past %d",
                    push.source,
                    push.epoch,
                    MAX_EPOCH_JUMP,
                    cur.epoch,
                )
                return ack(cur)
            incoming = await self._state(push, cur)
            if cur.holder == self.region and push.epoch > cur.epoch:
                log.warning(
                    "the IAM Region moved to %s (epoch %d): this Region no longer accepts IAM "
                    "writes; its own IAM state (epoch %d, generation %d) is superseded, so IAM "
                    "writes made here that %s had not received are discarded",
                    push.holder,
                    push.epoch,
                    cur.epoch,
                    cur.generation,
                    push.holder,
                )
            applied = await self.iam.apply_replicated(incoming)
            if applied and incoming.holder != cur.holder:
                log.info("IAM Region is now %s (epoch %d)", incoming.holder, incoming.epoch)
            return ack(self.iam.state, applied)

    async def move(self, request: iw.MoveRequest, accepted_at: float) -> iw.IamAck:
        """Become the IAM Region at an epoch above every one this Region has seen (and above
        the operator's min_epoch); idempotent if it already is at such an epoch."""
        async with self._lock:
            await self._mark(iw.OPERATOR + MARK_SUFFIX, accepted_at)
            cur = self.iam.state
            if cur.holder == self.region and cur.epoch > request.min_epoch:
                return ack(cur)
            if request.min_epoch > cur.epoch + MAX_EPOCH_JUMP:
                log.error(
                    "refused an IAM move: min epoch %d is more than %d past epoch %d",
                    request.min_epoch,
                    MAX_EPOCH_JUMP,
                    cur.epoch,
                )
                return ack(cur)
            new = replace(cur, holder=self.region, epoch=max(cur.epoch, request.min_epoch) + 1)
            applied = await self.iam.apply_replicated(new)
            if applied:
                log.warning(
                    "this Region is now the IAM Region (epoch %d, was %s at epoch %d): "
                    "operator move",
                    new.epoch,
                    cur.holder,
                    cur.epoch,
                )
            return ack(self.iam.state, applied)

    def status(self) -> iw.IamAck:
        return ack(self.iam.state)

    async def _mark(self, name: str, accepted_at: float) -> None:
        """The durable replay guard (survives restarts), one mark per source and purpose."""
        mark = self._marks.get(name)
        if mark is None:
            async with self.store.transaction() as tx:
                mark = await tx.replay_mark(name)
        if accepted_at <= mark:
            raise ReplayedPush()
        async with self.store.transaction() as tx:
            await tx.set_replay_mark(name, accepted_at)
        self._marks[name] = accepted_at

    async def _state(self, push: iw.IamPush, cur: IamState) -> IamState:
        keys: dict[str, AccessKey] = {}
        slicer = Slicer()
        for wk in push.keys:
            await slicer.tick()
            have = cur.keys.get(wk.access_key_id)
            if have is not None and have.user_name == wk.user_name:
                sealed, digest = have.sealed, have.digest
            else:
                secret = self.key.open_access_key(
                    wk.sealed_secret,
                    source=push.source,
                    target=self.region,
                    access_key_id=wk.access_key_id,
                )
                sealed, digest = self.minter.reseal(wk.access_key_id, secret)
                del secret
            k = AccessKey(wk.access_key_id, wk.user_name, wk.status, wk.created_at, sealed, digest)
            keys[wk.access_key_id] = have if have == k else k
        # Unchanged entities stay the very objects of the current state: the store's commit
        # skips those, so a push writes only what changed.
        return IamState(
            account=cur.account,
            holder=push.holder,
            epoch=push.epoch,
            generation=push.generation,
            users={u.name: _same(cur.users.get(u.name), u) for u in push.users},
            roles={r.name: _same(cur.roles.get(r.name), r) for r in push.roles},
            keys=keys,
        )


def _same(old: T | None, new: T) -> T:
    return old if old is not None and old == new else new
