"""smgrpc-builtin-password end to end through RotateSecret (JSON and plain string secrets,
rules from tags), plus its rule and value helpers."""

from __future__ import annotations

import json
import logging
import string
import uuid

import grpc
import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.app import Region
from smgrpc.core.errors import InvalidParameter
from smgrpc.core.model import Secret
from smgrpc.core.passwords import PUNCTUATION
from smgrpc.rotation.builtin import new_value, password_rules
from tests.conftest import CANARY
from tests.rotation.conftest import describe, eventually, finished, holder, lambda_arn, value

BUILTIN = lambda_arn("smgrpc-builtin-password")


def tags(**rules: str) -> list[pb.Tag]:
    return [pb.Tag(key=f"smgrpc:password:{k}", value=v) for k, v in rules.items()]


async def rotate_builtin(stub: pbg.SecretsManagerStub, sid: str) -> str:
    out = await stub.RotateSecret(
        pb.RotateSecretRequest(
            secret_id=sid,
            client_request_token=str(uuid.uuid4()),
            rotation_lambda_arn=BUILTIN,
            rotation_rules=pb.RotationRulesType(automatically_after_days=7),
        )
    )
    return str(out.version_id)


async def rotated(stub: pbg.SecretsManagerStub, region: Region, sid: str, new: str) -> None:
    async def probe() -> pb.DescribeSecretResponse:
        return await describe(stub, sid)

    def done(d: pb.DescribeSecretResponse) -> bool:
        s = region.store.find(sid)
        return finished(d) and holder(d, "AWSCURRENT") == new and s is not None and not s.rotating

    await eventually(probe, done)


async def test_json_secret_gets_a_new_password_key_other_keys_kept(
    region: Region, stub: pbg.SecretsManagerStub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    doc = {"engine": "postgres", "username": "app", "password": CANARY, "port": 5432}
    await stub.CreateSecret(
        pb.CreateSecretRequest(
            name="db",
            secret_string=json.dumps(doc),
            tags=tags(PasswordLength="20", ExcludePunctuation="true", ExcludeUppercase="true"),
        )
    )
    old = holder(await describe(stub, "db"), "AWSCURRENT")
    new = await rotate_builtin(stub, "db")
    await rotated(stub, region, "db", new)
    got = json.loads(await value(stub, "db"))
    password = got.pop("password")
    assert got == {k: v for k, v in doc.items() if k != "password"}
    assert len(password) == 20 and password != CANARY
    assert not set(password) & set(PUNCTUATION + string.ascii_uppercase)
    d = await describe(stub, "db")
    assert holder(d, "AWSPREVIOUS") == old
    assert json.loads(await value(stub, "db", "AWSPREVIOUS")) == doc
    assert CANARY not in caplog.text


async def test_plain_string_secret_is_replaced_whole(
    region: Region, stub: pbg.SecretsManagerStub
) -> None:
    await stub.CreateSecret(pb.CreateSecretRequest(name="plain", secret_string=CANARY))
    new = await rotate_builtin(stub, "plain")
    await rotated(stub, region, "plain", new)
    password = await value(stub, "plain")
    assert len(password) == 32 and password != CANARY  # GetRandomPassword's default
    for kind in (string.ascii_lowercase, string.ascii_uppercase, string.digits, PUNCTUATION):
        assert set(password) & set(kind)  # RequireEachIncludedType by default
    new2 = await rotate_builtin(stub, "plain")
    await rotated(stub, region, "plain", new2)
    assert await value(stub, "plain", "AWSPREVIOUS") == password


async def test_a_bad_rule_tag_fails_the_rotation_without_changing_current(
    region: Region, stub: pbg.SecretsManagerStub, caplog: pytest.LogCaptureFixture
) -> None:
    await stub.CreateSecret(
        pb.CreateSecretRequest(name="bad", secret_string=CANARY, tags=tags(PasswordLength="x"))
    )
    old = holder(await describe(stub, "bad"), "AWSCURRENT")
    await rotate_builtin(stub, "bad")

    async def probe() -> pb.DescribeSecretResponse:
        return await describe(stub, "bad")

    d = await eventually(probe, lambda d: holder(d, "AWSPENDING") is None)
    assert holder(d, "AWSCURRENT") == old and await value(stub, "bad") == CANARY
    assert "InvalidParameterException" in caplog.text


async def test_the_builtin_is_always_registered_and_others_are_not(
    stub: pbg.SecretsManagerStub,
) -> None:
    await stub.CreateSecret(pb.CreateSecretRequest(name="x", secret_string="v"))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.RotateSecret(
            pb.RotateSecretRequest(secret_id="x", rotation_lambda_arn=lambda_arn("nope"))
        )
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "cannot invoke the specified Lambda function" in (info.value.details() or "")


def _secret(**rules: str) -> Secret:
    return Secret(
        "arn", "n", 0.0, 0.0, tags=tuple((f"smgrpc:password:{k}", v) for k, v in rules.items())
    )


def test_rules_from_tags() -> None:
    assert password_rules(_secret()) == {}
    assert password_rules(
        _secret(
            PasswordLength="12",
            ExcludeCharacters="abc",
            IncludeSpace="TRUE",
            RequireEachIncludedType="false",
        )
    ) == {
        "length": 12,
        "exclude_characters": "abc",
        "include_space": True,
        "require_each_included_type": False,
    }
    for bad in ({"PasswordLength": "-1"}, {"ExcludeNumbers": "maybe"}, {"Colour": "red"}):
        with pytest.raises(InvalidParameter):
            password_rules(_secret(**bad))


def test_new_value_shapes() -> None:
    assert json.loads(new_value('{"a": 1, "password": "old"}', "P")) == {"a": 1, "password": "P"}
    assert json.loads(new_value('{"a": 1}', "P")) == {"a": 1, "password": "P"}
    assert new_value('["not", "an object"]', "P") == "P"
    assert new_value("plain", "P") == "P"
    assert new_value(None, "P") == "P"
    assert new_value("[" * 100_000, "P") == "P"
