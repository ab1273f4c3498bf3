"""The audit log writer: group commit on the event loop, fail-closed.

Calls hand it records already rendered (chain.body). A record that waits comes with an asyncio
future, resolved once it is written (and with sync="fsync" also fdatasync'ed): the call goes on
only then. Records are written in groups, on the event loop; a group's write is one stat (is
the file at PATH still ours?), the chaining (SHA-256 per record) and one write() into the page
cache, whatever its size.

- sync="write": a record someone waits for is written at once, with whatever is queued, so its
  future is done before its caller awaits it (no suspension, no thread); records nobody waits
  for go with the next one or at the end of the loop iteration.
- sync="fsync": the loop writes the group, then hands only its fdatasync (and, when due, the
  rotation and the head, which sync too) to the audit thread, and resolves the group's futures
  when it reports back. While a group is being synced nothing else is written: the records
  submitted meanwhile are the next group. A group costs ~260 us of CPU on this VM, so a
  group waits a little (GROUP_DELAY, see `_decide`) for more callers to join when more have
  been seen waiting at once lately; at concurrency 1 it is written and synced at once. Per
  group: one stat, one write(), one fdatasync, two thread handoffs; the thread runs no Python
  between its syscalls but its hand-back to the loop.

The LogFile has one user at a time: the loop, except while a job of the thread runs (`_busy`).

Failures are fail-closed: a group whose write or sync fails fails every waiting record of the
group (their calls are refused and do nothing; what it appended is cut off again) and the
writer is `broken` until a later group succeeds. Records that do not wait (call outcomes,
background events) are kept and written first when the log works again; while broken, new
requests still try (so the log recovers on its own), bounded by `max_queue`. Records nobody
waits for are bounded by `max_queue` too (a flood of denied calls while a sync is stuck on
the disk): beyond it they are dropped, counted in `dropped`, and the log is `broken` until a
group is written again (calls that wait are refused meanwhile: the queue is full). What is
still queued or carried when `aclose` ends is counted in `dropped` as well.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from pathlib import Path

from smgrpc.audit.logfile import (
    HEAD_EVERY,
    HEAD_FILE,
    AuditError,
    LogFile,
    Mark,
    read_head,
    rotated_files,
)
from smgrpc.crypto.audit_key import AuditSigner

__all__ = ["HEAD_EVERY", "HEAD_FILE", "SYNC_MODES", "AuditError", "AuditWriter"]
__all__ += ["read_head", "rotated_files"]

log = logging.getLogger("smgrpc.audit")
Item = tuple[bytes, "asyncio.Future[None] | None"]
Job = tuple[list[Item], Mark]
SYNC_MODES = ("fsync", "write")
CLOSE_TIMEOUT = 30.0  # seconds aclose waits for a sync stuck on the disk
GROUP_DELAY = {"fsync": 0.004, "write": 0.0}  # seconds a group may wait for more records
GROUP_MAX = 256  # records someone waits for: then the group is written at once
PEAK_WINDOW = 1.0  # seconds: how long the concurrency seen is remembered (twice this at most)


class AuditWriter:
    def __init__(
        self,
        path: Path,
        signer: AuditSigner,
        region: str,
        *,
        max_bytes: int = 64 << 20,
        sync: str = "fsync",
        max_queue: int = 10_000,
        head: Path | None = None,
        delay: float | None = None,
    ) -> None:
        """head: the signed head file (the last record's seq and hash, rewritten at every
        checkpoint, and HEAD_EVERY seconds after its last write whenever records went past it:
        by the group then synced, or by a timer when none comes; see `_head_later`), kept in
        the data dir so that cutting whole records off the end of the log is detected by verify
        (and refused at start). delay: how long a group may wait to grow (GROUP_DELAY of the sync
        mode)."""
        self.path, self.sync, self.max_queue = path, sync, max_queue
        self.delay = GROUP_DELAY[sync] if delay is None else delay
        self.file = LogFile(
            path, signer, region, max_bytes=max_bytes, durable=sync == "fsync", head=head
        )
        self.broken = False
        self.failures = 0  # groups that could not be written
        self.written = 0  # records written
        self.dropped = 0  # records not waited for, dropped during a long outage
        self.groups = 0  # groups written
        self._queue: list[Item] = []
        self._carry: list[Item] = []  # the records of a failed group that nobody waits for
        self._scheduled = False  # a _flush is queued on the loop (call_soon)
        self._timer: asyncio.TimerHandle | None = None  # or later (call_later)
        self._head_timer: asyncio.TimerHandle | None = None  # the head refresh (see _head_later)
        self._waiters = 0  # records in _queue someone waits for
        self._first = 0.0  # loop.time() of the first of them
        self._syncing = 0  # records someone waits for in the group being synced
        # The concurrency seen: the most records waited for at once (pending + syncing), in
        # this window of PEAK_WINDOW seconds and the one before.
        self._peak, self._peak_before, self._window = 0, 0, 0.0
        self._busy = False  # sync="fsync": the thread holds the file (a group is syncing)
        self._idle: asyncio.Event | None = None  # aclose waits on it for the thread
        self._stopping = False
        self._closed = False  # the close checkpoint is written (or the file given up)
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # ---- life cycle ----

    def open(self) -> None:
        """Continue the chain of an existing log (or start one) with an "open" checkpoint
        (blocking: app.py runs it in a worker thread)."""
        try:
            self.file.open()
        except OSError as exc:
            raise AuditError(f"cannot write the audit log {self.path}: {exc.strerror}") from None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        if self.sync == "fsync":
            self._thread = threading.Thread(target=self._run, name="smgrpc-audit", daemon=True)
            self._thread.start()

    async def aclose(self) -> None:
        """Write what is queued, then a signed "close" checkpoint; stop the thread."""
        self._stopping = True
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        log.info(
            "audit log %s closing: %d records written in %d groups",
            self.path,
            self.written,
            self.groups,
        )
        if self._thread is None:
            self._flush()
            self._left_over()
            self.file.close(clean=not self.broken)
            return
        for _ in range(3):  # the last groups (and what is queued meanwhile) go to the thread
            if not await self._settled():
                self._left_over()
                return
            if not (self._queue or self._carry):
                break
            self._flush()
        if not await self._settled():
            self._left_over()
            return
        self._left_over()
        self._jobs.put(None)
        await asyncio.to_thread(self._thread.join)
        await asyncio.to_thread(self.file.close, not self.broken)

    def _left_over(self) -> None:
        """At close: what is still queued or carried (the log is broken or stuck) is lost:
        counted, and its callers (if any still wait) refused."""
        self._closed = True
        items, self._carry, self._queue, self._waiters = self._carry + self._queue, [], [], 0
        for _raw, fut in items:
            if fut is not None and not fut.done():
                fut.set_exception(AuditError("the audit log is closed"))
        self._lost(sum(fut is None for _raw, fut in items), "not written at close")

    async def _settled(self) -> bool:
        """Wait until no group is syncing (False: stuck on the disk; the file is left)."""
        if not self._busy:
            return True
        self._idle = asyncio.Event()
        try:
            await asyncio.wait_for(self._idle.wait(), CLOSE_TIMEOUT)
        except TimeoutError:
            log.error("audit log %s: the writer is stuck in a sync; not closed", self.path)
            return False
        return True

    # ---- the loop side ----

    def submit(self, raw: bytes, wait: bool) -> asyncio.Future[None] | None:
        """Queue one rendered record (chain.body); wait=True: a future resolved when it is
        written (raises AuditError at once if the queue is full or the log closed). Only on
        the loop. When its group is written: see `_decide`."""
        if self._closed or (wait and self._stopping):  # nothing will be written any more
            if wait:
                raise AuditError("the audit log is closed")
            self._lost(1, "the log is closed")
            return None
        if len(self._queue) >= self.max_queue and not self._busy:
            self._flush()  # nothing holds the group back (a delay): written now, not refused
        if len(self._queue) >= self.max_queue:  # a sync stuck on the disk, a flood of calls
            if wait:
                raise AuditError("the audit queue is full")
            self._lost(1, "the queue is full")  # counted; broken until a group is written
            return None
        if not wait:
            self._queue.append((raw, None))
            if not self._busy and self._timer is None and not self._scheduled:
                self._later(self.delay)
            return None
        assert self._loop is not None
        fut = self._loop.create_future()
        self._queue.append((raw, fut))
        self._waiters += 1
        now = self._loop.time()
        if self._waiters == 1:
            self._first = now
        if now - self._window >= PEAK_WINDOW:
            self._peak_before, self._peak, self._window = self._peak, 0, now
        self._peak = max(self._peak, self._waiters + self._syncing)
        if not self._busy:
            self._decide()
        return fut

    def _decide(self) -> None:
        """Write the pending group now, or let it grow a little (the writer is idle and the
        group has a record someone waits for). With sync="write" (delay 0): now, so the
        future is done before its caller awaits it. With "fsync" a group costs ~260 us of CPU
        here (fdatasync and the thread handoffs) whatever its size, so it waits for more calls
        to join (Postgres's commit_delay), until `delay` after its first record, GROUP_MAX
        records, or as many as were ever waited for at once lately (`_peak`: a group cannot
        grow beyond the number of callers; at concurrency 1 a group is written at once)."""
        assert self._loop is not None
        wait = self._first + self.delay - self._loop.time()
        if (
            wait <= 0
            or self._waiters >= GROUP_MAX
            or self._waiters >= max(self._peak, self._peak_before)
        ):
            self._flush()
        elif self._timer is None:
            self._later(wait)

    def _later(self, delay: float) -> None:
        assert self._loop is not None
        if delay <= 0:
            self._scheduled = True
            self._loop.call_soon(self._flush)
        else:
            self._timer = self._loop.call_later(delay, self._flush)

    def _flush(self) -> None:
        """Write the group: what the carry holds and everything queued since the last one."""
        self._scheduled = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._busy or self._closed or not (self._queue or self._carry):
            return
        items = self._carry + self._queue if self._carry else self._queue
        self._queue = []
        waiters, self._waiters = self._waiters, 0
        f = self.file
        mark = f.mark()
        try:
            f.ensure()  # the file at `path` removed or replaced: never write into the void
            mark = f.mark()
            f.append([raw for raw, _fut in items])
        except OSError as exc:
            self._failed(items, exc)
            return
        except Exception as exc:  # noqa: BLE001 - a bug must not leave callers waiting
            log.error("audit writer failed (%s): refusing calls", type(exc).__name__)
            self._failed(items, OSError(type(exc).__name__))
            return
        if self._thread is None:
            f.after_group()
            self._done(items)
            return
        self._busy, self._syncing = True, waiters
        self._jobs.put((items, mark))

    def _synced(self, items: list[Item], mark: Mark, exc: OSError | None) -> None:
        """The thread is done with a group (on the loop): settle it, write the next one."""
        self._busy, self._syncing = False, 0
        if exc is None:
            self._done(items)
        elif self.file.rollback(mark):
            self._failed(items, exc)
        else:  # still in the file (not cut off): those nobody waits for are not carried
            self._failed([(raw, fut) for raw, fut in items if fut is not None], exc)
        self._resume()

    def _resume(self) -> None:
        """The thread handed the file back: write what came meanwhile."""
        if self._waiters:
            self._decide()
        elif self._queue or self._carry:
            self._later(self.delay)
        if not self._busy and self._idle is not None:
            self._idle.set()

    def _done(self, items: list[Item]) -> None:
        if self.broken:
            log.warning("audit log %s is written again", self.path)
        self.broken = False
        self._carry = []
        self.written += len(items)
        self.groups += 1
        for _raw, fut in items:
            if fut is not None and not fut.done():
                fut.set_result(None)
        self._head_later()

    def _head_later(self) -> None:
        """Refresh the signed head once it is due (HEAD_EVERY after its last write) if records
        went past it: a group rewrites it only when it is due by then (after_group), so without
        this timer the records of a burst followed by silence would stay outside the head (and
        could be cut off the end undetected) for as long as the silence lasts."""
        if self._head_timer is not None or self._stopping or not self.file.head_behind():
            return
        assert self._loop is not None
        self._head_timer = self._loop.call_later(self.file.head_wait(), self._head_due)

    def _head_due(self) -> None:
        self._head_timer = None
        f = self.file
        if self._busy or self._closed or self._stopping or not f.head_behind():
            return  # a group is syncing: it refreshes the head if due, then _done re-arms
        if not f.head_due():  # refreshed by a group meanwhile, and records went past it since
            self._head_later()
        elif self._thread is None:  # sync="write": a signature and a small file, on the loop
            self._write_head()
            self._head_later()  # (if it failed: tried again HEAD_EVERY later)
        else:  # sync="fsync": the head is fdatasync'ed, in the thread; a job without records
            self._busy = True
            self._jobs.put(([], f.mark()))

    def _head_written(self) -> None:
        """The thread wrote the head (on the loop)."""
        self._busy = False
        self._head_later()
        self._resume()

    def _write_head(self) -> None:
        try:
            self.file.write_head()
        except Exception as exc:  # noqa: BLE001 - the head only narrows what verify can tell
            log.error("audit head not written (%s)", type(exc).__name__)

    def _lost(self, n: int, why: str) -> None:
        """n records nobody waits for will never be written: counted in `dropped`, and the
        log is `broken` (fail-closed: /metrics and replication see it) until a group is."""
        if n <= 0:
            return
        if not self.broken or self.dropped == 0:
            log.error("audit log %s: records dropped (%s)", self.path, why)
        self.dropped += n
        self.broken = True

    def _failed(self, items: list[Item], exc: OSError) -> None:
        self.failures += 1
        if not self.broken:
            log.error(
                "audit log %s cannot be written (%s): refusing calls",
                self.path,
                exc.strerror or type(exc).__name__,
            )
        self.broken = True
        carry: list[Item] = [(r, None) for r, f in items if f is None]
        if len(carry) > self.max_queue:  # memory stays bounded during a long outage
            self.dropped += len(carry) - self.max_queue
            log.error("audit log: %d records dropped while it is unavailable", self.dropped)
            carry = carry[-self.max_queue :]
        self._carry = carry
        for _raw, fut in items:
            if fut is not None and not fut.done():
                fut.set_exception(AuditError("audit unavailable"))

    # ---- the sync thread (sync="fsync") ----

    def _run(self) -> None:
        """fdatasync each group the loop hands over (then rotate or refresh the head, when
        due), and hand it back. The loop does not touch the file meanwhile."""
        loop, f, jobs = self._loop, self.file, self._jobs
        assert loop is not None
        while (job := jobs.get()) is not None:
            if not job[0]:  # the head only (_head_due)
                self._write_head()
                try:
                    loop.call_soon_threadsafe(self._head_written)
                except RuntimeError:
                    return
                continue
            err: OSError | None = None
            try:
                f.sync()
            except OSError as exc:
                err = exc
            except Exception as exc:  # noqa: BLE001 - a bug must not leave callers waiting
                log.error("audit sync failed (%s): refusing calls", type(exc).__name__)
                err = OSError(type(exc).__name__)
            if err is None:
                f.after_group()
            try:
                loop.call_soon_threadsafe(self._synced, job[0], job[1], err)
            except RuntimeError:  # the loop is closed: nobody waits any more
                return
