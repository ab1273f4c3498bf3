"""GetSecretValue, PutSecretValue and UpdateSecret: values, versions and their messages."""

from __future__ import annotations

import grpc

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.core.model import Version
from tests.api.helpers import (
    NOT_FOUND,
    create,
    describe,
    expect,
    get,
    put,
    stage_map,
    tok,
)
from tests.conftest import admin_channel, make_config, pb, start_region

NF = grpc.StatusCode.NOT_FOUND
FP = grpc.StatusCode.FAILED_PRECONDITION


def value_missing(what: str) -> str:
    return f"Secrets Manager can't find the specified secret value for {what}"


# ---- GetSecretValue ----


async def test_get_by_version_id_and_by_stage(stub) -> None:
    await create(stub, "s", "one", client_request_token=tok(1))
    await put(stub, "s", "two", client_request_token=tok(2))
    await put(stub, "s", "three", client_request_token=tok(3), version_stages=["CUSTOM"])
    assert (await get(stub, "s")).secret_string == "two"
    assert (await get(stub, "s", version_stage="AWSCURRENT")).secret_string == "two"
    prev = await get(stub, "s", version_stage="AWSPREVIOUS")
    assert (prev.secret_string, prev.version_id, list(prev.version_stages)) == (
        "one",
        tok(1),
        ["AWSPREVIOUS"],
    )
    custom = await get(stub, "s", version_stage="CUSTOM")
    assert (custom.secret_string, custom.version_id, list(custom.version_stages)) == (
        "three",
        tok(3),
        ["CUSTOM"],
    )
    by_id = await get(stub, "s", version_id=tok(1))
    assert by_id.secret_string == "one"
    both = await get(stub, "s", version_id=tok(2), version_stage="AWSCURRENT")
    assert both.secret_string == "two"


async def test_get_version_stage_not_on_version_id(stub) -> None:
    await create(stub, "s", "one", client_request_token=tok(1))
    await put(stub, "s", "two", client_request_token=tok(2))
    await expect(
        get(stub, "s", version_id=tok(1), version_stage="AWSCURRENT"),
        FP,
        "InvalidRequestException",
        "You provided a VersionStage that is not associated to the provided VersionId.",
    )


async def test_get_unknown_version_id_and_stage(stub) -> None:
    await create(stub, "s", "one")
    await expect(
        get(stub, "s", version_id="00000000-0000-0000-0000-000000000000"),
        NF,
        "ResourceNotFoundException",
        value_missing("VersionId: 00000000-0000-0000-0000-000000000000"),
    )
    await expect(
        get(stub, "s", version_stage="NOPE"),
        NF,
        "ResourceNotFoundException",
        value_missing("staging label: NOPE"),
    )
    await expect(
        get(stub, "s", version_stage="AWSPREVIOUS"),
        NF,
        "ResourceNotFoundException",
        value_missing("staging label: AWSPREVIOUS"),
    )


async def test_get_unknown_secret(stub) -> None:
    await expect(get(stub, "nope"), NF, "ResourceNotFoundException", NOT_FOUND)
    await expect(get(stub, "nope", version_id=tok(1)), NF, "ResourceNotFoundException", NOT_FOUND)


async def test_error_info_detail_shape(stub) -> None:
    await create(stub, "s", "one", client_request_token=tok(1))
    err = await expect(
        get(stub, "s", version_id=tok(1), version_stage="X"), FP, "InvalidRequestException"
    )
    assert err.reason == "INVALID_REQUEST"


# ---- PutSecretValue ----


async def test_put_moves_current_and_previous(stub, clock) -> None:
    c = await create(stub, "s", "one", client_request_token=tok(1))
    p = await put(stub, "s", "two", client_request_token=tok(2))
    assert (p.arn, p.name, p.version_id, list(p.version_stages)) == (
        c.arn,
        "s",
        tok(2),
        ["AWSCURRENT"],
    )
    assert await stage_map(stub, "s") == {tok(1): ["AWSPREVIOUS"], tok(2): ["AWSCURRENT"]}
    await put(stub, "s", "three", client_request_token=tok(3))
    # tok(1) lost its last label: it is deprecated and no longer listed.
    assert await stage_map(stub, "s") == {tok(2): ["AWSPREVIOUS"], tok(3): ["AWSCURRENT"]}
    assert (await get(stub, "s")).secret_string == "three"
    assert (await get(stub, "s", version_id=tok(1))).secret_string == "one"


