"""IAM access keys: generation in AWS formats, sealing for storage, constant-time verification.

A SecretAccessKey is kept twice next to its AccessKeyId, both under keys derived from the
Region's master key with HKDF (purpose-specific `info`, never the master key itself):

- `sealed`: AES-256-GCM ciphertext (nonce || ct+tag), AAD = format, account, AccessKeyId
  (length-prefixed), so a row copied to another AccessKeyId or another account fails to open.
  `open` gives the plaintext back: the AWS-wire listener needs it to check SigV4 signatures.
- `digest`: HMAC-SHA256 over the same binding plus the secret, under a second derived key.
  Verifying a Bearer credential compares HMACs with `hmac.compare_digest`: no decryption per
  call, the plaintext of the stored secret is never materialised on the hot path, the
  comparison is between two 32-byte values whatever the presented length, and a database
  leak gives neither the secret nor an offline oracle (the HMAC key is not stored either).

The secret has 240 random bits (40 base64 characters, the AWS shape); §C.7's "at least 256
bits" for opaque tokens is approximated by the AWS format, far beyond any online guessing.
"""

from __future__ import annotations

import base64
import hmac
import os
import re
import secrets
import struct
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from smgrpc.core.iam.model import AccessKey

ACCESS_KEY_ID_RE = re.compile(r"AKIA[A-Z2-7]{16}")
SECRET_ACCESS_KEY_RE = re.compile(r"[A-Za-z0-9+/]{40}")
ACCESS_KEY_ID_LEN = 20
SECRET_ACCESS_KEY_LEN = 40

FORMAT = b"smgrpc-access-key-v1"
_SALT = b"smgrpc-region-v1"
_SEAL_INFO = b"smgrpc-access-key-seal-v1"
_DIGEST_INFO = b"smgrpc-access-key-digest-v1"
_NONCE = 12


class AccessKeyError(Exception):
    """A stored access key that the master key cannot open (tampered, moved, other key)."""


@dataclass(frozen=True, repr=False, eq=False)
class NewAccessKey:
    """A freshly generated key pair: the secret is shown to its owner once, never printed."""

    access_key_id: str
    secret_access_key: str = field(repr=False)

    def __repr__(self) -> str:
        return f"NewAccessKey(access_key_id={self.access_key_id!r}, <secret redacted>)"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("access key secrets are not serialisable")


@dataclass(frozen=True, repr=False)
class StoredAccessKey:
    """What storage keeps of a secret: ciphertext and keyed digest, both bound to the id."""

    access_key_id: str
    account: str
    sealed: bytes
    digest: bytes

    def __repr__(self) -> str:
        return f"StoredAccessKey(access_key_id={self.access_key_id!r}, account={self.account!r})"

    __str__ = __repr__


def generate() -> NewAccessKey:
    """A new AccessKeyId ("AKIA" + 16 base32 chars, 80 random bits) and 240-bit secret."""
    key_id = "AKIA" + base64.b32encode(secrets.token_bytes(10)).decode("ascii")
    secret = base64.b64encode(secrets.token_bytes(30)).decode("ascii")
    return NewAccessKey(key_id, secret)


def _binding(account: str, access_key_id: str) -> bytes:
    """Length-prefixed canonical encoding of what a stored secret belongs to."""
    out = bytearray()
    for part in (FORMAT, account.encode(), access_key_id.encode()):
        out += struct.pack(">I", len(part)) + part
    return bytes(out)


def _derive(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=info).derive(master)


class AccessKeyVault:
    """Seals, opens and verifies the SecretAccessKeys of one Region's account."""

    def __init__(self, master: bytes, account: str) -> None:
        self._seal = AESGCM(_derive(master, _SEAL_INFO))
        self._digest_key = _derive(master, _DIGEST_INFO)
        self.account = account

    def _mac(self, binding: bytes, secret: str) -> bytes:
        data = binding + secret.encode("utf-8", "surrogatepass")
        return hmac.digest(self._digest_key, data, "sha256")  # one-shot C path

    def seal(self, key: NewAccessKey) -> StoredAccessKey:
        """The storable form of a key pair (the plaintext secret is not kept)."""
        binding = _binding(self.account, key.access_key_id)
        nonce = os.urandom(_NONCE)
        sealed = nonce + self._seal.encrypt(nonce, key.secret_access_key.encode(), binding)
        digest = self._mac(binding, key.secret_access_key)
        return StoredAccessKey(key.access_key_id, self.account, sealed, digest)

    def open(self, stored: StoredAccessKey) -> str:
        """The plaintext SecretAccessKey (for SigV4), or AccessKeyError; never partial."""
        binding = _binding(self.account, stored.access_key_id)
        try:
            plain = self._seal.decrypt(stored.sealed[:_NONCE], stored.sealed[_NONCE:], binding)
        except (InvalidTag, ValueError) as exc:
            raise AccessKeyError(
                f"the stored secret of access key {stored.access_key_id} does not open with "
                "this Region's master key (tampered, moved to another key id, or another key)"
            ) from exc
        return plain.decode("ascii")

    def verify(self, stored: StoredAccessKey, presented: str) -> bool:
        """Whether `presented` is the stored key's secret (constant time, no decryption)."""
        expected = self._mac(_binding(self.account, stored.access_key_id), presented)
        return hmac.compare_digest(expected, stored.digest)


class VaultMinter:
    """core.ports.KeyMinter over an AccessKeyVault: new keys, their sealed form and digest."""

    def __init__(self, vault: AccessKeyVault) -> None:
        self.vault = vault

    def mint(self) -> tuple[NewAccessKey, bytes, bytes]:
        key = generate()
        stored = self.vault.seal(key)
        return key, stored.sealed, stored.digest

    def reseal(self, access_key_id: str, secret: str) -> tuple[bytes, bytes]:
        stored = self.vault.seal(NewAccessKey(access_key_id, secret))
        return stored.sealed, stored.digest

    def _stored(self, key: AccessKey) -> StoredAccessKey:
        return StoredAccessKey(key.access_key_id, self.vault.account, key.sealed, key.digest)

    def reveal(self, key: AccessKey) -> str:
        return self.vault.open(self._stored(key))

    def verify(self, key: AccessKey, presented: str) -> bool:
        return self.vault.verify(self._stored(key), presented)
