"""The rotation-function base and the Python template against a real Region (no database):
the stage check, the callback credential, status mapping, idempotent steps."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import grpc
import pytest

from smgrpc.app import Region
from smgrpc.auth.token_file import TokenFileError
from smgrpc.rotators.function import FunctionConfigError, connect
from smgrpc.rotators.template import TemplateRotator
from tests.api.authz_helpers import allow, deny, user
from tests.api.helpers import create, get, put, stage_map
from tests.conftest import CANARY, FakeClock
from tests.rotators.conftest import (
    FUNCTION_ACTIONS,
    STEPS,
    begin_rotation,
    credentials_file,
    event,
    function_credential,
)


async def test_template_rotates_a_json_password_and_keeps_the_other_members(
    region: Region, clock: FakeClock, stub: Any, tmp_path: Path, serve_function: Any, all_logs: Any
) -> None:
    f = await serve_function(TemplateRotator, region, await function_credential(region, tmp_path))
    arn = (await create(stub, "app/json", json.dumps({"user": "u", "password": CANARY}))).arn
    old_version = next(iter(await stage_map(stub, arn)))
    ev = await begin_rotation(region, clock, arn)
    await f.rotate(ev)
    got = await get(stub, arn)
    value = json.loads(got.secret_string)
    assert got.version_id == ev.client_request_token
    assert value["user"] == "u" and value["password"] != CANARY and len(value["password"]) == 32
    stages = await stage_map(stub, arn)
    assert stages == {ev.client_request_token: ["AWSCURRENT", "AWSPENDING"],
                      old_version: ["AWSPREVIOUS"]}  # fmt: skip
    text = "\n".join(f"{r.getMessage()} {vars(r)}" for r in all_logs.records)
    assert CANARY not in text and value["password"] not in text


async def test_template_plain_string_and_every_step_twice(
    region: Region, clock: FakeClock, stub: Any, tmp_path: Path, serve_function: Any
) -> None:
    f = await serve_function(TemplateRotator, region, await function_credential(region, tmp_path))
    arn = (await create(stub, "app/plain", CANARY)).arn
    ev = await begin_rotation(region, clock, arn)
    twice = [step for step in STEPS for _ in (1, 2)]
    for step in [*twice, "createSecret", "testSecret"]:  # the last two: after the end
        await f.invoke(ev, step)
    value = (await get(stub, arn)).secret_string
    assert value != CANARY and len(value) == 32
    previous = await get(stub, arn, version_stage="AWSPREVIOUS")
    assert previous.secret_string == CANARY


async def test_no_step_runs_for_a_token_the_region_did_not_make_pending(
    region: Region, clock: FakeClock, stub: Any, tmp_path: Path, serve_function: Any
) -> None:
    # A caller that reaches the function cannot start a rotation: createSecret with a token no
    # version has (RotateSecret did not make it) fails and writes nothing, nor do later steps.
    f = await serve_function(TemplateRotator, region, await function_credential(region, tmp_path))
    arn = (await create(stub, "app/direct", CANARY)).arn
    before = await stage_map(stub, arn)
    for step in STEPS:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await f.invoke(event(step, arn, "t" * 40))
        assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert info.value.details() == (
            f"secret version {'t' * 40} has no stage for rotation of {arn}"
        )
    assert await stage_map(stub, arn) == before
    assert (await get(stub, arn)).secret_string == CANARY
    # While another rotation's version is AWSPENDING, an unknown token takes nothing from it.
    theirs = await begin_rotation(region, clock, arn)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await f.invoke(event("createSecret", arn, "u" * 40))
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert info.value.details() == f"secret version {'u' * 40} has no stage for rotation of {arn}"
    assert (await stage_map(stub, arn))[theirs.client_request_token] == ["AWSPENDING"]
    assert "u" * 40 not in await stage_map(stub, arn)
    # The rotation the Region started runs, its RotationToken passed to PutSecretValue.
    await f.rotate(theirs)
    assert (await get(stub, arn)).version_id == theirs.client_request_token


async def test_a_version_that_is_not_pending_or_rotation_off_fails_the_step(
    region: Region, clock: FakeClock, stub: Any, tmp_path: Path, serve_function: Any
) -> None:
    f = await serve_function(TemplateRotator, region, await function_credential(region, tmp_path))
    arn = (await create(stub, "app/labels", CANARY)).arn
    extra = (await put(stub, arn, "other", version_stages=["CUSTOM"])).version_id
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await f.invoke(event("setSecret", arn, extra))
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert info.value.details() == f"secret version {extra} is not AWSPENDING for rotation of {arn}"
    # Rotation turned off (CancelRotateSecret's RotationEnabled false): no step runs.
    ev = await begin_rotation(region, clock, arn)
    async with region.store.transaction() as tx:
        s = tx.find(arn)
        assert s is not None
        await tx.save(s.evolve(rotation=s.rotation.__class__(enabled=False)))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await f.invoke(ev)
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert info.value.details() == f"secret {arn} is not enabled for rotation"


async def test_a_denied_callback_credential_answers_permission_denied(
    region: Region, clock: FakeClock, stub: Any, tmp_path: Path, serve_function: Any
) -> None:
    arn = (await create(stub, "app/denied", CANARY)).arn
    ev = await begin_rotation(region, clock, arn)
    # A function allowed everything but PutSecretValue: it reads, then is refused the write.
    token = await user(region, "half", allow(FUNCTION_ACTIONS, "*"),  # type: ignore[arg-type]
                       deny("secretsmanager:PutSecretValue", "*"))  # fmt: skip
    f = await serve_function(TemplateRotator, region, credentials_file(tmp_path / "h", token))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await f.invoke(ev)
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    details = info.value.details() or ""
    assert details.startswith(
        "the smgrpc endpoint refused the function's credential on PutSecretValue: "
        "AccessDeniedException: "
    ), details
    assert CANARY not in details and token.split(":")[1] not in details
    # A user with no policy at all is refused the first call.
    none = await user(region, "nobody")
    f2 = await serve_function(TemplateRotator, region, credentials_file(tmp_path / "n", none))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await f2.invoke(ev)
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "on DescribeSecret: AccessDeniedException" in (info.value.details() or "")
    # A credential the Region does not know: UNAUTHENTICATED.
    akid = none.split(":")[0]
    unknown = "AKIA" + "Z" * (len(akid) - 4) + ":" + none.split(":")[1]
    f3 = await serve_function(TemplateRotator, region, credentials_file(tmp_path / "u", unknown))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await f3.invoke(ev)
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert (info.value.details() or "").startswith(
        "the smgrpc endpoint refused the function's credential on DescribeSecret: "
        "UnrecognizedClientException"
    )
    assert (await get(stub, arn)).secret_string == CANARY  # AWSCURRENT untouched


async def test_an_unexpected_exception_is_internal_without_its_text(
    region: Region, clock: FakeClock, stub: Any, tmp_path: Path, serve_function: Any, all_logs: Any
) -> None:
    class Broken(TemplateRotator):
        async def set_secret(self, event: Any) -> None:
            raise ValueError(f"oops {CANARY}")

    f = await serve_function(Broken, region, await function_credential(region, tmp_path))
    arn = (await create(stub, "app/broken", "v")).arn
    ev = await begin_rotation(region, clock, arn)
    await f.invoke(ev, "createSecret")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await f.invoke(ev, "setSecret")
    assert info.value.code() == grpc.StatusCode.INTERNAL
    assert info.value.details() == (
        "setSecret raised ValueError in the rotation function (see its log)"
    )
    text = "\n".join(f"{r.getMessage()} {vars(r)}" for r in all_logs.records)
    assert "step raised ValueError" in text and CANARY not in text


def test_plaintext_to_a_remote_endpoint_and_open_credential_files_are_refused(
    tmp_path: Path,
) -> None:
    creds = credentials_file(tmp_path / "c", "AKIA" + "A" * 16 + ":" + "s" * 40)
    with pytest.raises(FunctionConfigError, match="is not a loopback address"):
        connect("10.0.0.1:50051", creds)
    creds.chmod(0o644)
    with pytest.raises(TokenFileError, match="mode 0644") as info:
        connect("127.0.0.1:50051", creds)
    assert "s" * 40 not in str(info.value)
    assert stat.S_IMODE(creds.stat().st_mode) == 0o644
