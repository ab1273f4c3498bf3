"""ClientRequestToken idempotency, concurrent writers, and version retention."""

from __future__ import annotations

import asyncio
from collections import Counter

import grpc

from tests.api.helpers import (
    DAY,
    aws_error,
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

EXISTS = grpc.StatusCode.ALREADY_EXISTS


def in_use(token: str, arn: str) -> str:
    return (
        f"You can't use ClientRequestToken {token} because that value is already in use for a "
        f"version of secret {arn}."
    )


# ---- CreateSecret on an existing name ----


async def test_create_replay_same_token_same_value(stub, clock) -> None:
    first = await create(stub, "s", "v", client_request_token=tok(1))
    clock.advance(5)
    again = await create(stub, "s", "v", client_request_token=tok(1))
    assert (again.arn, again.name, again.version_id) == (first.arn, "s", tok(1))
    assert await versions(stub, "s", deprecated=True) == {tok(1): ["AWSCURRENT"]}
    assert (await describe(stub, "s")).last_changed_date.seconds == int(clock.now() - 5)


async def test_create_replay_returns_the_version_of_its_token(stub) -> None:
    """Regression (issue 6, defect 9): the replay answered whatever held AWSCURRENT now."""
    first = await create(stub, "s", "v", client_request_token=tok(1))
    await put(stub, "s", "v2", client_request_token=tok(2))
    again = await create(stub, "s", "v", client_request_token=tok(1))
    assert (again.arn, again.name, again.version_id) == (first.arn, "s", tok(1))
    assert await versions(stub, "s", deprecated=True) == {
        tok(1): ["AWSPREVIOUS"],
        tok(2): ["AWSCURRENT"],
    }
    # Still the token's version once it has lost every label.
    await put(stub, "s", "v3", client_request_token=tok(3))
    again = await create(stub, "s", "v", client_request_token=tok(1))
    assert again.version_id == tok(1)
    assert (await get(stub, "s")).version_id == tok(3)


async def test_create_same_token_different_value(stub) -> None:
    first = await create(stub, "s", "v", client_request_token=tok(1))
    err = await expect(
        create(stub, "s", "other", client_request_token=tok(1)),
        EXISTS,
        "ResourceExistsException",
        in_use(tok(1), first.arn),
    )
    assert err.reason == "RESOURCE_EXISTS"
    # Same bytes, but binary instead of string, is a different value too.
    await expect(
        create(stub, "s", None, secret_binary=b"v", client_request_token=tok(1)),
        EXISTS,
        "ResourceExistsException",
        in_use(tok(1), first.arn),
    )
    assert (await get(stub, "s")).secret_string == "v"


async def test_create_existing_name_other_token_or_none(stub) -> None:
    await create(stub, "s", "v", client_request_token=tok(1))
    msg = "The operation failed because the secret s already exists."
    await expect(
        create(stub, "s", "v", client_request_token=tok(2)), EXISTS, "ResourceExistsException", msg
    )
    await expect(create(stub, "s", "v"), EXISTS, "ResourceExistsException", msg)
    await expect(create(stub, "s", None), EXISTS, "ResourceExistsException", msg)
    assert await versions(stub, "s", deprecated=True) == {tok(1): ["AWSCURRENT"]}


# ---- PutSecretValue / UpdateSecret replays ----


async def test_put_replay_creates_nothing(stub, clock) -> None:
    await create(stub, "s", "v1", client_request_token=tok(1))
    p1 = await put(stub, "s", "v2", client_request_token=tok(2))
    t_put = clock.now()
    clock.advance(30)
    p2 = await put(stub, "s", "v2", client_request_token=tok(2))
    assert (p2.arn, p2.version_id, list(p2.version_stages)) == (p1.arn, tok(2), ["AWSCURRENT"])
    assert await versions(stub, "s", deprecated=True) == {
        tok(1): ["AWSPREVIOUS"],
        tok(2): ["AWSCURRENT"],
    }
    assert (await describe(stub, "s")).last_changed_date.seconds == int(t_put)


async def test_put_replay_after_labels_moved_reports_current_labels(stub) -> None:
    await create(stub, "s", "v1", client_request_token=tok(1))
    await put(stub, "s", "v2", client_request_token=tok(2))
    await put(stub, "s", "v3", client_request_token=tok(3))
    p = await put(stub, "s", "v2", client_request_token=tok(2))
    assert (p.version_id, list(p.version_stages)) == (tok(2), ["AWSPREVIOUS"])
    assert (await get(stub, "s")).version_id == tok(3)


async def test_put_same_token_different_value(stub) -> None:
    c = await create(stub, "s", "v1", client_request_token=tok(1))
    await expect(
        put(stub, "s", "other", client_request_token=tok(1)),
        EXISTS,
        "ResourceExistsException",
        in_use(tok(1), c.arn),
    )
    await put(stub, "s", secret_binary=b"\x01", client_request_token=tok(2))
    await expect(
        put(stub, "s", secret_binary=b"\x02", client_request_token=tok(2)),
        EXISTS,
        "ResourceExistsException",
        in_use(tok(2), c.arn),
    )
    assert (await get(stub, "s")).secret_binary == b"\x01"


async def test_update_replay_and_conflict(stub) -> None:
    c = await create(stub, "s", "v1", client_request_token=tok(1))
    u1 = await stub.UpdateSecret(
        pb.UpdateSecretRequest(secret_id="s", secret_string="v2", client_request_token=tok(2))
    )
    u2 = await stub.UpdateSecret(
        pb.UpdateSecretRequest(secret_id="s", secret_string="v2", client_request_token=tok(2))
    )
    assert u1.version_id == u2.version_id == tok(2)
    assert len(await versions(stub, "s", deprecated=True)) == 2
    await expect(
        stub.UpdateSecret(
            pb.UpdateSecretRequest(secret_id="s", secret_string="v3", client_request_token=tok(2))
        ),
        EXISTS,
        "ResourceExistsException",
        in_use(tok(2), c.arn),
    )
    # A token of the first version (made by CreateSecret) counts as well.
    await expect(
        stub.UpdateSecret(
            pb.UpdateSecretRequest(secret_id="s", secret_string="x", client_request_token=tok(1))
        ),
        EXISTS,
        "ResourceExistsException",
        in_use(tok(1), c.arn),
    )


# ---- concurrency ----


async def test_concurrent_puts_one_token_same_value(stub) -> None:
    await create(stub, "s", "v0", client_request_token=tok(0))
    results = await asyncio.gather(
        *(put(stub, "s", "same", client_request_token=tok("x")) for _ in range(50))
    )
    assert {r.version_id for r in results} == {tok("x")}
    assert await versions(stub, "s", deprecated=True) == {
        tok(0): ["AWSPREVIOUS"],
        tok("x"): ["AWSCURRENT"],
    }


async def test_concurrent_puts_one_token_different_values(stub) -> None:
    c = await create(stub, "s", "v0", client_request_token=tok(0))
    outcomes = await asyncio.gather(
        *(put(stub, "s", f"value-{i}", client_request_token=tok("x")) for i in range(50)),
        return_exceptions=True,
    )
    wins = [o for o in outcomes if isinstance(o, pb.PutSecretValueResponse)]
    losses = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(wins) == 1 and len(losses) == 49
    assert {e.code() for e in losses} == {EXISTS}
    assert {e.details() for e in losses} == {in_use(tok("x"), c.arn)}
    got = await get(stub, "s")
    assert got.version_id == tok("x")
    assert got.secret_string.startswith("value-")
    assert len(await versions(stub, "s", deprecated=True)) == 2


async def test_concurrent_puts_distinct_tokens(stub) -> None:
    await create(stub, "s", "v0", client_request_token=tok(0))
    await asyncio.gather(
        *(put(stub, "s", f"v{i}", client_request_token=tok(i)) for i in range(1, 51))
    )
    all_versions = await versions(stub, "s", deprecated=True)
    assert len(all_versions) == 51
    holders = Counter(label for labels in all_versions.values() for label in labels)
    assert holders == {"AWSCURRENT": 1, "AWSPREVIOUS": 1}
    current = next(v for v, labels in all_versions.items() if labels == ["AWSCURRENT"])
    got = await get(stub, "s")
    assert got.version_id == current
    assert got.secret_string == f"v{int(current.split('-')[1])}"
    assert len(await stage_map(stub, "s")) == 2


async def test_concurrent_creates_of_one_name(stub) -> None:
    outcomes = await asyncio.gather(
        *(create(stub, "race", f"v{i}", client_request_token=tok(i)) for i in range(20)),
        return_exceptions=True,
    )
    wins = [o for o in outcomes if isinstance(o, pb.CreateSecretResponse)]
    assert len(wins) == 1
    assert all(
        isinstance(o, grpc.aio.AioRpcError) and o.code() == EXISTS
        for o in outcomes
        if o not in wins
    )
    assert (await describe(stub, "race")).arn == wins[0].arn


async def test_concurrent_create_replays(stub) -> None:
    results = await asyncio.gather(
        *(create(stub, "race", "same", client_request_token=tok(1)) for _ in range(20))
    )
    assert len({r.arn for r in results}) == 1
    assert {r.version_id for r in results} == {tok(1)}


async def test_concurrent_reads_during_writes_always_see_a_value(stub) -> None:
    await create(stub, "s", "v0", client_request_token=tok(0))

    async def reader() -> set[str]:
        seen = set()
        for _ in range(20):
            seen.add((await get(stub, "s")).secret_string)
        return seen

    writes = [put(stub, "s", f"v{i}", client_request_token=tok(i)) for i in range(1, 21)]
    *_, seen = await asyncio.gather(*writes, reader())
    assert seen <= {f"v{i}" for i in range(21)}


# ---- version retention ----


async def test_old_unlabeled_versions_are_removed_beyond_100(stub, clock) -> None:
    await create(stub, "s", "v0", client_request_token=tok(0))
    for i in range(1, 110):
        await put(stub, "s", f"v{i}", client_request_token=tok(i))
    # All young: nothing is removed even beyond 100.
    assert len(await versions(stub, "s", deprecated=True)) == 110
    clock.advance(DAY + 1)
    young = [f"young-{i}" for i in range(3)]
    for y in young:
        await put(stub, "s", y, client_request_token=tok(y))
    kept = await versions(stub, "s", deprecated=True)
    assert len(kept) == 100
    # The oldest unlabeled versions went first; labeled and young ones stay.
    assert all(tok(y) in kept for y in young)
    assert kept[tok(young[-1])] == ["AWSCURRENT"]
    assert kept[tok(young[-2])] == ["AWSPREVIOUS"]
    assert all(tok(i) not in kept for i in range(13))
    assert all(tok(i) in kept for i in range(13, 110))
    err = await aws_error(get(stub, "s", version_id=tok(0)))
    assert (
        err.message
        == f"Secrets Manager can't find the specified secret value for VersionId: {tok(0)}"
    )
    assert (await get(stub, "s", version_id=tok(13))).secret_string == "v13"


async def test_labeled_versions_are_never_removed(stub, clock) -> None:
    await create(stub, "s", "v0", client_request_token=tok(0))
    await put(stub, "s", "keep", client_request_token=tok("keep"), version_stages=["KEEP"])
    for i in range(1, 101):
        await put(stub, "s", f"v{i}", client_request_token=tok(i))
    clock.advance(2 * DAY)
    await put(stub, "s", "new", client_request_token=tok("new"))
    kept = await versions(stub, "s", deprecated=True)
    assert len(kept) == 100
    assert kept[tok("keep")] == ["KEEP"]
    assert (await get(stub, "s", version_stage="KEEP")).secret_string == "keep"
