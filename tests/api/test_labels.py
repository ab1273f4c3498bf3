"""Staging labels: Put/Update transitions, UpdateSecretVersionStage, ListSecretVersionIds."""

from __future__ import annotations

import grpc

from tests.api.helpers import (
    DAY,
    NOT_FOUND,
    create,
    describe,
    expect,
    get,
    put,
    stage_map,
    tok,
    versions,
)
from tests.conftest import pb

BAD = grpc.StatusCode.INVALID_ARGUMENT
INVALID = "InvalidParameterException"


async def move(stub, sid: str, stage: str, remove: str | None = None, to: str | None = None):
    req = pb.UpdateSecretVersionStageRequest(secret_id=sid, version_stage=stage)
    if remove is not None:
        req.remove_from_version_id = remove
    if to is not None:
        req.move_to_version_id = to
    return await stub.UpdateSecretVersionStage(req)


async def three_versions(stub) -> None:
    """s: tok(1)=[AWSPREVIOUS], tok(2)=[AWSCURRENT], tok(3)=[CUSTOM]."""
    await create(stub, "s", "one", client_request_token=tok(1))
    await put(stub, "s", "two", client_request_token=tok(2))
    await put(stub, "s", "three", client_request_token=tok(3), version_stages=["CUSTOM"])
    assert await stage_map(stub, "s") == {
        tok(1): ["AWSPREVIOUS"],
        tok(2): ["AWSCURRENT"],
        tok(3): ["CUSTOM"],
    }


# ---- PutSecretValue / UpdateSecret label transitions ----


async def test_put_custom_label_leaves_current_alone(stub) -> None:
    await three_versions(stub)
    assert (await get(stub, "s")).secret_string == "two"
    # Putting CUSTOM again moves it off tok(3), which becomes deprecated.
    p = await put(stub, "s", "four", client_request_token=tok(4), version_stages=["CUSTOM"])
    assert list(p.version_stages) == ["CUSTOM"]
    assert await stage_map(stub, "s") == {
        tok(1): ["AWSPREVIOUS"],
        tok(2): ["AWSCURRENT"],
        tok(4): ["CUSTOM"],
    }


async def test_put_current_with_custom_labels_keeps_old_custom_labels(stub) -> None:
    await create(stub, "s", "one", client_request_token=tok(1))
    await put(stub, "s", "x", client_request_token=tok(2), version_stages=["AWSCURRENT", "BLUE"])
    assert await stage_map(stub, "s") == {tok(1): ["AWSPREVIOUS"], tok(2): ["AWSCURRENT", "BLUE"]}
    p = await put(
        stub, "s", "y", client_request_token=tok(3), version_stages=["AWSCURRENT", "GREEN"]
    )
    assert list(p.version_stages) == ["AWSCURRENT", "GREEN"]
    # The old current keeps BLUE and gains AWSPREVIOUS; tok(1) loses AWSPREVIOUS.
    assert await stage_map(stub, "s") == {
        tok(2): ["AWSPREVIOUS", "BLUE"],
        tok(3): ["AWSCURRENT", "GREEN"],
    }
    # Labels asked for together with AWSCURRENT are taken off other versions too.
    await put(stub, "s", "z", client_request_token=tok(4), version_stages=["AWSCURRENT", "BLUE"])
    assert await stage_map(stub, "s") == {
        tok(3): ["AWSPREVIOUS", "GREEN"],
        tok(4): ["AWSCURRENT", "BLUE"],
    }


async def test_pending_moves_off_the_current_version(stub) -> None:
    await create(stub, "s", "one", client_request_token=tok(1))
    await move(stub, "s", "AWSPENDING", to=tok(1))
    assert await stage_map(stub, "s") == {tok(1): ["AWSCURRENT", "AWSPENDING"]}
    await put(stub, "s", "two", client_request_token=tok(2), version_stages=["AWSPENDING"])
    assert await stage_map(stub, "s") == {tok(1): ["AWSCURRENT"], tok(2): ["AWSPENDING"]}


