"""Primary side: one shipper per peer Region streams the outbox, in order, with backoff.

A Region that is down is retried with exponential backoff and jitter; local writes never wait
for it (they only append outbox rows and set an event). Acknowledged positions are durable.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time

from smgrpc.core import metadata
from smgrpc.core import replication as repl
from smgrpc.core.errors import DecryptionFailure, ServiceError
from smgrpc.core.model import Sealed, Secret
from smgrpc.core.ports import Cipher
from smgrpc.crypto.cluster import ClusterKey
from smgrpc.replication import messages as m
from smgrpc.replication.transport import PeerClient, PeerUnavailable
from smgrpc.storage.sqlite import SqliteStore

log = logging.getLogger("smgrpc.replication")
BATCH_ROWS = 5000
BATCH_BYTES = 4 * 1024 * 1024
SNAPSHOT_PAGE = 200
PERSIST_EVERY = 1.0  # seconds between durable cursor writes when nothing else changed
UNREADABLE = (
    "A version of this secret can't be decrypted in the primary Region, so it was not replicated."
)


class Shipper:
    """Streams this Region's changes to one replica Region."""

    def __init__(
        self,
        store: SqliteStore,
        cipher: Cipher,
        key: ClusterKey,
        source: str,
        target: str,
        client: PeerClient,
        base_backoff: float = 0.05,
        max_backoff: float = 1.0,
    ) -> None:
        self.store, self.cipher, self.key = store, cipher, key
        self.source, self.target, self.client = source, target, client
        self.base_backoff, self.max_backoff = base_backoff, max_backoff
        self.event = asyncio.Event()
        self.event.set()
        self.failures = 0
        self.last_error: str | None = None
        self.pending: set[str] = set()  # ARNs shipped but not yet acknowledged
        self.acked = 0
        self._persisted_at = 0.0

    def wake(self) -> None:
        self.event.set()

    def behind(self, arn: str) -> str | None:
        """A non-secret status message if this secret's changes are stuck behind a dead link."""
        if self.failures and arn in self.pending:
            return (
                f"Replication to {self.target} is retrying: the Region is unreachable "
                f"({self.last_error})."
            )
        return None

    async def run(self) -> None:
        self.acked = await self.store.cursor(self.target)
        while True:
            await self.event.wait()
            self.event.clear()
            while await self._ship_once():
                pass

    async def _ship_once(self) -> bool:
        """Ship one batch; True if there may be more to ship right away."""
        rows = await self.store.outbox(self.target, self.acked, BATCH_ROWS)
        if not rows:
            self.pending.clear()
            return False
        blobs = await self._fetch([s for s in map(self.store.find, {r[1] for r in rows}) if s])
        batch, used, broken = self._build(rows, blobs)
        if broken:
            await self._mark_broken(broken)
        try:
            reply = await self.client.push(batch)
        except PeerUnavailable as exc:
            await self._backoff(str(exc))
            return True
        self.failures, self.last_error = 0, None
        if reply.gap:
            return await self._on_gap(reply.applied_seq)
        await self._record(reply, used)
        return True

    async def _backoff(self, error: str) -> None:
        self.failures += 1
        self.last_error = error
        delay = min(self.max_backoff, self.base_backoff * 2 ** min(self.failures, 20))
        await asyncio.sleep(delay * random.uniform(0.5, 1.5))

    def _build(
        self, rows: list[tuple[int, str, str, str]], blobs: dict[tuple[str, str], Sealed]
    ) -> tuple[m.Batch, dict[str, Secret], list[Secret]]:
        """Coalesce rows into whole-secret states (later rows are covered by current state)."""
        states: dict[str, m.WireState] = {}
        used: dict[str, Secret] = {}
        broken: list[Secret] = []
        size, last = 0, self.acked
        for seq, arn, lineage, kind in rows:
            if arn not in states:
                if size > BATCH_BYTES and states:
                    break
                secret = self.store.find(arn)
                if kind == repl.PROMOTED:
                    states[arn] = m.WireState(
                        lineage,
                        secret.epoch if secret else 0,
                        0,
                        arn,
                        secret.name if secret else "",
                        promoted=True,
                    )
                    last = seq
                    continue
                if (
                    kind == repl.REMOVE
                    or secret is None
                    or secret.lineage != lineage
                    or self.target not in repl.active_regions(secret)
                ):
                    state = m.WireState(
                        lineage, 0, 0, arn, secret.name if secret else "", removed=True
                    )
                else:
                    try:
                        state = self._state_of(secret, blobs)
                    except ServiceError:
                        broken.append(secret)  # never ship garbage: that Region goes Failed
                        last = seq
                        continue
                    used[arn] = secret
                states[arn] = state
                size += sum(len(v.sealed_value) + 200 for v in state.versions) + 500
            elif kind == repl.REMOVE:
                secret = self.store.find(arn)
                if secret is None or self.target not in repl.active_regions(secret):
                    states[arn] = m.WireState(lineage, 0, 0, arn, states[arn].name, removed=True)
                    used.pop(arn, None)
            last = seq
        self.pending = set(states)
        batch = m.Batch(self.source, self.target, self.acked, last, tuple(states.values()))
        return batch, used, broken

    async def _mark_broken(self, broken: list[Secret]) -> None:
        async with self.store.transaction() as tx:
            for s in broken:
                cur = tx.find_arn(s.arn)
                if cur is not None and self.target in repl.active_regions(cur):
                    log.error(
                        "a version of %s cannot be decrypted here; not replicated to %s",
                        cur.arn,
                        self.target,
                    )
                    await tx.save(repl.set_status(cur, self.target, repl.FAILED, UNREADABLE))
                    await tx.forget(self.target, cur.arn)

    def _state_of(self, secret: Secret, blobs: dict[tuple[str, str], Sealed]) -> m.WireState:
        entry = next(r for r in secret.replicas if r.region == self.target)
        versions = []
        for v in secret.versions:
            if not v.stages:
                continue  # deprecated versions stay in the primary Region
            sealed = b""
            if v.has_value:
                blob = blobs.get((secret.arn, v.version_id))
                if blob is None:
                    raise DecryptionFailure(UNREADABLE)
                plain = self.cipher.open(blob, secret_arn=secret.arn, version_id=v.version_id)
                sealed = self.key.seal_value(
                    plain.to_bytes(),
                    source=self.source,
                    target=self.target,
                    arn=secret.arn,
                    version_id=v.version_id,
                )
            versions.append(
                m.WireVersion(v.version_id, v.stages, v.created_at, sealed, v.has_value)
            )
        return m.WireState(
            secret.lineage or "",
            secret.epoch,
            secret.generation,
            secret.arn,
            secret.name,
            force_overwrite=entry.force_overwrite,
            replica_kms_key_id=entry.kms_key_id or "",
            metadata=metadata.to_dict(secret),
            versions=tuple(versions),
        )

    def _needs_write(self, res: m.Result, shipped: Secret | None) -> bool:
        if shipped is None:
            return False
        cur = self.store.find(shipped.arn)
        entry = next((r for r in cur.replicas if r.region == self.target), None) if cur else None
        if entry is None:
            return False
        if res.outcome in (m.APPLIED, m.SKIPPED):
            return (
                entry.status != repl.IN_SYNC
                or entry.force_overwrite
                or entry.last_accessed_day != res.last_accessed_day
            )
        return res.outcome in (m.PROMOTED, m.NAME_CONFLICT, m.KEY_UNAVAILABLE, m.REFUSED)

    async def _record(self, reply: m.Reply, used: dict[str, Secret]) -> None:
        """Record the ack and each secret's outcome (status, fencing).

        Status changes are committed at once. The cursor alone is persisted at most once a
        second: a lost cursor only means a resend, which the replica answers with its applied
        position (gap protocol), so every push does not cost the primary an fsync.
        """
        by_lineage = {s.lineage: s for s in used.values()}
        self.acked = max(self.acked, reply.applied_seq)
        changes = [
            res for res in reply.results if self._needs_write(res, by_lineage.get(res.lineage))
        ]
        if not changes and time.monotonic() - self._persisted_at < PERSIST_EVERY:
            return
        async with self.store.transaction() as tx:
            await tx.ack(self.target, self.acked)
            for res in changes:
                shipped = by_lineage[res.lineage]
                cur = tx.find_arn(shipped.arn)
                if cur is None or self.target not in {r.region for r in cur.replicas}:
                    continue
                if res.outcome == m.PROMOTED:
                    log.warning(
                        "%s was promoted in %s: no longer replicating there", cur.arn, self.target
                    )
                    await tx.save(repl.drop_region(cur, self.target))
                    await tx.forget(self.target, cur.arn)
                elif res.outcome in (m.NAME_CONFLICT, m.KEY_UNAVAILABLE, m.REFUSED):
                    await tx.save(
                        repl.set_status(
                            cur, self.target, repl.FAILED, res.message, force_overwrite=False
                        )
                    )
                    await tx.forget(self.target, cur.arn)
                else:
                    await tx.save(
                        repl.set_status(
                            cur,
                            self.target,
                            repl.IN_SYNC,
                            "Replication succeeded",
                            force_overwrite=False,
                            last_accessed_day=res.last_accessed_day,
                        )
                    )
        self._persisted_at = time.monotonic()

    async def _on_gap(self, applied: int) -> bool:
        if applied >= self.acked:
            # The replica is ahead of our record (we died before saving its ack, or a reply was
            # lost): catch up. The outcomes of (acked, applied] (InSync, Failed, promoted) were
            # never recorded here, so those changes go out once more; re-applying is a no-op.
            async with self.store.transaction() as tx:
                await tx.requeue(self.target, self.acked, applied)
                await tx.ack(self.target, applied)
            self.acked = applied
            self._persisted_at = time.monotonic()
            return True
        log.warning(
            "%s lost history (applied %d < acked %d): sending a snapshot",
            self.target,
            applied,
            self.acked,
        )
        await self._snapshot(applied)
        return True

    async def _snapshot(self, applied: int) -> None:
        """Every secret replicated to the target, in pages, then resume the stream."""
        upto = self.acked
        secrets = [s for s in self.store.all() if self.target in repl.active_regions(s)]
        blobs = await self._fetch(secrets)
        lineages = tuple(s.lineage or "" for s in secrets)
        pages = [secrets[i : i + SNAPSHOT_PAGE] for i in range(0, len(secrets), SNAPSHOT_PAGE)] or [
            []
        ]
        for i, page in enumerate(pages):
            end = i == len(pages) - 1
            batch = m.Batch(
                self.source,
                self.target,
                applied,
                upto,
                tuple(self._state_of(s, blobs) for s in page),
                snapshot=True,
                snapshot_end=end,
                live_lineages=lineages if end else (),
            )
            while True:
                try:
                    reply = await self.client.push(batch)
                    break
                except PeerUnavailable as exc:
                    await self._backoff(str(exc))
            self.failures = 0
            await self._record(reply, {s.arn: s for s in page})

    async def _fetch(self, secrets: list[Secret]) -> dict[tuple[str, str], Sealed]:
        """Sealed blobs of the labeled versions (the ones that replicate)."""
        out: dict[tuple[str, str], Sealed] = {}
        for s in secrets:
            for v in s.versions:
                if v.stages and v.has_value:
                    blob = await self.store.sealed(s.arn, v.version_id)
                    if blob is not None:
                        out[(s.arn, v.version_id)] = blob
        return out
