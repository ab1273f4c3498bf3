"""Access keys: AWS formats, sealing bound to account + AccessKeyId, constant-time verify."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
import re

import pytest

from smgrpc.crypto import access_keys
from smgrpc.crypto.access_keys import AccessKeyError, AccessKeyVault, NewAccessKey

ACCOUNT = "123456789012"
MASTER = bytes(range(32))


def _vault(master: bytes = MASTER, account: str = ACCOUNT) -> AccessKeyVault:
    return AccessKeyVault(master, account)


def test_generated_keys_have_the_aws_formats() -> None:
    for _ in range(200):
        key = access_keys.generate()
        assert re.fullmatch(r"AKIA[A-Z2-7]{16}", key.access_key_id)
        assert re.fullmatch(r"[A-Za-z0-9+/]{40}", key.secret_access_key)
        assert access_keys.ACCESS_KEY_ID_RE.fullmatch(key.access_key_id)
        assert access_keys.SECRET_ACCESS_KEY_RE.fullmatch(key.secret_access_key)


def test_ten_thousand_keys_are_unique_and_use_the_whole_alphabet() -> None:
    keys = [access_keys.generate() for _ in range(10_000)]
    assert len({k.access_key_id for k in keys}) == 10_000
    assert len({k.secret_access_key for k in keys}) == 10_000
    id_chars = set("".join(k.access_key_id[4:] for k in keys))
    assert id_chars == set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    secret_chars = set("".join(k.secret_access_key for k in keys))
    assert len(secret_chars) == 64


def test_seal_open_roundtrip_and_the_plaintext_is_not_stored() -> None:
    key = access_keys.generate()
    stored = _vault().seal(key)
    assert stored.access_key_id == key.access_key_id and stored.account == ACCOUNT
    assert key.secret_access_key.encode() not in stored.sealed + stored.digest
    assert len(stored.digest) == 32
    assert _vault().open(stored) == key.secret_access_key  # a new vault: keys are derived
    assert _vault().seal(key).sealed != stored.sealed  # fresh nonce each time


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


@pytest.mark.parametrize("index", [0, 11, 12, 30, -1])
def test_a_flipped_byte_fails_to_open(index: int) -> None:
    stored = _vault().seal(access_keys.generate())
    tampered = dataclasses.replace(stored, sealed=_flip(stored.sealed, index))
    with pytest.raises(AccessKeyError):
        _vault().open(tampered)


def test_a_truncated_row_fails_to_open() -> None:
    stored = _vault().seal(access_keys.generate())
    for sealed in (b"", stored.sealed[:11], stored.sealed[:-1]):
        with pytest.raises(AccessKeyError):
            _vault().open(dataclasses.replace(stored, sealed=sealed))


def test_a_row_moved_to_another_access_key_id_fails() -> None:
    stored = _vault().seal(access_keys.generate())
    other = access_keys.generate()
    moved = dataclasses.replace(stored, access_key_id=other.access_key_id)
    with pytest.raises(AccessKeyError, match=other.access_key_id):
        _vault().open(moved)
    key = NewAccessKey(stored.access_key_id, _vault().open(stored))
    assert not _vault().verify(moved, key.secret_access_key)


def test_another_master_key_or_account_fails() -> None:
    key = access_keys.generate()
    stored = _vault().seal(key)
    for vault in (_vault(master=os.urandom(32)), _vault(account="210987654321")):
        with pytest.raises(AccessKeyError):
            vault.open(stored)
        assert not vault.verify(stored, key.secret_access_key)


def test_seal_and_digest_keys_are_derived_apart_from_the_master_key() -> None:
    """The digest is not a plain HMAC under the master key."""
    key = access_keys.generate()
    stored = _vault().seal(key)
    plain = hmac.new(MASTER, key.secret_access_key.encode(), hashlib.sha256).digest()
    assert stored.digest != plain


def test_verify_correct_incorrect_and_other_lengths() -> None:
    key = access_keys.generate()
    vault = _vault()
    stored = vault.seal(key)
    secret = key.secret_access_key
    assert vault.verify(stored, secret)
    assert not vault.verify(stored, _flip(secret.encode(), 0).decode())
    assert not vault.verify(stored, secret[:-1])
    assert not vault.verify(stored, secret + "A")
    assert not vault.verify(stored, "")
    assert not vault.verify(stored, "x" * 10_000)
    assert not vault.verify(stored, "\udcff" * 40)  # unencodable in strict UTF-8
    assert not vault.verify(stored, access_keys.generate().secret_access_key)


def test_verify_does_not_need_the_sealed_bytes() -> None:
    """The hot path checks the keyed digest only (no decryption per call)."""
    key = access_keys.generate()
    stored = _vault().seal(key)
    no_ciphertext = dataclasses.replace(stored, sealed=b"")
    assert _vault().verify(no_ciphertext, key.secret_access_key)
    tampered_digest = dataclasses.replace(stored, digest=_flip(stored.digest, 5))
    assert not _vault().verify(tampered_digest, key.secret_access_key)
