"""ListSecrets: filters (through the API), sorting, pagination and NextToken validation."""

from __future__ import annotations

import grpc
import pytest

from smgrpc.core import paging
from tests.api.helpers import (
    create,
    expect,
    flt,
    get,
    list_all,
    names,
    tok,
    validation_msg,
)
from tests.conftest import pb

BAD = grpc.StatusCode.INVALID_ARGUMENT
BAD_TOKEN = "The NextToken value is invalid."


def tags(**kv: str) -> list[pb.Tag]:
    return [pb.Tag(key=k.replace("_", "-"), value=v) for k, v in kv.items()]


@pytest.fixture
async def catalog(stub, clock):
    """Six secrets created one second apart (creation order = list order)."""
    specs = [
        ("prod/app", "Main Application database password", tags(env="prod", team="payments")),
        ("prod/db", "legacy DB", tags(env="production", owner="ops")),
        ("Prod/upper", None, tags(Env="PROD")),
        ("dev/app", "MyTestPhrase credentials", tags(env="dev")),
        ("prod_AppBeta_x", None, None),
        ("uat/COMPANYthings/x", "rotated weekly", tags(team="platform", env="uat")),
    ]
    for name, desc, tg in specs:
        kw: dict[str, object] = {}
        if desc:
            kw["description"] = desc
        if tg:
            kw["tags"] = tg
        await create(stub, name, "v", **kw)
        clock.advance(1)
    return [s[0] for s in specs]


async def listed(stub, *filters: pb.Filter, **kw) -> list[str]:
    return await names(stub, filters=list(filters), **kw)


# ---- filters ----


async def test_no_filter_lists_all_in_creation_order(stub, catalog) -> None:
    assert await listed(stub) == catalog


async def test_name_prefix_is_case_sensitive(stub, catalog) -> None:
    assert await listed(stub, flt("name", "prod")) == ["prod/app", "prod/db", "prod_AppBeta_x"]
    assert await listed(stub, flt("name", "Prod")) == ["Prod/upper"]
    assert await listed(stub, flt("name", "prod/")) == ["prod/app", "prod/db"]
    # Values inside one filter are OR'ed.
    assert await listed(stub, flt("name", "dev", "Prod")) == ["Prod/upper", "dev/app"]
    assert await listed(stub, flt("name", "app")) == []


async def test_name_negation(stub, catalog) -> None:
    assert await listed(stub, flt("name", "!prod")) == [
        "Prod/upper",
        "dev/app",
        "uat/COMPANYthings/x",
    ]


async def test_tag_key_and_tag_value(stub, catalog) -> None:
    assert await listed(stub, flt("tag-key", "env")) == [
        "prod/app",
        "prod/db",
        "dev/app",
        "uat/COMPANYthings/x",
    ]
    assert await listed(stub, flt("tag-key", "Env")) == ["Prod/upper"]
    assert await listed(stub, flt("tag-value", "prod")) == ["prod/app", "prod/db"]
    assert await listed(stub, flt("tag-value", "pay", "plat")) == [
        "prod/app",
        "uat/COMPANYthings/x",
    ]
    # Key and value are matched independently; separate filters are AND'ed.
    assert await listed(stub, flt("tag-key", "team"), flt("tag-value", "pay")) == ["prod/app"]


async def test_tag_negation_and_untagged_secrets(stub, catalog) -> None:
    # "!env" is true for a secret having any tag key not starting with env; untagged never match.
    assert await listed(stub, flt("tag-key", "!env")) == [
        "prod/app",
        "prod/db",
        "Prod/upper",
        "uat/COMPANYthings/x",
    ]
    assert "prod_AppBeta_x" not in await listed(stub, flt("tag-value", "!zzz"))
    # Case-sensitive: "PROD" does not start with "prod".
    assert await listed(stub, flt("tag-value", "!prod")) == [
        "prod/app",
        "prod/db",
        "Prod/upper",
        "dev/app",
        "uat/COMPANYthings/x",
    ]


async def test_description_word_prefix_case_insensitive(stub, catalog) -> None:
    assert await listed(stub, flt("description", "data pass")) == ["prod/app"]
    assert await listed(stub, flt("description", "DATABASE")) == ["prod/app"]
    assert await listed(stub, flt("description", "base")) == []
    assert await listed(stub, flt("description", "test")) == [
        "dev/app"
    ]  # MyTestPhrase → My Test Phrase
    assert await listed(stub, flt("description", "!legacy")) == [
        "prod/app",
        "dev/app",
        "uat/COMPANYthings/x",
    ]
    # Two description filters are AND'ed.
    assert await listed(stub, flt("description", "main"), flt("description", "password")) == [
        "prod/app"
    ]


