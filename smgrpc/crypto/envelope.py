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


# A wrapped data key is wnonce (12) + AES-GCM(dek) (32 + 16) = 60 bytes under material term 0
# (the key's first material, the original format); under a rotated material (term >= 1) it is
# TERM_TAG + the term (4 bytes, big-endian) + those 60 bytes.
WRAPPED_LEN = 60
TERM_TAG = b"\x01"


def seal(kek: AESGCM, key_id: str, plaintext: bytes, context: bytes, term: int = 0) -> Sealed:
    """Encrypt plaintext under a fresh data key, wrapped by kek (the key's material `term`);
    both bound to context."""
    dek = AESGCM.generate_key(bit_length=256)
    nonce, wnonce = os.urandom(12), os.urandom(12)
    ciphertext = nonce + AESGCM(dek).encrypt(nonce, plaintext, context)
    wrapped = wnonce + kek.encrypt(wnonce, dek, context)
    if term:
        wrapped = TERM_TAG + struct.pack(">I", term) + wrapped
    return Sealed(kms_key_id=key_id, wrapped_key=wrapped, ciphertext=ciphertext)


def term_of(wrapped: bytes) -> tuple[int, bytes]:
    """(material term, the wrapped data key itself) of a stored wrapped key."""
    if len(wrapped) == WRAPPED_LEN + 5 and wrapped[:1] == TERM_TAG:
        return int(struct.unpack(">I", wrapped[1:5])[0]), wrapped[5:]
    return 0, wrapped


def unwrap(kek: AESGCM, sealed: Sealed, context: bytes) -> AESGCM:
    """The version's data key (unwrapped by kek, its term's material) or DecryptionFailure."""
    wrapped = term_of(sealed.wrapped_key)[1]
    try:
        return AESGCM(kek.decrypt(wrapped[:12], wrapped[12:], context))
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
