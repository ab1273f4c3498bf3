"""Request limits of the AWS model (lengths, patterns, counts, ranges) as pure checks.

Model-level violations answer ValidationException with the AWS "1 validation error detected"
text; the service-level rules AWS documents answer the code AWS uses. Messages never echo a
secret value (AWS itself prints no value for sensitive members).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from smgrpc.core.errors import InvalidParameter, ValidationError
from smgrpc.core.errors import validation as validation
from smgrpc.core.model import SecretValue

MAX_VALUE_BYTES = 65536
MAX_TAGS = 50
MAX_STAGES = 20
_NAME_RE = re.compile(r"^[A-Za-z0-9/_+=.@!-]+$")
_REGION_RE = re.compile(r"^([a-z]+-)+\d+$")
_TAG_EXTRA = set("_.:/=+-@")
TAG_PATTERN = "Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$"
INVALID_NAME = (
    "Invalid name. Must be a valid name containing alphanumeric characters, or any of the "
    "following: -/_+=.@!"
)


def length(value: str | bytes | None, path: str, lo: int, hi: int, *, secret: bool = False) -> None:
    """Check a string/bytes length against the model's min/max."""
    if value is None:
        return
    n = len(value)
    if lo <= n <= hi:
        return
    # Long or sensitive values are not echoed (AWS prints no value for sensitive members).
    desc = "" if secret or n > 256 or isinstance(value, bytes) else f"'{value}'"
    if n < lo:
        raise validation(desc, path, f"Member must have length greater than or equal to {lo}")
    if n > hi:
        raise validation(desc, path, f"Member must have length less than or equal to {hi}")


def int_range(value: int | None, path: str, lo: int, hi: int) -> None:
    if value is None:
        return
    if value < lo:
        raise validation(
            f"'{value}'", path, f"Member must have value greater than or equal to {lo}"
        )
    if value > hi:
        raise validation(f"'{value}'", path, f"Member must have value less than or equal to {hi}")


def one_of(value: str | None, path: str, allowed: Sequence[str]) -> None:
    """An AWS enum member; a long value is not echoed (error trailers must stay small)."""
    if value is None or value in allowed:
        return
    desc = f"'{value}'" if len(value) <= 256 else ""
    raise validation(desc, path, f"Member must satisfy enum value set: [{', '.join(allowed)}]")


_VALID_IDS: set[str] = set()  # SecretIds that passed secret_id (bounded): no regex for them


def secret_id(value: str, path: str = "secretId") -> None:
    """SecretId: 1..2048 chars; a non-ARN id must be a valid name."""
    if value in _VALID_IDS:
        return  # every read checks this: an id seen valid before is one set lookup
    if 0 < len(value) <= 2048 and (value.startswith("arn:") or _NAME_RE.match(value)):
        if len(_VALID_IDS) >= 4096:
            _VALID_IDS.clear()
        _VALID_IDS.add(value)
        return
    length(value, path, 1, 2048)
    if not value.startswith("arn:") and not _NAME_RE.match(value):
        raise ValidationError(INVALID_NAME, field=path)


def name(value: str) -> None:
    length(value, "name", 1, 512)
    if not _NAME_RE.match(value):
        raise ValidationError(INVALID_NAME, field="name")


def token(value: str | None) -> None:
    """ClientRequestToken: AWS answers this one with InvalidParameterException."""
    if value is not None and not 32 <= len(value) <= 64:
        raise InvalidParameter(
            "ClientRequestToken must be 32-64 characters long.", field="clientRequestToken"
        )


def version_id(value: str | None, path: str) -> None:
    length(value, path, 32, 64)


def description(value: str | None) -> None:
    length(value, "description", 0, 2048)


def kms_key_id(value: str | None, path: str = "kmsKeyId") -> None:
    length(value, path, 0, 2048)


def value(
    string: str | None, binary: bytes | None, *, required: bool = False
) -> SecretValue | None:
    """SecretString / SecretBinary: at most one, 1..65536 (UTF-8 bytes for strings)."""
    if string is not None and binary is not None:
        raise InvalidParameter(
            "You can't specify both a binary secret value and a string secret value in the "
            "same secret.",
            field="secretString",
        )
    if string is not None:
        # The limit counts UTF-8 bytes (the stricter reading of an ambiguous AWS limit).
        length(string.encode("utf-8"), "secretString", 1, MAX_VALUE_BYTES, secret=True)
        return SecretValue(string=string)
    if binary is not None:
        length(binary, "secretBinary", 1, MAX_VALUE_BYTES, secret=True)
        return SecretValue(binary=binary)
    if required:
        raise InvalidParameter("You must provide either SecretString or SecretBinary.")
    return None


def tag_key(key: str, path: str) -> None:
    length(key, path, 1, 128)
    if not all(ch.isalnum() or ch.isspace() or ch in _TAG_EXTRA for ch in key):
        raise validation(
            f"'{key}'",
            path,
            TAG_PATTERN,
        )
    if key.lower().startswith("aws:"):
        raise InvalidParameter(
            "Invalid tag key: keys that start with 'aws:' are reserved for AWS use.", field=path
        )


def tags(items: Sequence[tuple[str, str]], path: str = "tags") -> None:
    if len(items) > MAX_TAGS:
        raise validation("", path, f"Member must have length less than or equal to {MAX_TAGS}")
    for i, (k, v) in enumerate(items, 1):
        tag_key(k, f"{path}.{i}.member.key")
        length(v, f"{path}.{i}.member.value", 0, 256)
        if not all(ch.isalnum() or ch.isspace() or ch in _TAG_EXTRA for ch in v):
            raise validation(
                f"'{v}'",
                f"{path}.{i}.member.value",
                TAG_PATTERN,
            )


def stages(items: Sequence[str], path: str = "versionStages") -> None:
    if len(items) > MAX_STAGES:
        raise validation("", path, f"Member must have length less than or equal to {MAX_STAGES}")
    for i, s in enumerate(items, 1):
        length(s, f"{path}.{i}.member", 1, 256)


def region(value: str, path: str) -> None:
    length(value, path, 1, 128)
    if not _REGION_RE.match(value):
        raise validation(
            f"'{value}'", path, "Member must satisfy regular expression pattern: ^([a-z]+-)+\\d+$"
        )
