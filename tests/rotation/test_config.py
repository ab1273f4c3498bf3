"""--rotation-* settings: flags, environment, TOML file, validation, help, plaintext refusal."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from smgrpc.config import Config, ConfigError, add_serve_arguments, from_args
from smgrpc.startup import check_plaintext


def parse(*argv: str, env: dict[str, str] | None = None) -> Config:
    p = argparse.ArgumentParser()
    add_serve_arguments(p)
    return from_args(p.parse_args(list(argv)), env=env or {})


def test_flags_env_and_file_register_functions(tmp_path: Path) -> None:
    cfg = parse("--rotation-function", "pg=127.0.0.1:1", "--rotation-function", "b_2-x=h:2")
    assert cfg.rotation_functions == (("pg", "127.0.0.1:1"), ("b_2-x", "h:2"))
    env = {"SMGRPC_ROTATION_FUNCTION": "a=127.0.0.1:3, b=127.0.0.1:4"}
    assert parse(env=env).rotation_functions == (("a", "127.0.0.1:3"), ("b", "127.0.0.1:4"))
    toml = tmp_path / "c.toml"
    toml.write_text(
        "rotation_step_timeout = 2.5\nrotation_max_attempts = 5\nrotation_concurrency = 2\n"
        '[rotation_functions]\npg = "127.0.0.1:5"\n'
    )
    cfg = parse("--config", str(toml))
    assert cfg.rotation_functions == (("pg", "127.0.0.1:5"),)
    assert (cfg.rotation_step_timeout, cfg.rotation_max_attempts, cfg.rotation_concurrency) == (
        2.5,
        5,
        2,
    )
    # the flag wins over the file
    assert parse("--config", str(toml), "--rotation-max-attempts", "1").rotation_max_attempts == 1


def test_defaults() -> None:
    cfg = parse()
    assert cfg.rotation_functions == ()
    assert (cfg.rotation_step_timeout, cfg.rotation_max_attempts) == (30.0, 3)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--rotation-function", "pg"], "must look like NAME=HOST:PORT, got 'pg'"),
        (["--rotation-function", "a.b=h:1"], "'a.b' is not a Lambda function name"),
        (["--rotation-function", "x" * 65 + "=h:1"], "is not a Lambda function name"),
        (["--rotation-function", "=h:1"], "'' is not a Lambda function name"),
        (
            ["--rotation-function", "smgrpc-builtin-password=h:1"],
            "smgrpc-builtin-password is built in and cannot be registered",
        ),
        (["--rotation-function", "a=h:1", "--rotation-function", "a=h:2"], "registered twice"),
        (["--rotation-function", "a=nohost"], "must look like HOST:PORT"),
        (["--rotation-step-timeout", "0"], "must be between 0.1 and 3600 seconds"),
        (["--rotation-step-timeout", "soon"], "must be a number of seconds"),
        (["--rotation-max-attempts", "0"], "must be between 1 and 100"),
        (["--rotation-concurrency", "1.5"], "must be a whole number"),
        (["--rotation-cert", "c.pem"], "--rotation-cert and --rotation-key must be given together"),
        (["--rotation-cert", "c", "--rotation-key", "k"], "--rotation-cert needs --rotation-ca"),
    ],
)
def test_bad_settings_are_refused_clearly(argv: list[str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(*argv)
    assert message in str(info.value)


def test_bad_toml_table_is_refused(tmp_path: Path) -> None:
    toml = tmp_path / "c.toml"
    toml.write_text('rotation_functions = "pg=h:1"\n')
    with pytest.raises(ConfigError, match=r'must be a table: NAME = "HOST:PORT"'):
        parse("--config", str(toml))


def test_plaintext_to_a_remote_function_needs_tls_or_insecure() -> None:
    cfg = parse("--rotation-function", "pg=10.0.0.7:50070")
    with pytest.raises(ConfigError, match="refusing to call rotation function pg in plaintext"):
        check_plaintext(cfg)
    check_plaintext(parse("--rotation-function", "pg=10.0.0.7:50070", "--insecure"))
    check_plaintext(parse("--rotation-function", "pg=localhost:50070"))


def test_help_shows_the_flags(capsys: pytest.CaptureFixture[str]) -> None:
    p = argparse.ArgumentParser()
    add_serve_arguments(p)
    p.print_help()
    out = capsys.readouterr().out
    for flag in (
        "--rotation-function",
        "--rotation-ca",
        "--rotation-cert",
        "--rotation-key",
        "--rotation-step-timeout",
        "--rotation-max-attempts",
        "--rotation-concurrency",
    ):
        assert flag in out
