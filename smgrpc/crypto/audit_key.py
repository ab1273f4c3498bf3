"""The audit trail's checkpoint signing key: Ed25519, kept in the data dir.

Ed25519 rather than HMAC: checking a signature needs only the public key (`audit.pub`), so an
auditor, or `smgrpc audit verify` on another host, can check the checkpoints without holding
anything that could forge them. Signing happens only at checkpoints (a file opened, rotated or
closed), so its cost (~50 us) never shows per call.
"""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_FILE = "audit.key"
PUB_FILE = "audit.pub"


class AuditKeyError(Exception):
    """The audit signing key is unreadable, too open, or not an Ed25519 key."""


class AuditSigner:
    """Signs checkpoint messages; `public` is the raw 32-byte public key, base64."""

    __slots__ = ("_key", "public")

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.public = base64.b64encode(raw).decode()

    def __repr__(self) -> str:
        return f"AuditSigner(public={self.public})"

    def __reduce__(self) -> str:
        raise TypeError("the audit signing key cannot be pickled")

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self._key.sign(message)).decode()


def load_signer(data_dir: Path) -> AuditSigner:
    """<data_dir>/audit.key (0600, raw base64), created on first use with audit.pub next to it."""
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        raw = key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(base64.b64encode(raw) + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        signer = AuditSigner(key)
        (data_dir / PUB_FILE).write_text(signer.public + "\n")
        return signer
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise AuditKeyError(f"audit key file {path} has mode {mode:04o}; chmod 600 {path}")
    try:
        raw = base64.b64decode(path.read_bytes().strip(), validate=True)
        return AuditSigner(Ed25519PrivateKey.from_private_bytes(raw))
    except (ValueError, OSError):
        raise AuditKeyError(f"audit key file {path} is not a base64 Ed25519 key") from None


def read_public(path: Path) -> str:
    """A public key file (audit.pub: base64 raw Ed25519 public key)."""
    try:
        text = path.read_text().strip()
        Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except (ValueError, OSError) as exc:
        raise AuditKeyError(f"{path} is not an audit public key ({type(exc).__name__})") from None
    return text


def signature_ok(public: str, message: bytes, signature: str) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public, validate=True))
        key.verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, ValueError):
        return False
    return True
