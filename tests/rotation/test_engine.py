"""The rotation engine end to end: a real Region (in-process, FakeClock) invoking a rotation
function that runs in another process and calls the public API back with its own IAM user."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.app import Region
from smgrpc.config import Config
from tests.conftest import CANARY, FakeClock, admin_channel, make_config, start_region
from tests.rotation.conftest import (
    FUNCTION,
    FunctionProcess,
    describe,
    eventually,
    finished,
    holder,
    lambda_arn,
    rotator_token,
    value,
)

STEPS = ["createSecret", "setSecret", "testSecret", "finishSecret"]
DAY = 86400.0


def engine_config(tmp_path: Path, function: FunctionProcess, **kw: object) -> Config:
    """A Region that invokes the test function (FUNCTION) and polls for work every 50 ms."""
    return make_config(
        tmp_path, rotation_functions=((FUNCTION, function.addr),), rotation_poll_interval=0.05, **kw
    )


@dataclass
class Rig:
    region: Region
    stub: pbg.SecretsManagerStub
    fn: FunctionProcess
    clock: FakeClock


@pytest.fixture
async def rig(tmp_path: Path, function: FunctionProcess, clock: FakeClock) -> AsyncIterator[Rig]:
    cfg = engine_config(tmp_path, function, rotation_step_timeout=1.0)
    region = await start_region(cfg, clock)
    try:
        async with admin_channel(region) as ch:
            function.connect(f"127.0.0.1:{region.port}", await rotator_token(ch))
            yield Rig(region, pbg.SecretsManagerStub(ch), function, clock)
    finally:
        await region.stop(0.5)


async def create(stub: pbg.SecretsManagerStub, name: str, text: str = CANARY, **kw: object) -> str:
    out = await stub.CreateSecret(pb.CreateSecretRequest(name=name, secret_string=text, **kw))
    return str(out.arn)


async def rotate(
    stub: pbg.SecretsManagerStub, sid: str, arn: str | None = None, **kw: object
) -> str:
    out = await stub.RotateSecret(
        pb.RotateSecretRequest(
            secret_id=sid,
            client_request_token=str(uuid.uuid4()),
            rotation_lambda_arn=arn or lambda_arn(),
            rotation_rules=pb.RotationRulesType(automatically_after_days=30),
            **kw,
        )
    )
    return str(out.version_id)


async def settled(
    stub: pbg.SecretsManagerStub, sid: str, region: Region
) -> pb.DescribeSecretResponse:
    """DescribeSecret once no rotation of the secret is running or recorded."""

    async def probe() -> pb.DescribeSecretResponse:
        return await describe(stub, sid)

    def idle(d: pb.DescribeSecretResponse) -> bool:
        secret = region.store.find(sid)
        return finished(d) and secret is not None and secret.rotating is None

    await eventually(probe, idle)
    return await probe()  # read after the run ended (the probe may predate its last commit)


async def test_a_function_in_another_process_rotates_the_secret(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    arn = await create(rig.stub, "db")
    old = holder(await describe(rig.stub, arn), "AWSCURRENT")
    new = await rotate(rig.stub, "db")
    d = await settled(rig.stub, arn, rig.region)
    assert holder(d, "AWSCURRENT") == new != old
    assert holder(d, "AWSPREVIOUS") == old
    assert rig.fn.journal() == [(s, new) for s in STEPS]
    assert (await value(rig.stub, "db")).startswith("rotated-")
    assert await value(rig.stub, "db", "AWSPREVIOUS") == CANARY
    assert d.rotation_enabled and d.HasField("last_rotated_date")
    assert d.next_rotation_date.seconds > rig.clock.now()
    assert CANARY not in caplog.text
    assert "rotation of" in caplog.text  # the engine did log (values never)


async def test_transient_failures_are_retried_within_the_step(rig: Rig) -> None:
    rig.fn.control({"flaky": {"setSecret": 2}})
    new = await rotate(rig.stub, await create(rig.stub, "flaky"))
    d = await settled(rig.stub, "flaky", rig.region)
    assert holder(d, "AWSCURRENT") == new
    assert rig.fn.steps() == ["createSecret", "setSecret", "setSecret", "setSecret"] + STEPS[2:]


@pytest.mark.parametrize("step", STEPS)
async def test_a_failing_step_leaves_current_and_is_retried_at_the_next_window(
    rig: Rig, step: str, caplog: pytest.LogCaptureFixture
) -> None:
    arn = await create(rig.stub, "s")
    old = holder(await describe(rig.stub, arn), "AWSCURRENT")
    rig.fn.control({"fail": [step], "code": "INTERNAL"})
    new = await rotate(rig.stub, arn)
    d = await settled(rig.stub, arn, rig.region)
    assert holder(d, "AWSCURRENT") == old  # unchanged
    assert holder(d, "AWSPENDING") is None  # removed from the new version
    assert await value(rig.stub, arn) == CANARY
    upto = STEPS.index(step) + 1
    assert rig.fn.journal() == [(s, new) for s in STEPS[:upto]]  # not retried: not transient
    assert "INTERNAL" in caplog.text and "injected failure" in caplog.text
    assert d.next_rotation_date.seconds > rig.clock.now()
    # The next window: the scheduler (driven by the clock) rotates again, and now succeeds.
    rig.fn.control({})
    rig.clock.advance(d.next_rotation_date.seconds - rig.clock.now() + 1)
    again = await eventually(
        lambda: describe(rig.stub, arn), lambda x: holder(x, "AWSCURRENT") not in (old, None)
    )
    again = await settled(rig.stub, arn, rig.region)
    assert holder(again, "AWSPREVIOUS") == old
    assert rig.fn.steps()[upto:] == STEPS


async def test_a_hanging_function_hits_the_deadline_then_the_rotation_is_abandoned(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    arn = await create(rig.stub, "hang")
    old = holder(await describe(rig.stub, arn), "AWSCURRENT")
    rig.fn.control({"hang": ["testSecret"]})
    await rotate(rig.stub, arn)
    d = await settled(rig.stub, arn, rig.region)
    # --rotation-max-attempts (3) invocations, each cut at --rotation-step-timeout (1 s).
    assert rig.fn.steps() == ["createSecret", "setSecret"] + ["testSecret"] * 3
    assert holder(d, "AWSCURRENT") == old and holder(d, "AWSPENDING") is None
    assert caplog.text.count("DEADLINE_EXCEEDED") >= 3
    assert "abandoned" in caplog.text


async def test_rotate_immediately_false_tests_now_and_rotates_at_the_window(rig: Rig) -> None:
    arn = await create(rig.stub, "later")
    old = holder(await describe(rig.stub, arn), "AWSCURRENT")
    test_version = await rotate(rig.stub, arn, rotate_immediately=False)
    d = await settled(rig.stub, arn, rig.region)
    assert rig.fn.journal() == [("testSecret", test_version)]
    assert holder(d, "AWSCURRENT") == old and holder(d, "AWSPENDING") is None
    rig.clock.advance(d.next_rotation_date.seconds - rig.clock.now() + 1)
    await eventually(lambda: describe(rig.stub, arn), lambda x: holder(x, "AWSCURRENT") != old)
    d = await settled(rig.stub, arn, rig.region)
    assert rig.fn.steps() == ["testSecret", *STEPS]
    assert holder(d, "AWSPREVIOUS") == old


async def test_scheduled_rotations_follow_the_clock(rig: Rig) -> None:
    arn = await create(rig.stub, "sched")
    await rotate(rig.stub, arn)
    first = await settled(rig.stub, arn, rig.region)
    due = first.next_rotation_date.seconds
    assert due >= rig.clock.now() + 29 * DAY  # AutomaticallyAfterDays 30
    rig.clock.advance(due - rig.clock.now() - 3600)  # an hour early: nothing happens
    await eventually(lambda: describe(rig.stub, arn), lambda _d: True)
    assert len(rig.fn.steps()) == 4
    rig.clock.advance(3600 + 1)
    await eventually(lambda: describe(rig.stub, arn), lambda _d: len(rig.fn.steps()) == 8)
    second = await settled(rig.stub, arn, rig.region)
    assert holder(second, "AWSPREVIOUS") == holder(first, "AWSCURRENT")
    assert second.next_rotation_date.seconds > due


async def test_cancel_stops_a_running_rotation(rig: Rig) -> None:
    arn = await create(rig.stub, "cancel")
    rig.fn.control({"hang": ["setSecret"]})
    await rotate(rig.stub, arn)
    await eventually(lambda: describe(rig.stub, arn), lambda _d: "setSecret" in rig.fn.steps())
    await rig.stub.CancelRotateSecret(pb.CancelRotateSecretRequest(secret_id=arn))
    await eventually(
        lambda: describe(rig.stub, arn), lambda _d: arn not in rig.region.scheduler.running
    )
    assert rig.fn.steps() == ["createSecret", "setSecret"]  # never invoked again


async def test_a_stopped_region_resumes_its_runs_on_restart(
    tmp_path: Path, function: FunctionProcess, clock: FakeClock
) -> None:
    cfg = engine_config(tmp_path, function, rotation_step_timeout=30.0, rotation_max_attempts=20)
    region = await start_region(cfg, clock)
    async with admin_channel(region) as ch:
        token = await rotator_token(ch)
        function.connect(f"127.0.0.1:{region.port}", token)
        stub = pbg.SecretsManagerStub(ch)
        arn = await create(stub, "resume")
        other = await create(stub, "orphan")
        function.control({"hang": ["setSecret"]})
        new = await rotate(stub, arn)
        await eventually(lambda: describe(stub, arn), lambda _d: "setSecret" in function.steps())
        orphan = await rotate(stub, other)
        await eventually(
            lambda: describe(stub, arn), lambda _d: function.steps().count("setSecret") == 2
        )
    await region.stop(0.5)  # SIGTERM-like: the hanging steps are cut
    function.control({})
    # Restart: the function is still registered: both runs resume from setSecret.
    region = await start_region(cfg, clock)
    try:
        async with admin_channel(region) as ch:
            function.connect(f"127.0.0.1:{region.port}", token)
            stub = pbg.SecretsManagerStub(ch)
            d = await settled(stub, arn, region)
            assert holder(d, "AWSCURRENT") == new
            # Resumed at setSecret (again once or more: the function may have tried the old
            # port first, a transient failure), never from createSecret.
            steps = [s for s, v in function.journal() if v == new]
            again = steps.count("setSecret")
            assert again >= 2
            assert steps == ["createSecret", *["setSecret"] * again, "testSecret", "finishSecret"]
            o = await settled(stub, other, region)
            assert holder(o, "AWSCURRENT") == orphan
    finally:
        await region.stop(0.5)


async def test_a_run_whose_function_is_no_longer_registered_is_abandoned(
    tmp_path: Path, function: FunctionProcess, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = engine_config(tmp_path, function, rotation_step_timeout=30.0)
    region = await start_region(cfg, clock)
    async with admin_channel(region) as ch:
        function.connect(f"127.0.0.1:{region.port}", await rotator_token(ch))
        stub = pbg.SecretsManagerStub(ch)
        arn = await create(stub, "gone")
        old = holder(await describe(stub, arn), "AWSCURRENT")
        function.control({"hang": ["createSecret"]})
        await rotate(stub, arn)
        await eventually(lambda: describe(stub, arn), lambda _d: function.steps() != [])
    await region.stop(0.5)
    region = await start_region(make_config(tmp_path, rotation_poll_interval=0.05), clock)
    try:
        async with admin_channel(region) as ch:
            stub = pbg.SecretsManagerStub(ch)
            d = await settled(stub, arn, region)
            assert holder(d, "AWSCURRENT") == old and holder(d, "AWSPENDING") is None
            assert "is not registered here" in caplog.text
    finally:
        await region.stop(0.5)


async def test_rotate_secret_names_only_registered_functions(rig: Rig) -> None:
    arn = await create(rig.stub, "unknown-fn")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await rotate(rig.stub, arn, lambda_arn("not-registered"))
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_rotations_run_at_most_concurrency_at_once_and_one_per_secret(
    tmp_path: Path, function: FunctionProcess, clock: FakeClock
) -> None:
    cfg = engine_config(tmp_path, function, rotation_step_timeout=30.0, rotation_concurrency=1)
    region = await start_region(cfg, clock)
    try:
        async with admin_channel(region) as ch:
            function.connect(f"127.0.0.1:{region.port}", await rotator_token(ch))
            stub = pbg.SecretsManagerStub(ch)
            a, b = await create(stub, "a"), await create(stub, "b")
            function.control({"hang": ["setSecret"]})
            first = await rotate(stub, a)
            await eventually(lambda: describe(stub, a), lambda _d: "setSecret" in function.steps())
            second = await rotate(stub, b)  # recorded, but waits for a free slot
            await asyncio.sleep(0.5)
            assert region.scheduler is not None and region.scheduler.running == {a}
            assert {v for _, v in function.journal()} == {first}
            await stub.CancelRotateSecret(pb.CancelRotateSecretRequest(secret_id=a))
            function.control({})
            d = await settled(stub, b, region)  # b runs once a's slot is free
            assert holder(d, "AWSCURRENT") == second
    finally:
        await region.stop(0.5)