async def test_pending_version_with_a_value_is_immutable(stub) -> None:
    """Regression (issue 6, defect 8): a different value replaced an AWSPENDING version."""
    await create(stub, "s", "one", client_request_token=tok(1))
    await put(stub, "s", "draft", client_request_token=tok(2), version_stages=["AWSPENDING"])
    await expect(
        put(stub, "s", "final", client_request_token=tok(2), version_stages=["AWSPENDING"]),
        grpc.StatusCode.ALREADY_EXISTS,
        "ResourceExistsException",
        f"You can't use ClientRequestToken {tok(2)} because that value is already in use for a "
        f"version of secret {(await describe(stub, 's')).arn}.",
    )
    await expect(
        put(stub, "s", "final", client_request_token=tok(2)),
        grpc.StatusCode.ALREADY_EXISTS,
        "ResourceExistsException",
    )
    assert (await get(stub, "s", version_stage="AWSPENDING")).secret_string == "draft"
    assert await stage_map(stub, "s") == {tok(1): ["AWSCURRENT"], tok(2): ["AWSPENDING"]}
    # The idempotent replay (same token, same value) still succeeds and changes nothing.
    p = await put(stub, "s", "draft", client_request_token=tok(2), version_stages=["AWSPENDING"])
    assert (p.version_id, list(p.version_stages)) == (tok(2), ["AWSPENDING"])
    assert await stage_map(stub, "s") == {tok(1): ["AWSCURRENT"], tok(2): ["AWSPENDING"]}


async def test_duplicate_requested_labels_are_collapsed(stub) -> None:
    await create(stub, "s", "one")
    p = await put(stub, "s", "two", client_request_token=tok(2), version_stages=["A", "A", "B"])
    assert list(p.version_stages) == ["A", "B"]


async def test_update_secret_moves_current_even_with_custom_labels(stub) -> None:
    await create(stub, "s", "one", client_request_token=tok(1))
    await move(stub, "s", "KEEP", to=tok(1))
    await stub.UpdateSecret(
        pb.UpdateSecretRequest(secret_id="s", secret_string="two", client_request_token=tok(2))
    )
    assert await stage_map(stub, "s") == {tok(1): ["AWSPREVIOUS", "KEEP"], tok(2): ["AWSCURRENT"]}


async def test_at_most_one_version_per_label_after_many_puts(stub) -> None:
    await create(stub, "s", "0", client_request_token=tok(0))
    for i in range(1, 12):
        stages = ["AWSCURRENT"] if i % 3 else ["AWSCURRENT", "X"] if i % 2 else ["Y"]
        await put(stub, "s", str(i), client_request_token=tok(i), version_stages=stages)
    seen: dict[str, str] = {}
    for vid, labels in (await versions(stub, "s", deprecated=True)).items():
        for label in labels:
            assert label not in seen, (label, vid, seen)
            seen[label] = vid
    assert {"AWSCURRENT", "AWSPREVIOUS"} <= seen.keys()


# ---- UpdateSecretVersionStage ----


async def test_move_custom_label_between_versions(stub) -> None:
    await three_versions(stub)
    r = await move(stub, "s", "CUSTOM", remove=tok(3), to=tok(2))
    assert r.name == "s"
    # tok(3) has no label left: omitted from VersionIdsToStages.
    assert await stage_map(stub, "s") == {tok(1): ["AWSPREVIOUS"], tok(2): ["AWSCURRENT", "CUSTOM"]}


async def test_move_current_drags_previous(stub) -> None:
    await three_versions(stub)
    await move(stub, "s", "AWSCURRENT", remove=tok(2), to=tok(3))
    assert await stage_map(stub, "s") == {tok(2): ["AWSPREVIOUS"], tok(3): ["AWSCURRENT", "CUSTOM"]}
    # A plain read follows the AWSCURRENT label (not an internal pointer).
    got = await get(stub, "s")
    assert (got.secret_string, got.version_id) == ("three", tok(3))
    # Move it back onto the AWSPREVIOUS version: that version loses AWSPREVIOUS.
    await move(stub, "s", "AWSCURRENT", remove=tok(3), to=tok(2))
    assert await stage_map(stub, "s") == {tok(2): ["AWSCURRENT"], tok(3): ["AWSPREVIOUS", "CUSTOM"]}


