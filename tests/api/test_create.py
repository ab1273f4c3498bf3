"""CreateSecret, DescribeSecret and secret identifiers (name, full ARN, partial ARN)."""

from __future__ import annotations

import re
import uuid

import grpc

from tests.api.helpers import (
    ARN_PREFIX,
    NOT_FOUND,
    create,
    describe,
    expect,
    get,
    put,
    stage_map,
    tok,
)
from tests.conftest import pb

INVALID_PARAM = grpc.StatusCode.INVALID_ARGUMENT
NF = grpc.StatusCode.NOT_FOUND


async def test_arn_has_name_and_six_char_suffix(stub) -> None:
    r = await create(stub, "app/db_pass+x=y.z@w-1")
    assert re.fullmatch(re.escape(ARN_PREFIX + "app/db_pass+x=y.z@w-1") + r"-[A-Za-z0-9]{6}", r.arn)
    assert r.name == "app/db_pass+x=y.z@w-1"
    # No token given: the server generates a UUID, as the AWS SDKs do.
    assert str(uuid.UUID(r.version_id)) == r.version_id


async def test_two_secrets_get_distinct_arns(stub) -> None:
    a = await create(stub, "a")
    b = await create(stub, "b")
    assert a.arn != b.arn
    assert a.version_id != b.version_id


async def test_token_becomes_version_id(stub) -> None:
    r = await create(stub, "s", client_request_token=tok(1))
    assert r.version_id == tok(1)
    got = await get(stub, "s")
    assert got.version_id == tok(1)
    assert list(got.version_stages) == ["AWSCURRENT"]


async def test_lookup_by_name_full_arn_and_partial_arn(stub) -> None:
    r = await create(stub, "test-secret", "value-1")
    partial = r.arn.rsplit("-", 1)[0]
    assert partial == ARN_PREFIX + "test-secret"
    for sid in ("test-secret", r.arn, partial):
        d = await describe(stub, sid)
        assert (d.arn, d.name) == (r.arn, "test-secret")
        got = await get(stub, sid)
        assert (got.arn, got.name, got.secret_string) == (r.arn, "test-secret", "value-1")


async def test_full_arn_with_wrong_suffix_is_not_found(stub) -> None:
    r = await create(stub, "svc")
    suffix = r.arn[-6:]
    wrong = r.arn[:-6] + ("AAAAAA" if suffix != "AAAAAA" else "BBBBBB")
    await expect(describe(stub, wrong), NF, "ResourceNotFoundException", NOT_FOUND)
    await expect(get(stub, wrong), NF, "ResourceNotFoundException", NOT_FOUND)
    # The same ARN in another Region names another secret.
    await expect(
        describe(stub, r.arn.replace("us-east-1", "us-west-2")), NF, "ResourceNotFoundException"
    )
    # A truncated suffix is not a partial ARN of this secret either.
    await expect(describe(stub, r.arn[:-1]), NF, "ResourceNotFoundException", NOT_FOUND)


async def test_unknown_name_not_found_has_error_info(stub) -> None:
    await create(stub, "exists")
    err = await expect(describe(stub, "missing"), NF, "ResourceNotFoundException", NOT_FOUND)
    assert err.reason == "RESOURCE_NOT_FOUND"


async def test_recreate_after_force_delete_gets_new_arn(stub) -> None:
    old = await create(stub, "reborn", "first")
    await stub.DeleteSecret(
        pb.DeleteSecretRequest(secret_id="reborn", force_delete_without_recovery=True)
    )
    await expect(describe(stub, old.arn), NF, "ResourceNotFoundException", NOT_FOUND)
    new = await create(stub, "reborn", "second")
    assert new.arn != old.arn
    assert new.arn.rsplit("-", 1)[0] == old.arn.rsplit("-", 1)[0]
    # The old full ARN does not reach the new secret; name and partial ARN do.
    await expect(get(stub, old.arn), NF, "ResourceNotFoundException", NOT_FOUND)
    await expect(describe(stub, old.arn), NF, "ResourceNotFoundException", NOT_FOUND)
    assert (await get(stub, "reborn")).secret_string == "second"
    assert (await get(stub, new.arn.rsplit("-", 1)[0])).arn == new.arn