async def test_all_searches_every_attribute(stub, catalog) -> None:
    assert await listed(stub, flt("all", "AppBeta")) == ["prod_AppBeta_x"]
    assert await listed(stub, flt("all", "beta")) == ["prod_AppBeta_x"]
    # COMPANYthings splits into COMPAN + Ythings, so "company" is no word prefix here.
    assert await listed(stub, flt("all", "company")) == []
    assert await listed(stub, flt("all", "compan")) == ["uat/COMPANYthings/x"]
    assert await listed(stub, flt("all", "Ythings")) == ["uat/COMPANYthings/x"]
    assert await listed(stub, flt("all", "things")) == []
    assert await listed(stub, flt("all", "ops")) == ["prod/db"]  # a tag value
    assert await listed(stub, flt("all", "weekly")) == ["uat/COMPANYthings/x"]  # the description
    assert await listed(stub, flt("all", "+")) == []
    # Negated: true when any attribute fails to match; only prod_AppBeta_x has none such.
    assert await listed(stub, flt("all", "!prod")) == [n for n in catalog if n != "prod_AppBeta_x"]


async def test_owning_service_and_primary_region_match_nothing_here(stub, catalog) -> None:
    assert await listed(stub, flt("owning-service", "rds")) == []
    assert await listed(stub, flt("primary-region", "us-east-1")) == []


async def test_filters_combine_with_and(stub, catalog) -> None:
    assert await listed(stub, flt("name", "prod"), flt("tag-key", "owner")) == ["prod/db"]
    assert (
        await listed(stub, flt("name", "prod"), flt("description", "legacy"), flt("tag-value", "x"))
        == []
    )


async def test_unknown_filter_key(stub) -> None:
    await expect(
        stub.ListSecrets(pb.ListSecretsRequest(filters=[flt("name", "a"), flt("colour", "x")])),
        BAD,
        "ValidationException",
        "1 validation error detected: Value 'colour' at 'filters.2.member.key' failed to "
        "satisfy constraint: Member must satisfy enum value set: [all, name, tag-key, "
        "description, tag-value, primary-region, owning-service]",
    )


async def test_filter_without_key_or_values(stub) -> None:
    await expect(
        stub.ListSecrets(pb.ListSecretsRequest(filters=[pb.Filter(values=["x"])])),
        BAD,
        "InvalidParameterException",
        "Invalid filter key",
    )
    await expect(
        stub.ListSecrets(pb.ListSecretsRequest(filters=[pb.Filter(key="name")])),
        BAD,
        "InvalidParameterException",
        "Invalid filter values for key: name",
    )


async def test_filter_value_limits(stub) -> None:
    await expect(
        stub.ListSecrets(pb.ListSecretsRequest(filters=[flt("name", "a*b")])),
        BAD,
        "ValidationException",
        validation_msg(
            "filters.1.member.values.1.member",
            r"Member must satisfy regular expression pattern: ^\!?[a-zA-Z0-9 :_@\/\+\=\.\-\!]*$",
            "a*b",
        ),
    )
    await expect(
        stub.ListSecrets(pb.ListSecretsRequest(filters=[flt("name", "x" * 513)])),
        BAD,
        "ValidationException",
    )
    await expect(
        stub.ListSecrets(
            pb.ListSecretsRequest(filters=[flt("name", *[str(i) for i in range(11)])])
        ),
        BAD,
        "ValidationException",
    )
    await expect(
        stub.ListSecrets(pb.ListSecretsRequest(filters=[flt("name", "a")] * 11)),
        BAD,
        "ValidationException",
    )
    # Ten filters with ten values each is the maximum, and fine.
    resp = await stub.ListSecrets(
        pb.ListSecretsRequest(filters=[flt("name", *[f"v{i}" for i in range(10)])] * 10)
    )
    assert len(resp.secret_list) == 0


# ---- entries ----


