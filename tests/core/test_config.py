"""One settings model: flags, SMGRPC_* variables and the TOML file accept the same settings."""

from __future__ import annotations

import argparse
import ast
import json
from pathlib import Path

import pytest

from smgrpc.cli.main import _parser
from smgrpc.config import SETTINGS, Config, ConfigError, from_args

ROOT = Path(__file__).resolve().parents[2]

# A valid non-default value for every setting, as text (flag / env) and as TOML.
SAMPLES: dict[str, tuple[list[str], str, object]] = {
    # key: (flag values, env value, TOML value)
    "region": (["eu-west-1"], "eu-west-1", "eu-west-1"),
    "listen": (["0.0.0.0:6000"], "0.0.0.0:6000", "0.0.0.0:6000"),
    "data_dir": (["/srv/d"], "/srv/d", "/srv/d"),
    "peers": (
        ["ap-southeast-2=h2:2", "us-west-2=h3:3"],
        "ap-southeast-2=h2:2,us-west-2=h3:3",
        {"ap-southeast-2": "h2:2", "us-west-2": "h3:3"},
    ),
    "master_key_file": (["/k/master.key"], "/k/master.key", "/k/master.key"),
    "cluster_secret_file": (["/k/c.secret"], "/k/c.secret", "/k/c.secret"),
    "busy_timeout": (["2.5"], "2.5", 2.5),
    "log_level": (["debug"], "DEBUG", "debug"),
    "log_format": (["json"], "json", "json"),
    "uvloop": (["off"], "0", False),
    "max_inflight": (["64"], "64", 64),
    "watch_history": (["500"], "500", 500),
    "watch_heartbeat": (["2.5"], "2.5", 2.5),
    "watch_max_streams": (["7"], "7", 7),
    "watch_max_streams_per_principal": (["3"], "3", 3),
    "watch_max_lag": (["300"], "300", 300),
    "watch_write_timeout": (["0.5"], "0.5", 0.5),
    "metrics_listen": (["127.0.0.1:9100"], "127.0.0.1:9100", "127.0.0.1:9100"),
    "aws_listen": (["127.0.0.1:4567"], "127.0.0.1:4567", "127.0.0.1:4567"),
    "metrics_secret_names": ([], "1", True),
    "blob_cache_bytes": (["1048576"], "1048576", 1048576),
    "audit_log": (["/a/audit.log"], "/a/audit.log", "/a/audit.log"),
    "audit_max_bytes": (["1048576"], "1048576", 1048576),
    "audit_sync": (["write"], "write", "write"),
    "tls_cert": (["/t/s.pem"], "/t/s.pem", "/t/s.pem"),
    "tls_key": (["/t/s.key"], "/t/s.key", "/t/s.key"),
    "mtls_listen": (["0.0.0.0:6001"], "0.0.0.0:6001", "0.0.0.0:6001"),
    "client_ca": (["/t/ca.pem"], "/t/ca.pem", "/t/ca.pem"),
    "peer_ca": (["/t/pca.pem"], "/t/pca.pem", "/t/pca.pem"),
    "peer_cert": (["/t/p.pem"], "/t/p.pem", "/t/p.pem"),
    "peer_key": (["/t/p.key"], "/t/p.key", "/t/p.key"),
    "insecure": ([], "1", True),
    "reflection": ([], "off", False),
    "iam_region": (["us-east-1"], "us-east-1", "us-east-1"),  # this Region (needs no peer)
    "admin_token_file": (["/k/admin.token"], "/k/admin.token", "/k/admin.token"),
    "rotation_functions": (
        ["pg=127.0.0.1:7", "billing-db_2=127.0.0.1:8"],
        "pg=127.0.0.1:7,billing-db_2=127.0.0.1:8",
        {"pg": "127.0.0.1:7", "billing-db_2": "127.0.0.1:8"},
    ),
    "rotation_ca": (["/t/rca.pem"], "/t/rca.pem", "/t/rca.pem"),
    "rotation_cert": (["/t/r.pem"], "/t/r.pem", "/t/r.pem"),
    "rotation_key": (["/t/r.key"], "/t/r.key", "/t/r.key"),
    "rotation_step_timeout": (["2.5"], "2.5", 2.5),
    "rotation_max_attempts": (["5"], "5", 5),
    "rotation_concurrency": (["2"], "2", 2),
}
_TLS = ("tls_cert", "tls_key")
_PEER = ("peer_ca", "peer_cert", "peer_key")
# settings that only make sense with others
NEEDS: dict[str, tuple[str, ...]] = {
    "peers": ("cluster_secret_file", "iam_region"),
    "tls_cert": ("tls_key",),
    "tls_key": ("tls_cert",),
    "mtls_listen": (*_TLS, "client_ca"),
    "client_ca": (*_TLS, "mtls_listen"),
    "peer_ca": (*_TLS, "mtls_listen", "peer_cert", "peer_key"),
    "peer_cert": (*_TLS, "mtls_listen", "peer_ca", "peer_key"),
    "peer_key": (*_TLS, "mtls_listen", "peer_ca", "peer_cert"),
    "rotation_cert": ("rotation_key", "rotation_ca"),
    "rotation_key": ("rotation_cert", "rotation_ca"),
}


