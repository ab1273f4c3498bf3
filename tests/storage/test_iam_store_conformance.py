"""Store conformance for IAM (core.ports.IamRecords), over every Store implementation.

Load/commit/reopen round trips, the generation fence, all-or-nothing commits, deletes that
take an entity's policies, tags and keys with them, and replicated jumps in generation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from smgrpc.core.errors import IamConflict
from smgrpc.core.iam.model import AccessKey, IamState, Role, User
from tests.storage.test_store_conformance import BACKENDS, Backend, Opened

ACCOUNT = "123456789012"
ARN = f"arn:aws:iam::{ACCOUNT}:"


@pytest.fixture(params=sorted(BACKENDS))
async def iam_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return await BACKENDS[request.param](tmp_path)


@pytest.fixture
async def opened(iam_backend: Backend) -> AsyncIterator[Opened]:
    o = Opened(iam_backend)
    await o.reopen()
    yield o
    await o.store.close()


def user(name: str, **kw: Any) -> User:
    return User(name, f"AIDA{name.upper():X<16}"[:20], f"{ARN}user/{name}", "/", 1.5, **kw)


def role(name: str, **kw: Any) -> Role:
    trust = '{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}'
    return Role(name, f"AROA{name.upper():X<16}"[:20], f"{ARN}role/{name}", "/", 2.5, trust, **kw)


def key(kid: str, owner: str, status: str = "Active") -> AccessKey:
    return AccessKey(kid, owner, status, 3.25, b"\x00sealed" + kid.encode(), b"\x01" * 32)  # type: ignore[arg-type]


def full_state(generation: int = 1) -> IamState:
    alice = user(
        "alice",
        tags=(("team", "blue"), ("Cost", "1")),
        policies=(("a", '{"Statement":[]}'), ("b", "{}")),
    )
    ops = role(
        "ops",
        description="operators",
        max_session_duration=7200,
        tags=(("t", ""),),
        policies=(("p", "{}"),),
    )
    return IamState(
        ACCOUNT,
        "us-east-1",
        epoch=2,
        generation=generation,
        users={"alice": alice, "bob": user("bob")},
        roles={"ops": ops, "plain": role("plain")},
        keys={"AKIAAAAAAAAAAAAAAAA1": key("AKIAAAAAAAAAAAAAAAA1", "alice")},
    )


def same(a: IamState, b: IamState) -> None:
    assert (a.account, a.holder, a.epoch, a.generation) == (
        b.account,
        b.holder,
        b.epoch,
        b.generation,
    )
    assert dict(a.users) == dict(b.users)
    assert dict(a.roles) == dict(b.roles)
    assert dict(a.keys) == dict(b.keys)


async def test_nothing_stored_loads_the_empty_state_asked_for(opened: Opened) -> None:
    got = await opened.store.iam_load(ACCOUNT, "eu-west-1")
    assert got == IamState(ACCOUNT, "eu-west-1")


async def test_a_commit_loads_back_the_same_and_survives_a_reopen(opened: Opened) -> None:
    empty = await opened.store.iam_load(ACCOUNT, "us-east-1")
    after = full_state()
    await opened.store.iam_commit(empty, after)
    same(await opened.store.iam_load(ACCOUNT, "us-east-1"), after)
    store = await opened.reopen()
    loaded = await store.iam_load(ACCOUNT, "ignored-when-stored")
    same(loaded, after)
    assert loaded.users["alice"].tags == (("team", "blue"), ("Cost", "1"))  # order kept


async def test_a_stale_before_is_refused_and_writes_nothing(opened: Opened) -> None:
    empty = IamState(ACCOUNT, "us-east-1")
    first = full_state()
    await opened.store.iam_commit(empty, first)
    stale = replace(first, generation=2, users={**first.users, "carol": user("carol")})
    with pytest.raises(IamConflict):
        await opened.store.iam_commit(empty, stale)  # stored generation is 1, not 0
    same(await opened.store.iam_load(ACCOUNT, "us-east-1"), first)
    # Committing from the right generation works.
    await opened.store.iam_commit(first, stale)
    same(await (await opened.reopen()).iam_load(ACCOUNT, "x"), stale)


async def test_a_commit_that_fails_part_way_writes_nothing(opened: Opened) -> None:
    first = full_state()
    await opened.store.iam_commit(IamState(ACCOUNT, "us-east-1"), first)
    # A key of a user that does not exist: the database refuses it; the user added in the
    # same commit must not be there either.
    bad = replace(
        first,
        generation=2,
        users={**first.users, "dave": user("dave")},
        keys={**first.keys, "AKIAAAAAAAAAAAAAAAA2": key("AKIAAAAAAAAAAAAAAAA2", "nobody")},
    )
    with pytest.raises(Exception) as info:
        await opened.store.iam_commit(first, bad)
    assert not isinstance(info.value, IamConflict)
    same(await (await opened.reopen()).iam_load(ACCOUNT, "x"), first)


async def test_deleting_a_user_takes_its_policies_tags_and_keys(opened: Opened) -> None:
    first = full_state()
    await opened.store.iam_commit(IamState(ACCOUNT, "us-east-1"), first)
    users = {"bob": first.users["bob"]}
    roles = {"plain": first.roles["plain"]}
    after = replace(first, generation=2, users=users, roles=roles, keys={})
    await opened.store.iam_commit(first, after)
    store = await opened.reopen()
    same(await store.iam_load(ACCOUNT, "x"), after)
    # Recreated under the same name: none of the old policies, tags or keys come back.
    again = replace(after, generation=3, users={**users, "alice": user("alice")})
    await store.iam_commit(after, again)
    loaded = await (await opened.reopen()).iam_load(ACCOUNT, "x")
    assert loaded.users["alice"].policies == () and loaded.users["alice"].tags == ()
    assert loaded.keys == {}


async def test_changes_to_policies_tags_status_and_names_by_case(opened: Opened) -> None:
    first = full_state()
    await opened.store.iam_commit(IamState(ACCOUNT, "us-east-1"), first)
    alice = first.users["alice"]
    k = first.keys["AKIAAAAAAAAAAAAAAAA1"]
    second = replace(
        first,
        generation=2,
        users={
            "alice": replace(alice, policies=(("b", '{"x":1}'),), tags=(("Cost", "2"),)),
            "Bob": user("Bob"),  # "bob" deleted and "Bob" created in one snapshot
        },
        keys={k.access_key_id: replace(k, status="Inactive")},
    )
    await opened.store.iam_commit(first, second)
    same(await (await opened.reopen()).iam_load(ACCOUNT, "x"), second)


async def test_a_replicated_snapshot_may_jump_generations_and_move_the_holder(
    opened: Opened,
) -> None:
    first = full_state()
    await opened.store.iam_commit(IamState(ACCOUNT, "us-east-1"), first)
    shipped = replace(full_state(generation=40), holder="eu-west-1", epoch=3)
    await opened.store.iam_commit(first, shipped)
    same(await (await opened.reopen()).iam_load(ACCOUNT, "us-east-1"), shipped)
