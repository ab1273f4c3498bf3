"""The bootstrap admin: made once by the IAM Region's first start, kept across restarts, its
credential in <data-dir>/admin.token (0600) and never in a log line or the database."""

from __future__ import annotations

import logging
import shutil
import stat
from pathlib import Path

import pytest

from smgrpc.app import Region
from smgrpc.auth.token_file import read_admin_token
from smgrpc.config import ConfigError
from smgrpc.core.iam.directory import directory
from tests.conftest import FakeClock, make_config


def _verifies(region: Region, path: Path) -> bool:
    cred = read_admin_token(path)
    found = directory(region.iam.state).access_key(cred.access_key_id)
    assert found is not None
    key, principal = found
    assert principal.name == "admin" and principal.policies[0].name == "AdministratorAccess"
    return region.iam_minter.verify(key, cred.secret_access_key)


async def test_first_start_makes_the_admin_and_a_restart_keeps_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    config = make_config(tmp_path)
    async with Region(config, clock=FakeClock()) as region:
        path = region.admin_token_path
        assert path == config.data_dir / "admin.token"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert _verifies(region, path)
        assert list(region.iam.state.users) == ["admin"]
    line = path.read_text()
    secret = line.strip().split(":")[1]
    assert str(path) in caplog.text and secret not in caplog.text
    async with Region(config, clock=FakeClock()) as region:
        assert path.read_text() == line  # not replaced
        assert list(region.iam.state.users) == ["admin"] and region.iam.state.generation == 1
        assert _verifies(region, path)  # the sealed/digested key reloads under the master key
    raw = b"".join(p.read_bytes() for p in config.data_dir.iterdir() if p.is_file())
    assert secret.encode() not in raw.replace(line.encode(), b"")  # only in admin.token


async def test_admin_token_file_flag_chooses_the_path(tmp_path: Path) -> None:
    chosen = tmp_path / "creds" / "adm.token"
    async with Region(make_config(tmp_path, admin_token_file=chosen)) as region:
        assert region.admin_token_path == chosen and _verifies(region, chosen)
    assert not (tmp_path / "us-east-1" / "admin.token").exists()


async def test_a_wiped_database_gets_a_new_admin_whose_token_replaces_the_stale_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = make_config(tmp_path)
    async with Region(config) as region:
        path = region.admin_token_path
    old = path.read_text()
    for p in config.data_dir.glob("secrets.db*"):
        p.unlink()
    caplog.set_level(logging.INFO)
    async with Region(config) as region:
        assert path.read_text() != old and _verifies(region, path)
    assert "replaced the stale admin token file" in caplog.text


async def test_a_region_that_does_not_hold_iam_makes_no_admin(tmp_path: Path) -> None:
    config = make_config(tmp_path, region="eu-west-1", iam_region="us-east-1")
    async with Region(config) as region:
        assert region.iam.state.users == {} and region.iam.state.holder == "us-east-1"
        assert not region.admin_token_path.exists()


async def test_an_unwritable_token_path_fails_the_start_and_commits_nothing(
    tmp_path: Path,
) -> None:
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")
    config = make_config(tmp_path, admin_token_file=blocked / "admin.token")
    with pytest.raises(ConfigError, match="cannot write the admin token file"):
        await Region(config).start()
    # Nothing was committed: a start with a usable path makes the admin.
    good = make_config(tmp_path)
    async with Region(good) as region:
        assert _verifies(region, region.admin_token_path)
    shutil.rmtree(good.data_dir)


async def test_deleting_every_user_does_not_bring_a_new_admin_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Bootstrap is for a data dir whose IAM was never written: an account that removed all
    its users (say to run on client certificates and roles) gets no new full-access admin
    on the next restart (review Low 10)."""
    config = make_config(tmp_path)
    async with Region(config, clock=FakeClock()) as region:
        await region.iam.create_role(
            "app",
            '{"Version":"2012-10-17","Statement":[{"Effect":'
            '"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}',
        )
        kid = read_admin_token(region.admin_token_path).access_key_id
        await region.iam.delete_access_key("admin", kid)
        await region.iam.delete_user_policy("admin", "AdministratorAccess")
        await region.iam.delete_user("admin")
    caplog.set_level(logging.WARNING)
    async with Region(config, clock=FakeClock()) as region:
        assert not region.iam.state.users and list(region.iam.state.roles) == ["app"]
    assert "no admin is made again" in caplog.text
