"""The hash chain: how one record becomes one line, and how a line is checked.

A line is the record's JSON (ASCII, one line) whose last members are `recordSeq` (1, 2, ...
across files and restarts), `prevHash` (the previous record's hash; 64 zeros before the first)
and `hash`: the SHA-256 (hex) of the line's bytes up to, not including, `,"hash":`. So a changed
byte anywhere in a record fails that record's own hash, a removed record breaks the next one's
`recordSeq` and `prevHash`, and a torn line has no valid ending.

Checkpoints (`recordType` "Checkpoint") are records too; they also carry an Ed25519 signature
(crypto.audit_key) over `checkpoint_message`, which names the chain head they follow.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

GENESIS = "0" * 64
_HASH_AT = b',"hash":"'


class BrokenRecord(Exception):
    """A line that is not an intact record (the reason names what is wrong)."""


def encode(record: dict[str, Any], seq: int, prev: str) -> tuple[bytes, str]:
    """(the line with its newline, its hash)."""
    body = json.dumps({**record, "recordSeq": seq, "prevHash": prev}, separators=(",", ":"))
    raw = body[:-1].encode()
    digest = hashlib.sha256(raw).hexdigest()
    return raw + _HASH_AT + digest.encode() + b'"}\n', digest


def decode(line: bytes) -> tuple[str, dict[str, Any]]:
    """(hash, record) of one line without its newline, or BrokenRecord."""
    at = line.rfind(_HASH_AT)
    if at < 0 or not line.endswith(b'"}') or len(line) - at != len(_HASH_AT) + 64 + 2:
        raise BrokenRecord("not a complete record (torn or truncated line)")
    digest = line[at + len(_HASH_AT) : -2].decode("ascii", "replace")
    if hashlib.sha256(line[:at]).hexdigest() != digest:
        raise BrokenRecord("its content does not match its hash (modified)")
    try:
        record = json.loads(line)
    except ValueError:
        raise BrokenRecord("not valid JSON") from None
    if not isinstance(record, dict) or not isinstance(record.get("recordSeq"), int):
        raise BrokenRecord("no recordSeq")
    return digest, record


def checkpoint_message(record: dict[str, Any]) -> bytes:
    """What a checkpoint's signature covers: its place in the chain and what it says."""
    fields = (
        "smgrpc-audit-checkpoint-v1",
        str(record.get("recordSeq")),
        str(record.get("prevHash")),
        str(record.get("reason")),
        str(record.get("eventTime")),
        str(record.get("fileNumber")),
        str(record.get("tornBytes", 0)),
        str(record.get("awsRegion")),
    )
    return "\n".join(fields).encode()
