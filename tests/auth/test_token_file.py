"""The bootstrap admin token file: 0600, atomic, read back and validated."""

from __future__ import annotations

import os
import stat
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest

from smgrpc.auth.token_file import TokenFileError, read_admin_token, write_admin_token
from smgrpc.crypto import access_keys
from smgrpc.crypto.access_keys import NewAccessKey


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_round_trip_is_one_line_mode_0600(tmp_path: Path, open_umask: None) -> None:
    key = access_keys.generate()
    path = tmp_path / "new" / "dir" / "admin.token"
    write_admin_token(path, key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert path.read_bytes() == f"{key.access_key_id}:{key.secret_access_key}\n".encode()
    cred = read_admin_token(path)
    assert (cred.access_key_id, cred.secret_access_key) == (
        key.access_key_id,
        key.secret_access_key,
    )
    assert os.listdir(path.parent) == ["admin.token"]  # no temporary left behind


def test_an_existing_file_is_kept_unless_replace(tmp_path: Path) -> None:
    path = tmp_path / "admin.token"
    first, second = access_keys.generate(), access_keys.generate()
    write_admin_token(path, first)
    with pytest.raises(TokenFileError, match="already exists") as info:
        write_admin_token(path, second)
    assert second.secret_access_key not in str(info.value)
    assert read_admin_token(path).access_key_id == first.access_key_id
    write_admin_token(path, second, replace=True)
    assert read_admin_token(path).access_key_id == second.access_key_id
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.listdir(tmp_path) == ["admin.token"]


def test_a_malformed_key_is_never_written(tmp_path: Path) -> None:
    path = tmp_path / "admin.token"
    with pytest.raises(Exception, match="security token"):
        write_admin_token(path, NewAccessKey("AKIA", "short"))
    assert os.listdir(tmp_path) == []


def test_a_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    key = access_keys.generate()
    path = tmp_path / "admin.token"
    write_admin_token(path, key)
    for mode in (0o640, 0o604, 0o644, 0o660):
        path.chmod(mode)
        with pytest.raises(TokenFileError, match="chmod 600") as info:
            read_admin_token(path)
        assert key.secret_access_key not in str(info.value)
    path.chmod(0o400)
    assert read_admin_token(path).secret_access_key == key.secret_access_key


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o600)


@pytest.mark.parametrize(
    "suffix",
    [b"\n\n", b"\r\n", b" ", b" \n", b"\nextra\n", b"A", b"\x00"],
    ids=["two newlines", "crlf", "space", "space newline", "second line", "longer", "nul"],
)
def test_malformed_content_is_refused_without_echo(tmp_path: Path, suffix: bytes) -> None:
    key = access_keys.generate()
    path = tmp_path / "admin.token"
    _write(path, f"{key.access_key_id}:{key.secret_access_key}".encode() + suffix)
    with pytest.raises(TokenFileError, match="not one") as info:
        read_admin_token(path)
    assert key.secret_access_key not in str(info.value)
    rendered = "".join(traceback.format_exception(info.value))
    assert key.secret_access_key not in rendered and key.secret_access_key[:8] not in rendered


def test_no_trailing_newline_is_accepted(tmp_path: Path) -> None:
    key = access_keys.generate()
    path = tmp_path / "admin.token"
    _write(path, f"{key.access_key_id}:{key.secret_access_key}".encode())
    assert read_admin_token(path).access_key_id == key.access_key_id


@pytest.mark.parametrize(
    "data", [b"", b"\n", b"Bearer x", "AKIA\u00c9".encode(), b"\xff" * 62, b"A" * 10_000]
)
def test_garbage_is_refused(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "admin.token"
    _write(path, data)
    with pytest.raises(TokenFileError, match="not one"):
        read_admin_token(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(TokenFileError, match="does not exist"):
        read_admin_token(tmp_path / "absent")
    (tmp_path / "d").mkdir(mode=0o700)
    with pytest.raises(TokenFileError):
        read_admin_token(tmp_path / "d")
