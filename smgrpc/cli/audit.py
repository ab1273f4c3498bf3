"""`smgrpc audit verify PATH`: check an audit trail's hash chain and checkpoint signatures.

Exit codes:
  0  intact, and its end is vouched for: it reaches the record the signed head names
     (--data-dir or --head), or the active file ends with a signed "close" checkpoint
  1  broken: the first broken record is named (also: the chain does not start at record 1,
     i.e. its oldest files were deleted, unless --allow-pruned)
  2  usage error or nothing to check (no such log, unreadable public key)
  3  intact but unanchored: no signed head to check against and no close checkpoint at the
     end, so records cut off the end of the active file, or rewritten after its last
     checkpoint with fresh hashes, cannot be detected; verify again with --data-dir or --head
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from smgrpc.audit.verify import Report, verify
from smgrpc.audit.writer import HEAD_FILE
from smgrpc.crypto.audit_key import PUB_FILE, AuditKeyError, read_public

OK, BROKEN, USAGE, UNANCHORED = 0, 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="smgrpc audit", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = p.add_subparsers(dest="command", required=True)
    v = sub.add_parser(
        "verify",
        help="check the chain across PATH.1, PATH.2, ... and PATH",
        description=__doc__,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    v.add_argument("path", type=Path, help="the audit log (--audit-log of the server)")
    v.add_argument(
        "--public-key",
        type=Path,
        help=f"the trusted checkpoint key ({PUB_FILE} of the Region's data dir; default: "
        f"<data-dir>/{PUB_FILE} if given, else the key named by the first checkpoint)",
    )
    v.add_argument(
        "--data-dir",
        type=Path,
        help=f"the Region's data dir: its {PUB_FILE} and signed head {HEAD_FILE} are used",
    )
    v.add_argument(
        "--head",
        type=Path,
        help=f"the signed head file ({HEAD_FILE}; default <data-dir>/{HEAD_FILE}): a copy "
        "taken off the host works too (needs --public-key or --data-dir)",
    )
    v.add_argument(
        "--allow-pruned",
        action="store_true",
        help="accept a chain that starts after record 1 because its oldest files were deleted "
        "on purpose (retention); the first retained record is reported",
    )
    v.add_argument("--json", action="store_true", help="print the report as JSON")
    return p


def main(argv: Sequence[str]) -> int:
    try:
        args = _parser().parse_args(list(argv))
    except SystemExit as exc:
        return USAGE if exc.code else OK
    key_file = args.public_key or (args.data_dir / PUB_FILE if args.data_dir else None)
    if args.head is not None and key_file is None:
        print("smgrpc audit: --head needs --public-key or --data-dir", file=sys.stderr)
        return USAGE
    try:
        public = read_public(key_file) if key_file is not None else None
    except AuditKeyError as exc:
        print(f"smgrpc audit: {exc}", file=sys.stderr)
        return USAGE
    try:
        head = args.head or (args.data_dir / HEAD_FILE if args.data_dir else None)
        report = verify(args.path, public, head, allow_pruned=args.allow_pruned)
    except OSError as exc:
        print(f"smgrpc audit: cannot read {args.path}: {exc.strerror}", file=sys.stderr)
        return USAGE
    if not report.files:
        print(f"smgrpc audit: {report.reason}", file=sys.stderr)
        return USAGE
    code = OK if report.anchored else UNANCHORED if report.ok else BROKEN
    if args.json:
        print(json.dumps({**asdict(report), "exitCode": code}))
    else:
        print(_summary(report, head))
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    return code


def _summary(report: Report, head: Path | None) -> str:
    if not report.ok:
        return f"BROKEN at {report.broken_at} (recordSeq {report.broken_seq}): {report.reason}"
    span = (
        f"{report.records} records (recordSeq {report.first_seq}-{report.last_seq}) "
        f"in {len(report.files)} file(s)"
    )
    if report.pruned:
        span += f"; PRUNED: records 1-{report.pruned} are not in these files"
    if report.head_seq is not None and report.anchored:
        state = "closed" if report.closed else "open (server running, or it stopped uncleanly)"
        reach = f"reaches the signed head (recordSeq {report.head_seq})"
        return f"OK: {span}; {reach}; the active file is {state}"
    if report.anchored:
        return (
            f"OK: {span}; the active file ends with its signed close checkpoint "
            "(no signed head checked: a cut back to an earlier clean stop is not detectable)"
        )
    why = "no signed head given" if head is None else f"no signed head at {head}"
    return (
        f"UNANCHORED: {span} intact, but {why} and the active file does not end with a close "
        "checkpoint: records cut off its end, or rewritten after its last checkpoint, cannot be "
        "detected; verify with --data-dir or --head"
    )
