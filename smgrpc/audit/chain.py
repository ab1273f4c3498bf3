"""The hash chain: how one record becomes one line, and how a line is checked.

A line is the record's JSON (UTF-8, one line) whose last members are `recordSeq` (1, 2, ...
across files and restarts), `prevHash` (the previous record's hash; 64 zeros before the first)
and `hash`: the SHA-256 (hex) of the line's bytes up to, not including, `,"hash":`. So a changed
byte anywhere in a record fails that record's own hash, a removed record breaks the next one's
`recordSeq` and `prevHash`, and a torn line has no valid ending.

Checkpoints (`recordType` "Checkpoint") are records too; they also carry an Ed25519 signature
(crypto.audit_key) over `checkpoint_message`, which names the chain head they follow.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

GENESIS = "0" * 64
_HASH_AT = b',"hash":"'


class BrokenRecord(Exception):
    """A line that is not an intact record (the reason names what is wrong)."""


def body(record: dict[str, Any]) -> bytes:
    """A record's JSON without its closing brace (rendered where the record is made)."""
    return orjson.dumps(record)[:-1]


def seal(raw: bytes, seq: int, prev: str) -> tuple[bytes, str]:
    """(the line of a rendered record at this place in the chain, with its newline; its hash)."""
    head = b'%b,"recordSeq":%d,"prevHash":"%b"' % (raw, seq, prev.encode())
    digest = hashlib.sha256(head).hexdigest()
    return head + _HASH_AT + digest.encode() + b'"}\n', digest


def encode(record: dict[str, Any], seq: int, prev: str) -> tuple[bytes, str]:
    """(the line with its newline, its hash)."""
    return seal(body(record), seq, prev)


def decode(line: bytes) -> tuple[str, dict[str, Any]]:
    """(hash, record) of one line without its newline, or BrokenRecord."""
    at = line.rfind(_HASH_AT)
    if at < 0 or not line.endswith(b'"}') or len(line) - at != len(_HASH_AT) + 64 + 2:
        raise BrokenRecord("not a complete record (torn or truncated line)")
    digest = line[at + len(_HASH_AT) : -2].decode("ascii", "replace")
    if hashlib.sha256(line[:at]).hexdigest() != digest:
        raise BrokenRecord("its content does not match its hash (modified)")
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
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


def head_message(head: dict[str, Any]) -> bytes:
    """What the signature of the head file (the chain's last record, signed) covers."""
    fields = (
        "smgrpc-audit-head-v1",
        str(head.get("recordSeq")),
        str(head.get("hash")),
        str(head.get("fileNumber")),
        str(head.get("eventTime")),
    )
    return "\n".join(fields).encode()
