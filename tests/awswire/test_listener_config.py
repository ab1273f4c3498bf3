"""--aws-listen: the flag, the embedded default and its AWS profile files, the loopback rule,
a busy port, the start-up log line."""

from __future__ import annotations

import argparse
import configparser
import json
import logging
import socket
import stat
from pathlib import Path

import aiohttp
import pytest

from smgrpc.config import EMBEDDED_AWS_LISTEN, Config, ConfigError, add_arguments, from_args
from tests.awswire.test_listener import Wire
from tests.conftest import admin_token, make_config, running


def parse(*argv: str, env: dict[str, str] | None = None) -> Config:
    p = argparse.ArgumentParser()
    add_arguments(p, serve=True)
    return from_args(p.parse_args(list(argv)), env=env or {})


def test_embedded_default_turns_it_on() -> None:
    cfg = parse()
    assert cfg.aws_listen == EMBEDDED_AWS_LISTEN == "127.0.0.1:4566" and cfg.aws_embedded


def test_off_by_default_once_listen_is_given() -> None:
    assert parse("--listen", "127.0.0.1:6000").aws_listen is None


def test_flag_env_and_off() -> None:
    cfg = parse("--listen", "127.0.0.1:6000", "--aws-listen", "127.0.0.1:0")
    assert cfg.aws_listen == "127.0.0.1:0" and not cfg.aws_embedded
    assert parse(env={"SMGRPC_AWS_LISTEN": "[::1]:4570"}).aws_listen == "[::1]:4570"
    assert parse("--aws-listen", "off").aws_listen is None
    with pytest.raises(ConfigError, match="--aws-listen must look like HOST:PORT"):
        parse("--aws-listen", "4566")
    with pytest.raises(ConfigError, match="--aws-listen must differ"):
        parse("--listen", "127.0.0.1:6000", "--aws-listen", "127.0.0.1:6000")


async def test_plaintext_non_loopback_refused_without_insecure(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, aws_listen="0.0.0.0:0")
    with pytest.raises(ConfigError, match="refusing to serve the AWS API in plaintext"):
        async with running(cfg):
            pass
    assert not (tmp_path / "us-east-1").exists()  # refused before anything was created


async def test_busy_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        cfg = make_config(tmp_path, aws_listen=f"127.0.0.1:{port}")
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
            async with running(cfg):
                pass


async def test_log_line_gives_the_bound_port(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="smgrpc")
    cfg = make_config(tmp_path, aws_listen="127.0.0.1:0", explicit=frozenset({"aws_listen"}))
    async with running(cfg) as region:
        want = f"AWS JSON 1.1 listener on http://127.0.0.1:0 (port {region.aws_port})"
        assert want in caplog.text
    # Not the embedded default: no profile files.
    assert not (tmp_path / "us-east-1" / "aws-credentials").exists()


async def test_embedded_default_writes_the_aws_profile_files(tmp_path: Path) -> None:
    # As from_args makes the embedded default (aws_listen not given explicitly), on port 0.
    cfg = make_config(tmp_path, aws_listen="127.0.0.1:0")
    assert cfg.aws_embedded
    async with running(cfg) as region:
        creds_path = region.admin_token_path.with_name("aws-credentials")
        conf_path = region.admin_token_path.with_name("aws-config")
        assert stat.S_IMODE(creds_path.stat().st_mode) == 0o600
        creds, conf = configparser.ConfigParser(), configparser.ConfigParser()
        creds.read(creds_path)
        conf.read(conf_path)
        key_id, secret = admin_token(region).split(":")
        assert dict(creds["smgrpc"]) == {
            "aws_access_key_id": key_id,
            "aws_secret_access_key": secret,
        }
        endpoint = f"http://127.0.0.1:{region.aws_port}"
        assert dict(conf["profile smgrpc"]) == {"region": "us-east-1", "endpoint_url": endpoint}
        # The credentials in the file sign calls the listener accepts.
        async with aiohttp.ClientSession() as session:
            status, _, body = await Wire(region, session).call("ListSecrets", {})
        assert status == 200 and json.dumps(body)