async def test_create_without_value(stub, clock) -> None:
    r = await create(stub, "empty", None)
    assert not r.HasField("version_id")
    d = await describe(stub, "empty")
    assert dict(d.version_ids_to_stages) == {}
    assert d.created_date.seconds == int(clock.now())
    await expect(
        get(stub, "empty"),
        NF,
        "ResourceNotFoundException",
        "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
    )
    # The first PutSecretValue gets AWSCURRENT even when other labels are asked for.
    p = await put(stub, "empty", "x", version_stages=["CUSTOM"], client_request_token=tok(1))
    assert list(p.version_stages) == ["CUSTOM", "AWSCURRENT"]
    assert await stage_map(stub, "empty") == {tok(1): ["AWSCURRENT", "CUSTOM"]}


async def test_create_binary_round_trips(stub) -> None:
    blob = bytes(range(256)) * 3
    r = await create(stub, "bin", None, secret_binary=blob)
    got = await get(stub, "bin")
    assert got.secret_binary == blob
    assert not got.HasField("secret_string")
    assert got.version_id == r.version_id


async def test_string_value_not_reported_as_binary(stub) -> None:
    await create(stub, "str", "héllo ✓")
    got = await get(stub, "str")
    assert got.secret_string == "héllo ✓"
    assert not got.HasField("secret_binary")


async def test_both_values_rejected(stub) -> None:
    await expect(
        create(stub, "both", "s", secret_binary=b"b"),
        INVALID_PARAM,
        "InvalidParameterException",
        "You can't specify both a binary secret value and a string secret value in the same "
        "secret.",
    )
    await expect(describe(stub, "both"), NF, "ResourceNotFoundException")


async def test_describe_reports_metadata(stub, clock) -> None:
    r = await create(
        stub,
        "meta",
        "v",
        description="the db password",
        client_request_token=tok(7),
        tags=[pb.Tag(key="env", value="prod"), pb.Tag(key="team", value="")],
    )
    d = await describe(stub, "meta")
    assert (d.arn, d.name, d.description) == (r.arn, "meta", "the db password")
    assert [(t.key, t.value) for t in d.tags] == [("env", "prod"), ("team", "")]
    assert {k: list(v.stages) for k, v in d.version_ids_to_stages.items()} == {
        tok(7): ["AWSCURRENT"]
    }
    assert d.created_date.seconds == int(clock.now())
    assert d.last_changed_date == d.created_date
    # Never read, never deleted, default key: these are absent.
    assert not d.HasField("last_accessed_date")
    assert not d.HasField("deleted_date")
    assert not d.HasField("kms_key_id")
    assert not d.HasField("rotation_enabled")
    assert not d.HasField("primary_region")
    assert len(d.replication_status) == 0


async def test_describe_omits_empty_description_and_default_key(stub) -> None:
    await create(stub, "plain", "v", description="", kms_key_id="alias/aws/secretsmanager")
    d = await describe(stub, "plain")
    assert not d.HasField("description")
    assert not d.HasField("kms_key_id")
    assert len(d.tags) == 0


async def test_type_is_kept(stub) -> None:
    await create(stub, "typed", "v", type="custom-type")
    assert (await describe(stub, "typed")).type == "custom-type"


async def test_get_returns_version_created_date(stub, clock) -> None:
    await create(stub, "dated", "v1", client_request_token=tok(1))
    t1 = clock.now()
    clock.advance(3600.5)
    await put(stub, "dated", "v2", client_request_token=tok(2))
    cur = await get(stub, "dated")
    prev = await get(stub, "dated", version_stage="AWSPREVIOUS")
    assert cur.created_date.ToMicroseconds() == int((t1 + 3600.5) * 1_000_000)
    assert prev.created_date.ToMicroseconds() == int(t1 * 1_000_000)
    # The secret's CreatedDate is its own creation, not the newest version's.
    assert (await describe(stub, "dated")).created_date.seconds == int(t1)


async def test_partial_arn_of_another_region_or_account_is_not_found(stub) -> None:
    await create(stub, "db")
    for other in (
        "arn:aws:secretsmanager:us-west-2:123456789012:secret:db",
        "arn:aws:secretsmanager:us-east-1:999999999999:secret:db",
    ):
        await expect(describe(stub, other), NF, "ResourceNotFoundException", NOT_FOUND)
