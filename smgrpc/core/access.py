"""LastAccessedDate: reads note it in memory; a background flush persists the notes.

A read never waits on a write (issue 6, defect 10): GetSecretValue and BatchGetSecretValue
only note "(secret, version) read on day D" here, synchronously and O(1). `flush()` writes every
pending note in ONE transaction, from a periodic background loop (every `interval` seconds) and
once at shutdown. Until a note is flushed, `view()` overlays it on what storage holds, so
DescribeSecret, ListSecrets and ListSecretVersionIds show the date right after the read.
Dates are day-granular (AWS truncates LastAccessedDate to the date) and never move backwards.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import replace

from smgrpc.core.errors import error_kind
from smgrpc.core.model import Secret, Version
from smgrpc.core.ports import Store
from smgrpc.core.slices import Slicer

log = logging.getLogger("smgrpc.core")
DEFAULT_INTERVAL = 1.0
CHUNK = 256  # secrets per flush transaction


def with_access(secret: Secret, days: Mapping[str, str]) -> Secret:
    """The secret with these per-version access days applied (never lowering a date).

    Returns the very same object when nothing changes; unchanged versions stay the same
    objects (storage writes only the versions that differ).
    """
    if not days:
        return secret
    latest = max(days.values())
    versions = tuple(
        replace(v, last_accessed_day=d)
        if (d := days.get(v.version_id)) is not None and (v.last_accessed_day or "") < d
        else v
        for v in secret.versions
    )
    day = secret.last_accessed_day if (secret.last_accessed_day or "") >= latest else latest
    changed = day != secret.last_accessed_day or any(
        a is not b for a, b in zip(versions, secret.versions, strict=True)
    )
    return secret.evolve(last_accessed_day=day, versions=versions) if changed else secret


class AccessRecorder:
    """Pending LastAccessedDate notes of one Region, coalesced per (secret ARN, version id)."""

    def __init__(self, store: Store, interval: float = DEFAULT_INTERVAL) -> None:
        self.store = store
        self.interval = interval  # seconds between two periodic flushes (run by app.py)
        # ARN -> {version id -> day}: one entry per version read since the last flush, so
        # memory is bounded by the versions that exist, even while flushes keep failing.
        self._pending: dict[str, dict[str, str]] = {}
        self._flushing = asyncio.Lock()

    @property
    def pending(self) -> int:
        """Notes not yet persisted."""
        return sum(len(days) for days in self._pending.values())

    def note(self, secret: Secret, version: Version, day: str) -> None:
        """Record a successful read of `version` on `day` (no I/O; never fails the read)."""
        if (secret.last_accessed_day or "") >= day and (version.last_accessed_day or "") >= day:
            return  # already stored: the common case, one comparison per read
        days = self._pending.setdefault(secret.arn, {})
        if days.get(version.version_id, "") < day:
            days[version.version_id] = day

    def view(self, secret: Secret) -> Secret:
        """The secret as readers should see it: stored dates plus pending notes."""
        days = self._pending.get(secret.arn)
        return with_access(secret, days) if days else secret

    def view_all(self, secrets: list[Secret]) -> list[Secret]:
        if not self._pending:
            return secrets
        return [self.view(s) for s in secrets]

    async def flush(self) -> None:
        """Persist every pending note, CHUNK secrets per transaction.

        Secrets gone meanwhile are skipped; a stored date is never lowered. On failure the
        notes not yet written stay pending for the next flush, and the failure is logged (its
        type only): nothing is lost silently, and no read ever sees the error. Chunks keep
        each transaction (which holds the write lock) and its publication short.
        """
        async with self._flushing:
            batch = [(arn, dict(days)) for arn, days in self._pending.items()]
            for i in range(0, len(batch), CHUNK):
                chunk = dict(batch[i : i + CHUNK])
                try:
                    await self._write(chunk)
                except Exception as exc:  # noqa: BLE001 - informational write: keep, retry later
                    log.warning(
                        "could not record LastAccessedDate of %d secrets (kept, retried): %s",
                        len(batch) - i,
                        error_kind(exc),
                    )
                    return
                self._forget(chunk)

    async def _write(self, batch: Mapping[str, Mapping[str, str]]) -> None:
        slicer = Slicer()
        async with self.store.transaction() as tx:
            for arn, days in batch.items():
                cur = tx.find_arn(arn)
                if cur is None:
                    continue  # deleted (or purged) since it was read
                new = with_access(cur, days)
                if new is not cur:
                    await tx.save(new)
                await slicer.tick()  # a large batch must not hold the loop

    def _forget(self, batch: Mapping[str, Mapping[str, str]]) -> None:
        """Drop the flushed notes, keeping any that a read raised meanwhile."""
        for arn, days in batch.items():
            cur = self._pending.get(arn)
            if cur is None:
                continue
            for vid, day in days.items():
                if cur.get(vid, "") <= day:
                    cur.pop(vid, None)
            if not cur:
                del self._pending[arn]
