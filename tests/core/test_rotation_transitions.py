"""The engine-facing transitions of core.rotation (start_due, step_done, step_failed, abandon)
on a real Region: its SQLite store, its use cases, and a real server for the calls a rotation
function makes (PutSecretValue, UpdateSecretVersionStage), driven by the FakeClock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.app import Region
from smgrpc.core.model import ROTATION_STEPS
from smgrpc.core.rotation import RotationUseCases, due_at
from tests.api.helpers import DAY, create, describe, get, put, stage_map, tok
from tests.api.rotation_helpers import FUNCTION_ARN, days, rotate
from tests.conftest import FakeClock, admin_channel, make_config, pb, running, start_region


@pytest.fixture
async def region(tmp_path: Path, clock: FakeClock) -> Any:
    """The tests drive the transitions themselves: the engine runs none (concurrency 0)."""
    r = await start_region(make_config(tmp_path, rotation_concurrency=0), clock)
    yield r
    await r.stop(0.5)


async def finish(stub: Any, secret_id: str, new: str, old: str) -> None:
    """What a function's finishSecret does: move AWSCURRENT to the new version."""
    await stub.UpdateSecretVersionStage(
        pb.UpdateSecretVersionStageRequest(
            secret_id=secret_id,
            version_stage="AWSCURRENT",
            move_to_version_id=new,
            remove_from_version_id=old,
        )
    )


