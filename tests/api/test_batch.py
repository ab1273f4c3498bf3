"""BatchGetSecretValue: by id list (with per-secret Errors) and by filters (with paging)."""

from __future__ import annotations

import grpc

from tests.api.helpers import (
    DAY,
    MARKED_DELETED,
    NOT_FOUND,
    create,
    describe,
    expect,
    flt,
    tok,
)
from tests.conftest import pb

BAD = grpc.StatusCode.INVALID_ARGUMENT
Req = pb.BatchGetSecretValueRequest


async def test_by_ids_in_request_order(stub, clock) -> None:
    a = await create(stub, "a", "va", client_request_token=tok("a"))
    await create(stub, "b", None, secret_binary=b"\x00vb")
    resp = await stub.BatchGetSecretValue(Req(secret_id_list=["b", a.arn]))
    assert [v.name for v in resp.secret_values] == ["b", "a"]
    b_entry, a_entry = resp.secret_values
    assert (a_entry.arn, a_entry.version_id, list(a_entry.version_stages)) == (
        a.arn,
        tok("a"),
        ["AWSCURRENT"],
    )
    assert (a_entry.secret_string, a_entry.HasField("secret_binary")) == ("va", False)
    assert (b_entry.secret_binary, b_entry.HasField("secret_string")) == (b"\x00vb", False)
    assert a_entry.created_date.seconds == int(clock.now())
    assert len(resp.errors) == 0
    assert not resp.HasField("next_token")


async def test_per_secret_errors(stub) -> None:
    await create(stub, "ok", "v")
    await create(stub, "gone", "v")
    await create(stub, "novalue", None)
    await stub.DeleteSecret(pb.DeleteSecretRequest(secret_id="gone"))
    resp = await stub.BatchGetSecretValue(Req(secret_id_list=["missing", "ok", "gone", "novalue"]))
    assert [v.name for v in resp.secret_values] == ["ok"]
    assert [(e.secret_id, e.error_code, e.message) for e in resp.errors] == [
        ("missing", "ResourceNotFoundException", NOT_FOUND),
        ("gone", "InvalidRequestException", MARKED_DELETED),
        (
            "novalue",
            "ResourceNotFoundException",
            "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
        ),
    ]


async def test_both_lists_given(stub) -> None:
    await expect(
        stub.BatchGetSecretValue(Req(secret_id_list=["a"], filters=[flt("name", "a")])),
        BAD,
        "InvalidParameterException",
        "Either 'SecretIdList' or 'Filters' must be provided, but not both.",
    )


async def test_max_results_needs_filters(stub) -> None:
    msg = "'Filters' not specified. 'Filters' must also be specified when 'MaxResults' is provided."
    await create(stub, "a", "v")
    await expect(
        stub.BatchGetSecretValue(Req(secret_id_list=["a"], max_results=5)),
        BAD,
        "InvalidParameterException",
        msg,
    )
    await expect(
        stub.BatchGetSecretValue(Req(max_results=5)), BAD, "InvalidParameterException", msg
    )


async def test_neither_list_is_empty_answer(stub) -> None:
    await create(stub, "a", "v")
    resp = await stub.BatchGetSecretValue(Req())
    assert (len(resp.secret_values), len(resp.errors), resp.HasField("next_token")) == (0, 0, False)


async def test_invalid_id_in_list(stub) -> None:
    await expect(
        stub.BatchGetSecretValue(Req(secret_id_list=["ok", "bad name"])), BAD, "ValidationException"
    )


async def test_by_filters_pages_without_gaps(stub) -> None:
    # All created at the same (fake) instant: paging must not depend on distinct timestamps.
    # Names are created in reverse order, so ARN order differs from creation order.
    expected = []
    for i in reversed(range(7)):
        await create(stub, f"app/{i}", f"v{i}")
        expected.append(f"app/{i}")
    await create(stub, "other", "x")
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        req = Req(filters=[flt("name", "app/")], max_results=3)
        if token:
            req.next_token = token
        resp = await stub.BatchGetSecretValue(req)
        pages += 1
        assert pages <= 3, seen  # duplicates would loop forever
        assert len(resp.secret_values) <= 3
        seen.extend(v.name for v in resp.secret_values)
        assert {v.secret_string for v in resp.secret_values} <= {f"v{i}" for i in range(7)}
        if not resp.HasField("next_token"):
            break
        token = resp.next_token
    assert pages == 3
    assert sorted(seen) == sorted(expected)
    assert len(seen) == len(set(seen))


async def test_by_filters_in_creation_order(stub, clock) -> None:
    for name in ("c", "a", "b"):
        await create(stub, f"x/{name}", name)
        clock.advance(1)
    resp = await stub.BatchGetSecretValue(Req(filters=[flt("name", "x/")]))
    assert [v.name for v in resp.secret_values] == ["x/c", "x/a", "x/b"]


async def test_by_filters_default_page_is_20(stub) -> None:
    for i in range(21):
        await create(stub, f"p{i:02d}", "v")
    resp = await stub.BatchGetSecretValue(Req(filters=[flt("name", "p")]))
    assert len(resp.secret_values) == 20
    rest = await stub.BatchGetSecretValue(
        Req(filters=[flt("name", "p")], next_token=resp.next_token)
    )
    assert len(rest.secret_values) == 1
    assert not rest.HasField("next_token")


async def test_by_filters_skips_deleted_and_reports_valueless(stub) -> None:
    await create(stub, "f/live", "v")
    await create(stub, "f/gone", "v")
    await create(stub, "f/empty", None)
    await stub.DeleteSecret(pb.DeleteSecretRequest(secret_id="f/gone"))
    resp = await stub.BatchGetSecretValue(Req(filters=[flt("name", "f/")]))
    assert [v.name for v in resp.secret_values] == ["f/live"]
    assert [(e.error_code, e.message) for e in resp.errors] == [
        (
            "ResourceNotFoundException",
            "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
        ),
    ]
    assert resp.errors[0].secret_id.endswith(":secret:f/empty-" + resp.errors[0].secret_id[-6:])


async def test_filter_validation_applies(stub) -> None:
    await expect(
        stub.BatchGetSecretValue(Req(filters=[flt("colour", "x")])), BAD, "ValidationException"
    )


async def test_bad_next_token(stub) -> None:
    await create(stub, "a", "v")
    await expect(
        stub.BatchGetSecretValue(Req(filters=[flt("name", "a")], next_token="nope")),
        BAD,
        "InvalidNextTokenException",
        "The NextToken value is invalid.",
    )
    await create(stub, "a2", "v")
    first = await stub.BatchGetSecretValue(Req(filters=[flt("name", "a")], max_results=1))
    await expect(
        stub.BatchGetSecretValue(Req(filters=[flt("name", "a2")], next_token=first.next_token)),
        BAD,
        "InvalidNextTokenException",
        "The NextToken value is invalid.",
    )


async def test_batch_read_records_last_accessed(stub, clock) -> None:
    await create(stub, "a", "v")
    await stub.BatchGetSecretValue(Req(secret_id_list=["a"]))
    d = await describe(stub, "a")
    assert d.last_accessed_date.seconds == int(clock.now()) // DAY * DAY
