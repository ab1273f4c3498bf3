"""TagResource / UntagResource, and the dates DescribeSecret reports."""

from __future__ import annotations

import grpc

from tests.api.helpers import (
    DAY,
    NOT_FOUND,
    UPDATE_MARKED_DELETED,
    create,
    describe,
    expect,
    get,
    put,
)
from tests.conftest import pb

NF = grpc.StatusCode.NOT_FOUND


def T(key: str, value: str = "") -> pb.Tag:
    return pb.Tag(key=key, value=value)


async def tag(stub, sid: str, *tags: pb.Tag) -> None:
    await stub.TagResource(pb.TagResourceRequest(secret_id=sid, tags=list(tags)))


async def untag(stub, sid: str, *keys: str) -> None:
    await stub.UntagResource(pb.UntagResourceRequest(secret_id=sid, tag_keys=list(keys)))


async def tag_list(stub, sid: str) -> list[tuple[str, str]]:
    return [(t.key, t.value) for t in (await describe(stub, sid)).tags]


async def test_tag_merges_and_overwrites_in_place(stub) -> None:
    await create(stub, "s", tags=[T("a", "1"), T("b", "2")])
    await tag(stub, "s", T("c", "3"), T("a", "one"))
    # An existing key keeps its position and takes the new value; new keys are appended.
    assert await tag_list(stub, "s") == [("a", "one"), ("b", "2"), ("c", "3")]


async def test_tag_keys_are_case_sensitive(stub) -> None:
    await create(stub, "s")
    await tag(stub, "s", T("ABC", "upper"), T("abc", "lower"))
    assert await tag_list(stub, "s") == [("ABC", "upper"), ("abc", "lower")]
    await untag(stub, "s", "abc")
    assert await tag_list(stub, "s") == [("ABC", "upper")]


async def test_tag_untagged_secret_and_by_arn(stub) -> None:
    c = await create(stub, "s")
    assert await tag_list(stub, "s") == []
    await tag(stub, c.arn, T("env", "prod"))
    await tag(stub, c.arn.rsplit("-", 1)[0], T("team", "x"))
    assert await tag_list(stub, "s") == [("env", "prod"), ("team", "x")]


async def test_untag_removes_listed_and_ignores_absent(stub) -> None:
    await create(stub, "s", tags=[T("a", "1"), T("b", "2"), T("c", "3")])
    await untag(stub, "s", "b", "nope")
    assert await tag_list(stub, "s") == [("a", "1"), ("c", "3")]
    await untag(stub, "s", "a", "c")
    assert await tag_list(stub, "s") == []
    await untag(stub, "s", "a")  # idempotent
    assert await tag_list(stub, "s") == []


async def test_untag_never_tagged_is_a_no_op(stub) -> None:
    await create(stub, "s")
    await untag(stub, "s", "x")
    assert await tag_list(stub, "s") == []


async def test_tagging_unknown_secret(stub) -> None:
    await expect(
        stub.TagResource(pb.TagResourceRequest(secret_id="nope", tags=[T("a")])),
        NF,
        "ResourceNotFoundException",
        NOT_FOUND,
    )
    await expect(
        stub.UntagResource(pb.UntagResourceRequest(secret_id="nope", tag_keys=["a"])),
        NF,
        "ResourceNotFoundException",
        NOT_FOUND,
    )


