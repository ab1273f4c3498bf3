"""Strict parsing of `authorization: Bearer <AccessKeyId>:<SecretAccessKey>`."""

from __future__ import annotations

import pickle

import pytest

from smgrpc.auth import bearer
from smgrpc.auth.bearer import (
    CredentialError,
    InvalidSecret,
    MalformedCredential,
    MissingCredential,
    UnknownAccessKey,
)
from smgrpc.crypto import access_keys
from smgrpc.crypto.access_keys import AccessKeyVault

KID = "AKIAABCDEFGHIJKLMN23"
SEC = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
GOOD = f"Bearer {KID}:{SEC}"

ACCEPTED = [
    GOOD,
    f"bearer {KID}:{SEC}",
    f"BEARER {KID}:{SEC}",
    f"bEaReR {KID}:{SEC}",
    GOOD.encode(),
]

REJECTED: list[tuple[str, str | bytes | None, type[CredentialError]]] = [
    ("none", None, MissingCredential),
    ("empty", "", MissingCredential),
    ("empty bytes", b"", MissingCredential),
    ("scheme only", "Bearer", MalformedCredential),
    ("scheme and space", "Bearer ", MalformedCredential),
    ("basic scheme", f"Basic  {KID}:{SEC}", MalformedCredential),
    ("no scheme", f"{KID}:{SEC}", MalformedCredential),
    ("no space", f"Bearer{KID}:{SEC}", MalformedCredential),
    ("two spaces", f"Bearer  {KID}:{SEC}"[:-1], MalformedCredential),
    ("tab", f"Bearer\t{KID}:{SEC}", MalformedCredential),
    ("leading space", f" Bearer {KID}:{SEC}"[:-1], MalformedCredential),
    ("trailing space", f"Bearer {KID}:{SEC}"[1:] + " ", MalformedCredential),
    ("trailing newline", f"Bearer {KID}:{SEC[:-1]}\n", MalformedCredential),
    ("trailing newline, long", GOOD + "\n", MalformedCredential),
    ("crlf", GOOD + "\r\n", MalformedCredential),
    ("space in secret", f"Bearer {KID}:{SEC[:10]} {SEC[11:]}", MalformedCredential),
    ("space around colon", f"Bearer {KID} :{SEC[1:]}", MalformedCredential),
    ("lowercase key id", f"Bearer {KID.lower()}:{SEC}", MalformedCredential),
    ("ASIA prefix", f"Bearer ASIA{KID[4:]}:{SEC}", MalformedCredential),
    ("digit 0 in key id", f"Bearer AKIA0BCDEFGHIJKLMN23:{SEC}", MalformedCredential),
    ("digit 8 in key id", f"Bearer AKIA8BCDEFGHIJKLMN23:{SEC}", MalformedCredential),
    ("key id too short", f"Bearer {KID[:-1]}:{SEC}A", MalformedCredential),
    ("key id too long", f"Bearer {KID}A:{SEC[1:]}", MalformedCredential),
    ("secret too short", f"Bearer {KID}:{SEC[:-1]}", MalformedCredential),
    ("secret too long", f"Bearer {KID}:{SEC}A", MalformedCredential),
    ("padding in secret", f"Bearer {KID}:{SEC[:-1]}=", MalformedCredential),
    ("urlsafe base64 in secret", f"Bearer {KID}:{SEC[:-1]}-", MalformedCredential),
    ("underscore in secret", f"Bearer {KID}:_{SEC[1:]}", MalformedCredential),
    ("no colon", f"Bearer {KID}{SEC}A", MalformedCredential),
    ("two colons", f"Bearer {KID}:{SEC[:-1]}:", MalformedCredential),
    ("colon swapped", f"Bearer {SEC[:20]}:{KID}{SEC[:20]}", MalformedCredential),
    ("non-ascii lookalike in scheme", f"Bеarer {KID}:{SEC}", MalformedCredential),  # noqa: RUF001
    ("fullwidth letter in key id", f"Bearer {KID[:-1]}Ｚ:{SEC}", MalformedCredential),  # noqa: RUF001
    ("nul byte", f"Bearer {KID}:{SEC[:-1]}\x00", MalformedCredential),
    ("non-ascii bytes", GOOD.encode()[:-1] + b"\xff", MalformedCredential),
    ("over-long", "Bearer " + "A" * 100_000, MalformedCredential),
    ("over-long bytes", b"Bearer " + b"A" * 100_000, MalformedCredential),
]


@pytest.mark.parametrize("value", ACCEPTED)
def test_accepted(value: str | bytes) -> None:
    cred = bearer.parse_authorization(value)
    assert cred.access_key_id == KID and cred.secret_access_key == SEC


@pytest.mark.parametrize(("case", "value", "error"), REJECTED, ids=[r[0] for r in REJECTED])
def test_rejected(case: str, value: str | bytes | None, error: type[CredentialError]) -> None:
    with pytest.raises(error) as info:
        bearer.parse_authorization(value)
    assert type(info.value) is error
    assert info.value.aws_code == "UnrecognizedClientException"
    assert str(info.value) == bearer.UNRECOGNIZED
    assert SEC not in info.value.reason and SEC[:20] not in str(info.value)


def test_table_is_large_enough() -> None:
    assert len(ACCEPTED) + len(REJECTED) >= 20


def test_from_metadata() -> None:
    cred = bearer.from_metadata([("x-other", "v"), ("authorization", GOOD)])
    assert cred.access_key_id == KID
    assert bearer.from_metadata([("Authorization", GOOD)]).secret_access_key == SEC
    with pytest.raises(MissingCredential):
        bearer.from_metadata([("x-other", GOOD)])
    with pytest.raises(MalformedCredential):
        bearer.from_metadata([("authorization", GOOD), ("authorization", GOOD)])


def test_credential_renders_without_the_secret() -> None:
    cred = bearer.parse_authorization(GOOD)
    for text in (repr(cred), str(cred), f"{cred}", repr([cred])):
        assert SEC not in text and KID in text and "redacted" in text
    with pytest.raises(TypeError):
        pickle.dumps(cred)


def test_authenticate_distinguishes_unknown_key_from_wrong_secret() -> None:
    vault = AccessKeyVault(bytes(32), "123456789012")
    key = access_keys.generate()
    stored = vault.seal(key)
    good = bearer.parse_authorization(f"Bearer {key.access_key_id}:{key.secret_access_key}")
    assert bearer.authenticate(good, stored, vault) is stored
    with pytest.raises(UnknownAccessKey):
        bearer.authenticate(good, None, vault)
    other = vault.seal(access_keys.generate())
    with pytest.raises(UnknownAccessKey):  # a lookup that returned another key's row
        bearer.authenticate(good, other, vault)
    wrong = bearer.AccessKeyCredential(key.access_key_id, SEC)
    with pytest.raises(InvalidSecret) as info:
        bearer.authenticate(wrong, stored, vault)
    assert SEC not in info.value.reason and key.secret_access_key not in info.value.reason
