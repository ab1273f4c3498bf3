"""Keyring.open keeps the AAD and unwrapped data key of recently read versions.

A cached read must answer exactly what an uncached one would: a tampered ciphertext, a row
moved to another secret or version, a swapped wrapped key or a disabled key still fail.
"""

from __future__ import annotations

import os
from dataclasses import replace

import pytest

from smgrpc.core.errors import DecryptionFailure
from smgrpc.core.model import DEFAULT_KMS_ALIAS, Sealed, SecretValue
from smgrpc.crypto import keyring as kr
from smgrpc.crypto.keyring import Keyring, new_key_record

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbCdEf"
OTHER = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/other-XyZwVu"
V1, V2 = "a" * 32 + "-1", "b" * 32 + "-2"


def _ring(cache: int = kr.DATA_KEY_CACHE) -> tuple[Keyring, bytes]:
    master = os.urandom(32)
    rec = new_key_record(
        master, "us-east-1", "123456789012", alias=DEFAULT_KMS_ALIAS, description="", now=0.0
    )
    return Keyring(master, "us-east-1", "123456789012", [rec], data_key_cache=cache), master


def _seal(ring: Keyring, text: str, arn: str = ARN, vid: str = V1) -> Sealed:
    return ring.seal(SecretValue(string=text), ref=None, secret_arn=arn, version_id=vid)


def _flip(blob: bytes, index: int) -> bytes:
    b = bytearray(blob)
    b[index] ^= 1
    return bytes(b)


def test_repeated_reads_answer_the_same_value() -> None:
    ring, _ = _ring()
    sealed = _seal(ring, "s3cr3t")
    for _ in range(3):
        assert ring.open(sealed, secret_arn=ARN, version_id=V1).string == "s3cr3t"


def test_tampered_ciphertext_fails_after_a_cached_read() -> None:
    ring, _ = _ring()
    sealed = _seal(ring, "s3cr3t")
    ring.open(sealed, secret_arn=ARN, version_id=V1)  # data key now cached
    for index in (3, 14, -1):
        bad = replace(sealed, ciphertext=_flip(sealed.ciphertext, index))
        with pytest.raises(DecryptionFailure):
            ring.open(bad, secret_arn=ARN, version_id=V1)
    with pytest.raises(DecryptionFailure):
        ring.open(replace(sealed, ciphertext=sealed.ciphertext[:5]), secret_arn=ARN, version_id=V1)


def test_a_moved_row_fails_after_a_cached_read() -> None:
    ring, _ = _ring()
    sealed = _seal(ring, "s3cr3t")
    ring.open(sealed, secret_arn=ARN, version_id=V1)
    with pytest.raises(DecryptionFailure):
        ring.open(sealed, secret_arn=OTHER, version_id=V1)
    with pytest.raises(DecryptionFailure):
        ring.open(sealed, secret_arn=ARN, version_id=V2)


def test_swapped_wrapped_keys_fail_after_cached_reads() -> None:
    ring, _ = _ring()
    a, b = _seal(ring, "value-a", vid=V1), _seal(ring, "value-b", vid=V2)
    assert ring.open(a, secret_arn=ARN, version_id=V1).string == "value-a"
    assert ring.open(b, secret_arn=ARN, version_id=V2).string == "value-b"
    with pytest.raises(DecryptionFailure):
        ring.open(replace(a, wrapped_key=b.wrapped_key), secret_arn=ARN, version_id=V1)
    with pytest.raises(DecryptionFailure):
        ring.open(replace(a, wrapped_key=_flip(a.wrapped_key, 20)), secret_arn=ARN, version_id=V1)


def test_a_disabled_key_refuses_a_cached_version() -> None:
    ring, _ = _ring()
    sealed = _seal(ring, "s3cr3t")
    ring.open(sealed, secret_arn=ARN, version_id=V1)
    (rec,) = ring.records()
    ring.reload([replace(rec, enabled=False)])
    with pytest.raises(DecryptionFailure):
        ring.open(sealed, secret_arn=ARN, version_id=V1)
    ring.reload([rec])
    assert ring.open(sealed, secret_arn=ARN, version_id=V1).string == "s3cr3t"


def test_the_cache_is_bounded() -> None:
    ring, _ = _ring(cache=8)
    sealed = [_seal(ring, f"v{i}", vid=f"{i:032d}") for i in range(20)]
    for i, s in enumerate(sealed):
        assert ring.open(s, secret_arn=ARN, version_id=f"{i:032d}").string == f"v{i}"
    assert len(ring._data_keys) == 8
    # Evicted versions still open (unwrapped again).
    assert ring.open(sealed[0], secret_arn=ARN, version_id=f"{0:032d}").string == "v0"
