"""The active audit file and the chain's head: opening, appending, checkpoints, rotation.

One LogFile has one user at a time: the event loop, or the audit sync thread while it runs a
job the loop handed it (writer.AuditWriter never lets both touch it at once). `durable`
(--audit-sync fsync) makes the steps that are taken here durable as well: checkpoints at
rotation and the head are fdatasync'ed, the directory fsync'ed after a rename or a new file;
appending never syncs (the writer calls sync() where it wants it: in its thread).
"""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path
from typing import Any

import orjson

from smgrpc.audit import chain
from smgrpc.core.durable import fsync_dir
from smgrpc.crypto.audit_key import AuditSigner, signature_ok

log = logging.getLogger("smgrpc.audit")
HEAD_FILE = "audit.head"  # in the data dir, next to audit.key
HEAD_EVERY = 1.0  # seconds: how stale the signed head may be (truncation detection granularity)
ROTATE_RETRY = 10.0  # seconds after a failed rotation before the next try
_TAIL = 1 << 18
Mark = tuple[int, int, str]  # (size, recordSeq, hash) of the file and chain at one point


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


class LogFile:
    def __init__(
        self,
        path: Path,
        signer: AuditSigner,
        region: str,
        *,
        max_bytes: int,
        durable: bool,
        head: Path | None,
    ) -> None:
        self.path, self.signer, self.region = path, signer, region
        self.max_bytes, self.durable, self.head = max_bytes, durable, head
        self.fd = -1
        self.size = 0
        self.seq, self.prev = 0, chain.GENESIS
        self.head_at = 0.0  # time.monotonic() of the last head write (tried)
        self.head_seq = 0  # the recordSeq the head file names (last written)
        self.new_entry = False  # a file was created or renamed: its directory wants an fsync
        self._ident = (0, 0)
        self._file_number = 0
        self._rotate_after = 0.0  # time.monotonic() before which no rotation is tried again

    def open(self) -> None:
        """Continue the chain of an existing log (or start one) with an "open" checkpoint."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file_number = max((n for n, _ in rotated_files(self.path)), default=0) + 1
        self._open_file("open")

    # ---- per group ----

    def ensure(self) -> None:
        """Continue in the file now at `path` if it is not ours any more (removed: recreated;
        replaced: continued), noted by a "reopen" checkpoint. One stat: called once per group
        of records, before its write, so a group never goes into a file that was already
        gone when the group was written."""
        try:
            st = os.stat(self.path)
            if self.fd >= 0 and (st.st_dev, st.st_ino) == self._ident:
                return
        except OSError:
            pass
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        self._open_file("reopen")

    def mark(self) -> Mark:
        return self.size, self.seq, self.prev

    def append(self, records: list[bytes]) -> None:
        """Chain and append records as one write: all of them or, on OSError, none (the file is
        cut back to where it was)."""
        seq, prev, seal = self.seq, self.prev, chain.seal
        lines = []
        for rec in records:
            seq += 1
            line, prev = seal(rec, seq, prev)
            lines.append(line)
        data = b"".join(lines)
        try:
            n = os.write(self.fd, data)
            if n < len(data):
                view = memoryview(data)[n:]
                while view:
                    view = view[os.write(self.fd, view) :]
        except OSError:
            self._cut(self.size)
            raise
        self.size += len(data)
        self.seq, self.prev = seq, prev

    def sync(self) -> None:
        os.fdatasync(self.fd)
        if self.new_entry:
            fsync_dir(self.path.parent)
            self.new_entry = False

    def rollback(self, mark: Mark) -> bool:
        """Forget what was appended after `mark` (its sync failed). False: it could not be cut
        off, so it stays in the file and in the chain (the next record follows it)."""
        if not self._cut(mark[0]):
            return False
        self.size, self.seq, self.prev = mark
        return True

    def rotate_due(self) -> bool:
        return self.size >= self.max_bytes and time.monotonic() >= self._rotate_after

    def head_due(self) -> bool:
        return time.monotonic() - self.head_at >= HEAD_EVERY

    def head_behind(self) -> bool:
        """Records were appended since the head file was last written."""
        return self.head is not None and self.fd >= 0 and self.head_seq < self.seq

    def head_wait(self) -> float:
        """Seconds until a head refresh is due (HEAD_EVERY after the last one)."""
        return max(0.0, self.head_at + HEAD_EVERY - time.monotonic())

    def after_group(self) -> None:
        """Rotate or refresh the head if due (after the group is written, and synced when
        durable). A failure here is logged, not fail-closed: the group is recorded; the next
        group's ensure() reopens a file left closed."""
        try:
            if self.rotate_due():
                self.rotate()
            elif self.head_due():
                self.write_head()
        except Exception as exc:  # noqa: BLE001 - logged; the next group reopens the file
            why = exc.strerror if isinstance(exc, OSError) else type(exc).__name__
            log.error("audit log %s: rotation failed (%s)", self.path, why)
            self._rotate_after = time.monotonic() + ROTATE_RETRY

    # ---- checkpoints, head, rotation ----

    def checkpoint(self, reason: str) -> None:
        """Append a signed checkpoint (synced when durable)."""
        self.append([chain.body(self._checkpoint(reason))])
        if self.durable:
            os.fdatasync(self.fd)

    def close(self, clean: bool) -> None:
        """A signed "close" checkpoint (clean: the log was writable until now), then close."""
        if self.fd < 0:
            return
        try:
            if clean:
                self.checkpoint("close")
                self.write_head()
        except OSError as exc:
            log.error("audit log: the close checkpoint was not written (%s)", exc.strerror)
        os.close(self.fd)
        self.fd = -1

    def rotate(self) -> None:
        """PATH -> PATH.N (ended by a "rotate" checkpoint), then a new PATH. Never replaces a
        file: N is past every PATH.* there (one could have been put there since the start, by
        logrotate say). The counter goes on as soon as the rename is done, so whatever fails
        after it, the next rotation never targets PATH.N again. If the rename fails the file
        stays open and in use (its rotate checkpoint is then a checkpoint within the file)."""
        taken = max((n for n, _ in rotated_files(self.path)), default=0)
        if taken >= self._file_number:
            log.warning("audit log %s: %s.%d exists; rotating to .%d", self.path,
                        self.path.name, taken, taken + 1)  # fmt: skip
            self._file_number = taken + 1
        target = self.path.with_name(f"{self.path.name}.{self._file_number}")
        self.checkpoint("rotate")
        if os.path.lexists(target):  # appeared since the listing: do not replace it
            raise FileExistsError(17, "the rotation target exists", str(target))
        os.rename(self.path, target)
        self._file_number += 1
        self.new_entry = True
        os.close(self.fd)
        self.fd = -1
        self._open_file("open")

    def write_head(self) -> None:
        if self.head is None:
            return
        head: dict[str, Any] = {
            "recordSeq": self.seq,
            "hash": self.prev,
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
                if self.durable:
                    os.fdatasync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.head)
            self.head_seq = self.seq
        except OSError as exc:  # the head only narrows what verify can tell: not fail-closed
            log.error("audit head %s not written (%s)", self.head, exc.strerror)
        self.head_at = time.monotonic()

    # ---- internals ----

    def _cut(self, size: int) -> bool:
        try:
            os.ftruncate(self.fd, size)
        except OSError:
            return False
        return True

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
        signed = {**rec, "recordSeq": self.seq + 1, "prevHash": self.prev}
        rec["signature"] = self.signer.sign(chain.checkpoint_message(signed))
        return rec

    def _open_file(self, reason: str) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            st = os.fstat(fd)
            size, torn = st.st_size, 0
            self._ident = (st.st_dev, st.st_ino)
            if reason == "reopen":  # our chain goes on, whatever the file now at `path` holds
                self.new_entry = True
                self.head_at = 0.0  # the head follows right after this group
            elif size:
                good, last = _tail(fd, size)
                torn = size - good
                if last:
                    try:
                        self.prev, rec = chain.decode(last)
                    except chain.BrokenRecord as exc:
                        raise AuditError(
                            f"the audit log {self.path} ends with a record that does not verify "
                            f"({exc}); run `smgrpc audit verify`, then move the file aside"
                        ) from None
                    self.seq = rec["recordSeq"]
                if torn:  # a write cut by a crash: never acknowledged; noted in the checkpoint
                    os.ftruncate(fd, good)
                    size = good
            elif self.seq == 0:
                self._continue_rotated()
            if reason == "open":
                self._check_head()
            self.fd, self.size = fd, size
            self.append([chain.body(self._checkpoint(reason, torn))])
        except BaseException:
            os.close(fd)
            self.fd = -1
            raise
        if reason == "open":  # at start and at rotation: also durable, and the head follows
            if self.durable:
                self.sync()
            self.write_head()

    def _check_head(self) -> None:
        """Refuse to continue a log that lost records the signed head had seen."""
        got = read_head(self.head, self.signer.public) if self.head is not None else None
        if got is not None and int(got["recordSeq"]) > self.seq:
            raise AuditError(
                f"the audit log {self.path} ends at record {self.seq} but {self.head} names "
                f"record {got['recordSeq']}: records were removed; run `smgrpc audit verify`. "
                "To start a new chain, move the log files and the head file aside"
            )

    def _continue_rotated(self) -> None:
        """A new active file continues the newest rotated file's chain."""
        files = rotated_files(self.path)
        if not files:
            return
        fd = os.open(files[-1][1], os.O_RDONLY)
        try:
            _good, last = _tail(fd, os.fstat(fd).st_size)
            if last:
                self.prev, rec = chain.decode(last)
                self.seq = rec["recordSeq"]
        except chain.BrokenRecord:
            pass  # verify names it; the new file's checkpoint then does not follow on
        finally:
            os.close(fd)


def _iso(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))