async def test_entry_fields(stub, clock) -> None:
    c = await create(
        stub,
        "e",
        "v",
        client_request_token=tok(1),
        description="d",
        tags=[pb.Tag(key="k", value="v")],
    )
    (entry,) = await list_all(stub)
    assert (entry.arn, entry.name, entry.description) == (c.arn, "e", "d")
    assert [(t.key, t.value) for t in entry.tags] == [("k", "v")]
    assert {k: list(v.stages) for k, v in entry.secret_versions_to_stages.items()} == {
        tok(1): ["AWSCURRENT"]
    }
    assert entry.created_date.seconds == int(clock.now())
    assert not entry.HasField("deleted_date")


# ---- pagination ----


@pytest.fixture
async def many(stub, clock) -> list[str]:
    out = []
    for i in range(25):
        name = f"s{i:02d}"
        await create(stub, name, "v")
        out.append(name)
        clock.advance(1)
    return out


async def test_pages_chain_without_gaps_or_duplicates(stub, many) -> None:
    seen: list[str] = []
    sizes = []
    token = None
    while True:
        req = pb.ListSecretsRequest(max_results=7)
        if token:
            req.next_token = token
        resp = await stub.ListSecrets(req)
        sizes.append(len(resp.secret_list))
        assert len(sizes) <= 4, seen
        seen.extend(e.name for e in resp.secret_list)
        if not resp.HasField("next_token"):
            break
        token = resp.next_token
    assert sizes == [7, 7, 7, 4]
    assert seen == many


async def test_exact_multiple_has_no_empty_last_page(stub, many) -> None:
    resp = await stub.ListSecrets(pb.ListSecretsRequest(max_results=25))
    assert len(resp.secret_list) == 25
    assert not resp.HasField("next_token")


async def test_default_page_size_is_100(stub, clock) -> None:
    for i in range(101):
        await create(stub, f"n{i:03d}", None)
    resp = await stub.ListSecrets(pb.ListSecretsRequest())
    assert len(resp.secret_list) == 100
    rest = await stub.ListSecrets(pb.ListSecretsRequest(next_token=resp.next_token))
    assert [e.name for e in rest.secret_list] == ["n100"]


async def test_pages_with_filters_and_desc(stub, many) -> None:
    seen: list[str] = []
    token = None
    while True:
        req = pb.ListSecretsRequest(
            max_results=4, filters=[flt("name", "s1", "s2")], sort_order="desc"
        )
        if token:
            req.next_token = token
        resp = await stub.ListSecrets(req)
        seen.extend(e.name for e in resp.secret_list)
        assert len(seen) <= 15, seen
        if not resp.HasField("next_token"):
            break
        token = resp.next_token
    assert seen == [f"s{i}" for i in range(24, 9, -1)]


async def test_changes_between_pages_do_not_duplicate_or_skip(stub, many, clock) -> None:
    first = await stub.ListSecrets(pb.ListSecretsRequest(max_results=10))
    assert [e.name for e in first.secret_list] == many[:10]
    # Delete one already-listed secret and one not yet listed, create a new one.
    await stub.DeleteSecret(
        pb.DeleteSecretRequest(secret_id="s03", force_delete_without_recovery=True)
    )
    await stub.DeleteSecret(
        pb.DeleteSecretRequest(secret_id="s15", force_delete_without_recovery=True)
    )
    await create(stub, "late", "v")
    rest = await names(stub, next_token=first.next_token)
    assert rest == [n for n in many[10:] if n != "s15"] + ["late"]


async def test_garbage_tokens_rejected(stub, many) -> None:
    for bad in ("garbage", "abc.def", "....", "eyJ4IjoxfQ.0000000000000000", "\u00e9\u00e9"):
        err = await expect(
            stub.ListSecrets(pb.ListSecretsRequest(next_token=bad)),
            BAD,
            "InvalidNextTokenException",
            BAD_TOKEN,
        )
        assert err.reason == "INVALID_NEXT_TOKEN"


async def test_tampered_token_rejected(stub, many) -> None:
    resp = await stub.ListSecrets(pb.ListSecretsRequest(max_results=5))
    token = resp.next_token
    body, mac = token.rsplit(".", 1)
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    await expect(
        stub.ListSecrets(pb.ListSecretsRequest(next_token=f"{flipped}.{mac}")),
        BAD,
        "InvalidNextTokenException",
        BAD_TOKEN,
    )


async def test_forged_well_formed_token_rejected(region, stub, many) -> None:
    """A token built with the Region's key and the right fingerprint but a nonsense position."""
    fp = paging.fingerprint("list", False, [], "created-date", False)
    for position in (
        ["not-a-time", 3],
        [None],
        [[1], {"a": 1}],
        [1.0, "arn", "extra"],
        [True, "a"],
    ):
        forged = region.secrets.tokens.encode(position, fp)  # type: ignore[arg-type]
        await expect(
            stub.ListSecrets(pb.ListSecretsRequest(next_token=forged)),
            BAD,
            "InvalidNextTokenException",
            BAD_TOKEN,
        )


