"""Master key rotation: the same KMS key materials and access key secrets, wrapped anew.

Nothing is re-encrypted below the KMS keys (their material is unchanged, so every data key
and secret value stays as it is): the master key wraps only the key materials, the canary,
and (through HKDF) the sealed IAM access keys and the NextToken key.
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from smgrpc.core.keyset import WrappedKeySet
from smgrpc.crypto.access_keys import AccessKeyVault, NewAccessKey, StoredAccessKey
from smgrpc.crypto.master import MasterKeyError, make_canary, verify_canary
from smgrpc.crypto.materials import unwrap_material, wrap_material


def fingerprint(master: bytes) -> str:
    """A non-secret name for a master key (shown by the command, never stored)."""
    return hashlib.sha256(b"smgrpc-master-key-id-v1|" + master).hexdigest()[:16]


def rewrap(old: bytes, new: bytes, stored: WrappedKeySet) -> WrappedKeySet:
    """`stored` (opened by `old`, MasterKeyError otherwise) wrapped by `new` instead."""
    if old == new:
        raise MasterKeyError("the new master key is the current one: nothing to rotate")
    verify_canary(old, stored.canary)
    was, now = AESGCM(old), AESGCM(new)
    keys = tuple(
        (kid, wrap_material(now, kid, 0, unwrap_material(was, kid, 0, w))) for kid, w in stored.keys
    )
    materials = tuple(
        (kid, term, wrap_material(now, kid, term, unwrap_material(was, kid, term, w)))
        for kid, term, w in stored.materials
    )
    old_vault = AccessKeyVault(old, stored.account)
    new_vault = AccessKeyVault(new, stored.account)
    access = []
    for akid, sealed, digest in stored.access_keys:
        secret = old_vault.open(StoredAccessKey(akid, stored.account, sealed, digest))
        again = new_vault.seal(NewAccessKey(akid, secret))
        access.append((akid, again.sealed, again.digest))
    return WrappedKeySet(stored.account, make_canary(new), keys, materials, tuple(access))
