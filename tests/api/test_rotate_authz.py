"""Authorization of RotateSecret / CancelRotateSecret: their own actions and RotateSecret's
condition keys (secretsmanager:RotationLambdaARN, ModifyRotationRules, RotateImmediately,
resource/AllowRotationLambdaArn), through a real server and real IAM users; RotateSecret with the
built-in rotator also needs the writes it does (PutSecretValue, UpdateSecretVersionStage)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import grpc

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.app import Region
from tests.api.authz_helpers import allow, deny, stub_for, user, user_arn
from tests.api.helpers import create, describe, get, poll, stage_map
from tests.api.rotation_helpers import FUNCTION_ARN, cancel, days, rotate
from tests.conftest import FakeClock, admin_channel, aws_error, make_config, running

OTHER_ARN = "arn:aws:lambda:us-east-1:123456789012:function:other"
EXTERNAL_ARN = "arn:aws:lambda:us-east-1:123456789012:function:ext"
# What the built-in rotator does with the server's authority: its caller must be allowed it.
WRITES = (
    allow("secretsmanager:PutSecretValue"),
    allow("secretsmanager:UpdateSecretVersionStage"),
)


def denied_msg(who: str, op: str, arn: str) -> str:
    return (
        f"User: {user_arn(who)} is not authorized to perform: secretsmanager:{op} on "
        f"resource: {arn} because no identity-based policy allows the secretsmanager:{op} action"
    )


async def test_rotate_and_cancel_need_their_own_actions(region: Region, stub: Any) -> None:
    made = await create(stub, "s")
    token = await user(
        region,
        "reader",
        allow("secretsmanager:DescribeSecret"),
        allow("secretsmanager:GetSecretValue"),
    )
    ch, as_reader = stub_for(region, token)
    async with ch:
        for op, call in (
            ("RotateSecret", rotate(as_reader, "s")),
            ("CancelRotateSecret", cancel(as_reader, "s")),
        ):
            err = await aws_error(call)
            assert (err.code, err.aws_code, err.message) == (
                grpc.StatusCode.PERMISSION_DENIED,
                "AccessDeniedException",
                denied_msg("reader", op, made.arn),
            )
    assert region.store.find("s").rotating is None  # type: ignore[union-attr]


async def test_rotation_lambda_arn_condition(region: Region, stub: Any) -> None:
    made = await create(stub, "s")
    token = await user(
        region,
        "rotator",
        allow(
            "secretsmanager:RotateSecret",
            StringEquals={"secretsmanager:RotationLambdaARN": FUNCTION_ARN},
        ),
        *WRITES,
    )
    ch, as_rotator = stub_for(region, token)
    async with ch:
        err = await aws_error(rotate(as_rotator, "s", rotation_lambda_arn=OTHER_ARN))
        assert (err.aws_code, err.message) == (
            "AccessDeniedException",
            denied_msg("rotator", "RotateSecret", made.arn),
        )
        out = await rotate(as_rotator, "s", rotation_lambda_arn=FUNCTION_ARN)
        assert out.arn == made.arn


async def test_modify_rotation_rules_and_rotate_immediately_conditions(
    region: Region, stub: Any
) -> None:
    made = await create(stub, "s")
    token = await user(
        region,
        "limited",
        allow(
            "secretsmanager:RotateSecret",
            Bool={
                "secretsmanager:ModifyRotationRules": "false",
                "secretsmanager:RotateImmediately": "false",
            },
        ),
        *WRITES,
    )
    ch, as_limited = stub_for(region, token)
    async with ch:
        for kw in (
            {"rotation_rules": days(3), "rotate_immediately": False},
            {"rotate_immediately": True},
        ):
            err = await aws_error(rotate(as_limited, "s", **kw))
            assert err.message == denied_msg("limited", "RotateSecret", made.arn), kw
        out = await rotate(as_limited, "s", rotate_immediately=False)
        assert out.version_id


async def test_allow_rotation_lambda_arn_resource_key(region: Region, stub: Any) -> None:
    made = await create(stub, "s")
    first = await rotate(stub, "s", rotation_rules=days(3))
    await region.rotation.abandon(made.arn, first.version_id)
    token = await user(
        region,
        "canceller",
        allow(
            "secretsmanager:CancelRotateSecret",
            StringEquals={"secretsmanager:resource/AllowRotationLambdaArn": FUNCTION_ARN},
        ),
    )
    ch, as_canceller = stub_for(region, token)
    async with ch:
        out = await cancel(as_canceller, "s")
        assert out.arn == made.arn


# ---- the built-in rotator needs PutSecretValue and UpdateSecretVersionStage too ----


async def snapshot(stub: Any, sid: str) -> tuple[object, ...]:
    """What a rotation would change: the labels, AWSCURRENT's value, the rotation settings."""
    d = await describe(stub, sid)
    rules = d.rotation_rules.automatically_after_days
    settings = (d.rotation_enabled, d.rotation_lambda_arn, rules)
    return await stage_map(stub, sid), (await get(stub, sid)).secret_string, settings