async def test_four_steps_end_the_run_where_the_function_moved_awscurrent(
    region: Region, stub: Any, clock: FakeClock
) -> None:
    made = await create(stub, "s", "v1")
    started = await rotate(stub, "s", rotation_rules=days(30), client_request_token=tok(1))
    uc, arn, vid = region.rotation, made.arn, started.version_id
    # A step other than the recorded one, or another version, changes nothing.
    assert await uc.step_done(arn, vid, "setSecret") is None
    assert await uc.step_done(arn, tok(2), "createSecret") is None
    await put(stub, "s", "v2", client_request_token=vid, version_stages=["AWSPENDING"])
    steps = []
    for step in ROTATION_STEPS:
        if step == "finishSecret":
            await finish(stub, "s", vid, made.version_id)
        clock.advance(10)
        secret = await uc.step_done(arn, vid, step)
        assert secret is not None
        steps.append(secret.rotating.step if secret.rotating else None)
    assert steps == ["setSecret", "testSecret", "finishSecret", None]
    assert await stage_map(stub, "s") == {
        made.version_id: ["AWSPREVIOUS"],
        vid: ["AWSCURRENT", "AWSPENDING"],
    }
    assert (await get(stub, "s")).secret_string == "v2"
    d = await describe(stub, "s")
    assert d.last_rotated_date.seconds == int(clock.now())
    assert d.next_rotation_date.seconds == int(clock.now() // DAY * DAY + 31 * DAY - 1)
    assert await region.store.rotations_in_progress() == []
    # Finished: nothing more to do, and a new rotation may start.
    assert await uc.step_done(arn, vid, "finishSecret") is None
    assert (await rotate(stub, "s")).version_id


async def test_step_failed_counts_attempts_durably_and_step_done_resets_them(
    region: Region, stub: Any
) -> None:
    made = await create(stub, "s")
    started = await rotate(stub, "s")
    uc, arn, vid = region.rotation, made.arn, started.version_id
    for n in (1, 2):
        s = await uc.step_failed(arn, vid, "createSecret")
        assert s is not None and s.rotating is not None and s.rotating.attempts == n
    assert region.store.find("s").rotating.attempts == 2  # type: ignore[union-attr]
    assert await uc.step_failed(arn, vid, "setSecret") is None  # not the recorded step
    s = await uc.step_done(arn, vid, "createSecret")
    assert s is not None and s.rotating is not None
    assert (s.rotating.step, s.rotating.attempts) == ("setSecret", 0)


async def test_abandon_leaves_awscurrent_and_removes_awspending(
    region: Region, stub: Any, clock: FakeClock
) -> None:
    made = await create(stub, "s", "v1")
    started = await rotate(stub, "s", rotation_rules=days(7))
    await put(
        stub, "s", "v2", client_request_token=started.version_id, version_stages=["AWSPENDING"]
    )
    clock.advance(3600)
    s = await region.rotation.abandon(made.arn, started.version_id)
    assert s is not None and s.rotating is None
    assert await stage_map(stub, "s") == {made.version_id: ["AWSCURRENT"]}
    assert (await get(stub, "s")).secret_string == "v1"
    d = await describe(stub, "s")
    assert not d.HasField("last_rotated_date")
    # Retried at the next window after now: 7 days from today, the whole UTC day.
    assert d.next_rotation_date.seconds == int(clock.now() // DAY * DAY + 8 * DAY - 1)
    assert await region.rotation.abandon(made.arn, started.version_id) is None


async def test_abandon_after_awscurrent_moved_keeps_awspending_on_the_current(
    region: Region, stub: Any
) -> None:
    made = await create(stub, "s", "v1")
    started = await rotate(stub, "s")
    vid = started.version_id
    await put(stub, "s", "v2", client_request_token=vid, version_stages=["AWSPENDING"])
    await finish(stub, "s", vid, made.version_id)
    await region.rotation.abandon(made.arn, vid)
    assert await stage_map(stub, "s") == {
        made.version_id: ["AWSPREVIOUS"],
        vid: ["AWSCURRENT", "AWSPENDING"],
    }


async def test_a_cancelled_run_makes_the_transitions_no_ops(region: Region, stub: Any) -> None:
    made = await create(stub, "s")
    started = await rotate(stub, "s")
    await stub.CancelRotateSecret(pb.CancelRotateSecretRequest(secret_id="s"))
    uc, arn, vid = region.rotation, made.arn, started.version_id
    before = region.store.find("s")
    assert await uc.step_done(arn, vid, "createSecret") is None
    assert await uc.step_failed(arn, vid, "createSecret") is None
    assert await uc.abandon(arn, vid) is None
    assert region.store.find("s") is before  # nothing written


async def test_a_purged_secret_or_a_replica_has_no_run_to_move(region: Region, stub: Any) -> None:
    made = await create(stub, "s")
    started = await rotate(stub, "s")
    async with region.store.transaction() as tx:
        s = tx.find("s")
        assert s is not None
        await tx.save(s.evolve(primary_region="eu-west-1"))
    assert await region.rotation.step_done(made.arn, started.version_id, "createSecret") is None
    assert await region.store.rotations_in_progress() == []
    async with region.store.transaction() as tx:  # purged
        s = tx.find("s")
        assert s is not None
        await tx.delete(s)
    assert await region.rotation.abandon(made.arn, started.version_id) is None


async def test_not_immediately_ends_after_testsecret_without_rotating(
    region: Region, stub: Any, clock: FakeClock
) -> None:
    made = await create(stub, "s", "v1")
    started = await rotate(stub, "s", rotate_immediately=False, rotation_rules=days(10))
    uc, arn, vid = region.rotation, made.arn, started.version_id
    assert await uc.step_done(arn, vid, "createSecret") is None  # the run starts at testSecret
    s = await uc.step_done(arn, vid, "testSecret")
    assert s is not None and s.rotating is None
    # The test version loses AWSPENDING (it stays, label-less, as a deprecated version).
    assert await stage_map(stub, "s") == {made.version_id: ["AWSCURRENT"]}
    d = await describe(stub, "s")
    assert not d.HasField("last_rotated_date")
    assert d.rotation_enabled is True
    # The rotation itself happens at the next window (never rotated: 10 days from today).
    assert d.next_rotation_date.seconds == int(clock.now() // DAY * DAY + 11 * DAY - 1)


async def test_start_due_begins_a_scheduled_rotation_when_its_date_comes(
    region: Region, stub: Any, clock: FakeClock
) -> None:
    made = await create(stub, "s", "v1")
    started = await rotate(stub, "s", rotation_rules=days(1))
    uc, arn = region.rotation, made.arn
    await put(
        stub, "s", "v2", client_request_token=started.version_id, version_stages=["AWSPENDING"]
    )
    for step in ROTATION_STEPS:
        if step == "finishSecret":
            await finish(stub, "s", started.version_id, made.version_id)
        await uc.step_done(arn, started.version_id, step)
    rotation = region.store.find("s").rotation  # type: ignore[union-attr]
    # It starts when the window opens (AWS rotates during the window), not at its last second
    # (NextRotationDate): a 1-day schedule's default window is the whole UTC day.
    due = due_at(rotation)
    assert due is not None and rotation.next_rotation == due + 86400 - 1
    assert due % 86400 == 0
    assert await region.store.due_for_rotation(due - 1) == []
    assert await uc.start_due(arn) is None  # not yet
    clock.advance(due - clock.now())
    assert [s.name for s in await region.store.due_for_rotation(clock.now())] == ["s"]
    s = await uc.start_due(arn)
    assert s is not None and s.rotating is not None
    run = s.rotating
    assert (run.step, run.immediate, run.lambda_arn, run.attempts) == (
        "createSecret",
        True,
        FUNCTION_ARN,
        0,
    )
    assert len(run.token) == 36 and run.token != run.version_id
    pending = s.version(run.version_id)
    assert pending is not None and pending.stages == ("AWSPENDING",) and not pending.has_value
    assert await region.store.due_for_rotation(clock.now()) == []
    assert [x.arn for x in await region.store.rotations_in_progress()] == [arn]
    assert await uc.start_due(arn) is None  # already running


async def test_start_due_with_a_function_gone_moves_to_the_next_window(
    region: Region, stub: Any, clock: FakeClock
) -> None:
    made = await create(stub, "s")
    started = await rotate(stub, "s", rotation_rules=days(2))
    await region.rotation.abandon(made.arn, started.version_id)
    gone = RotationUseCases(
        region.store,
        clock,
        region.values,
        "us-east-1",
        functions=lambda name: False,
        on_start=lambda arn: None,
    )
    due = region.store.find("s").rotation.next_rotation  # type: ignore[union-attr]
    assert due is not None
    clock.advance(due - clock.now() + 1)
    s = await gone.start_due(made.arn)
    assert s is not None and s.rotating is None
    assert s.rotation.next_rotation is not None and s.rotation.next_rotation > clock.now()
    assert await region.store.due_for_rotation(clock.now()) == []


async def test_on_start_is_called_after_the_commit(
    region: Region, stub: Any, clock: FakeClock
) -> None:
    made = await create(stub, "s")
    woken: list[tuple[str, bool]] = []

    def on_start(arn: str) -> None:
        s = region.store.find(arn)
        woken.append((arn, s is not None and s.rotating is not None))

    uc = RotationUseCases(
        region.store,
        clock,
        region.values,
        "us-east-1",
        functions=lambda name: True,
        on_start=on_start,
    )
    await uc.rotate_secret("s", None, FUNCTION_ARN, None, None, None, None)
    assert woken == [(made.arn, True)]


async def test_a_run_and_the_indexes_survive_a_restart(tmp_path: Path, clock: FakeClock) -> None:
    cfg = make_config(tmp_path, rotation_concurrency=0)
    async with running(cfg, clock) as region, admin_channel(region) as ch:
        stub = pbg.SecretsManagerStub(ch)
        made = await create(stub, "s")
        started = await rotate(stub, "s", rotation_rules=days(3))
        await region.rotation.step_failed(made.arn, started.version_id, "createSecret")
        run = region.store.find("s").rotating  # type: ignore[union-attr]
        await create(stub, "t")
        t = await rotate(stub, "t", rotation_rules=days(3))
        await region.rotation.abandon(region.store.find("t").arn, t.version_id)  # type: ignore[union-attr]
        t_due = due_at(region.store.find("t").rotation)  # type: ignore[union-attr]
    async with running(cfg, clock) as again:
        s = again.store.find("s")
        assert s is not None and s.rotating == run and run is not None
        assert (run.attempts, run.version_id) == (1, started.version_id)
        assert [x.name for x in await again.store.rotations_in_progress()] == ["s"]
        assert [x.name for x in await again.store.due_for_rotation(t_due)] == ["t"]  # type: ignore[arg-type]
        assert await again.store.due_for_rotation(t_due - 1) == []  # type: ignore[operator]