async def test_move_current_onto_pending_version(stub) -> None:
    await create(stub, "s", "one", client_request_token=tok(1))
    await put(stub, "s", "two", client_request_token=tok(2), version_stages=["AWSPENDING"])
    await move(stub, "s", "AWSCURRENT", remove=tok(1), to=tok(2))
    assert await stage_map(stub, "s") == {
        tok(1): ["AWSPREVIOUS"],
        tok(2): ["AWSCURRENT", "AWSPENDING"],
    }


async def test_put_after_moving_current_onto_pending_drops_pending(stub) -> None:
    """Regression (issue 6, defect 19): AWS leaves the old version ["AWSPREVIOUS"] only."""
    await create(stub, "s", "one", client_request_token=tok(1))
    await put(stub, "s", "two", client_request_token=tok(2), version_stages=["AWSPENDING"])
    await move(stub, "s", "AWSCURRENT", remove=tok(1), to=tok(2))
    p = await put(stub, "s", "three", client_request_token=tok(3))
    assert list(p.version_stages) == ["AWSCURRENT"]
    assert await stage_map(stub, "s") == {tok(2): ["AWSPREVIOUS"], tok(3): ["AWSCURRENT"]}
    assert await versions(stub, "s", deprecated=True) == {
        tok(1): [],
        tok(2): ["AWSPREVIOUS"],
        tok(3): ["AWSCURRENT"],
    }
    # UpdateSecret with a value promotes the same way; custom labels on the old current stay.
    await move(stub, "s", "AWSPENDING", to=tok(3))
    await move(stub, "s", "BLUE", to=tok(3))
    await stub.UpdateSecret(
        pb.UpdateSecretRequest(secret_id="s", secret_string="four", client_request_token=tok(4))
    )
    assert await stage_map(stub, "s") == {
        tok(3): ["AWSPREVIOUS", "BLUE"],
        tok(4): ["AWSCURRENT"],
    }


async def test_put_of_a_new_pending_keeps_current_pending_untouched_elsewhere(stub) -> None:
    """Only the version AWSCURRENT leaves drops AWSPENDING; a rotation in progress stays."""
    await create(stub, "s", "one", client_request_token=tok(1))
    await put(stub, "s", "two", client_request_token=tok(2), version_stages=["AWSPENDING"])
    await put(stub, "s", "three", client_request_token=tok(3))
    assert await stage_map(stub, "s") == {
        tok(1): ["AWSPREVIOUS"],
        tok(2): ["AWSPENDING"],
        tok(3): ["AWSCURRENT"],
    }
    # AWSPENDING requested together with AWSCURRENT simply moves to the new version.
    await move(stub, "s", "AWSPENDING", remove=tok(2), to=tok(3))
    p = await put(
        stub, "s", "four", client_request_token=tok(4), version_stages=["AWSCURRENT", "AWSPENDING"]
    )
    assert list(p.version_stages) == ["AWSCURRENT", "AWSPENDING"]
    assert await stage_map(stub, "s") == {
        tok(3): ["AWSPREVIOUS"],
        tok(4): ["AWSCURRENT", "AWSPENDING"],
    }


async def test_move_current_without_remove_from(stub) -> None:
    await three_versions(stub)
    await expect(
        move(stub, "s", "AWSCURRENT", to=tok(3)),
        BAD,
        INVALID,
        f"The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently "
        f"attached to version {tok(2)}, so you must explicitly reference that version in "
        "RemoveFromVersionId.",
    )
    # Same rule for a custom label attached elsewhere.
    await expect(
        move(stub, "s", "CUSTOM", to=tok(1)),
        BAD,
        INVALID,
        f"The parameter RemoveFromVersionId can't be empty. Staging label CUSTOM is currently "
        f"attached to version {tok(3)}, so you must explicitly reference that version in "
        "RemoveFromVersionId.",
    )
    # Adding a label to the version that already holds it needs nothing more.
    await move(stub, "s", "AWSCURRENT", to=tok(2))
    assert await stage_map(stub, "s") == {
        tok(1): ["AWSPREVIOUS"],
        tok(2): ["AWSCURRENT"],
        tok(3): ["CUSTOM"],
    }