def test_every_setting_has_a_sample() -> None:
    assert set(SAMPLES) == {s.key for s in SETTINGS}


def _flags(key: str) -> list[str]:
    setting = next(s for s in SETTINGS if s.key == key)
    if setting.switch:
        return [setting.flag]
    return [a for v in SAMPLES[key][0] for a in (setting.flag, v)]


def _via_flags(key: str) -> Config:
    argv = ["serve", *_flags(key)] + [a for k in NEEDS.get(key, ()) for a in _flags(k)]
    return from_args(_parser().parse_args(argv), env={})


def _via_env(key: str) -> Config:
    env = {s.env: SAMPLES[s.key][1] for s in SETTINGS if s.key in (key, *NEEDS.get(key, ()))}
    return from_args(_parser().parse_args(["serve"]), env=env)


def _via_file(key: str, tmp_path: Path) -> Config:
    lines = []
    for k in (key, *NEEDS.get(key, ())):
        value = SAMPLES[k][2]
        if isinstance(value, dict):
            lines.append(f"[{k}]")
            lines += [f"{r} = {json.dumps(a)}" for r, a in value.items()]
        else:
            lines.insert(0, f"{k} = {json.dumps(value)}")
    path = tmp_path / "smgrpc.toml"
    path.write_text("\n".join(lines) + "\n")
    return from_args(_parser().parse_args(["serve", "--config", str(path)]), env={})


@pytest.mark.parametrize("key", [s.key for s in SETTINGS])
def test_flag_env_and_file_give_the_same_config(key: str, tmp_path: Path) -> None:
    by_flag, by_env, by_file = _via_flags(key), _via_env(key), _via_file(key, tmp_path)
    assert getattr(by_flag, key) != getattr(Config(), key)
    assert by_flag == by_env == by_file
    assert key in by_flag.explicit


def test_busy_timeout_in_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text("busy_timeout = 2\n")
    assert from_args(argparse.Namespace(config=str(path)), env={}).busy_timeout == 2.0


def test_precedence_flag_env_file_default(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text('log_level = "ERROR"\nregion = "ap-southeast-2"\nbusy_timeout = 7\n')
    env = {"SMGRPC_LOG_LEVEL": "warning", "SMGRPC_REGION": "eu-west-1"}
    args = _parser().parse_args(["serve", "--config", str(path), "--region", "us-west-2"])
    cfg = from_args(args, env=env)
    assert (cfg.region, cfg.log_level, cfg.busy_timeout) == ("us-west-2", "WARNING", 7.0)
    assert cfg.data_dir == Path("smgrpc-data/us-west-2")
    assert cfg.listen == "127.0.0.1:50051" and "listen" not in cfg.explicit


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("busy_timeout = true\n", "busy_timeout in {path} must be a number of seconds, got True"),
        ("busy_timeout = 4000\n", "busy_timeout in {path} must be between 0 and 3600 seconds"),
        ('log_level = "verbose"\n', "log_level in {path} must be one of DEBUG, INFO, WARNING"),
        ("listen = 5\n", "listen in {path} must be a non-empty string, got 5"),
        ('peers = "x"\n', 'peers in {path} must be a table: REGION = "HOST:PORT"'),
        ('colour = "red"\n', "unknown keys in {path}: colour (known: region, listen, data_dir"),
        ("region = \n", "cannot read config file {path}"),
    ],
)
def test_bad_file_values_are_clear_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "r.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        from_args(argparse.Namespace(config=str(path)), env={})
    assert message.format(path=path) in str(err.value)


