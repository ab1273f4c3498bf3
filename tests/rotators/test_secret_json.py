"""The PostgreSQL secret JSON as AWS's templates read it, and the alternating user names."""

from __future__ import annotations

import json

import pytest

from smgrpc.rotators.function import StepFailed
from smgrpc.rotators.postgresql import alt_username, parse_secret
from tests.conftest import CANARY

BASE = {"engine": "postgres", "host": "db", "username": "app", "password": CANARY}


def test_defaults_and_members() -> None:
    s = parse_secret(json.dumps(BASE), "v")
    assert (s.host, s.port, s.dbname, s.masterarn, s.sslmodes) == (
        "db", 5432, "postgres", None, ("verify-full", "disable")
    )  # fmt: skip
    assert CANARY not in repr(s) and "redacted" in repr(s)
    s = parse_secret(json.dumps({**BASE, "port": "6543", "dbname": "x", "masterarn": "a"}), "v")
    assert (s.port, s.dbname, s.masterarn) == (6543, "x", "a")


@pytest.mark.parametrize(
    ("ssl", "modes"),
    [
        (True, ("verify-full",)),
        ("TRUE", ("verify-full",)),
        (False, ("disable",)),
        ("false", ("disable",)),
        ("maybe", ("verify-full", "disable")),
        (1, ("verify-full", "disable")),
    ],
)
def test_ssl_member_as_aws_reads_it(ssl: object, modes: tuple[str, ...]) -> None:
    assert parse_secret(json.dumps({**BASE, "ssl": ssl}), "v").sslmodes == modes


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not json " + CANARY, "X is not a JSON object"),
        (json.dumps([CANARY]), "X is not a JSON object"),
        (json.dumps({**BASE, "host": None}), "X has no string member 'host'"),
        (json.dumps({k: v for k, v in BASE.items() if k != "password"}), "no string member"),
        (json.dumps({**BASE, "engine": "mysql"}), "engine must be one of postgres"),
        (json.dumps({**BASE, "port": "x"}), "X: port is not a number"),
        (json.dumps({**BASE, "masterarn": 3}), "X: masterarn is not a string"),
    ],
)
def test_unusable_values_name_the_member_never_the_value(value: str, message: str) -> None:
    with pytest.raises(StepFailed, match=message) as info:
        parse_secret(value, "X")
    assert CANARY not in info.value.message


def test_alternate_user_names() -> None:
    assert alt_username("app") == "app_clone"
    assert alt_username("app_clone") == "app"
    assert alt_username("a" * 57) == "a" * 57 + "_clone"  # 63 bytes: PostgreSQL's limit
    with pytest.raises(StepFailed, match="would exceed 63 bytes"):
        alt_username("a" * 58)
