"""KMS key materials wrapped by the master key, and the bound on data keys per material.

Term 0 is a key's first material (kms_keys.material); `smgrpc kms rotate-key` adds term N+1
(kms_materials). New data keys are wrapped by the newest term; older terms stay for
decryption. A wrapped material is nonce (12) + AES-GCM(material) (32 + 16) = 60 bytes, its AAD
the key id (and term), so a material moved to another key or term fails to unwrap.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from smgrpc.core.model import KmsMaterialRecord
from smgrpc.crypto.master import MasterKeyError

# Data keys are wrapped by a material with 96-bit random nonces: NIST SP 800-38D keeps the
# collision probability below 2^-32 up to 2^32 encryptions under one key. A material is
# rotated automatically after ROTATE_AFTER data keys (4x below that), and one that has wrapped
# REFUSE_FACTOR x ROTATE_AFTER (2^31) refuses to wrap more (EncryptionFailure).
ROTATE_AFTER = 2**30
REFUSE_FACTOR = 2


def material_aad(key_id: str, term: int) -> bytes:
    aad = b"smgrpc-kms-material-v1|" + key_id.encode()
    return aad if term == 0 else aad + b"|term=" + str(term).encode()


def wrap_material(master: AESGCM, key_id: str, term: int, material: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + master.encrypt(nonce, material, material_aad(key_id, term))


def unwrap_material(master: AESGCM, key_id: str, term: int, wrapped: bytes) -> bytes:
    """The material, or MasterKeyError (another master key, or a tampered or moved row)."""
    try:
        return master.decrypt(wrapped[:12], wrapped[12:], material_aad(key_id, term))
    except (InvalidTag, ValueError) as exc:
        suffix = f" (material term {term})" if term else ""
        raise MasterKeyError(f"master key does not match keyring key {key_id}{suffix}") from exc


def new_material(master: AESGCM, key_id: str, term: int, now: float) -> KmsMaterialRecord:
    """A fresh material for `key_id` at `term` (>= 1), wrapped, ready to persist."""
    material = AESGCM.generate_key(bit_length=256)
    return KmsMaterialRecord(key_id, term, now, wrap_material(master, key_id, term, material))
