"""The gRPC `authorization: Bearer <AccessKeyId>:<SecretAccessKey>` credential.

Parsing is strict: the scheme is matched case-insensitively, everything else exactly (one
space, no surrounding or embedded whitespace, ASCII only, the AWS shapes of both parts), and
the length is bounded before any pattern runs. Each failure is its own type so the caller
can tell (and count) a malformed header from an unknown key id or a wrong secret; all of them
are reported to the client as UnrecognizedClientException with one fixed message. Neither
the errors nor the credential's repr ever show the secret, or the header value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from smgrpc.crypto.access_keys import (
    ACCESS_KEY_ID_LEN,
    ACCESS_KEY_ID_RE,
    SECRET_ACCESS_KEY_LEN,
    SECRET_ACCESS_KEY_RE,
    AccessKeyVault,
    StoredAccessKey,
)

HEADER = "authorization"
SCHEME = "Bearer"
# "Bearer " + id + ":" + secret: the only length a well-formed value has.
VALUE_LEN = len(SCHEME) + 1 + ACCESS_KEY_ID_LEN + 1 + SECRET_ACCESS_KEY_LEN
PAIR_LEN = ACCESS_KEY_ID_LEN + 1 + SECRET_ACCESS_KEY_LEN
_PAIR = f"({ACCESS_KEY_ID_RE.pattern}):({SECRET_ACCESS_KEY_RE.pattern})"
_PAIR_RE = re.compile(_PAIR)
_VALUE_RE = re.compile(r"(?i:bearer) " + _PAIR)
UNRECOGNIZED = "The security token included in the request is invalid."


class CredentialError(Exception):
    """Authentication failed; `reason` (safe to log) says why, the message is AWS's."""

    aws_code = "UnrecognizedClientException"

    def __init__(self, reason: str) -> None:
        super().__init__(UNRECOGNIZED)
        self.message = UNRECOGNIZED
        self.reason = reason


class MissingCredential(CredentialError):
    """No authorization metadata at all."""


class MalformedCredential(CredentialError):
    """The authorization value is not exactly `Bearer <AccessKeyId>:<SecretAccessKey>`."""


class UnknownAccessKey(CredentialError):
    """Well formed, but no such AccessKeyId."""


class InvalidSecret(CredentialError):
    """The AccessKeyId exists but the secret presented is not its secret."""


@dataclass(frozen=True, repr=False, eq=False)
class AccessKeyCredential:
    """A presented AccessKeyId and SecretAccessKey; renders with the id only."""

    access_key_id: str
    secret_access_key: str

    def __repr__(self) -> str:
        return f"AccessKeyCredential(access_key_id={self.access_key_id!r}, <secret redacted>)"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("credentials are not serialisable")


_NOT_PAIR = "not an <AccessKeyId>:<SecretAccessKey> pair"
_NOT_BEARER = "authorization is not Bearer <AccessKeyId>:<Secret>"


def _credential(text: str, length: int, pattern: re.Pattern[str], why: str) -> AccessKeyCredential:
    """The id and secret of `text` if it has exactly this length and shape (length and ASCII
    checked before the pattern runs)."""
    m = pattern.fullmatch(text) if len(text) == length and text.isascii() else None
    if m is None:
        raise MalformedCredential(why)
    return AccessKeyCredential(m.group(1), m.group(2))


def parse_key_pair(text: str) -> AccessKeyCredential:
    """`<AccessKeyId>:<SecretAccessKey>` exactly (the admin token file's line)."""
    return _credential(text, PAIR_LEN, _PAIR_RE, _NOT_PAIR)


def parse_authorization(value: str | bytes | None) -> AccessKeyCredential:
    """The credential in one `authorization` metadata value, or a CredentialError."""
    if value is None or value in ("", b""):
        raise MissingCredential("no authorization metadata")
    if isinstance(value, bytes):
        if len(value) != VALUE_LEN or not value.isascii():  # bounded before decoding
            raise MalformedCredential(_NOT_BEARER)
        value = value.decode("ascii")
    return _credential(value, VALUE_LEN, _VALUE_RE, _NOT_BEARER)


def from_metadata(metadata: Iterable[tuple[str, str | bytes]]) -> AccessKeyCredential:
    """The credential of a call's invocation metadata: exactly one `authorization` entry."""
    values = [v for k, v in metadata if k.lower() == HEADER]
    if not values:
        raise MissingCredential("no authorization metadata")
    if len(values) > 1:
        raise MalformedCredential("more than one authorization metadata entry")
    return parse_authorization(values[0])


def authenticate(
    credential: AccessKeyCredential, stored: StoredAccessKey | None, vault: AccessKeyVault
) -> StoredAccessKey:
    """Check a credential against the stored key its id names (None: no such key)."""
    if stored is None or stored.access_key_id != credential.access_key_id:
        raise UnknownAccessKey(f"unknown access key {credential.access_key_id}")
    if not vault.verify(stored, credential.secret_access_key):
        raise InvalidSecret(f"wrong secret for access key {credential.access_key_id}")
    return stored
