"""RotateSecret and CancelRotateSecret through a real server: AWS's checks, errors and messages,
the AWSPENDING version each makes, and what DescribeSecret / ListSecrets then report."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from smgrpc.app import Region
from smgrpc.core.errors import REPLICA_READ_ONLY
from smgrpc.core.rotation import CANCEL_NO_FUNCTION, CANNOT_INVOKE, IN_PROGRESS, NO_FUNCTION
from smgrpc.core.schedule.rules import BOTH, RATE_HOURS
from tests.api.helpers import (
    DAY,
    MARKED_DELETED,
    NOT_FOUND,
    TOKEN_LENGTH,
    create,
    describe,
    get,
    put,
    stage_map,
    tok,
    validation_msg,
)
from tests.api.rotation_helpers import ACCOUNT, FUNCTION_ARN, cancel, days, rotate
from tests.conftest import FakeClock, aws_error, make_config, pb, start_region


@pytest.fixture
async def region(tmp_path: Any, clock: FakeClock) -> Any:
    """These tests look at runs as RotateSecret leaves them: the engine runs none
    (rotation_concurrency 0; tests/rotation runs them)."""
    r = await start_region(make_config(tmp_path, rotation_concurrency=0), clock)
    yield r
    await r.stop(0.5)


INVALID = grpc.StatusCode.INVALID_ARGUMENT
PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
DENIED = grpc.StatusCode.PERMISSION_DENIED


async def expect(call: Any, code: grpc.StatusCode, aws_code: str, message: str) -> None:
    err = await aws_error(call)
    assert (err.code, err.aws_code, err.message) == (code, aws_code, message)


async def as_replica(region: Region, name: str) -> None:
    """Make `name` a replica as the Applier stores one (tests/rotation covers real links)."""
    async with region.store.transaction() as tx:
        s = tx.find(name)
        assert s is not None
        await tx.save(s.evolve(primary_region="eu-west-1"))


# ---- RotateSecret: errors ----


async def test_rotate_unknown_secret(stub: Any) -> None:
    await expect(
        rotate(stub, "nope"), grpc.StatusCode.NOT_FOUND, "ResourceNotFoundException", NOT_FOUND
    )


async def test_rotate_and_cancel_on_a_replica_are_refused(region: Region, stub: Any) -> None:
    await create(stub, "r")
    await as_replica(region, "r")
    for call in (rotate(stub, "r"), cancel(stub, "r")):
        await expect(call, INVALID, "InvalidParameterException", REPLICA_READ_ONLY)
    assert region.store.find("r").rotating is None  # type: ignore[union-attr]


async def test_rotate_and_cancel_of_a_secret_scheduled_for_deletion(stub: Any) -> None:
    await create(stub, "d")
    await rotate(stub, "d", rotation_rules=days(7))
    await stub.DeleteSecret(pb.DeleteSecretRequest(secret_id="d", recovery_window_in_days=7))
    for call in (rotate(stub, "d"), cancel(stub, "d")):
        await expect(call, PRECONDITION, "InvalidRequestException", MARKED_DELETED)


async def test_rotate_without_any_function_arn(stub: Any) -> None:
    await create(stub, "s")
    await expect(
        rotate(stub, "s", rotation_lambda_arn=None),
        PRECONDITION,
        "InvalidRequestException",
        NO_FUNCTION,
    )
    assert not (await describe(stub, "s")).HasField("rotation_enabled")


@pytest.mark.parametrize(
    "arn",
    [
        f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:smgrpc-builtin-password",  # other Region
        "arn:aws:lambda:us-east-1:210987654321:function:smgrpc-builtin-password",  # other account
        f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:not-registered",
        f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:smgrpc-builtin-password:live",  # qualified
        f"arn:aws:lambda:us-east-1:{ACCOUNT}:layer:smgrpc-builtin-password",
        "smgrpc-builtin-password",
    ],
)
async def test_rotate_with_a_function_this_region_cannot_invoke(stub: Any, arn: str) -> None:
    await create(stub, "s")
    await expect(
        rotate(stub, "s", rotation_lambda_arn=arn), DENIED, "AccessDeniedException", CANNOT_INVOKE
    )
    assert list((await stage_map(stub, "s")).values()) == [["AWSCURRENT"]]


async def test_rotate_while_a_rotation_is_in_progress(stub: Any) -> None:
    await create(stub, "s")
    first = await rotate(stub, "s")
    await expect(rotate(stub, "s"), PRECONDITION, "InvalidRequestException", IN_PROGRESS)
    # The same request again (same ClientRequestToken) is the run it started, not an error.
    again = await rotate(stub, "s", client_request_token=first.version_id)
    assert again.version_id == first.version_id
    assert len(await stage_map(stub, "s")) == 2


async def test_awspending_left_on_another_version_is_a_rotation_in_progress(stub: Any) -> None:
    await create(stub, "s")
    await put(stub, "s", "next", client_request_token=tok(1), version_stages=["AWSPENDING"])
    await expect(rotate(stub, "s"), PRECONDITION, "InvalidRequestException", IN_PROGRESS)


async def test_awspending_beside_awscurrent_is_a_finished_rotation(stub: Any) -> None:
    made = await create(stub, "s")
    await stub.UpdateSecretVersionStage(
        pb.UpdateSecretVersionStageRequest(
            secret_id="s", version_stage="AWSPENDING", move_to_version_id=made.version_id
        )
    )
    out = await rotate(stub, "s", client_request_token=tok(2))
    assert await stage_map(stub, "s") == {made.version_id: ["AWSCURRENT"], tok(2): ["AWSPENDING"]}
    assert out.version_id == tok(2)


@pytest.mark.parametrize("n", [31, 65])
async def test_rotate_token_length(stub: Any, n: int) -> None:
    await create(stub, "s")
    await expect(
        rotate(stub, "s", client_request_token="t" * n),
        INVALID,
        "InvalidParameterException",
        TOKEN_LENGTH,
    )


@pytest.mark.parametrize("n", [32, 64])
async def test_rotate_token_bounds_are_accepted(stub: Any, n: int) -> None:
    await create(stub, "s")
    out = await rotate(stub, "s", client_request_token="t" * n)
    assert out.version_id == "t" * n


async def test_rotate_token_of_an_existing_version(stub: Any) -> None:
    made = await create(stub, "s", client_request_token=tok(1))
    err = await aws_error(rotate(stub, "s", client_request_token=tok(1)))
    assert (err.code, err.aws_code, err.message) == (
        grpc.StatusCode.ALREADY_EXISTS,
        "ResourceExistsException",
        f"You can't use ClientRequestToken {tok(1)} because that value is already in use for a "
        f"version of secret {made.arn}.",
    )


async def test_rotate_rules_are_checked(stub: Any) -> None:
    await create(stub, "s")
    await expect(
        rotate(stub, "s", rotation_rules=days(0)),
        INVALID,
        "ValidationException",
        validation_msg(
            "rotationRules.automaticallyAfterDays",
            "Member must have value greater than or equal to 1",
            "0",
        ),
    )
    both = pb.RotationRulesType(automatically_after_days=3, schedule_expression="rate(3 days)")
    await expect(rotate(stub, "s", rotation_rules=both), INVALID, "InvalidParameterException", BOTH)
    hourly = pb.RotationRulesType(schedule_expression="rate(1 hours)")
    await expect(
        rotate(stub, "s", rotation_rules=hourly), INVALID, "InvalidParameterException", RATE_HOURS
    )
    long_arn = FUNCTION_ARN + "x" * 2048
    await expect(
        rotate(stub, "s", rotation_lambda_arn=long_arn),
        INVALID,
        "ValidationException",
        validation_msg("rotationLambdaARN", "Member must have length less than or equal to 2048"),
    )
    d = await describe(stub, "s")  # nothing half written
    assert not d.HasField("rotation_enabled") and len(d.version_ids_to_stages) == 1


# ---- RotateSecret: what it does ----


async def test_rotate_immediately_makes_a_value_less_awspending_version(
    stub: Any, clock: FakeClock
) -> None:
    made = await create(stub, "s", "v1")
    out = await rotate(stub, "s", rotation_rules=days(30), client_request_token=tok(9))
    assert (out.arn, out.name, out.version_id) == (made.arn, "s", tok(9))
    assert await stage_map(stub, "s") == {made.version_id: ["AWSCURRENT"], tok(9): ["AWSPENDING"]}
    err = await aws_error(get(stub, "s", version_stage="AWSPENDING"))
    assert (err.aws_code, err.message) == (
        "ResourceNotFoundException",
        "Secrets Manager can't find the specified secret value for staging label: AWSPENDING",
    )
    assert (await get(stub, "s")).secret_string == "v1"
    # The rotation function fills it (createSecret), as AWS's do with PutSecretValue.
    filled = await put(stub, "s", "v2", client_request_token=tok(9), version_stages=["AWSPENDING"])
    assert (filled.version_id, list(filled.version_stages)) == (tok(9), ["AWSPENDING"])
    assert (await get(stub, "s", version_stage="AWSPENDING")).secret_string == "v2"


async def test_rotate_without_a_token_makes_a_uuid_version(stub: Any) -> None:
    await create(stub, "s")
    out = await rotate(stub, "s")
    assert len(out.version_id) == 36 and out.version_id.count("-") == 4


async def test_rotate_not_immediately_copies_the_current_value(region: Region, stub: Any) -> None:
    made = await create(stub, "s", "v1")
    out = await rotate(stub, "s", rotate_immediately=False, rotation_rules=days(10))
    assert out.version_id != made.version_id
    assert await stage_map(stub, "s") == {
        made.version_id: ["AWSCURRENT"],
        out.version_id: ["AWSPENDING"],
    }
    pending = await get(stub, "s", version_stage="AWSPENDING")
    assert (pending.secret_string, pending.version_id) == ("v1", out.version_id)
    run = region.store.find("s").rotating  # type: ignore[union-attr]
    assert run is not None and (run.step, run.immediate) == ("testSecret", False)


async def test_a_later_rotate_keeps_the_stored_function_and_rules(
    region: Region, stub: Any
) -> None:
    made = await create(stub, "s")
    first = await rotate(stub, "s", rotation_rules=days(5))
    await region.rotation.abandon(made.arn, first.version_id)
    await rotate(stub, "s", rotation_lambda_arn=None)  # neither ARN nor rules: the stored ones
    d = await describe(stub, "s")
    assert (d.rotation_lambda_arn, d.rotation_rules.automatically_after_days) == (FUNCTION_ARN, 5)


# ---- CancelRotateSecret ----


async def test_cancel_unknown_and_never_configured(stub: Any) -> None:
    await expect(
        cancel(stub, "nope"), grpc.StatusCode.NOT_FOUND, "ResourceNotFoundException", NOT_FOUND
    )
    await create(stub, "s")
    await expect(cancel(stub, "s"), PRECONDITION, "InvalidRequestException", CANCEL_NO_FUNCTION)


async def test_cancel_stops_the_run_and_leaves_the_labels(region: Region, stub: Any) -> None:
    made = await create(stub, "s", "v1")
    started = await rotate(stub, "s", rotation_rules=days(30), client_request_token=tok(3))
    before = await stage_map(stub, "s")
    out = await cancel(stub, "s")
    assert (out.arn, out.name, out.version_id) == (made.arn, "s", tok(3))
    assert region.store.find("s").rotating is None  # type: ignore[union-attr]
    d = await describe(stub, "s")
    assert d.HasField("rotation_enabled") and d.rotation_enabled is False
    assert not d.HasField("next_rotation_date")  # AWS: null when rotation is disabled
    assert (d.rotation_lambda_arn, d.rotation_rules.automatically_after_days) == (FUNCTION_ARN, 30)
    assert await stage_map(stub, "s") == before  # AWSPENDING stays (the caller removes it)
    # AWS: the caller may have to remove AWSPENDING before rotating again.
    await expect(rotate(stub, "s"), PRECONDITION, "InvalidRequestException", IN_PROGRESS)
    await stub.UpdateSecretVersionStage(
        pb.UpdateSecretVersionStageRequest(
            secret_id="s", version_stage="AWSPENDING", remove_from_version_id=started.version_id
        )
    )
    again = await rotate(stub, "s")
    assert (await describe(stub, "s")).rotation_enabled is True
    assert again.version_id != started.version_id


async def test_cancel_with_nothing_in_progress_answers_the_current_version(
    region: Region, stub: Any
) -> None:
    made = await create(stub, "s")
    started = await rotate(stub, "s")
    await region.rotation.abandon(made.arn, started.version_id)
    out = await cancel(stub, "s")
    assert out.version_id == made.version_id


# ---- DescribeSecret / ListSecrets ----


async def test_describe_and_list_report_rotation_as_aws(
    region: Region, stub: Any, clock: FakeClock
) -> None:
    made = await create(stub, "s", "v1")
    start = clock.now()
    rules = pb.RotationRulesType(schedule_expression="rate(10 days)", duration="3h")
    started = await rotate(stub, "s", rotation_rules=rules)
    clock.advance(120)
    for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        if step == "finishSecret":
            await put(
                stub,
                "s",
                "v2",
                client_request_token=started.version_id,
                version_stages=["AWSPENDING"],
            )
            await stub.UpdateSecretVersionStage(
                pb.UpdateSecretVersionStageRequest(
                    secret_id="s",
                    version_stage="AWSCURRENT",
                    move_to_version_id=started.version_id,
                    remove_from_version_id=made.version_id,
                )
            )
        await region.rotation.step_done(made.arn, started.version_id, step)
    d = await describe(stub, "s")
    listed = (await stub.ListSecrets(pb.ListSecretsRequest())).secret_list
    assert len(listed) == 1
    for m in (d, listed[0]):
        assert m.rotation_enabled is True
        assert m.rotation_lambda_arn == FUNCTION_ARN
        assert (
            m.rotation_rules.automatically_after_days,
            m.rotation_rules.schedule_expression,
            m.rotation_rules.duration,
        ) == (10, "rate(10 days)", "3h")
        assert m.last_rotated_date.seconds == int(start + 120)
        # rate(10 days): the window opens at 00:00 UTC ten days after the rotation's day, 3 h.
        day = (start + 120) // DAY * DAY
        assert m.next_rotation_date.seconds == int(day + 10 * DAY + 3 * 3600 - 1)


async def test_a_never_rotated_secret_reports_no_rotation_fields(stub: Any) -> None:
    await create(stub, "s")
    d = await describe(stub, "s")
    for field in (
        "rotation_enabled",
        "rotation_lambda_arn",
        "rotation_rules",
        "last_rotated_date",
        "next_rotation_date",
    ):
        assert not d.HasField(field), field
