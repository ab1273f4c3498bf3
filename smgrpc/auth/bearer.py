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


def parse_key_pair(text: str) -> AccessKeyCredential:
    """`<AccessKeyId>:<SecretAccessKey>` exactly (the admin token file's line)."""
    if len(text) != PAIR_LEN or not text.isascii():
        raise MalformedCredential("not an <AccessKeyId>:<SecretAccessKey> pair")
    m = _PAIR_RE.fullmatch(text)
    if m is None:
        raise MalformedCredential("not an <AccessKeyId>:<SecretAccessKey> pair")
    return AccessKeyCredential(m.group(1), m.group(2))


def parse_authorization(value: str | bytes | None) -> AccessKeyCredential:
    """The credential in one `authorization` metadata value, or a CredentialError."""
    if value is None or value in ("", b""):
        raise MissingCredential("no authorization metadata")
    if isinstance(value, bytes):
        if len(value) != VALUE_LEN or not value.isascii():
            raise MalformedCredential("authorization is not Bearer <AccessKeyId>:<Secret>")
        value = value.decode("ascii")
    if len(value) != VALUE_LEN or not value.isascii():
        raise MalformedCredential("authorization is not Bearer <AccessKeyId>:<Secret>")
    m = _VALUE_RE.fullmatch(value)
    if m is None:
        raise MalformedCredential("authorization is not Bearer <AccessKeyId>:<Secret>")
    return AccessKeyCredential(m.group(1), m.group(2))


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
