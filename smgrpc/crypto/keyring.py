"""KMS-like keys of one Region: the default aws/secretsmanager key plus customer keys.

Each key's 256-bit material is wrapped by the master key (AAD = key id) and kept in storage;
the unwrapped material lives only here, as AESGCM objects. A rotated key (`smgrpc kms
rotate-key`) has several materials (terms, see crypto.materials): the newest wraps new data
keys, the older ones still open what they wrapped.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from smgrpc.core.arn import partition_for
from smgrpc.core.errors import DecryptionFailure, EncryptionFailure, InvalidParameter
from smgrpc.core.model import (
    DEFAULT_KMS_ALIAS,
    KmsKeyRecord,
    KmsMaterialRecord,
    Sealed,
    SecretValue,
)
from smgrpc.crypto import envelope
from smgrpc.crypto.access_keys import AccessKeyVault
from smgrpc.crypto.materials import (
    REFUSE_FACTOR,
    ROTATE_AFTER,
    material_aad,
    new_material,
    unwrap_material,
)

ENCRYPT_FAILED = (
    "Secrets Manager can't encrypt the protected secret text using the provided KMS key. "
    "Check that the KMS key is available, enabled, and not in an invalid state."
)
DEFAULT_KEY_LABEL = "DefaultEncryptionKey"
TOKEN_INFO = b"smgrpc-next-token-v1"
# Data keys of recently read versions kept unwrapped (see Keyring.open): ~0.5 KB each.
DATA_KEY_CACHE = 4096


BOUND_REACHED = (
    "Secrets Manager can't encrypt the protected secret text using the provided KMS key: its "
    "key material reached its data-key limit. Rotate it (smgrpc kms rotate-key)."
)
Usage = dict[tuple[str, int], int]  # (key id, material term) -> data keys wrapped


class KmsError(Exception):
    """A `smgrpc kms` request AWS KMS would refuse, with KMS's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def new_key_record(
    master: bytes | AESGCM,
    region: str,
    account: str,
    *,
    alias: str | None,
    description: str,
    now: float,
) -> KmsKeyRecord:
    """Create a fresh key (material wrapped by the master key), ready to persist."""
    aead = master if isinstance(master, AESGCM) else AESGCM(master)
    key_id = str(uuid.uuid4())
    nonce = os.urandom(12)
    material = AESGCM.generate_key(bit_length=256)
    wrapped = nonce + aead.encrypt(nonce, material, material_aad(key_id, 0))
    arn = f"arn:{partition_for(region)}:kms:{region}:{account}:key/{key_id}"
    return KmsKeyRecord(key_id, arn, alias, description, True, now, wrapped)


def is_managed(rec: KmsKeyRecord) -> bool:
    """AWS managed keys (alias/aws/...) can't be created, disabled or enabled by a user."""
    return bool(rec.alias and rec.alias.lower().startswith("alias/aws/"))


