"""KMS-like keys of one Region: the default aws/secretsmanager key plus customer keys.

Each key's 256-bit material is wrapped by the master key (AAD = key id) and kept in storage;
the unwrapped material lives only here, as AESGCM objects.
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
from smgrpc.core.model import DEFAULT_KMS_ALIAS, KmsKeyRecord, Sealed, SecretValue
from smgrpc.crypto import envelope
from smgrpc.crypto.access_keys import AccessKeyVault
from smgrpc.crypto.master import MasterKeyError

ENCRYPT_FAILED = (
    "Secrets Manager can't encrypt the protected secret text using the provided KMS key. "
    "Check that the KMS key is available, enabled, and not in an invalid state."
)
DEFAULT_KEY_LABEL = "DefaultEncryptionKey"
TOKEN_INFO = b"smgrpc-next-token-v1"
# Data keys of recently read versions kept unwrapped (see Keyring.open): ~0.5 KB each.
DATA_KEY_CACHE = 4096


def _material_aad(key_id: str) -> bytes:
    return b"smgrpc-kms-material-v1|" + key_id.encode()


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
    wrapped = nonce + aead.encrypt(nonce, material, _material_aad(key_id))
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
    ) -> None:
        """data_key_cache: how many versions' unwrapped data keys `open` keeps (0: none)."""
        self._master = AESGCM(master)
        self._data_key_cache = data_key_cache
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
        # (key id, secret ARN, version id, wrapped key) -> (AAD, unwrapped data key)
        self._data_keys: dict[tuple[str, str, str, bytes], tuple[bytes, AESGCM]] = {}
        self.reload(records)

    def reload(self, records: Iterable[KmsKeyRecord]) -> None:
        """Replace the key set (key state changed by `smgrpc kms ...`)."""
        keys: dict[str, tuple[KmsKeyRecord, AESGCM]] = {}
        for rec in records:
            w = rec.wrapped_material
            try:
                material = self._master.decrypt(w[:12], w[12:], _material_aad(rec.key_id))
            except InvalidTag as exc:
                raise MasterKeyError(f"master key does not match keyring key {rec.key_id}") from exc
            keys[rec.key_id] = (rec, AESGCM(material))
        self._keys = keys
        self._data_keys = {}

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
        kek = self._keys[rec.key_id][1]
        ctx = envelope.aad(self.region, secret_arn, version_id, rec.key_id)
        return envelope.seal(kek, rec.key_id, value.to_bytes(), ctx)

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
            ctx = envelope.aad(self.region, secret_arn, version_id, kms_key_id)
            hit = (ctx, envelope.unwrap(entry[1], sealed, ctx))
            if self._data_key_cache:
                if len(self._data_keys) >= self._data_key_cache:
                    del self._data_keys[next(iter(self._data_keys))]  # the oldest entry
                self._data_keys[cache_key] = hit
        return SecretValue.from_bytes(envelope.decrypt(hit[1], sealed, hit[0]))

    def display_id(self, key_id: str) -> str:
        """How ListSecretVersionIds names the key that encrypted a version."""
        entry = self._keys.get(key_id)
        if entry is not None and entry[0].alias == DEFAULT_KMS_ALIAS:
            return DEFAULT_KEY_LABEL
        return entry[0].arn if entry else key_id
