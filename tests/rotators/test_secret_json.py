"""The PostgreSQL secret JSON as AWS's templates read it, and the alternating user names."""

from __future__ import annotations

import json

import psycopg
import pytest

from smgrpc.rotators.function import StepFailed
from smgrpc.rotators.postgresql import alt_username, connection_params, parse_secret
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


@pytest.mark.parametrize(
    ("ssl", "fallback", "modes"),
    [
        (None, True, ("verify-full", "disable")),
        (None, False, ("verify-full",)),  # a master secret: never plaintext unless it says so
        (True, False, ("verify-full",)),
        (False, False, ("disable",)),
        ("maybe", False, ("verify-full",)),
    ],
)
def test_without_fallback_an_absent_ssl_member_is_verify_full_only(
    ssl: object, fallback: bool, modes: tuple[str, ...]
) -> None:
    doc = BASE if ssl is None else {**BASE, "ssl": ssl}
    s = parse_secret(json.dumps(doc), "v", plaintext_fallback=fallback)
    assert s.sslmodes == modes


@pytest.mark.parametrize(
    ("ssl", "fallback", "libpq", "attempts"),
    [
        # The user's own login, no ssl member: verify-full, then plaintext accepting SCRAM only.
        (None, True, 160000, [("verify-full", "system", None), ("disable", None, "scram-sha-256")]),
        (None, True, 180002, [("verify-full", "system", None), ("disable", None, "scram-sha-256")]),
        # libpq 15 cannot restrict the method: the fallback is as AWS's.
        (None, True, 150007, [("verify-full", "system", None), ("disable", None, None)]),
        # The master's login, no ssl member: verify-full only.
        (None, False, 180002, [("verify-full", "system", None)]),
        # What the secret says is what is done (ssl false: the operator's choice, any method).
        (False, True, 180002, [("disable", None, None)]),
        (False, False, 180002, [("disable", None, None)]),
        (True, True, 180002, [("verify-full", "system", None)]),
    ],
)
def test_connection_params_of_each_login_attempt(
    ssl: object, fallback: bool, libpq: int, attempts: list[tuple[str, str | None, str | None]]
) -> None:
    doc = {**BASE, "port": 6543, "dbname": "x"} | ({} if ssl is None else {"ssl": ssl})
    s = parse_secret(json.dumps(doc), "v", plaintext_fallback=fallback)
    params = connection_params(s, 7, libpq)
    got = [(p["sslmode"], p.get("sslrootcert"), p.get("require_auth")) for p in params]
    assert got == attempts
    for p in params:
        assert (p["host"], p["port"], p["user"], p["dbname"]) == ("db", 6543, "app", "x")
        assert (p["password"], p["connect_timeout"]) == (CANARY, 7)
        assert set(p) <= {"host", "port", "user", "password", "dbname", "sslmode",
                          "sslrootcert", "require_auth", "connect_timeout"}  # fmt: skip


def test_connection_params_default_to_the_loaded_libpq() -> None:
    s = parse_secret(json.dumps(BASE), "v")
    fallback = connection_params(s, 5)[-1]
    assert fallback["sslmode"] == "disable"
    assert ("require_auth" in fallback) is (psycopg.pq.version() >= 160000)