class Keyring:
    """Resolves KmsKeyId references and seals/opens values for one Region."""

    def __init__(
        self,
        master: bytes,
        region: str,
        account: str,
        records: Iterable[KmsKeyRecord],
        *,
        data_key_cache: int = DATA_KEY_CACHE,
        materials: Iterable[KmsMaterialRecord] = (),
        rotate_after: int = ROTATE_AFTER,
        canary: bytes | None = None,
    ) -> None:
        """data_key_cache: how many versions' unwrapped data keys `open` keeps (0: none);
        materials: the rotated materials (terms >= 1); rotate_after: data keys one material
        wraps before it is due for rotation (twice as many: it refuses to wrap more);
        canary: the data dir's key-check canary `master` verified (key rows this keyring
        wraps are stored only while it is still the data dir's)."""
        self._master = AESGCM(master)
        self.canary = canary
        self._data_key_cache = data_key_cache
        self.rotate_after = rotate_after
        # Data keys wrapped per (key, term): as recorded in storage, and since then (not yet
        # recorded: take_usage hands it to whoever records it).
        self._recorded: Usage = {}
        self._unrecorded: Usage = {}
        # The NextToken MAC key: derived, never stored (storage only ever sees ciphertext);
        # tokens survive restarts, and another Region (another master key) can't forge one.
        self.token_key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=b"smgrpc-region-v1", info=TOKEN_INFO
        ).derive(master)
        self.region = region
        self.account = account
        # IAM access key secrets: sealed and digested under their own HKDF-derived keys.
        self.access_keys = AccessKeyVault(master, account)
        self._keys: dict[str, tuple[KmsKeyRecord, AESGCM]] = {}
        self._terms: dict[str, dict[int, AESGCM]] = {}  # key id -> term -> material
        # (key id, secret ARN, version id, wrapped key) -> (AAD, unwrapped data key)
        self._data_keys: dict[tuple[str, str, str, bytes], tuple[bytes, AESGCM]] = {}
        self.reload(records, materials)

    def reload(
        self, records: Iterable[KmsKeyRecord], materials: Iterable[KmsMaterialRecord] = ()
    ) -> None:
        """Replace the key set (key state changed by `smgrpc kms ...`)."""
        keys: dict[str, tuple[KmsKeyRecord, AESGCM]] = {}
        terms: dict[str, dict[int, AESGCM]] = {}
        recorded: Usage = {}
        for rec in records:
            material = AESGCM(unwrap_material(self._master, rec.key_id, 0, rec.wrapped_material))
            keys[rec.key_id] = (rec, material)
            terms[rec.key_id] = {0: material}
        for m in materials:
            if m.term and m.key_id in terms:
                raw = unwrap_material(self._master, m.key_id, m.term, m.wrapped_material)
                terms[m.key_id][m.term] = AESGCM(raw)
            recorded[(m.key_id, m.term)] = m.sealed
        self._keys, self._terms, self._recorded = keys, terms, recorded
        self._data_keys = {}

    def current_term(self, key_id: str) -> int:
        """The material term new data keys of this key are wrapped by (the newest)."""
        return max(self._terms[key_id])

    def new_material(self, key_id: str, now: float) -> KmsMaterialRecord:
        """The key's next material (term = newest + 1), wrapped, ready to persist."""
        return new_material(self._master, key_id, self.current_term(key_id) + 1, now)

    def take_usage(self) -> Usage:
        """Data keys wrapped since the last call, per (key, term): the caller records them
        (and gives them back with `return_usage` if it could not)."""
        taken, self._unrecorded = self._unrecorded, {}
        for k, n in taken.items():
            self._recorded[k] = self._recorded.get(k, 0) + n
        return taken

    def return_usage(self, usage: Usage) -> None:
        for k, n in usage.items():
            self._recorded[k] = self._recorded.get(k, 0) - n
            self._unrecorded[k] = self._unrecorded.get(k, 0) + n

    def _wrapped(self, key_id: str, term: int) -> int:
        k = (key_id, term)
        return self._recorded.get(k, 0) + self._unrecorded.get(k, 0)

    def due_for_rotation(self) -> list[str]:
        """Keys whose newest material wrapped `rotate_after` data keys or more."""
        return [
            key_id
            for key_id in self._keys
            if self._wrapped(key_id, self.current_term(key_id)) >= self.rotate_after
        ]

    def records(self) -> list[KmsKeyRecord]:
        return [rec for rec, _ in self._keys.values()]

    def alias_arn(self, alias: str) -> str:
        return f"arn:{partition_for(self.region)}:kms:{self.region}:{self.account}:{alias}"

    def new_customer_key(self, alias: str | None, description: str, now: float) -> KmsKeyRecord:
        """A new customer key of this Region (KmsError: bad, reserved or existing alias)."""
        if alias is not None:
            if not alias.startswith("alias/"):
                alias = "alias/" + alias
            if not re.fullmatch(r"alias/[a-zA-Z0-9/_-]{1,250}", alias):
                raise KmsError(
                    "ValidationException",
                    f"Alias {alias} must be alias/ followed by 1-250 of a-z, A-Z, 0-9, /, _ and -",
                )
            if alias.lower().startswith("alias/aws/"):  # as the 0003 trigger (LIKE)
                raise KmsError(
                    "NotAuthorizedException", "Aliases beginning with alias/aws/ are reserved."
                )
            if any(rec.alias == alias for rec in self.records()):
                raise self.alias_exists(alias)
        return new_key_record(
            self._master, self.region, self.account, alias=alias, description=description, now=now
        )

    def alias_exists(self, alias: str) -> KmsError:
        return KmsError(
            "AlreadyExistsException",
            f"An alias with the name {self.alias_arn(alias)} already exists",
        )

    def check_state_change(self, ref: str) -> KmsKeyRecord:
        """The key that disable-key/enable-key would change (not an AWS managed key)."""
        rec = self.resolve(ref)
        if is_managed(rec):
            raise KmsError(
                "UnsupportedOperationException",
                f"{rec.alias} is an AWS managed key: it can't be disabled or enabled.",
            )
        return rec

    def resolve(self, ref: str | None) -> KmsKeyRecord:
        """Key id, key ARN, alias name or alias ARN (None/"" = the default key) → record."""
        ref = ref or DEFAULT_KMS_ALIAS
        alias_arn_prefix = f"arn:{partition_for(self.region)}:kms:{self.region}:{self.account}:"
        for rec, _ in self._keys.values():
            if ref in (rec.key_id, rec.arn):
                return rec
            if rec.alias and ref in (rec.alias, alias_arn_prefix + rec.alias):
                return rec
        raise InvalidParameter(
            f"The KMS key {ref} can't be found in Region {self.region}.", field="kmsKeyId"
        )

    def check_usable(self, ref: str | None) -> KmsKeyRecord:
        """The key a write would use; EncryptionFailure if it is disabled."""
        rec = self.resolve(ref)
        if not rec.enabled:
            raise EncryptionFailure(ENCRYPT_FAILED, resource=rec.key_id)
        return rec

    def seal(
        self, value: SecretValue, *, ref: str | None, secret_arn: str, version_id: str
    ) -> Sealed:
        rec = self.check_usable(ref)
        term = self.current_term(rec.key_id)
        if self._wrapped(rec.key_id, term) >= self.rotate_after * REFUSE_FACTOR:
            raise EncryptionFailure(BOUND_REACHED, resource=rec.key_id)
        kek = self._terms[rec.key_id][term]
        ctx = envelope.aad(self.region, secret_arn, version_id, rec.key_id)
        sealed = envelope.seal(kek, rec.key_id, value.to_bytes(), ctx, term)
        self._unrecorded[(rec.key_id, term)] = self._unrecorded.get((rec.key_id, term), 0) + 1
        return sealed

    def open(self, sealed: Sealed, *, secret_arn: str, version_id: str) -> SecretValue:
        """Decrypt a version's value (DecryptionFailure: disabled key, tampered or moved row).

        The hot path of GetSecretValue. Building the AAD and unwrapping the data key cost
        ~20 us of CPU per read in a loaded server (cold caches), so the AAD and the unwrapped
        data key of recently read versions are kept, keyed by everything that determines them
        (key id, ARN, version id, wrapped key bytes): a hit is exactly what a miss would
        compute. Plaintext values are never kept; the key state is checked on every read; a
        tampered ciphertext still fails to decrypt. `reload` empties the cache.
        """
        kms_key_id = sealed.kms_key_id
        entry = self._keys.get(kms_key_id)
        if entry is None or not entry[0].enabled:
            raise DecryptionFailure(envelope.DECRYPT_FAILED, resource=kms_key_id)
        cache_key = (kms_key_id, secret_arn, version_id, sealed.wrapped_key)
        hit = self._data_keys.get(cache_key)
        if hit is None:
            kek = self._terms[kms_key_id].get(envelope.term_of(sealed.wrapped_key)[0])
            if kek is None:
                raise DecryptionFailure(envelope.DECRYPT_FAILED, resource=kms_key_id)
            ctx = envelope.aad(self.region, secret_arn, version_id, kms_key_id)
            hit = (ctx, envelope.unwrap(kek, sealed, ctx))
            if self._data_key_cache:
                if len(self._data_keys) >= self._data_key_cache:
                    del self._data_keys[next(iter(self._data_keys))]  # the oldest entry
                self._data_keys[cache_key] = hit
        ciphertext = sealed.ciphertext
        try:  # envelope.decrypt, inlined (one call less per read)
            plain = hit[1].decrypt(ciphertext[:12], ciphertext[12:], hit[0])
        except (InvalidTag, ValueError) as exc:
            raise DecryptionFailure(envelope.DECRYPT_FAILED) from exc
        return SecretValue.from_bytes(plain)

    def display_id(self, key_id: str) -> str:
        """How ListSecretVersionIds names the key that encrypted a version."""
        entry = self._keys.get(key_id)
        if entry is not None and entry[0].alias == DEFAULT_KMS_ALIAS:
            return DEFAULT_KEY_LABEL
        return entry[0].arn if entry else key_id
