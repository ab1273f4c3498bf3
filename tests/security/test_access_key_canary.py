"""Leak canary for access keys: a SecretAccessKey never shows in reprs, errors or logs."""

from __future__ import annotations

import base64
import dataclasses
import logging
import os
import pickle
import traceback
from pathlib import Path

import pytest

from smgrpc.auth import bearer
from smgrpc.auth.token_file import TokenFileError, read_admin_token, write_admin_token
from smgrpc.crypto import access_keys
from smgrpc.crypto.access_keys import AccessKeyError, AccessKeyVault
from tests.authn import altered_bytes


def _forms(secret: str) -> list[str]:
    """The secret and the ways it could be re-encoded on its way into a message."""
    raw = secret.encode()
    return [secret, secret[:16], secret[-16:], repr(raw), raw.hex(), base64.b64encode(raw).decode()]


def _clean(text: str, secret: str) -> None:
    for form in _forms(secret):
        assert form not in text


def test_the_secret_is_nowhere_but_where_it_belongs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    log = logging.getLogger("smgrpc.canary")
    vault = AccessKeyVault(os.urandom(32), "123456789012")
    key = access_keys.generate()
    secret = key.secret_access_key
    stored = vault.seal(key)
    header = f"Bearer {key.access_key_id}:{secret}"
    cred = bearer.parse_authorization(header)
    objects: list[object] = [key, stored, cred]
    texts = [repr(stored.sealed), repr(stored.digest)]
    for obj in objects:
        texts += [repr(obj), str(obj), f"{obj}", repr([obj]), repr({"k": obj})]
        log.info("object %s %r", obj, obj)
    for obj in (key, cred):
        with pytest.raises(TypeError):
            pickle.dumps(obj)
    # The stored form holds the secret neither in clear nor in an encoding of it.
    blob = stored.sealed + stored.digest
    assert secret.encode() not in blob and base64.b64decode(secret) not in blob

    errors: list[BaseException] = []
    for bad in (header + " ", header[:-1] + "=", header.replace("Bearer", "Basic ")):
        with pytest.raises(bearer.CredentialError) as info:
            bearer.parse_authorization(bad)
        errors.append(info.value)
    with pytest.raises(bearer.InvalidSecret) as wrong:
        bearer.authenticate(
            bearer.AccessKeyCredential(key.access_key_id, secret[::-1]), stored, vault
        )
    errors.append(wrong.value)
    with pytest.raises(AccessKeyError) as tampered:
        vault.open(dataclasses.replace(stored, sealed=altered_bytes(stored.sealed)))
    errors.append(tampered.value)

    path = tmp_path / "admin.token"
    write_admin_token(path, key)
    with pytest.raises(TokenFileError) as exists:
        write_admin_token(path, key)
    errors.append(exists.value)
    path.chmod(0o644)
    with pytest.raises(TokenFileError) as too_open:
        read_admin_token(path)
    errors.append(too_open.value)
    path.write_text(header + "\n")
    path.chmod(0o600)
    with pytest.raises(TokenFileError) as bad_file:
        read_admin_token(path)
    errors.append(bad_file.value)

    for exc in errors:
        texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
        texts += [str(getattr(exc, "reason", ""))]
        log.exception("failure", exc_info=exc)
    texts.append(caplog.text)
    texts += [r.getMessage() for r in caplog.records]
    for text in texts:
        _clean(text, secret)