async def finished(region: Region, stub: Any, sid: str, version_id: str) -> None:
    """Wait for the built-in's run to end with `version_id` as AWSCURRENT."""

    async def done() -> bool | None:
        s = region.store.find(sid)
        current = (await stage_map(stub, sid)).get(version_id, [])
        return True if s is not None and s.rotating is None and "AWSCURRENT" in current else None

    await poll(done)


def write_denied(who: str, op: str, arn: str) -> tuple[grpc.StatusCode, str, str]:
    return grpc.StatusCode.PERMISSION_DENIED, "AccessDeniedException", denied_msg(who, op, arn)


async def test_builtin_rotator_needs_the_writes_it_does(region: Region, stub: Any) -> None:
    made = await create(stub, "s", "v1")
    only = await user(region, "only", allow("secretsmanager:RotateSecret"))
    no_stage = await user(region, "nostage", allow("secretsmanager:RotateSecret"), WRITES[0])
    full = await user(region, "full", allow("secretsmanager:RotateSecret"), *WRITES)
    before = await snapshot(stub, "s")
    for who, token, op in (
        ("only", only, "PutSecretValue"),
        ("nostage", no_stage, "UpdateSecretVersionStage"),
    ):
        ch, as_user = stub_for(region, token)
        async with ch:
            err = await aws_error(rotate(as_user, "s", rotation_rules=days(3)))
        assert (err.code, err.aws_code, err.message) == write_denied(who, op, made.arn)
    assert await snapshot(stub, "s") == before  # nothing written, no run started
    assert region.store.find("s").rotating is None  # type: ignore[union-attr]

    ch, as_full = stub_for(region, full)
    async with ch:
        first = await rotate(as_full, "s", rotation_rules=days(3))
        assert first.arn == made.arn
    await finished(region, stub, "s", first.version_id)
    assert (await describe(stub, "s")).rotation_lambda_arn == FUNCTION_ARN

    # No ARN in the request: the stored one (the built-in) is the effective function.
    before = await snapshot(stub, "s")
    ch, as_only = stub_for(region, only)
    async with ch:
        err = await aws_error(rotate(as_only, "s", rotation_lambda_arn=None))
    assert (err.code, err.aws_code, err.message) == write_denied("only", "PutSecretValue", made.arn)
    assert await snapshot(stub, "s") == before
    ch, as_full = stub_for(region, full)
    async with ch:
        again = await rotate(as_full, "s", rotation_lambda_arn=None)
    await finished(region, stub, "s", again.version_id)
    assert again.version_id not in (first.version_id, made.version_id)


async def test_an_explicit_deny_of_a_write_stops_the_builtin(region: Region, stub: Any) -> None:
    made = await create(stub, "s", "v1")
    token = await user(
        region,
        "denied",
        allow("secretsmanager:*"),
        deny(
            "secretsmanager:UpdateSecretVersionStage",
            StringEquals={"secretsmanager:VersionStage": "AWSCURRENT"},
        ),
    )
    ch, as_user = stub_for(region, token)
    async with ch:
        err = await aws_error(rotate(as_user, "s"))
    assert (err.aws_code, err.message) == (
        "AccessDeniedException",
        f"User: {user_arn('denied')} is not authorized to perform: "
        f"secretsmanager:UpdateSecretVersionStage on resource: {made.arn} with an explicit deny "
        "in an identity-based policy",
    )


async def test_an_external_function_needs_only_rotate_and_no_cached_allow_leaks(
    tmp_path: Path, clock: FakeClock
) -> None:
    cfg = make_config(tmp_path, rotation_functions=(("ext", "127.0.0.1:1"),))
    async with running(cfg, clock) as region, admin_channel(region) as admin:
        stub = pbg.SecretsManagerStub(admin)
        made = await create(stub, "s", "v1")
        await create(stub, "t", "v1")
        token = await user(region, "only", allow("secretsmanager:RotateSecret"))
        ch, as_only = stub_for(region, token)
        async with ch:
            # Allowed by the guard (its allow cached), then refused by the use case: "nope" is
            # not registered, so the secret object the cached allow pins stays the same.
            nope = "arn:aws:lambda:us-east-1:123456789012:function:nope"
            for _ in range(2):
                err = await aws_error(rotate(as_only, "s", rotation_lambda_arn=nope))
                assert err.message.startswith("Secrets Manager cannot invoke"), err.message
            before = await snapshot(stub, "s")
            err = await aws_error(rotate(as_only, "s", rotation_lambda_arn=FUNCTION_ARN))
            assert err.message == denied_msg("only", "PutSecretValue", made.arn)
            assert await snapshot(stub, "s") == before
            out = await rotate(as_only, "t", rotation_lambda_arn=EXTERNAL_ARN)
            assert (await describe(stub, "t")).rotation_lambda_arn == EXTERNAL_ARN
            assert out.version_id
