"""Authorization of RotateSecret / CancelRotateSecret: their own actions and RotateSecret's
condition keys (secretsmanager:RotationLambdaARN, ModifyRotationRules, RotateImmediately,
resource/AllowRotationLambdaArn), through a real server and real IAM users."""

from __future__ import annotations

from typing import Any

import grpc

from smgrpc.app import Region
from tests.api.authz_helpers import allow, stub_for, user, user_arn
from tests.api.helpers import create
from tests.api.rotation_helpers import FUNCTION_ARN, cancel, days, rotate
from tests.conftest import aws_error

OTHER_ARN = "arn:aws:lambda:us-east-1:123456789012:function:other"


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
