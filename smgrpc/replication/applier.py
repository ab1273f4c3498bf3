"""Replica side: apply a batch in order, exactly once, in one transaction with its position."""

from __future__ import annotations

import bisect
import logging

from smgrpc.core import arn as arns
from smgrpc.core import metadata
from smgrpc.core import replication as repl
from smgrpc.core.errors import ServiceError
from smgrpc.core.model import DEFAULT_KMS_ALIAS, Sealed, Secret, SecretValue, Version
from smgrpc.core.ports import Cipher, Store, WriteTx
from smgrpc.core.replication import NAME_EXISTS
from smgrpc.core.slices import Slicer
from smgrpc.crypto.cluster import ClusterKey, PeerAuthError
from smgrpc.replication import messages as m

log = logging.getLogger("smgrpc.replication")


class Applier:
    """Installs, updates and removes replicas of other Regions' secrets in this Region."""

    def __init__(
        self, store: Store, cipher: Cipher, key: ClusterKey, region: str, incarnation: str = ""
    ) -> None:
        """incarnation: this data dir's (sent in every reply; see README "Backup and restore")."""
        self.store, self.cipher, self.key, self.region = store, cipher, key, region
        self.incarnation = incarnation
        # Caches of repl_applied and repl_replay; this class is their only writer.
        self._applied: dict[str, int] = {}
        self._from: dict[str, str] = {}  # source Region -> its incarnation applied from
        self._marks: dict[str, float] = {}
        # Per source Region, during a snapshot: its replicas here as sorted (lineage, arn).
        self._orphans: dict[str, list[tuple[str, str]]] = {}

    async def apply(self, batch: m.Batch, accepted_at: float) -> m.Reply:
        """Apply an authenticated batch signed at `accepted_at` (raises ReplayedPush if that is
        not later than every push accepted from its source before, across restarts)."""
        async with self.store.transaction() as tx:
            mark = self._marks.get(batch.source)
            if mark is None:
                mark = self._marks[batch.source] = await tx.replay_mark(batch.source)
            if accepted_at <= mark:
                raise m.ReplayedPush()
            # Persisted in the apply's own transaction: committed with it, or not at all.
            await tx.set_replay_mark(batch.source, accepted_at)
            applied = self._applied.get(batch.source)
            if applied is None:
                applied = self._applied[batch.source] = await tx.applied(batch.source)
            came_from = self._from.get(batch.source)
            if came_from is None:
                came_from = await tx.applied_incarnation(batch.source)
            reply, applied, came_from = await self._apply_batch(tx, batch, applied, came_from)
        # Only after COMMIT (a failed commit leaves the caches on the durable values).
        self._marks[batch.source] = accepted_at
        self._applied[batch.source] = applied
        self._from[batch.source] = came_from
        return reply

    async def _apply_batch(
        self, tx: WriteTx, batch: m.Batch, applied: int, came_from: str
    ) -> tuple[m.Reply, int, str]:
        """(the reply, the position and source incarnation applied from afterwards)."""
        if batch.incarnation and not came_from:
            # First contact: nothing applied yet, so nothing can have gone backwards. Or a
            # position recorded before incarnations existed (an upgraded data dir): adopted,
            # not a resync (README "Backup and restore"); the gap protocol settles a position
            # that differs (the source's cursor is persisted lazily, so it may lag).
            await tx.set_applied(batch.source, applied, batch.incarnation)
            came_from = batch.incarnation
        # A source restored from a backup (another incarnation) may reuse positions this
        # Region already applied, for other changes: resync with a snapshot of its state.
        resync = bool(batch.incarnation) and batch.incarnation != came_from
        if resync and not batch.snapshot:
            if applied or came_from:
                log.warning(
                    "%s has a new incarnation (restored from a backup?): asking for a snapshot",
                    batch.source,
                )
            reply = m.Reply(0, gap=True, incarnation=self.incarnation, resync=True)
            return reply, applied, came_from
        stale_snapshot = batch.snapshot_end and batch.last_seq < applied and not resync
        if (not batch.snapshot and batch.prev_seq != applied) or stale_snapshot:
            # Duplicate, reordered or lost history: never apply out of order.
            return m.Reply(applied, gap=True, incarnation=self.incarnation), applied, came_from
        results = [await self._apply_state(tx, batch, st, resync) for st in batch.states]
        if batch.snapshot:
            await self._drop_orphans(tx, batch)
        if not batch.snapshot or batch.snapshot_end:
            await tx.set_applied(batch.source, batch.last_seq, batch.incarnation or None)
            applied = batch.last_seq
            came_from = batch.incarnation or came_from
        elif resync:
            # A page of a resync: the old incarnation's position means nothing to the source.
            reply = m.Reply(0, results=tuple(results), incarnation=self.incarnation)
            return reply, applied, came_from
        reply = m.Reply(applied, results=tuple(results), incarnation=self.incarnation)
        return reply, applied, came_from

    async def _drop_orphans(self, tx: WriteTx, batch: m.Batch) -> None:
        """Replicas of the source in this page's lineage range that the primary no longer has.

        The source's replicas, sorted by lineage, are listed once per snapshot (at its first
        page, or whenever a page finds no list, e.g. after a restart) and each page bisects its
        range: a page costs its range, not a pass over every secret of this Region.
        """
        keep = set(batch.live_lineages) | {st.lineage for st in batch.states}
        lo, hi = batch.lineage_after, batch.lineage_upto
        if not hi and not batch.snapshot_end:
            return  # only the last page is unbounded above
        index = self._orphans.get(batch.source)
        if index is None or not lo:
            index = self._orphans[batch.source] = sorted(
                (s.lineage, s.arn)
                for s in self.store.all()
                if s.is_replica and s.primary_region == batch.source and s.lineage is not None
            )
        start = bisect.bisect_right(index, (lo, "\U0010ffff"))
        slicer = Slicer()
        for lineage, arn in index[start:]:
            if hi and lineage > hi:
                break
            await slicer.tick()
            cur = tx.find_arn(arn)  # the list may be stale: decide on the current state
            if (
                cur is not None
                and cur.is_replica
                and cur.primary_region == batch.source
                and cur.lineage == lineage
                and lineage not in keep
            ):
                await tx.delete(cur)
        if batch.snapshot_end:
            self._orphans.pop(batch.source, None)

    async def _apply_state(
        self, tx: WriteTx, batch: m.Batch, st: m.WireState, resync: bool = False
    ) -> m.Result:
        """resync: a snapshot of a restored source, whose generations may have gone back: its
        state replaces the replica's whatever the generations."""
        my_arn = arns.with_region(st.primary_arn, self.region)
        local = tx.find_arn(my_arn) or tx.find(st.name)
        ours = local is not None and local.lineage == st.lineage
        if st.promoted:
            return await self._forget_promoted(tx, batch.source, st, local if ours else None)
        if st.removed:
            if (
                ours
                and local is not None
                and local.is_replica
                and local.primary_region == batch.source
            ):
                await tx.delete(local)
                return m.Result(st.lineage, m.REMOVED)
            return m.Result(st.lineage, m.SKIPPED)
        if local is not None and ours:
            if not local.is_replica or st.epoch < local.epoch:
                # Promoted here (StopReplicationToReplica): the old primary is fenced.
                return m.Result(
                    st.lineage,
                    m.PROMOTED,
                    "The replica was promoted to a standalone primary secret in this Region.",
                )
            if local.primary_region != batch.source:
                return m.Result(
                    st.lineage,
                    m.REFUSED,
                    "The secret in this Region replicates from another Region.",
                )
            if st.generation <= local.generation and not st.force_overwrite and not resync:
                return m.Result(st.lineage, m.SKIPPED, last_accessed_day=local.last_accessed_day)
        elif local is not None:
            if not st.force_overwrite:
                return m.Result(st.lineage, m.NAME_CONFLICT, NAME_EXISTS)
            if local.replicas or local.is_replica:
                return m.Result(
                    st.lineage,
                    m.REFUSED,
                    "A secret with this name exists in this "
                    "region and is itself replicated; it was not overwritten.",
                )
        try:
            installed = await self._install(tx, batch.source, st, my_arn, local if ours else None)
        except ServiceError as exc:
            return m.Result(st.lineage, m.KEY_UNAVAILABLE, exc.message)
        if local is not None and not ours:
            await tx.delete(local)  # ForceOverwriteReplicaSecret: replaced in this transaction
        await tx.save(installed[0], installed[1])
        return m.Result(st.lineage, m.APPLIED, last_accessed_day=installed[0].last_accessed_day)

    async def _forget_promoted(
        self, tx: WriteTx, source: str, st: m.WireState, local: Secret | None
    ) -> m.Result:
        """Our replica in `source` was promoted there: stop replicating to it (no retry storm)."""
        if local is None or local.is_replica or source not in {r.region for r in local.replicas}:
            return m.Result(st.lineage, m.SKIPPED)
        log.warning("%s was promoted in %s: no longer replicating there", local.arn, source)
        await tx.save(repl.drop_region(local, source))
        await tx.forget(source, local.arn)
        return m.Result(st.lineage, m.APPLIED)

    async def _install(
        self, tx: WriteTx, source: str, st: m.WireState, my_arn: str, local: Secret | None
    ) -> tuple[Secret, dict[str, Sealed]]:
        kms = st.replica_kms_key_id or None
        key = self.cipher.check_usable(kms)  # raises if the key is unknown or disabled here
        old = {v.version_id: v for v in local.versions} if local is not None else {}
        versions, blobs = [], {}
        for wv in st.versions:
            prev = old.get(wv.version_id)
            # (version id, created_at) identifies a value: an AWSPENDING version refilled on the
            # primary gets a new created_at, so it is re-sealed here.
            unchanged = (
                prev is not None
                and prev.created_at == wv.created_at
                and prev.has_value == wv.has_value
                and prev.kms_key_id == key.key_id
            )
            if wv.has_value and not unchanged:
                try:
                    plain = self.key.open_value(
                        wv.sealed_value,
                        source=source,
                        target=self.region,
                        arn=st.primary_arn,
                        version_id=wv.version_id,
                    )
                except PeerAuthError:
                    log.error("replicated version failed authentication (lineage %s)", st.lineage)
                    raise
                # Re-encrypt under this Region's key, bound to this Region's ARN.
                blobs[wv.version_id] = self.cipher.seal(
                    SecretValue.from_bytes(plain),
                    ref=kms,
                    secret_arn=my_arn,
                    version_id=wv.version_id,
                )
            versions.append(
                Version(
                    wv.version_id,
                    wv.created_at,
                    wv.stages,
                    key.key_id,
                    wv.has_value,
                    prev.last_accessed_day if prev else None,
                )
            )
        secret = Secret(
            arn=my_arn,
            name=st.name,
            kms_key_id=None if kms in (None, DEFAULT_KMS_ALIAS) else kms,
            last_accessed_day=local.last_accessed_day if local is not None else None,
            primary_region=source,
            versions=tuple(versions),
            lineage=st.lineage,
            epoch=st.epoch,
            generation=st.generation,
            **metadata.fields_from(st.metadata),
        )
        return secret, blobs
