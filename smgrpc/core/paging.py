"""Opaque, validated NextToken: keyset pagination bound to the request that issued it."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from smgrpc.core.errors import InvalidNextToken
from smgrpc.core.validate import length

T = TypeVar("T")
_BAD = "The NextToken value is invalid."


def _digest(body: bytes) -> str:
    return hashlib.sha256(b"smgrpc-page-v1|" + body).hexdigest()[:16]


def encode(position: list[Any], fingerprint: str) -> str:
    body = json.dumps([position, fingerprint], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(body).decode().rstrip("=") + "." + _digest(body)


def decode(token: str, fingerprint: str) -> list[Any]:
    """The position stored in a token; InvalidNextTokenException if forged or reused elsewhere."""
    length(token, "nextToken", 1, 4096)
    try:
        data, mac = token.rsplit(".", 1)
        body = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
        if mac != _digest(body):
            raise ValueError("checksum")
        position, fp = json.loads(body)
    except (ValueError, TypeError) as exc:
        raise InvalidNextToken(_BAD, field="nextToken") from exc
    if fp != fingerprint or not isinstance(position, list):
        raise InvalidNextToken(_BAD, field="nextToken")
    return position


def fingerprint(*parts: object) -> str:
    return _digest(json.dumps(parts, default=str, sort_keys=True).encode())


def page(
    items: Sequence[T],
    key: Callable[[T], list[Any]],
    *,
    size: int,
    token: str | None,
    fp: str,
    descending: bool = False,
) -> tuple[list[T], str | None]:
    """Slice an already sorted list after the token's position; return the next token."""
    start = 0
    if token is not None:
        after = decode(token, fp)
        start = len(items)
        try:
            for i, item in enumerate(items):
                k = key(item)
                if len(k) != len(after):
                    raise TypeError("position shape")
                if (k < after) if descending else (k > after):
                    start = i
                    break
        except TypeError as exc:
            # A well-formed token whose position does not fit this listing (forged or stale
            # format): the client's fault, never an internal error.
            raise InvalidNextToken(_BAD, field="nextToken") from exc
    chunk = list(items[start : start + size])
    more = start + size < len(items)
    return chunk, encode(key(chunk[-1]), fp) if more and chunk else None
