"""Envelope encryption: AES-256-GCM under a fresh data key per version.

AAD binds format version, Region, secret ARN (in this Region), version id and key id, so a
row moved to another secret or version, or a swapped wrapped key, fails to open.
"""

from __future__ import annotations

import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from smgrpc.core.errors import DecryptionFailure
from smgrpc.core.model import Sealed

FORMAT = b"smgrpc-env-v1"
DECRYPT_FAILED = (
    "Secrets Manager can't decrypt the protected secret text using the provided KMS key."
)


def aad(region: str, secret_arn: str, version_id: str, key_id: str) -> bytes:
    """Length-prefixed canonical encoding (never naive concatenation)."""
    out = bytearray()
    for part in (
        FORMAT,
        region.encode(),
        secret_arn.encode(),
        version_id.encode(),
        key_id.encode(),
    ):
        out += struct.pack(">I", len(part)) + part
    return bytes(out)


def seal(kek: AESGCM, key_id: str, plaintext: bytes, context: bytes) -> Sealed:
    """Encrypt plaintext under a fresh data key, wrapped by kek; both bound to context."""
    dek = AESGCM.generate_key(bit_length=256)
    nonce, wnonce = os.urandom(12), os.urandom(12)
    ciphertext = nonce + AESGCM(dek).encrypt(nonce, plaintext, context)
    wrapped = wnonce + kek.encrypt(wnonce, dek, context)
    return Sealed(kms_key_id=key_id, wrapped_key=wrapped, ciphertext=ciphertext)


def unwrap(kek: AESGCM, sealed: Sealed, context: bytes) -> AESGCM:
    """The version's data key (unwrapped by kek) or DecryptionFailure."""
    try:
        return AESGCM(kek.decrypt(sealed.wrapped_key[:12], sealed.wrapped_key[12:], context))
    except (InvalidTag, ValueError) as exc:
        raise DecryptionFailure(DECRYPT_FAILED) from exc


def decrypt(dek: AESGCM, sealed: Sealed, context: bytes) -> bytes:
    """The plaintext under an unwrapped data key, or DecryptionFailure (never partial)."""
    try:
        return dek.decrypt(sealed.ciphertext[:12], sealed.ciphertext[12:], context)
    except (InvalidTag, ValueError) as exc:
        raise DecryptionFailure(DECRYPT_FAILED) from exc


def open_sealed(kek: AESGCM, sealed: Sealed, context: bytes) -> bytes:
    """Decrypt or raise DecryptionFailure; never returns partial or wrong plaintext."""
    return decrypt(unwrap(kek, sealed, context), sealed, context)
