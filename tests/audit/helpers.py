"""Reading the audit log in tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from smgrpc.audit.verify import Report, verify
from smgrpc.audit.writer import HEAD_FILE
from smgrpc.crypto.audit_key import PUB_FILE, read_public


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def events(path: Path, name: str | None = None) -> list[dict[str, Any]]:
    return [
        r
        for r in records(path)
        if r["recordType"] == "Event" and (name is None or r["eventName"] == name)
    ]


def check(path: Path, data_dir: Path, allow_pruned: bool = False) -> Report:
    pub = read_public(data_dir / PUB_FILE)
    return verify(path, pub, data_dir / HEAD_FILE, allow_pruned=allow_pruned)