async def test_tagging_a_secret_scheduled_for_deletion_is_refused(stub) -> None:
    """Regression (issue 6, defect 19): AWS answers InvalidRequestException, nothing changes."""
    await create(stub, "s", tags=[T("a", "1")])
    await stub.DeleteSecret(pb.DeleteSecretRequest(secret_id="s", recovery_window_in_days=7))
    bad = grpc.StatusCode.FAILED_PRECONDITION
    err = await expect(
        stub.TagResource(pb.TagResourceRequest(secret_id="s", tags=[T("b", "2")])),
        bad,
        "InvalidRequestException",
        UPDATE_MARKED_DELETED,
    )
    assert err.reason == "INVALID_REQUEST"
    await expect(
        stub.UntagResource(pb.UntagResourceRequest(secret_id="s", tag_keys=["a"])),
        bad,
        "InvalidRequestException",
        UPDATE_MARKED_DELETED,
    )
    assert await tag_list(stub, "s") == [("a", "1")]
    # Restored, it takes tags again.
    await stub.RestoreSecret(pb.RestoreSecretRequest(secret_id="s"))
    await tag(stub, "s", T("b", "2"))
    await untag(stub, "s", "a")
    assert await tag_list(stub, "s") == [("b", "2")]


async def test_tags_survive_value_and_metadata_updates(stub) -> None:
    await create(stub, "s", tags=[T("a", "1")])
    await put(stub, "s", "v2")
    await stub.UpdateSecret(pb.UpdateSecretRequest(secret_id="s", description="d"))
    assert await tag_list(stub, "s") == [("a", "1")]


# ---- dates ----


async def test_last_changed_date_ignores_tagging(stub, clock) -> None:
    await create(stub, "s")
    t0 = clock.now()
    clock.advance(50)
    await tag(stub, "s", T("a", "1"))
    clock.advance(50)
    await untag(stub, "s", "a")
    d = await describe(stub, "s")
    assert d.last_changed_date.seconds == int(t0)
    assert d.created_date.seconds == int(t0)


async def test_last_changed_date_follows_put_and_update(stub, clock) -> None:
    await create(stub, "s")
    t0 = clock.now()
    clock.advance(10)
    await put(stub, "s", "v2")
    assert (await describe(stub, "s")).last_changed_date.seconds == int(t0 + 10)
    clock.advance(10)
    await stub.UpdateSecret(pb.UpdateSecretRequest(secret_id="s", secret_string="v3"))
    assert (await describe(stub, "s")).last_changed_date.seconds == int(t0 + 20)
    clock.advance(10)
    await stub.UpdateSecret(pb.UpdateSecretRequest(secret_id="s", description="d"))
    d = await describe(stub, "s")
    assert d.last_changed_date.seconds == int(t0 + 30)
    assert d.created_date.seconds == int(t0)


async def test_last_changed_date_not_moved_by_reads_or_replays(stub, clock) -> None:
    await create(stub, "s", client_request_token="r" * 32)
    t0 = clock.now()
    clock.advance(10)
    await get(stub, "s")
    await stub.ListSecretVersionIds(pb.ListSecretVersionIdsRequest(secret_id="s"))
    await put(stub, "s", "v", client_request_token="r" * 32)  # idempotent replay
    assert (await describe(stub, "s")).last_changed_date.seconds == int(t0)


async def test_last_accessed_date_is_day_resolution(stub, clock) -> None:
    await create(stub, "s")
    # Describe is not an access to the value.
    await describe(stub, "s")
    assert not (await describe(stub, "s")).HasField("last_accessed_date")
    clock.advance(3 * 3600)
    await get(stub, "s")
    midnight = int(clock.now()) // DAY * DAY
    d = await describe(stub, "s")
    assert d.last_accessed_date.seconds == midnight
    assert d.last_accessed_date.nanos == 0
    listed = (await stub.ListSecrets(pb.ListSecretsRequest())).secret_list[0]
    assert listed.last_accessed_date.seconds == midnight
    # A later read the same day changes nothing; a read days later moves it.
    clock.advance(60)
    await get(stub, "s")
    assert (await describe(stub, "s")).last_accessed_date.seconds == midnight
    clock.advance(2 * DAY)
    await get(stub, "s")
    assert (await describe(stub, "s")).last_accessed_date.seconds == midnight + 2 * DAY


async def test_failed_read_is_not_an_access(stub) -> None:
    await create(stub, "s", None)
    await expect(get(stub, "s"), NF, "ResourceNotFoundException")
    assert not (await describe(stub, "s")).HasField("last_accessed_date")
