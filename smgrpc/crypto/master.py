"""The per-Region master key file and the key-check canary."""

from __future__ import annotations

import base64
import logging
import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger(__name__)
_CANARY_AAD = b"smgrpc-keycheck-v1"


class MasterKeyError(Exception):
    """The master key is missing, unreadable, too open, or does not match this data dir."""


def load_master_key(path: Path, *, create: bool) -> bytes:
    """Read a base64 256-bit key from a 0600 file; create it (with a warning) if allowed."""
    if not path.exists():
        if not create:
            raise MasterKeyError(f"master key file {path} does not exist")
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = AESGCM.generate_key(bit_length=256)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(base64.b64encode(key) + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        log.warning(
            "generated a new master key at %s (mode 0600). Back it up: without it every secret "
            "in this Region is unreadable. For production supply --master-key-file.",
            path,
        )
        return key
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise MasterKeyError(
            f"master key file {path} has mode {mode:04o}; it must be readable by its owner only "
            f"(chmod 600 {path})"
        )
    try:
        key = base64.b64decode(path.read_bytes().strip(), validate=True)
    except (ValueError, OSError) as exc:
        raise MasterKeyError(f"master key file {path} is not a base64 256-bit key") from exc
    if len(key) != 32:
        raise MasterKeyError(f"master key file {path} is not a base64 256-bit key")
    return key


def make_canary(master: bytes) -> bytes:
    """A blob that only the same master key can open (stored once per data dir)."""
    nonce = os.urandom(12)
    return nonce + AESGCM(master).encrypt(nonce, b"keycheck", _CANARY_AAD)


def verify_canary(master: bytes, canary: bytes) -> None:
    """Raise MasterKeyError unless master opens the canary."""
    try:
        AESGCM(master).decrypt(canary[:12], canary[12:], _CANARY_AAD)
    except (InvalidTag, ValueError) as exc:
        raise MasterKeyError(
            "master key does not match keyring of this data directory; refusing to start "
            "(nothing was modified)"
        ) from exc
