"""`smgrpc audit verify PATH`: check an audit trail's hash chain and checkpoint signatures.

Exit codes: 0 the chain is intact; 1 it is broken (the first broken record is named);
2 usage error or nothing to check (no such log, unreadable public key).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from smgrpc.audit.verify import verify
from smgrpc.audit.writer import HEAD_FILE
from smgrpc.crypto.audit_key import PUB_FILE, AuditKeyError, read_public

OK, BROKEN, USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="smgrpc audit", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    v = sub.add_parser("verify", help="check the chain across PATH.1, PATH.2, ... and PATH")
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
    v.add_argument("--json", action="store_true", help="print the report as JSON")
    return p


def main(argv: Sequence[str]) -> int:
    try:
        args = _parser().parse_args(list(argv))
    except SystemExit as exc:
        return USAGE if exc.code else OK
    key_file = args.public_key or (args.data_dir / PUB_FILE if args.data_dir else None)
    try:
        public = read_public(key_file) if key_file is not None else None
    except AuditKeyError as exc:
        print(f"smgrpc audit: {exc}", file=sys.stderr)
        return USAGE
    try:
        head = args.data_dir / HEAD_FILE if args.data_dir else None
        report = verify(args.path, public, head)
    except OSError as exc:
        print(f"smgrpc audit: cannot read {args.path}: {exc.strerror}", file=sys.stderr)
        return USAGE
    if not report.files:
        print(f"smgrpc audit: {report.reason}", file=sys.stderr)
        return USAGE
    if args.json:
        print(json.dumps(asdict(report)))
    elif report.ok:
        state = "closed" if report.closed else "open (server running, or it stopped uncleanly)"
        print(
            f"OK: {report.records} records (recordSeq {report.first_seq}-{report.last_seq}) "
            f"in {len(report.files)} file(s); the active file is {state}"
        )
    else:
        print(f"BROKEN at {report.broken_at} (recordSeq {report.broken_seq}): {report.reason}")
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    return OK if report.ok else BROKEN