def test_kms_commands_offer_no_serve_only_flags() -> None:
    parser = _parser()
    kms = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    kms_sub = kms.choices["kms"]
    commands = next(a for a in kms_sub._actions if isinstance(a, argparse._SubParsersAction))
    serve_only = {s.flag for s in SETTINGS if s.serve_only}
    assert serve_only >= {"--listen", "--peer", "--cluster-secret-file"}
    for name, sub in commands.choices.items():
        flags = {o for a in sub._actions for o in a.option_strings}
        assert not flags & serve_only, name
        assert {"--data-dir", "--master-key-file", "--log-level", "--config"} <= flags
        assert not any(flag in sub.format_help() for flag in serve_only), name


def test_kms_ignores_serve_only_environment(tmp_path: Path) -> None:
    """SMGRPC_PEER without a cluster secret would stop `serve`; kms never looks at it."""
    env = {"SMGRPC_PEER": "eu-west-1=h:1", "SMGRPC_LISTEN": "nonsense"}
    cfg = from_args(_parser().parse_args(["kms", "list-keys"]), env=env)
    assert cfg.peers == () and cfg.listen == "127.0.0.1:50051"
    with pytest.raises(ConfigError, match="--peer needs --cluster-secret-file"):
        from_args(_parser().parse_args(["serve"]), env={"SMGRPC_PEER": "eu-west-1=h:1"})


def test_config_is_the_only_reader_of_the_environment() -> None:
    readers = []
    for path in sorted((ROOT / "smgrpc").rglob("*.py")):
        if "_pb" in path.parts or path.name == "config.py":
            continue
        if path.relative_to(ROOT).as_posix() == "smgrpc/client/settings.py":
            continue  # the standalone client's own reader of its SMGRPC_* settings
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
                readers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert readers == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--peer", "eu-west-1=h:1", "--cluster-secret-file", "/k/c"], "--peer needs --iam-region"),
        (["--iam-region", "eu-west-1"], "--iam-region eu-west-1 is neither this Region"),
        (
            ["--peer", "eu-west-1=h:1", "--cluster-secret-file", "/k/c", "--iam-region", "x-1"],
            "--iam-region x-1 is neither this Region",
        ),
    ],
)
def test_a_cluster_must_name_its_iam_region(argv: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        from_args(_parser().parse_args(["serve", *argv]), env={})


def test_iam_region_defaults_to_this_region_and_may_be_a_peer() -> None:
    alone = from_args(_parser().parse_args(["serve", "--region", "eu-west-1"]), env={})
    assert alone.iam_holder == "eu-west-1"
    argv = ["serve", "--region", "eu-west-1", "--peer", "us-east-1=h:1"]
    argv += ["--cluster-secret-file", "/k/c"]
    cfg = from_args(_parser().parse_args([*argv, "--iam-region", "us-east-1"]), env={})
    assert cfg.iam_holder == "us-east-1"


def test_port_zero_listeners_need_not_differ() -> None:
    """Port 0 gives each listener its own free port: several may say HOST:0 (tests do)."""
    argv = ["serve", "--listen", "127.0.0.1:0", "--aws-listen", "127.0.0.1:0"]
    cfg = from_args(_parser().parse_args(argv), env={})
    assert cfg.listen == cfg.aws_listen == "127.0.0.1:0"
    with pytest.raises(ConfigError, match="--aws-listen must differ"):
        from_args(
            _parser().parse_args(
                ["serve", "--listen", "127.0.0.1:6000", "--aws-listen", "127.0.0.1:6000"]
            ),
            env={},
        )