async def test_same_value_twice_with_new_tokens_makes_two_versions(stub) -> None:
    await create(stub, "s", "same", client_request_token=tok(1))
    await put(stub, "s", "same", client_request_token=tok(2))
    assert await stage_map(stub, "s") == {tok(1): ["AWSPREVIOUS"], tok(2): ["AWSCURRENT"]}


async def test_put_unknown_secret(stub) -> None:
    await expect(put(stub, "nope", "v"), NF, "ResourceNotFoundException", NOT_FOUND)


async def test_put_neither_value_checked_before_existence(stub) -> None:
    await expect(
        put(stub, "nope"),
        FP,
        "InvalidRequestException",
        "You must provide either SecretString or SecretBinary.",
    )


async def test_put_binary_then_string(stub) -> None:
    await create(stub, "s", "text")
    await put(stub, "s", secret_binary=b"\x00\x01", client_request_token=tok(2))
    got = await get(stub, "s")
    assert (got.secret_binary, got.HasField("secret_string")) == (b"\x00\x01", False)
    assert (await get(stub, "s", version_stage="AWSPREVIOUS")).secret_string == "text"


async def test_put_updates_last_changed_date(stub, clock) -> None:
    await create(stub, "s", "one")
    created = clock.now()
    clock.advance(120)
    await put(stub, "s", "two")
    d = await describe(stub, "s")
    assert d.created_date.seconds == int(created)
    assert d.last_changed_date.seconds == int(created + 120)


# ---- UpdateSecret ----


async def test_update_value_moves_labels(stub) -> None:
    c = await create(stub, "s", "one", client_request_token=tok(1))
    u = await stub.UpdateSecret(
        pb.UpdateSecretRequest(secret_id="s", secret_string="two", client_request_token=tok(2))
    )
    assert (u.arn, u.name, u.version_id) == (c.arn, "s", tok(2))
    assert await stage_map(stub, "s") == {tok(1): ["AWSPREVIOUS"], tok(2): ["AWSCURRENT"]}
    assert (await get(stub, "s")).secret_string == "two"


async def test_update_metadata_only_has_no_version_id(stub, clock) -> None:
    await create(stub, "s", "one", client_request_token=tok(1), description="old")
    created = clock.now()
    clock.advance(60)
    u = await stub.UpdateSecret(pb.UpdateSecretRequest(secret_id="s", description="new"))
    assert not u.HasField("version_id")
    d = await describe(stub, "s")
    assert d.description == "new"
    assert d.created_date.seconds == int(created)
    assert d.last_changed_date.seconds == int(created + 60)
    assert await stage_map(stub, "s") == {tok(1): ["AWSCURRENT"]}
    assert (await get(stub, "s")).secret_string == "one"


async def test_update_without_description_keeps_it(stub) -> None:
    await create(stub, "s", "one", description="keep me")
    await stub.UpdateSecret(pb.UpdateSecretRequest(secret_id="s", secret_string="two"))
    assert (await describe(stub, "s")).description == "keep me"


async def test_update_secret_without_versions_gets_current(stub) -> None:
    await create(stub, "s", None)
    u = await stub.UpdateSecret(
        pb.UpdateSecretRequest(secret_id="s", secret_string="first", client_request_token=tok(1))
    )
    assert u.version_id == tok(1)
    assert await stage_map(stub, "s") == {tok(1): ["AWSCURRENT"]}


async def test_update_unknown_secret(stub) -> None:
    await expect(
        stub.UpdateSecret(pb.UpdateSecretRequest(secret_id="nope", description="d")),
        NF,
        "ResourceNotFoundException",
        NOT_FOUND,
    )