async def test_remove_from_unknown_or_wrong_version(stub) -> None:
    await three_versions(stub)
    unknown = "u" * 32
    await expect(
        move(stub, "s", "CUSTOM", remove=unknown, to=tok(1)),
        BAD,
        INVALID,
        f"Not a valid version: {unknown}",
    )
    await expect(
        move(stub, "s", "CUSTOM", remove=tok(1), to=tok(2)),
        BAD,
        INVALID,
        f"Version stage CUSTOM not found in version {tok(1)}",
    )
    await expect(
        move(stub, "s", "NOWHERE", remove=tok(1)),
        BAD,
        INVALID,
        f"Version stage NOWHERE not found in version {tok(1)}",
    )


async def test_move_to_unknown_version_changes_nothing(stub) -> None:
    await three_versions(stub)
    unknown = "u" * 32
    await expect(
        move(stub, "s", "CUSTOM", remove=tok(3), to=unknown),
        BAD,
        INVALID,
        f"Not a valid version: {unknown}",
    )
    assert await stage_map(stub, "s") == {
        tok(1): ["AWSPREVIOUS"],
        tok(2): ["AWSCURRENT"],
        tok(3): ["CUSTOM"],
    }


async def test_remove_label_only(stub) -> None:
    await three_versions(stub)
    await move(stub, "s", "CUSTOM", remove=tok(3))
    assert await stage_map(stub, "s") == {tok(1): ["AWSPREVIOUS"], tok(2): ["AWSCURRENT"]}
    assert await versions(stub, "s") == {tok(1): ["AWSPREVIOUS"], tok(2): ["AWSCURRENT"]}
    assert await versions(stub, "s", deprecated=True) == {
        tok(1): ["AWSPREVIOUS"],
        tok(2): ["AWSCURRENT"],
        tok(3): [],
    }
    # A deprecated version can still be read by id and relabelled.
    assert (await get(stub, "s", version_id=tok(3))).secret_string == "three"
    await move(stub, "s", "BACK", to=tok(3))
    assert (await stage_map(stub, "s"))[tok(3)] == ["BACK"]


async def test_current_cannot_be_removed_without_a_target(stub) -> None:
    await three_versions(stub)
    await expect(
        move(stub, "s", "AWSCURRENT", remove=tok(2)),
        BAD,
        INVALID,
        "You can't remove the staging label AWSCURRENT without moving it to another "
        "version: a secret must keep a current version.",
    )
    assert (await get(stub, "s")).version_id == tok(2)


async def test_neither_version_given(stub) -> None:
    await three_versions(stub)
    await expect(
        move(stub, "s", "CUSTOM"),
        BAD,
        INVALID,
        "You must specify RemoveFromVersionId, MoveToVersionId, or both.",
    )


async def test_new_label_onto_version(stub) -> None:
    await three_versions(stub)
    await move(stub, "s", "FRESH", to=tok(1))
    assert await stage_map(stub, "s") == {
        tok(1): ["AWSPREVIOUS", "FRESH"],
        tok(2): ["AWSCURRENT"],
        tok(3): ["CUSTOM"],
    }


async def test_twenty_labels_per_version(stub) -> None:
    await create(stub, "s", "one", client_request_token=tok(1))
    for i in range(19):
        await move(stub, "s", f"L{i}", to=tok(1))
    assert len((await stage_map(stub, "s"))[tok(1)]) == 20
    err = await expect(
        move(stub, "s", "L19", to=tok(1)),
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "LimitExceededException",
        "A version can have at most 20 staging labels.",
    )
    assert err.reason == "LIMIT_EXCEEDED"
    # Re-adding a label it already has is not an addition.
    await move(stub, "s", "L0", to=tok(1))


async def test_update_stage_unknown_secret(stub) -> None:
    await expect(
        move(stub, "nope", "X", to=tok(1)),
        grpc.StatusCode.NOT_FOUND,
        "ResourceNotFoundException",
        NOT_FOUND,
    )


async def test_update_stage_does_not_change_last_changed_date(stub, clock) -> None:
    await three_versions(stub)
    before = (await describe(stub, "s")).last_changed_date
    clock.advance(100)
    await move(stub, "s", "CUSTOM", remove=tok(3), to=tok(1))
    assert (await describe(stub, "s")).last_changed_date == before


