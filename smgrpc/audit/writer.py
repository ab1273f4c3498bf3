"""The audit log writer: one thread, a bounded queue, group commit, size-based rotation.

Calls hand it records already rendered (chain.body: orjson, a few microseconds; rendering in
this thread would make it hold the GIL against the event loop). The thread chains them (seq,
prevHash, hash) in order. A record that waits comes with an asyncio future that is resolved
once it is written (and, with sync="fsync", fdatasync'ed): the call goes on only then. Everything
queued while one batch is written goes out as the next batch, in one write and one fdatasync.

Failures are fail-closed: a batch that cannot be written fails every waiting request (its call
is refused and does nothing) and the writer is `broken` until a later batch succeeds. Records
that do not wait (call outcomes, background events) are kept and written first when the log
works again; while broken, new requests still try (so the log recovers on its own), bounded by
`max_queue`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

import orjson

from smgrpc.audit import chain
from smgrpc.crypto.audit_key import AuditSigner, signature_ok

log = logging.getLogger("smgrpc.audit")
Item = tuple[bytes, "asyncio.Future[None] | None"]
SYNC_MODES = ("fsync", "write")
HEAD_FILE = "audit.head"  # in the data dir, next to audit.key
HEAD_EVERY = 1.0  # seconds: how stale the signed head may be (truncation detection granularity)
_TAIL = 1 << 18


class AuditError(Exception):
    """The audit log cannot be opened or continued (start-up refuses to serve)."""


def rotated_files(path: Path) -> list[tuple[int, Path]]:
    """PATH.1, PATH.2, ... (oldest first) next to PATH."""
    pattern = re.compile(re.escape(path.name) + r"\.(\d+)")
    found = []
    if path.parent.is_dir():
        for p in path.parent.iterdir():
            m = pattern.fullmatch(p.name)
            if m:
                found.append((int(m.group(1)), p))
    return sorted(found)


def _tail(fd: int, size: int) -> tuple[int, bytes]:
    """(offset just past the last newline, the last complete line)."""
    end, chunk = size, b""
    while end > 0:
        start = max(0, end - _TAIL)
        chunk = os.pread(fd, end - start, start) + chunk
        end = start
        cut = chunk.rfind(b"\n")
        if cut >= 0 and (chunk.rfind(b"\n", 0, cut) >= 0 or end == 0):
            good = end + cut + 1
            line = chunk[:cut].rsplit(b"\n", 1)[-1]
            return good, line
    return 0, b""


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
    ) -> None:
        """head: the signed head file (the last record's seq and hash, rewritten at every
        checkpoint and at most HEAD_EVERY seconds after any record), kept in the data dir so
        that cutting whole records off the end of the log is detected by verify (and refused
        at start)."""
        self.path, self.signer, self.region = path, signer, region
        self.head = head
        self._head_at = 0.0
        self.max_bytes, self.sync, self.max_queue = max_bytes, sync, max_queue
        self.broken = False
        self.failures = 0  # batches that could not be written
        self.written = 0  # records written
        self._fd = -1
        self._ident = (0, 0)
        self._size = 0
        self._seq, self._prev = 0, chain.GENESIS
        self._file_number = 0
        self._queue: list[Item] = []
        self._carry: list[Item] = []  # the records of a failed batch that nobody waits for
        self._cond = threading.Condition(threading.Lock())
        self._waiting = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # ---- life cycle (blocking; app.py runs them in a worker thread) ----

    def open(self) -> None:
        """Continue the chain of an existing log (or start one) with an "open" checkpoint."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file_number = max((n for n, _ in rotated_files(self.path)), default=0) + 1
            self._open_file("open")
        except OSError as exc:
            raise AuditError(f"cannot write the audit log {self.path}: {exc.strerror}") from None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread = threading.Thread(target=self._run, name="smgrpc-audit", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Write what is queued, then a signed "close" checkpoint; stop the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join()
        if self._fd >= 0:
            try:
                if not self.broken:
                    self._write([chain.body(self._checkpoint("close"))])
                    self._write_head()
            except OSError as exc:
                log.error("audit log: the close checkpoint was not written (%s)", exc.strerror)
            os.close(self._fd)
            self._fd = -1

    # ---- the loop side ----

    def submit(self, raw: bytes, wait: bool) -> asyncio.Future[None] | None:
        """Queue one rendered record (chain.body); wait=True: a future resolved when it is
        written (raises AuditError at once if the queue is full)."""
        fut = None
        with self._cond:
            if wait:
                if len(self._queue) >= self.max_queue:
                    raise AuditError("the audit queue is full")
                assert self._loop is not None
                fut = self._loop.create_future()
            self._queue.append((raw, fut))
            if self._waiting:
                self._cond.notify()
        return fut

    # ---- the writer thread ----

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._waiting = True
                    self._cond.wait()
                self._waiting = False
                batch, self._queue = self._queue, []
                if not batch and self._stopping:
                    return
            self._commit(batch)

    def _commit(self, batch: list[Item]) -> None:
        items = [*self._carry, *batch]
        records = [raw for raw, _fut in items]
        try:
            self._reopen()  # the file at `path` removed or replaced: never write into the void
            self._write(records)
            if self._size >= self.max_bytes:
                self._rotate()
            elif time.monotonic() - self._head_at >= HEAD_EVERY:
                self._write_head()
        except OSError as exc:
            self.failures += 1
            if not self.broken:
                log.error(
                    "audit log %s cannot be written (%s): refusing calls",
                    self.path,
                    exc.strerror or type(exc).__name__,
                )
            self.broken = True
            self._carry = [(r, None) for r, f in items if f is None]
            self._settle(items, ok=False)
            return
        if self.broken:
            log.warning("audit log %s is written again", self.path)
        self.broken = False
        self._carry = []
        self._settle(items, ok=True)

    def _settle(self, items: list[Item], ok: bool) -> None:
        futs = [f for _r, f in items if f is not None]
        if futs and self._loop is not None:
            try:
                self._loop.call_soon_threadsafe(_resolve, futs, ok)
            except RuntimeError:  # the loop is closed: nobody waits any more
                pass

    def _write(self, records: list[bytes]) -> None:
        """Append records as one write (+ fdatasync): all of them or, on OSError, none (the
        file is cut back to where it was)."""
        seq, prev, lines = self._seq, self._prev, []
        for rec in records:
            seq += 1
            line, prev = chain.seal(rec, seq, prev)
            lines.append(line)
        data = b"".join(lines)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
            if self.sync == "fsync":
                os.fdatasync(self._fd)
        except OSError:
            try:
                os.ftruncate(self._fd, self._size)
            except OSError:
                pass
            raise
        self._size += len(data)
        self._seq, self._prev = seq, prev
        self.written += len(records)

    def _checkpoint(self, reason: str, torn: int = 0) -> dict[str, Any]:
        rec: dict[str, Any] = {
            "recordType": "Checkpoint",
            "eventTime": _iso(time.time()),
            "awsRegion": self.region,
            "reason": reason,
            "fileNumber": self._file_number,
            "publicKey": self.signer.public,
        }
        if torn:
            rec["tornBytes"] = torn
        signed = {**rec, "recordSeq": self._seq + 1, "prevHash": self._prev}
        rec["signature"] = self.signer.sign(chain.checkpoint_message(signed))
        return rec

    def _open_file(self, reason: str) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            st = os.fstat(fd)
            size, torn = st.st_size, 0
            self._ident = (st.st_dev, st.st_ino)
            if reason == "reopen":
                pass  # our chain goes on, whatever the file now at `path` holds
            elif size:
                good, last = _tail(fd, size)
                torn = size - good
                if last:
                    try:
                        self._prev, rec = chain.decode(last)
                    except chain.BrokenRecord as exc:
                        raise AuditError(
                            f"the audit log {self.path} ends with a record that does not verify "
                            f"({exc}); run `smgrpc audit verify`, then move the file aside"
                        ) from None
                    self._seq = rec["recordSeq"]
                if torn:  # a write cut by a crash: never acknowledged; noted in the checkpoint
                    os.ftruncate(fd, good)
                    size = good
            elif self._seq == 0:
                self._continue_rotated()
            if reason == "open":
                self._check_head()
            self._fd, self._size = fd, size
            self._write([chain.body(self._checkpoint(reason, torn))])
            self._write_head()
        except BaseException:
            os.close(fd)
            self._fd = -1
            raise

    def _check_head(self) -> None:
        """Refuse to continue a log that lost records the signed head had seen."""
        got = read_head(self.head, self.signer.public) if self.head is not None else None
        if got is not None and int(got["recordSeq"]) > self._seq:
            raise AuditError(
                f"the audit log {self.path} ends at record {self._seq} but {self.head} names "
                f"record {got['recordSeq']}: records were removed; run `smgrpc audit verify`. "
                "To start a new chain, move the log files and the head file aside"
            )

    def _write_head(self) -> None:
        if self.head is None:
            return
        head: dict[str, Any] = {
            "recordSeq": self._seq,
            "hash": self._prev,
            "fileNumber": self._file_number,
            "eventTime": _iso(time.time()),
            "publicKey": self.signer.public,
        }
        head["signature"] = self.signer.sign(chain.head_message(head))
        tmp = self.head.with_name(self.head.name + ".tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, chain.body(head) + b"}\n")
                if self.sync == "fsync":
                    os.fdatasync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.head)
        except OSError as exc:  # the head only narrows what verify can tell: not fail-closed
            log.error("audit head %s not written (%s)", self.head, exc.strerror)
        self._head_at = time.monotonic()

    def _continue_rotated(self) -> None:
        """A new active file continues the newest rotated file's chain."""
        files = rotated_files(self.path)
        if not files:
            return
        fd = os.open(files[-1][1], os.O_RDONLY)
        try:
            _good, last = _tail(fd, os.fstat(fd).st_size)
            if last:
                self._prev, rec = chain.decode(last)
                self._seq = rec["recordSeq"]
        except chain.BrokenRecord:
            pass  # verify names it; the new file's checkpoint then does not follow on
        finally:
            os.close(fd)

    def _rotate(self) -> None:
        self._write([chain.body(self._checkpoint("rotate"))])
        os.close(self._fd)
        self._fd = -1
        os.rename(self.path, self.path.with_name(f"{self.path.name}.{self._file_number}"))
        _fsync_dir(self.path.parent)
        self._file_number += 1
        self._open_file("open")

    def _reopen(self) -> None:
        """Continue in the file now at `path` if it is not ours any more (removed: recreated;
        replaced: continued), noted by a "reopen" checkpoint; one stat per batch."""
        try:
            st = os.stat(self.path)
            same = self._fd >= 0 and (st.st_dev, st.st_ino) == self._ident
        except OSError:
            same = False
        if same:
            return
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        self._open_file("reopen")


def read_head(path: Path, public: str) -> dict[str, Any] | None:
    """The signed head (None: no head file); AuditError if it is not signed by `public`."""

    try:
        head = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, orjson.JSONDecodeError):
        raise AuditError(f"the audit head {path} is unreadable") from None
    sig = head.get("signature") if isinstance(head, dict) else None
    if not isinstance(sig, str) or not signature_ok(public, chain.head_message(head), sig):
        raise AuditError(f"the audit head {path} is not signed by this Region's audit key")
    return dict(head)


def _resolve(futs: list[asyncio.Future[None]], ok: bool) -> None:
    for fut in futs:
        if not fut.done():
            if ok:
                fut.set_result(None)
            else:
                fut.set_exception(AuditError("audit unavailable"))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _iso(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))
