"""`smgrpc audit verify PATH`: check the chain across PATH.1, PATH.2, ... and PATH.

What is checked, record by record in order: each line's own hash (a changed byte), that its
recordSeq is one more than the previous record's and its prevHash the previous record's hash
(a removed or reordered record), every checkpoint's Ed25519 signature (with the trusted public
key if given, else the key the first checkpoint names), that each file begins with a checkpoint
and that each rotated file ends with its "rotate" checkpoint (a truncated or removed file);
with the Region's signed head file (<data-dir>/audit.head, at most ~1 s old while the server
runs), that the chain reaches the record it names, with that hash (records cut off the end).
The first failure is reported as FILE:LINE (recordSeq N) and a reason.

The chain must start at record 1 (the genesis prevHash): a log whose oldest files were deleted
fails, unless the caller says they were pruned on purpose (`allow_pruned`: the first retained
record is then reported). A chain that is intact but neither checked against the signed head
nor ended by a signed "close" checkpoint is `anchored=False`: its end cannot be trusted (records
cut off the end of the active file, or those after its last checkpoint rewritten with fresh
hashes, look intact), and the CLI says so with its own exit code.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smgrpc.audit import chain
from smgrpc.audit.writer import AuditError, read_head, rotated_files
from smgrpc.crypto.audit_key import signature_ok


@dataclass
class Report:
    ok: bool = True
    records: int = 0
    files: list[str] = field(default_factory=list)
    first_seq: int | None = None
    last_seq: int = 0
    broken_at: str | None = None  # FILE:LINE
    broken_seq: int | None = None
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    closed: bool = False  # the active file ends with a "close" checkpoint
    anchored: bool = False  # its end is vouched for: the signed head's record found, or `closed`
    head_seq: int | None = None  # the record the signed head names (None: no head checked)
    pruned: int = 0  # records before first_seq, absent and allowed (allow_pruned)


def files_of(path: Path) -> list[Path]:
    return [p for _n, p in rotated_files(path)] + ([path] if path.exists() else [])


def _lines(path: Path) -> Iterator[tuple[int, bytes, bool]]:
    """(line number, line without newline, whether it ended with a newline)."""
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, 1):
            yield number, raw.rstrip(b"\n"), raw.endswith(b"\n")


class _Checker:
    def __init__(self, public: str | None, report: Report, allow_pruned: bool) -> None:
        self.public, self.report, self.allow_pruned = public, report, allow_pruned
        self.seq: int | None = None
        self.prev: str | None = None
        self.head: dict[str, Any] | None = None
        self.head_matched = False  # the record the signed head names was found, its hash equal

    def fail(self, where: str, seq: int | None, reason: str) -> None:
        r = self.report
        r.ok, r.broken_at, r.broken_seq, r.reason = False, where, seq, reason

    def record(self, where: str, line: bytes, complete: bool, first_in_file: bool) -> Any:
        expected = None if self.seq is None else self.seq + 1
        if not complete:
            return self.fail(where, expected, "the last line is cut short (file truncated)")
        try:
            digest, rec = chain.decode(line)
        except chain.BrokenRecord as exc:
            return self.fail(where, expected, str(exc))
        seq = rec["recordSeq"]
        if self.seq is None:
            self.report.first_seq = seq
            if seq == 1 and rec.get("prevHash") != chain.GENESIS:
                return self.fail(where, seq, "the first record does not follow the genesis hash")
            if seq != 1 and not self._pruned(where, seq):
                return None
        elif seq != self.seq + 1:
            missing = f"{self.seq + 1}" if seq == self.seq + 2 else f"{self.seq + 1}-{seq - 1}"
            return self.fail(where, seq, f"record(s) {missing} missing before this one")
        elif rec.get("prevHash") != self.prev:
            return self.fail(where, seq, "its prevHash is not the previous record's hash")
        if first_in_file and rec.get("recordType") != "Checkpoint":
            return self.fail(where, seq, "a file must begin with a checkpoint")
        if rec.get("recordType") == "Checkpoint" and not self._signed(rec):
            return self.fail(where, seq, "the checkpoint's signature does not verify")
        head = self.head
        if head is not None and seq == head["recordSeq"]:
            if digest != head["hash"]:
                return self.fail(where, seq, "not the record the signed head names (replaced)")
            self.head_matched = True
        self.seq, self.prev = seq, digest
        self.report.records += 1
        self.report.last_seq = seq
        return rec

    def _pruned(self, where: str, seq: int) -> bool:
        """The chain starts after record 1: fine only if old files were pruned on purpose."""
        gone = "record 1" if seq == 2 else f"records 1-{seq - 1}"
        if not self.allow_pruned:
            why = f"the chain starts at record {seq}: {gone} missing (older files deleted)"
            self.fail(where, seq, why + "; if they were pruned on purpose, use --allow-pruned")
            return False
        self.report.pruned = seq - 1
        self.report.notes.append(
            f"PRUNED: {gone} absent (allowed by --allow-pruned); the retained chain starts at "
            f"record {seq} in {where}"
        )
        return True

    def _signed(self, rec: dict[str, Any]) -> bool:
        key = rec.get("publicKey")
        if self.public is None:
            if not isinstance(key, str):
                return False
            self.public = key
            self.report.notes.append("no --public-key given: trusted the first checkpoint's key")
        sig = rec.get("signature")
        msg = chain.checkpoint_message(rec)
        return isinstance(sig, str) and key == self.public and signature_ok(key, msg, sig)


def verify(
    path: Path, public: str | None = None, head: Path | None = None, allow_pruned: bool = False
) -> Report:
    """head: the signed head file (needs `public`); allow_pruned: a chain may start after
    record 1 (its oldest files deleted on purpose)."""
    report = Report()
    files = files_of(path)
    if not files:
        report.ok, report.reason = False, f"no audit log at {path}"
        return report
    checker = _Checker(public, report, allow_pruned)
    if head is not None and public is not None:
        try:
            checker.head = read_head(head, public)
        except AuditError as exc:
            checker.fail(str(head), None, str(exc))
            return report
        report.head_seq = None if checker.head is None else int(checker.head["recordSeq"])
    for index, file in enumerate(files):
        report.files.append(str(file))
        last: Any = None
        for number, line, complete in _lines(file):
            last = checker.record(f"{file}:{number}", line, complete, number == 1)
            if not report.ok:
                return report
        active = index == len(files) - 1 and file == path
        reason = last.get("reason") if isinstance(last, dict) else None
        if last is None:
            report.notes.append(f"{file} is empty")
        elif not active and (last.get("recordType") != "Checkpoint" or reason != "rotate"):
            checker.fail(f"{file}:end", report.last_seq + 1, "the rotated file does not end "
                         "with its rotate checkpoint (truncated)")  # fmt: skip
            return report
        report.closed = active and reason == "close"
    want = checker.head["recordSeq"] if checker.head is not None else 0
    if want > report.last_seq:
        checker.fail(
            f"{files[-1]}:end",
            report.last_seq + 1,
            f"the log ends at record {report.last_seq} but the signed head names record {want}: "
            "records were cut off the end (truncated)",
        )
    if report.ok and checker.head is not None and not checker.head_matched:
        report.notes.append(f"the signed head names record {want}, before this chain starts")
    report.anchored = report.ok and (checker.head_matched or report.closed)
    return report