# ---- ListSecretVersionIds ----


async def test_list_versions_newest_first_with_details(stub, clock) -> None:
    c = await create(stub, "s", "one", client_request_token=tok(1))
    t1 = clock.now()
    clock.advance(10)
    await put(stub, "s", "two", client_request_token=tok(2))
    clock.advance(10)
    await put(stub, "s", "three", client_request_token=tok(3), version_stages=["CUSTOM"])
    r = await stub.ListSecretVersionIds(pb.ListSecretVersionIdsRequest(secret_id=c.arn))
    assert (r.arn, r.name) == (c.arn, "s")
    assert not r.HasField("next_token")
    assert [v.version_id for v in r.versions] == [tok(3), tok(2), tok(1)]
    assert [list(v.version_stages) for v in r.versions] == [
        ["CUSTOM"],
        ["AWSCURRENT"],
        ["AWSPREVIOUS"],
    ]
    assert [v.created_date.seconds for v in r.versions] == [int(t1 + 20), int(t1 + 10), int(t1)]
    assert all(list(v.kms_key_ids) == ["DefaultEncryptionKey"] for v in r.versions)
    assert not any(v.HasField("last_accessed_date") for v in r.versions)


async def test_list_versions_last_accessed_per_version(stub, clock) -> None:
    await create(stub, "s", "one", client_request_token=tok(1))
    await put(stub, "s", "two", client_request_token=tok(2))
    await get(stub, "s", version_id=tok(1))
    r = await stub.ListSecretVersionIds(pb.ListSecretVersionIdsRequest(secret_id="s"))
    by_id = {v.version_id: v for v in r.versions}
    midnight = int(clock.now()) // DAY * DAY
    assert by_id[tok(1)].last_accessed_date.seconds == midnight
    assert not by_id[tok(2)].HasField("last_accessed_date")


async def test_list_versions_paging(stub, clock) -> None:
    await create(stub, "s", "0", client_request_token=tok(0))
    for i in range(1, 7):
        clock.advance(1)
        await put(stub, "s", str(i), client_request_token=tok(i), version_stages=[f"L{i}"])
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        req = pb.ListSecretVersionIdsRequest(secret_id="s", max_results=3)
        if token:
            req.next_token = token
        r = await stub.ListSecretVersionIds(req)
        pages += 1
        assert pages <= 3, seen
        assert len(r.versions) <= 3
        seen.extend(v.version_id for v in r.versions)
        if not r.HasField("next_token"):
            break
        token = r.next_token
    assert pages == 3
    assert seen == [tok(i) for i in range(6, -1, -1)]


async def test_list_versions_token_bound_to_secret(stub) -> None:
    for name in ("a", "b"):
        await create(stub, name, "0", client_request_token=tok(name + "0"))
        await put(stub, name, "1", client_request_token=tok(name + "1"), version_stages=["X"])
    r = await stub.ListSecretVersionIds(
        pb.ListSecretVersionIdsRequest(secret_id="a", max_results=1)
    )
    assert r.HasField("next_token")
    await expect(
        stub.ListSecretVersionIds(
            pb.ListSecretVersionIdsRequest(secret_id="b", max_results=1, next_token=r.next_token)
        ),
        BAD,
        "InvalidNextTokenException",
        "The NextToken value is invalid.",
    )
    await expect(
        stub.ListSecretVersionIds(
            pb.ListSecretVersionIdsRequest(secret_id="a", next_token="garbage")
        ),
        BAD,
        "InvalidNextTokenException",
        "The NextToken value is invalid.",
    )


async def test_list_versions_unknown_secret(stub) -> None:
    await expect(
        stub.ListSecretVersionIds(pb.ListSecretVersionIdsRequest(secret_id="nope")),
        grpc.StatusCode.NOT_FOUND,
        "ResourceNotFoundException",
        NOT_FOUND,
    )


async def test_list_versions_of_secret_without_value(stub) -> None:
    await create(stub, "s", None)
    r = await stub.ListSecretVersionIds(
        pb.ListSecretVersionIdsRequest(secret_id="s", include_deprecated=True)
    )
    assert len(r.versions) == 0
