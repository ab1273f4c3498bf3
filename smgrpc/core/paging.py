"""Opaque NextTokens: a keyset position, authenticated with the Region's key, bound to a request.

A token is `base64url(body) "." base64url(HMAC-SHA256(key, fingerprint, body))`. The MAC is
checked (in constant time) before anything of the body is parsed, so unauthenticated client
input never reaches the JSON parser; the body is a flat JSON list of scalars that we wrote, and
its shape is checked against what the listing expects before it is compared with anything.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from typing import TypeVar

from smgrpc.core.errors import InvalidNextToken
from smgrpc.core.validate import length

T = TypeVar("T")
Scalar = str | float
Position = tuple[Scalar, ...]
KEY_BYTES = 32
# Our own tokens stay far below this (a name-sorted position holds a 512-character name and
# an ARN); anything longer is not ours. AWS's model bound (4096) is checked first.
MAX_TOKEN = 2560
_BAD = "The NextToken value is invalid."
_DOMAIN = b"smgrpc-page-v2\x00"


def fingerprint(*parts: object) -> str:
    """What a token is bound to (the operation and every request field that shapes the list)."""
    return hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _bad(cause: Exception | None = None) -> InvalidNextToken:
    exc = InvalidNextToken(_BAD, field="nextToken")
    exc.__cause__ = cause
    return exc


def _fits(value: object, kind: type) -> bool:
    if kind is float:  # a timestamp: a JSON number, never a bool
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, kind)


class Tokens:
    """Issues and checks the NextTokens of one Region (its key never leaves this object)."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("token key too short")
        self._key = key

    def __repr__(self) -> str:
        return "Tokens(<key>)"

    def _mac(self, fp: str, body: bytes) -> bytes:
        return hmac.new(self._key, _DOMAIN + fp.encode() + b"\x00" + body, "sha256").digest()

    def encode(self, position: Sequence[Scalar], fp: str) -> str:
        body = json.dumps(list(position), separators=(",", ":")).encode()
        return f"{_b64(body)}.{_b64(self._mac(fp, body))}"

    def decode(self, token: str, fp: str, shape: Sequence[type]) -> Position:
        """The position in a token issued for this request; InvalidNextTokenException otherwise.

        shape: the type of each element (float for a timestamp, str for a name or ARN).
        """
        length(token, "nextToken", 1, 4096)
        if len(token) > MAX_TOKEN or not token.isascii() or token.count(".") != 1:
            raise _bad()
        data, mac = token.split(".")
        try:
            body, given = _unb64(data), _unb64(mac)
        except (ValueError, binascii.Error) as exc:
            raise _bad(exc) from exc
        if not hmac.compare_digest(given, self._mac(fp, body)):
            raise _bad()
        # Authentic, so written by encode() above: a flat list. Checked all the same.
        try:
            position = json.loads(body)
        except ValueError as exc:
            raise _bad(exc) from exc
        if (
            not isinstance(position, list)
            or len(position) != len(shape)
            or not all(_fits(v, k) for v, k in zip(position, shape, strict=True))
        ):
            raise _bad()
        return tuple(position)


def page(
    items: Sequence[T],
    key: Callable[[T], Position],
    *,
    size: int,
    token: str | None,
    fp: str,
    tokens: Tokens,
    shape: Sequence[type],
    descending: bool = False,
) -> tuple[list[T], str | None]:
    """Slice a short list, already sorted by key, after the token's position."""
    start = 0
    if token is not None:
        after = tokens.decode(token, fp, shape)
        start = len(items)
        for i, item in enumerate(items):
            k = key(item)
            if (k < after) if descending else (k > after):
                start = i
                break
    chunk = list(items[start : start + size])
    more = start + size < len(items)
    return chunk, tokens.encode(key(chunk[-1]), fp) if more and chunk else None