async def test_token_reused_with_other_request_rejected(stub, many) -> None:
    resp = await stub.ListSecrets(pb.ListSecretsRequest(max_results=5))
    token = resp.next_token
    for other in (
        pb.ListSecretsRequest(next_token=token, filters=[flt("name", "s")]),
        pb.ListSecretsRequest(next_token=token, sort_order="desc"),
        pb.ListSecretsRequest(next_token=token, sort_by="name"),
        pb.ListSecretsRequest(next_token=token, include_planned_deletion=True),
    ):
        await expect(stub.ListSecrets(other), BAD, "InvalidNextTokenException", BAD_TOKEN)
    # A different page size is fine: the token marks a position, not a page number.
    ok = await stub.ListSecrets(pb.ListSecretsRequest(next_token=token, max_results=3))
    assert [e.name for e in ok.secret_list] == many[5:8]
    # The same token can be replayed.
    again = await stub.ListSecrets(pb.ListSecretsRequest(next_token=token, max_results=3))
    assert [e.name for e in again.secret_list] == many[5:8]


async def test_batch_token_not_accepted_by_list(stub, many) -> None:
    batch = await stub.BatchGetSecretValue(
        pb.BatchGetSecretValueRequest(filters=[flt("name", "s")], max_results=2)
    )
    await expect(
        stub.ListSecrets(pb.ListSecretsRequest(next_token=batch.next_token)),
        BAD,
        "InvalidNextTokenException",
        BAD_TOKEN,
    )


# ---- sorting ----


async def test_sort_by_name(stub, clock) -> None:
    for name in ("b", "C", "a", "B"):
        await create(stub, name, "v")
        clock.advance(1)
    assert await names(stub, sort_by="name") == ["B", "C", "a", "b"]
    assert await names(stub, sort_by="name", sort_order="desc") == ["b", "a", "C", "B"]
    assert await names(stub, sort_by="name", sort_order="asc", max_results=1) == [
        "B",
        "C",
        "a",
        "b",
    ]


async def test_sort_by_created_date(stub, clock) -> None:
    for name in ("z", "a", "m"):
        await create(stub, name, "v")
        clock.advance(1)
    assert await names(stub) == ["z", "a", "m"]
    assert await names(stub, sort_by="created-date") == ["z", "a", "m"]
    assert await names(stub, sort_by="created-date", sort_order="desc") == ["m", "a", "z"]
    assert await names(stub, sort_order="desc", max_results=2) == ["m", "a", "z"]


async def test_sort_by_last_changed_date(stub, clock) -> None:
    for name in ("x", "y", "z"):
        await create(stub, name, "v")
        clock.advance(1)
    await stub.UpdateSecret(pb.UpdateSecretRequest(secret_id="x", description="touched"))
    assert await names(stub, sort_by="last-changed-date") == ["y", "z", "x"]
    assert await names(stub, sort_by="last-changed-date", sort_order="desc") == ["x", "z", "y"]


async def test_sort_by_last_accessed_date(stub, clock, region) -> None:
    for name in ("x", "y", "z"):
        await create(stub, name, "v")
    await get(stub, "z")
    clock.advance(2 * 86400)
    await get(stub, "x")
    # The order follows the stored dates, which the access recorder persists within ~1 s.
    await region.access.flush()
    got = await names(stub, sort_by="last-accessed-date", sort_order="desc")
    assert got[:2] == ["x", "z"]


async def test_invalid_sort_by_and_order(stub) -> None:
    await expect(
        stub.ListSecrets(pb.ListSecretsRequest(sort_by="size")),
        BAD,
        "ValidationException",
        "1 validation error detected: Value 'size' at 'sortBy' failed to satisfy constraint: "
        "Member must satisfy enum value set: [created-date, last-accessed-date, "
        "last-changed-date, name]",
    )
    await expect(
        stub.ListSecrets(pb.ListSecretsRequest(sort_order="up")),
        BAD,
        "ValidationException",
        "1 validation error detected: Value 'up' at 'sortOrder' failed to satisfy constraint: "
        "Member must satisfy enum value set: [asc, desc]",
    )
