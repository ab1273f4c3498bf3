"""DeleteSecret, RestoreSecret, the scheduled-deletion state and the background purge."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from tests.api.helpers import (
    ARN_PREFIX,
    DAY,
    MARKED_DELETED,
    NOT_FOUND,
    UPDATE_MARKED_DELETED,
    aws_error,
    create,
    describe,
    expect,
    get,
    names,
    poll,
    put,
    tok,
)
from tests.conftest import pb

BAD = grpc.StatusCode.INVALID_ARGUMENT
FP = grpc.StatusCode.FAILED_PRECONDITION
NF = grpc.StatusCode.NOT_FOUND
WINDOW = "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive)."
CONFLICT = "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays."


def delete(stub, sid: str, **kw):
    return stub.DeleteSecret(pb.DeleteSecretRequest(secret_id=sid, **kw))


def restore(stub, sid: str):
    return stub.RestoreSecret(pb.RestoreSecretRequest(secret_id=sid))


# ---- parameters ----


@pytest.mark.parametrize("days", [0, 2, 6, 31, 100, -1])
async def test_window_out_of_range_even_for_unknown_secret(stub, days: int) -> None:
    await create(stub, "s")
    for sid in ("s", "does-not-exist"):
        await expect(
            delete(stub, sid, recovery_window_in_days=days),
            BAD,
            "InvalidParameterException",
            WINDOW,
        )
        await expect(
            delete(stub, sid, recovery_window_in_days=days, force_delete_without_recovery=True),
            BAD,
            "InvalidParameterException",
            WINDOW,
        )
    assert not (await describe(stub, "s")).HasField("deleted_date")


async def test_window_and_force_conflict(stub) -> None:
    await create(stub, "s")
    await expect(
        delete(stub, "s", recovery_window_in_days=7, force_delete_without_recovery=True),
        BAD,
        "InvalidParameterException",
        CONFLICT,
    )
    assert not (await describe(stub, "s")).HasField("deleted_date")
    # ForceDeleteWithoutRecovery=false with a window is an ordinary scheduled delete.
    r = await delete(stub, "s", recovery_window_in_days=7, force_delete_without_recovery=False)
    assert r.name == "s"


@pytest.mark.parametrize(("days", "expected"), [(None, 30), (7, 7), (30, 30), (15, 15)])
async def test_scheduled_deletion_date(stub, clock, days: int | None, expected: int) -> None:
    c = await create(stub, "s")
    kw = {} if days is None else {"recovery_window_in_days": days}
    r = await delete(stub, "s", **kw)
    when = clock.now() + expected * DAY
    assert (r.arn, r.name) == (c.arn, "s")
    assert r.deletion_date.seconds == int(when)
    d = await describe(stub, "s")
    assert d.deleted_date == r.deletion_date


async def test_delete_unknown_without_force(stub) -> None:
    await expect(delete(stub, "nope"), NF, "ResourceNotFoundException", NOT_FOUND)


async def test_force_delete_unknown_succeeds(stub, clock) -> None:
    r = await delete(stub, "nope", force_delete_without_recovery=True)
    assert r.name == "nope"
    assert r.arn.startswith(ARN_PREFIX + "nope-") and len(r.arn) == len(ARN_PREFIX + "nope-") + 6
    assert r.deletion_date.seconds == int(clock.now())


async def test_force_delete_removes_at_once(stub, clock) -> None:
    c = await create(stub, "s")
    r = await delete(stub, c.arn, force_delete_without_recovery=True)
    assert (r.arn, r.name, r.deletion_date.seconds) == (c.arn, "s", int(clock.now()))
    await expect(describe(stub, "s"), NF, "ResourceNotFoundException", NOT_FOUND)
    await expect(restore(stub, "s"), NF, "ResourceNotFoundException", NOT_FOUND)
    assert await names(stub, include_planned_deletion=True) == []
    # The name is free again at once.
    assert (await create(stub, "s", "again")).arn != c.arn


async def test_force_delete_of_scheduled_secret(stub) -> None:
    await create(stub, "s")
    await delete(stub, "s")
    await delete(stub, "s", force_delete_without_recovery=True)
    await expect(describe(stub, "s"), NF, "ResourceNotFoundException")


async def test_second_delete_refused(stub) -> None:
    await create(stub, "s")
    first = await delete(stub, "s", recovery_window_in_days=10)
    await expect(delete(stub, "s"), FP, "InvalidRequestException", MARKED_DELETED)
    # The original schedule stands.
    assert (await describe(stub, "s")).deleted_date == first.deletion_date


# ---- the scheduled state ----


async def test_operations_refused_while_scheduled(stub) -> None:
    await create(stub, "s", "v", client_request_token=tok(1))
    await put(stub, "s", "v2", client_request_token=tok(2))
    await delete(stub, "s")
    await expect(get(stub, "s"), FP, "InvalidRequestException", MARKED_DELETED)
    await expect(get(stub, "s", version_id=tok(1)), FP, "InvalidRequestException", MARKED_DELETED)
    await expect(put(stub, "s", "v3"), FP, "InvalidRequestException", MARKED_DELETED)
    await expect(
        stub.UpdateSecret(pb.UpdateSecretRequest(secret_id="s", description="d")),
        FP,
        "InvalidRequestException",
        UPDATE_MARKED_DELETED,
    )
    await expect(
        stub.UpdateSecret(pb.UpdateSecretRequest(secret_id="s", secret_string="v4")),
        FP,
        "InvalidRequestException",
        UPDATE_MARKED_DELETED,
    )
    await expect(
        stub.UpdateSecretVersionStage(
            pb.UpdateSecretVersionStageRequest(
                secret_id="s", version_stage="X", move_to_version_id=tok(1)
            )
        ),
        FP,
        "InvalidRequestException",
        MARKED_DELETED,
    )
    err = await aws_error(get(stub, "s"))
    assert err.reason == "INVALID_REQUEST"
    # Nothing changed underneath.
    assert {
        k: list(v.stages) for k, v in (await describe(stub, "s")).version_ids_to_stages.items()
    } == {tok(1): ["AWSPREVIOUS"], tok(2): ["AWSCURRENT"]}


async def test_reads_of_metadata_still_work_while_scheduled(stub, clock) -> None:
    await create(stub, "s", "v", client_request_token=tok(1))
    r = await delete(stub, "s", recovery_window_in_days=7)
    d = await describe(stub, "s")
    assert d.deleted_date.seconds == int(clock.now() + 7 * DAY) == r.deletion_date.seconds
    lv = await stub.ListSecretVersionIds(pb.ListSecretVersionIdsRequest(secret_id="s"))
    assert [v.version_id for v in lv.versions] == [tok(1)]


async def test_list_hides_scheduled_unless_asked(stub, clock) -> None:
    await create(stub, "keep")
    clock.advance(1)
    await create(stub, "gone")
    await delete(stub, "gone")
    assert await names(stub) == ["keep"]
    entries = (
        await stub.ListSecrets(pb.ListSecretsRequest(include_planned_deletion=True))
    ).secret_list
    assert [e.name for e in entries] == ["keep", "gone"]
    assert not entries[0].HasField("deleted_date")
    assert entries[1].deleted_date.seconds == int(clock.now() + 30 * DAY)


async def test_create_with_name_of_scheduled_secret(stub) -> None:
    await create(stub, "s", "v", client_request_token=tok(1))
    await delete(stub, "s")
    for kw in ({}, {"client_request_token": tok(1)}, {"client_request_token": tok(2)}):
        await expect(
            create(stub, "s", "v", **kw),
            FP,
            "InvalidRequestException",
            "You can't create this secret because a secret with this name is already "
            "scheduled for deletion.",
        )


async def test_update_replay_is_idempotent_even_while_scheduled(stub) -> None:
    await create(stub, "s", "v")
    await stub.UpdateSecret(
        pb.UpdateSecretRequest(secret_id="s", secret_string="v2", client_request_token=tok(2))
    )
    await delete(stub, "s")
    u = await stub.UpdateSecret(
        pb.UpdateSecretRequest(secret_id="s", secret_string="v2", client_request_token=tok(2))
    )
    assert u.version_id == tok(2)


# ---- RestoreSecret ----


async def test_restore_cancels_deletion(stub, clock) -> None:
    c = await create(stub, "s", "v")
    await delete(stub, "s")
    r = await restore(stub, "s")
    assert (r.arn, r.name) == (c.arn, "s")
    assert not (await describe(stub, "s")).HasField("deleted_date")
    assert (await get(stub, "s")).secret_string == "v"
    assert await names(stub) == ["s"]
    await put(stub, "s", "v2")
    await stub.UpdateSecret(pb.UpdateSecretRequest(secret_id="s", description="back"))
    # Restored means no purge later either.
    clock.advance(31 * DAY)
    await asyncio.sleep(0.2)
    assert (await get(stub, "s")).secret_string == "v2"


async def test_restore_of_live_secret_is_a_no_op(stub) -> None:
    c = await create(stub, "s", "v")
    r = await restore(stub, c.arn)
    assert (r.arn, r.name) == (c.arn, "s")


async def test_restore_unknown(stub) -> None:
    await expect(restore(stub, "nope"), NF, "ResourceNotFoundException", NOT_FOUND)


# ---- the purge at DeletionDate ----


async def _gone(stub) -> bool | None:
    return None if await _exists(stub) else True


async def _exists(stub) -> bool:
    try:
        await describe(stub, "s")
    except grpc.aio.AioRpcError as exc:
        assert exc.code() == NF
        return False
    return True


async def test_purged_after_window(stub, clock) -> None:
    old = await create(stub, "s", "v")
    await delete(stub, "s", recovery_window_in_days=7)
    clock.advance(7 * DAY - 60)
    await asyncio.sleep(0.25)  # several purge passes (every 0.05 s in tests)
    assert await _exists(stub)
    clock.advance(61)
    await poll(lambda: _gone(stub), within=5.0)
    await expect(describe(stub, old.arn), NF, "ResourceNotFoundException", NOT_FOUND)
    await expect(restore(stub, "s"), NF, "ResourceNotFoundException", NOT_FOUND)
    assert await names(stub, include_planned_deletion=True) == []
    new = await create(stub, "s", "fresh")
    assert new.arn != old.arn
    assert (await get(stub, "s")).secret_string == "fresh"


async def test_purge_only_touches_due_secrets(stub, clock) -> None:
    await create(stub, "s", "v")
    await create(stub, "later", "v")
    await create(stub, "live", "v")
    await delete(stub, "s", recovery_window_in_days=7)
    await delete(stub, "later", recovery_window_in_days=30)
    clock.advance(8 * DAY)
    await poll(lambda: _gone(stub), within=5.0)
    assert (await describe(stub, "later")).HasField("deleted_date")
    assert (await get(stub, "live")).secret_string == "v"
