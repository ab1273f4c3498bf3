"""Primary side: one shipper per peer Region streams the outbox, in order, with backoff.

A Region that is down is retried with exponential backoff and jitter; local writes never wait
for it (they only append outbox rows and set an event). Acknowledged positions are durable.
Batches and snapshot pages are bounded in encoded bytes (limits.MAX_BATCH_BYTES, which the
receiver accepts). Any error of one iteration (peer down, a locked or full database, a bug) is
recorded, shown in ReplicationStatus, logged and retried: `run()` never returns, and stops only
when cancelled, which is clean at any await.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from smgrpc.core import replication as repl
from smgrpc.core.errors import error_kind
from smgrpc.core.model import Secret
from smgrpc.core.ports import Cipher, OutboxRow, Store
from smgrpc.core.slices import Slicer, backoff
from smgrpc.crypto.cluster import ClusterKey
from smgrpc.replication import messages as m
from smgrpc.replication.limits import MAX_BATCH_BYTES
from smgrpc.replication.ratelog import Throttled
from smgrpc.replication.states import StateReader
from smgrpc.replication.transport import (
    PeerClient,
    PeerUnavailable,
    header_size,
    lineage_size,
    state_size,
)

log = logging.getLogger("smgrpc.replication")
BATCH_ROWS = 5000
PERSIST_EVERY = 1.0  # seconds between durable cursor writes when nothing else changed
# An idle link is probed (an empty batch) at start and this often, so a peer restored from a
# backup (a new incarnation, positions gone back) is resynchronised even with nothing to ship.
PROBE_EVERY = 5.0
TOO_LARGE = (
    f"This secret is too large to replicate: its labeled versions and metadata exceed "
    f"{MAX_BATCH_BYTES} bytes. Remove staging labels from old versions, then retry."
)
Problem = tuple[Secret, str]  # a secret that can't be shipped, and the status message why


def describe(exc: Exception) -> str:
    """A non-secret reason for an error (exception messages may hold secret text: type only)."""
    if isinstance(exc, PeerUnavailable):
        return f"the Region is unreachable ({exc})"
    return f"an error in this Region ({error_kind(exc)})"


async def retry_forever(
    step: Callable[[], Awaitable[None]], trouble: Callable[[Exception], Awaitable[None]]
) -> None:
    """Run `step` until cancelled: an error goes to `trouble` (record, log, back off), never
    ends the loop. Cancellation propagates, so stopping is clean at any await."""
    while True:
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the caller's trouble records and retries
            await trouble(exc)


class Shipper:
    """Streams this Region's changes to one replica Region."""

    def __init__(
        self,
        store: Store,
        cipher: Cipher,
        key: ClusterKey,
        source: str,
        target: str,
        client: PeerClient,
        base_backoff: float = 0.05,
        max_backoff: float = 1.0,
        incarnation: str = "",
    ) -> None:
        """incarnation: this data dir's (README "Backup and restore"), sent in every batch."""
        self.store = store
        self.incarnation = incarnation
        self.peer_incarnation = ""  # the target's, as last synchronised with (loaded in run)
        self.reader = StateReader(store, cipher, key, source, target)
        self.source, self.target, self.client = source, target, client
        self.base_backoff, self.max_backoff = base_backoff, max_backoff
        self.event = asyncio.Event()
        self.event.set()
        self.failures = 0
        self.last_error: str | None = None
        self.pending: set[str] = set()  # ARNs waiting to be shipped or acknowledged
        self.acked = 0
        self._loaded = False
        self._probe_due = True
        self._persisted_at = 0.0
        self._link_up: bool | None = None  # None until the first push
        # For /metrics: since when (monotonic) changes wait unshipped; last acknowledged push.
        self.behind_since: float | None = None
        self.pushed_at: float | None = None  # wall clock
        self._errors = Throttled(log, every=30.0)

    def wake(self) -> None:
        if self.behind_since is None:
            self.behind_since = time.monotonic()
        self.event.set()

    @property
    def link_up(self) -> bool | None:
        """Whether the last push reached the peer (None: none tried yet)."""
        return self._link_up

    def behind(self, arn: str) -> str | None:
        """A non-secret status message if this secret's changes are stuck behind a failure."""
        if self.failures and arn in self.pending:
            return f"Replication to {self.target} is retrying: {self.last_error}."
        return None

    async def run(self) -> None:
        """Ship until cancelled; an error costs one backoff, never the loop."""
        await retry_forever(self._stream, self._trouble)

    async def _stream(self) -> None:
        if not self._loaded:
            self.peer_incarnation = await self.store.peer_incarnation(self.target)
            self.acked, self._loaded = await self.store.cursor(self.target), True
        while True:
            try:
                await asyncio.wait_for(self.event.wait(), PROBE_EVERY)
            except TimeoutError:
                self._probe_due = True
            self.event.clear()
            while await self._ship_once():
                pass

    async def _trouble(self, exc: Exception) -> None:
        """Record a failure (ReplicationStatus shows it), log it, back off, then retry."""
        reason = describe(exc)
        self.failures += 1
        self.last_error = reason
        if isinstance(exc, PeerUnavailable):
            # The link's state is the peer's reachability: logged once per change. An error in
            # this Region (storage) is not a link change: it goes to the rate-limited log.
            if self._link_up is not False:
                log.warning("replication link %s -> %s down: %s", self.source, self.target, reason)
                self._link_up = False
        else:
            self._errors.log(
                logging.ERROR,
                reason,
                "replication to %s failed: %s; retrying with backoff",
                self.target,
                reason,
            )
        self.event.set()  # retry even if nothing new is written meanwhile
        await asyncio.sleep(backoff(self.base_backoff, self.max_backoff, self.failures))

    def _link_ok(self) -> None:
        if self._link_up is not True:
            log.info("replication link %s -> %s up", self.source, self.target)
            self._link_up = True

    async def _push(self, batch: m.Batch) -> m.Reply:
        reply = await self.client.push(batch)
        self._link_ok()
        self.pushed_at = time.time()
        return reply

    async def _ship_once(self) -> bool:
        """Ship one batch; True if there may be more to ship right away."""
        rows = await self.store.outbox(self.target, self.acked, BATCH_ROWS)
        if not rows and not self._probe_due:
            self.behind_since = None
            self.pending.clear()
            self.failures, self.last_error = 0, None  # caught up
            return False
        self.pending = {arn for _, arn, _, _ in rows}
        if rows:
            if self.behind_since is None:  # a backlog from before a restart
                self.behind_since = time.monotonic()
            batch, used, problems = await self._build(rows)
        else:  # a probe: nothing to apply, the reply tells the peer's incarnation and position
            self.behind_since = None
            batch, used, problems = self._probe(), {}, []
        if problems:
            await self._mark_broken(problems)
        reply = await self._push(batch)
        self._probe_due = False
        if reply.resync:
            log.warning(
                "%s applied from another incarnation of %s (this data dir was restored from a "
                "backup): sending a snapshot",
                self.target,
                self.source,
            )
            await self._snapshot(0)
            return True
        if reply.incarnation and reply.incarnation != self.peer_incarnation:
            return await self._new_peer_incarnation(reply, used)
        if reply.gap:
            return await self._on_gap(reply.applied_seq)
        await self._record(reply, used)
        self.failures, self.last_error = 0, None  # a whole round went through
        return True

    def _probe(self) -> m.Batch:
        return m.Batch(
            self.source, self.target, self.acked, self.acked, incarnation=self.incarnation
        )

    async def _new_peer_incarnation(self, reply: m.Reply, used: dict[str, Secret]) -> bool:
        """The target answered with another incarnation than the one synchronised with: it was
        restored from a backup (or this is the first contact). A restored Region gets a
        snapshot: whatever it applied after its backup was taken is gone there."""
        if self.peer_incarnation:
            log.warning(
                "%s has a new incarnation (restored from a backup?): sending a snapshot",
                self.target,
            )
            if not reply.gap:
                await self._record(reply, used)
            await self._snapshot(reply.applied_seq)
        elif reply.gap:
            await self._on_gap(reply.applied_seq)
        else:
            await self._record(reply, used)
        async with self.store.transaction() as tx:
            await tx.set_peer_incarnation(self.target, reply.incarnation)
        self.peer_incarnation = reply.incarnation
        return True

    async def _build(
        self, rows: list[OutboxRow]
    ) -> tuple[m.Batch, dict[str, Secret], list[Problem]]:
        """Coalesce rows into whole-secret states (later rows are covered by current state),
        up to MAX_BATCH_BYTES of encoded batch; a state that can never fit is a problem."""
        budget = MAX_BATCH_BYTES - header_size(
            m.Batch(self.source, self.target, self.acked, rows[-1][0], incarnation=self.incarnation)
        )
        states: dict[str, m.WireState] = {}
        sizes: dict[str, int] = {}
        used: dict[str, Secret] = {}
        problems: list[Problem] = []
        total, last = 0, self.acked
        slicer = Slicer()  # decrypt + re-seal + encode per state: never hold the loop long
        for seq, arn, lineage, kind in rows:
            await slicer.tick()
            if arn in states:
                if kind == repl.REMOVE:
                    secret = self.store.find(arn)
                    if secret is None or self.target not in repl.active_regions(secret):
                        gone = m.WireState(lineage, 0, 0, arn, states[arn].name, removed=True)
                        used.pop(arn, None)
                        size = state_size(gone)
                        total += size - sizes[arn]
                        states[arn], sizes[arn] = gone, size
                last = seq
                continue
            state, secret, problem = await self.reader.read(arn, lineage, kind)
            size = state_size(state)
            if problem is None and secret is not None and size > budget:
                problem = TOO_LARGE  # alone in a batch it would not fit either
            if problem is not None and secret is not None:
                problems.append((secret, problem))  # never ship garbage: that Region goes Failed
                last = seq
                continue
            if total + size > budget:
                break  # the next batch starts with this row
            states[arn], sizes[arn] = state, size
            total += size
            if secret is not None:
                used[arn] = secret
            last = seq
        batch = m.Batch(
            self.source,
            self.target,
            self.acked,
            last,
            tuple(states.values()),
            incarnation=self.incarnation,
        )
        return batch, used, problems

    async def _mark_broken(self, problems: list[Problem]) -> None:
        async with self.store.transaction() as tx:
            for s, message in problems:
                cur = tx.find_arn(s.arn)
                if cur is not None and self.target in repl.active_regions(cur):
                    reason = "too large" if message == TOO_LARGE else "cannot be decrypted here"
                    log.error("%s is not replicated to %s: %s", cur.arn, self.target, reason)
                    await tx.save(repl.set_status(cur, self.target, repl.FAILED, message))
                    await tx.forget(self.target, cur.arn)

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
        acked = max(self.acked, reply.applied_seq)
        changes = [
            res for res in reply.results if self._needs_write(res, by_lineage.get(res.lineage))
        ]
        if not changes and time.monotonic() - self._persisted_at < PERSIST_EVERY:
            self.acked = acked
            return
        # If this write fails (locked or full database), the position stays where it was: the
        # retry is answered with a gap, which requeues these changes, so no outcome is lost.
        async with self.store.transaction() as tx:
            await tx.ack(self.target, acked)
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
        self.acked = acked
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
        """Every secret replicated to the target, in lineage order, in pages of at most
        MAX_BATCH_BYTES; then the stream resumes. Each page covers a lineage range, in which
        the replica drops the replicas the primary no longer has (see replication.proto)."""
        upto = self.acked
        secrets = sorted(
            (s for s in self.store.all() if self.target in repl.active_regions(s)),
            key=lambda s: s.lineage or "",
        )
        widest = "x" * max((len((s.lineage or "").encode()) for s in secrets), default=0)
        budget = MAX_BATCH_BYTES - header_size(
            m.Batch(
                self.source,
                self.target,
                applied,
                upto,
                (),
                True,
                True,
                (),
                widest,
                widest,
                self.incarnation,
            )
        )
        page: list[m.WireState] = []
        keep: list[str] = []  # lineages in range whose replica stays although not shipped
        used: dict[str, Secret] = {}
        total, after, last = 0, "", ""
        slicer = Slicer()
        for s in secrets:
            await slicer.tick()
            lineage = s.lineage or ""
            state, secret, problem = await self.reader.read(s.arn, lineage, repl.STATE)
            if state.removed:
                continue  # gone or no longer replicated here since: in range, so dropped
            ship: m.WireState | None = state
            size = state_size(state)
            if problem is None and size > budget:
                problem = TOO_LARGE
            if problem is not None:
                if secret is not None:
                    await self._mark_broken([(secret, problem)])
                ship, size = None, lineage_size(lineage)
            if total + size > budget and (page or keep):
                await self._send_page(applied, upto, page, keep, used, after, last, end=False)
                page, keep, used, total, after = [], [], {}, 0, last
            if ship is None:
                keep.append(lineage)
            else:
                page.append(ship)
                if secret is not None:
                    used[s.arn] = secret
            total += size
            last = lineage
        await self._send_page(applied, upto, page, keep, used, after, "", end=True)

    async def _send_page(
        self,
        applied: int,
        upto: int,
        page: list[m.WireState],
        keep: list[str],
        used: dict[str, Secret],
        after: str,
        upper: str,
        *,
        end: bool,
    ) -> None:
        batch = m.Batch(
            self.source,
            self.target,
            applied,
            upto,
            tuple(page),
            snapshot=True,
            snapshot_end=end,
            live_lineages=tuple(keep),
            lineage_after=after,
            lineage_upto=upper,
            incarnation=self.incarnation,
        )
        self.pending = {s.primary_arn for s in page}
        while True:  # a page is retried on its own: a flaky link never restarts the snapshot
            try:
                reply = await self._push(batch)
                break
            except PeerUnavailable as exc:
                await self._trouble(exc)
        await self._record(reply, used)
