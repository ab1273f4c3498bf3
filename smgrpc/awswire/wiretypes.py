"""AWS JSON 1.1 scalar conversions: JSON value -> proto value (with AWS's SerializationException
texts) and proto value -> JSON value (epoch-second timestamps, base64 blobs).

AWS's texts for a member of the wrong JSON type (the Coral framework behind every awsJson1.1
service; measured on a live awsJson1.1 service, 2026-09):

* a JSON string / number / true / false where another scalar belongs, e.g. "NUMBER_VALUE can
  not be converted to a String": ``<STRING_VALUE | NUMBER_VALUE | TRUE_VALUE | FALSE_VALUE> can
  not be converted to <an Integer | a Long | a String | a Boolean | a Blob>`` (Integer and
  String measured; Long, Boolean and Blob follow the same pattern);
* an array where a scalar or structure belongs: "Start of list found where not expected";
* an object where a scalar or list belongs: "Start of structure or map found where not
  expected." (with the full stop);
* a scalar where a list belongs: "Expected list or null"; where a structure belongs:
  "Expected null".

A JSON number with a fraction for an integer member is truncated, as AWS does. Values outside
the member's range (int32 for Integer, int64 for Long) are refused as "NUMBER_VALUE can not be
converted to an Integer" (our choice: AWS's text for that case was not measured).

Base64 errors keep AWS's reason texts but never echo the value (AWS quotes it; a SecretBinary is
secret): "A value (not shown) can not be converted to a Blob: <reason>".
"""

from __future__ import annotations

import binascii
from collections.abc import Callable
from typing import Any

import orjson
from google.protobuf.timestamp_pb2 import Timestamp

from smgrpc.core.errors import SerializationError

LIST_FOUND = "Start of list found where not expected"
MAP_FOUND = "Start of structure or map found where not expected."
EXPECTED_LIST = "Expected list or null"
EXPECTED_STRUCTURE = "Expected null"

Scalar = Callable[[Any], Any]


def json_kind(value: Any) -> str:
    """AWS's name for the JSON kind of a scalar."""
    if value is True:
        return "TRUE_VALUE"
    if value is False:
        return "FALSE_VALUE"
    if isinstance(value, str):
        return "STRING_VALUE"
    return "NUMBER_VALUE"


def mismatch(value: Any, target: str) -> SerializationError:
    """The error for a JSON value that is not of the member's type (target: "a String")."""
    if isinstance(value, list):
        return SerializationError(LIST_FOUND)
    if isinstance(value, dict):
        return SerializationError(MAP_FOUND)
    return SerializationError(f"{json_kind(value)} can not be converted to {target}")


def string(value: Any) -> str:
    if type(value) is str:
        return value
    raise mismatch(value, "a String")


def boolean(value: Any) -> bool:
    if type(value) is bool:
        return value
    raise mismatch(value, "a Boolean")


def integer(target: str, bits: int) -> Scalar:
    """An Integer (32 bits) or Long (64 bits) member; fractions are truncated as AWS does."""
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1

    def convert(value: Any) -> int:
        kind = type(value)
        number: int
        if kind is int:
            number = value
        elif kind is float:
            number = int(value)  # JSON has no infinities; huge values fail the range check
        else:
            raise mismatch(value, target)
        if lo <= number <= hi:
            return number
        raise SerializationError(f"NUMBER_VALUE can not be converted to {target}")

    return convert


def _blob_error(reason: str) -> SerializationError:
    return SerializationError(f"A value (not shown) can not be converted to a Blob: {reason}")


def blob(value: Any) -> bytes:
    """A base64 string (standard alphabet, padded), decoded strictly as AWS does."""
    if type(value) is not str:
        raise mismatch(value, "a Blob")
    if len(value) % 4:
        raise _blob_error(
            f"Base64 encoded length is expected a multiple of 4 bytes but found: {len(value)}"
        )
    try:
        raw = binascii.a2b_base64(value, strict_mode=True)
    except (binascii.Error, ValueError):
        raise _blob_error("Invalid Base64 character") from None
    # A last quantum with non-zero unused bits ("YR==") decodes, but is not canonical base64.
    tail = value[-4:]
    if tail and binascii.b2a_base64(binascii.a2b_base64(tail), newline=False) != tail.encode():
        raise _blob_error("Invalid last non-pad Base64 character dectected")  # sic (AWS)
    return raw


SCALARS: dict[str, Scalar] = {
    "string": string,
    "boolean": boolean,
    "integer": integer("an Integer", 32),
    "long": integer("a Long", 64),
    "blob": blob,
}


# ---- encoding ----


def epoch_text(ts: Timestamp) -> bytes:
    """A Timestamp as AWS writes it: epoch seconds to the millisecond, in Java's
    Double.toString form (1523477145.713 -> 1.523477145713E9, 1700000000.0 -> 1.7E9)."""
    ms = ts.seconds * 1000 + (ts.nanos + 500_000) // 1_000_000
    return _java_double(ms)


def _java_double(ms: int) -> bytes:
    if ms < 0:
        return b"-" + _java_double(-ms)
    if ms >= 10_000_000_000:  # >= 1e7 seconds: Java's computerized scientific notation
        digits = str(ms)
        exponent = len(digits) - 4
        digits = digits.rstrip("0")
        return f"{digits[0]}.{digits[1:] or '0'}E{exponent}".encode()
    whole, frac = divmod(ms, 1000)
    return f"{whole}.{(f'{frac:03d}'.rstrip('0') or '0')}".encode()


_FRAGMENTS: dict[int, Any] = {}


def epoch_fragment(ts: Timestamp) -> Any:
    """epoch_text as an orjson.Fragment (a raw JSON number), memoised: the same few timestamps
    (a hot secret's CreatedDate) are written over and over."""
    ms = ts.seconds * 1000 + (ts.nanos + 500_000) // 1_000_000
    frag = _FRAGMENTS.get(ms)
    if frag is None:
        if len(_FRAGMENTS) >= 16_384:
            _FRAGMENTS.clear()
        frag = _FRAGMENTS[ms] = orjson.Fragment(_java_double(ms))
    return frag


def base64_text(raw: bytes) -> str:
    return binascii.b2a_base64(raw, newline=False).decode("ascii")