async def test_update_binary(stub) -> None:
    await create(stub, "s", "one")
    await stub.UpdateSecret(pb.UpdateSecretRequest(secret_id="s", secret_binary=b"\xff" * 10))
    assert (await get(stub, "s")).secret_binary == b"\xff" * 10


# ---- versions without a value (RotateSecret's AWSPENDING) ----


async def _add_empty_pending(region, name: str, token: str) -> None:
    """Store a value-less AWSPENDING version, as RotateSecret creates one (real SQLite)."""
    async with region.store.transaction() as tx:
        secret = tx.find(name)
        empty = Version(token, secret.created_at + 1, ("AWSPENDING",), "k", has_value=False)
        await tx.save(secret.evolve(versions=(*secret.versions, empty)))


async def test_value_less_version_is_filled_once_then_immutable(tmp_path, clock) -> None:
    """Issue 6, defect 8: a version created without a value may be filled once, never again."""
    region = await start_region(make_config(tmp_path), clock=clock)
    try:
        async with admin_channel(region) as ch:
            stub = pbg.SecretsManagerStub(ch)
            await create(stub, "s", "one", client_request_token=tok(1))
            await _add_empty_pending(region, "s", tok(2))
            await expect(
                get(stub, "s", version_stage="AWSPENDING"), NF, "ResourceNotFoundException"
            )
            filled = await put(
                stub, "s", "two", client_request_token=tok(2), version_stages=["AWSPENDING"]
            )
            assert (filled.version_id, list(filled.version_stages)) == (tok(2), ["AWSPENDING"])
            assert (await get(stub, "s", version_stage="AWSPENDING")).secret_string == "two"
            await _refill_refused(stub)
            again = await put(
                stub, "s", "two", client_request_token=tok(2), version_stages=["AWSPENDING"]
            )
            assert again.version_id == tok(2)
            assert await stage_map(stub, "s") == {tok(1): ["AWSCURRENT"], tok(2): ["AWSPENDING"]}
    finally:
        await region.stop(0.5)
    # Still so after a restart: the database, not only memory, knows the version has a value.
    region = await start_region(make_config(tmp_path), clock=clock)
    try:
        async with admin_channel(region) as ch:
            stub = pbg.SecretsManagerStub(ch)
            await _refill_refused(stub)
            assert (await get(stub, "s", version_id=tok(2))).secret_string == "two"
    finally:
        await region.stop(0.5)


async def _refill_refused(stub) -> None:
    """A different value for the filled version is refused, whatever the labels asked for."""
    for kw in ({"version_stages": ["AWSPENDING"]}, {}):
        await expect(
            put(stub, "s", "three", client_request_token=tok(2), **kw),
            grpc.StatusCode.ALREADY_EXISTS,
            "ResourceExistsException",
        )
    assert (await get(stub, "s", version_id=tok(2))).secret_string == "two"


async def test_current_value_response_follows_label_moves_and_new_versions(stub) -> None:
    """GetSecretValue's version fields (kept per version object by the servicer) follow every
    change: a custom label added to the current version, a new current version, the old one
    read again by id."""
    await create(stub, "heads", "one", client_request_token=tok(1))
    first = await get(stub, "heads")
    assert (first.secret_string, first.version_id, list(first.version_stages)) == (
        "one",
        tok(1),
        ["AWSCURRENT"],
    )
    req = pb.UpdateSecretVersionStageRequest(
        secret_id="heads", version_stage="BLUE", move_to_version_id=tok(1)
    )
    await stub.UpdateSecretVersionStage(req)
    assert sorted((await get(stub, "heads")).version_stages) == ["AWSCURRENT", "BLUE"]
    await put(stub, "heads", "two", client_request_token=tok(2))
    now = await get(stub, "heads")
    assert (now.secret_string, now.version_id, list(now.version_stages)) == (
        "two",
        tok(2),
        ["AWSCURRENT"],
    )
    old = await get(stub, "heads", version_id=tok(1))
    assert (old.secret_string, sorted(old.version_stages)) == ("one", ["AWSPREVIOUS", "BLUE"])
    assert (await get(stub, "heads")).created_date == now.created_date
