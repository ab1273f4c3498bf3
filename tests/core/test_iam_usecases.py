"""IamUseCases against a real SqliteStore in a tmp dir: AWS IAM semantics, persistence,
serialised writes, the holder rule, the Directory and the never-leaking secret."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from smgrpc.core import errors as e
from smgrpc.core.iam.directory import directory
from smgrpc.core.iam.model import IamState, Role, User
from smgrpc.core.iam.usecases import ADMIN_POLICY, IamUseCases
from smgrpc.crypto.access_keys import AccessKeyVault, VaultMinter
from smgrpc.storage.sqlite import SqliteStore
from tests.conftest import FakeClock

ACCOUNT = "123456789012"
MASTER = os.urandom(32)
POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
)
TRUST = json.dumps(
    {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }
        ]
    }
)


@dataclass
class World:
    path: Path
    clock: FakeClock
    store: SqliteStore
    iam: IamUseCases
    changes: list[IamState] = field(default_factory=list)

    async def reopen(self, region: str = "us-east-1", holder: str = "us-east-1") -> IamUseCases:
        await self.store.close()
        self.store = await SqliteStore.open(self.path)
        state = await self.store.iam_load(ACCOUNT, holder)
        self.iam = IamUseCases(self.store, minter(), self.clock, region, state, self.changes.append)
        return self.iam


def minter() -> VaultMinter:
    return VaultMinter(AccessKeyVault(MASTER, ACCOUNT))


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    path = tmp_path / "secrets.db"
    store = await SqliteStore.open(path)
    w = World(path, FakeClock(), store, None)  # type: ignore[arg-type]
    await w.reopen()
    yield w
    await w.store.close()


async def test_create_get_and_reload_a_user(world: World) -> None:
    iam = world.iam
    u = await iam.create_user("Bob", path="/eng/", tags=[("team", "blue")])
    assert re.fullmatch(r"AIDA[A-Z2-7]{16}", u.user_id)
    assert u.arn == f"arn:aws:iam::{ACCOUNT}:user/eng/Bob"
    assert u.created_at == world.clock.t and u.tags == (("team", "blue"),)
    assert iam.state.generation == 1 and world.changes[-1] is iam.state
    assert await iam.get_user("bob") == u  # names are case-insensitive
    again = await world.reopen()
    assert await again.get_user("Bob") == u and again.state.generation == 1


async def test_names_are_unique_regardless_of_case(world: World) -> None:
    await world.iam.create_user("Bob")
    with pytest.raises(e.EntityAlreadyExists, match="User with name bob already exists."):
        await world.iam.create_user("bob")
    await world.iam.create_role("Ops", TRUST)
    with pytest.raises(e.EntityAlreadyExists, match="Role with name OPS already exists."):
        await world.iam.create_role("OPS", TRUST)
    assert world.iam.state.generation == 2


async def test_unknown_entities_are_no_such_entity(world: World) -> None:
    with pytest.raises(e.NoSuchEntity, match="The user with name nobody cannot be found."):
        await world.iam.get_user("nobody")
    with pytest.raises(e.NoSuchEntity, match="The role with name r cannot be found."):
        await world.iam.get_role("r")
    await world.iam.create_user("u")
    with pytest.raises(e.NoSuchEntity, match="The user policy with name p cannot be found."):
        await world.iam.get_user_policy("u", "p")
    with pytest.raises(e.NoSuchEntity):
        await world.iam.delete_user_policy("u", "p")


async def test_list_users_sorted_by_name_with_marker_paging(world: World) -> None:
    for name in ["carol", "Alice", "bob", "dave", "eve"]:
        await world.iam.create_user(name, path="/x/" if name == "eve" else None)
    page, marker = await world.iam.list_users(max_items=2)
    assert [u.name for u in page] == ["Alice", "bob"] and marker is not None
    page, marker = await world.iam.list_users(marker=marker, max_items=2)
    assert [u.name for u in page] == ["carol", "dave"] and marker is not None
    page, marker = await world.iam.list_users(marker=marker, max_items=2)
    assert [u.name for u in page] == ["eve"] and marker is None
    page, _ = await world.iam.list_users(path_prefix="/x/")
    assert [u.name for u in page] == ["eve"]
    with pytest.raises(e.IamValidationError):
        await world.iam.list_users(marker="garbage")


async def test_delete_user_needs_policies_and_keys_gone_first(world: World) -> None:
    iam = world.iam
    await iam.create_user("bob")
    await iam.put_user_policy("bob", "p", POLICY)
    key, _ = await iam.create_access_key("bob")
    with pytest.raises(e.DeleteConflict, match="must delete policies first"):
        await iam.delete_user("bob")
    await iam.delete_user_policy("bob", "p")
    with pytest.raises(e.DeleteConflict, match="must delete access keys first"):
        await iam.delete_user("bob")
    await iam.delete_access_key("bob", key.access_key_id)
    await iam.delete_user("bob")
    assert "bob" not in (await world.reopen()).state.users


async def test_put_user_policy_replaces_the_same_name_and_lists_sorted(world: World) -> None:
    iam = world.iam
    await iam.create_user("bob")
    await iam.put_user_policy("bob", "zeta", POLICY)
    await iam.put_user_policy("bob", "alpha", POLICY)
    other = POLICY.replace("s3:*", "sqs:*")
    await iam.put_user_policy("bob", "zeta", other)
    assert await iam.get_user_policy("bob", "zeta") == other
    assert await iam.list_user_policies("bob") == (["alpha", "zeta"], None)
    names, marker = await iam.list_user_policies("bob", max_items=1)
    assert names == ["alpha"] and marker is not None
    assert await iam.list_user_policies("bob", marker=marker) == (["zeta"], None)
    reloaded = await world.reopen()
    assert await reloaded.get_user_policy("bob", "zeta") == other


async def test_policy_documents_are_checked(world: World) -> None:
    await world.iam.create_user("bob")
    with pytest.raises(e.IamMalformedPolicyDocument):
        await world.iam.put_user_policy("bob", "p", '{"Statement": []}')
    big = json.dumps(
        {
            "Statement": [
                {"Effect": "Allow", "Action": f"s3:Get{i}", "Resource": "*"} for i in range(60)
            ]
        }
    )
    with pytest.raises(e.IamLimitExceeded, match="2048 bytes exceeded for user bob"):
        await world.iam.put_user_policy("bob", "big", big)
    assert world.iam.state.users["bob"].policies == ()


async def test_roles_and_their_policies(world: World) -> None:
    iam = world.iam
    r = await iam.create_role(
        "ops", TRUST, description="d", max_session_duration=7200, tags=[("a", "b")]
    )
    assert re.fullmatch(r"AROA[A-Z2-7]{16}", r.role_id)
    assert r.arn == f"arn:aws:iam::{ACCOUNT}:role/ops" and r.max_session_duration == 7200
    with pytest.raises(e.IamMalformedPolicyDocument):
        await iam.create_role("bad", '{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}')
    await iam.put_role_policy("ops", "p", POLICY)
    assert await iam.list_role_policies("ops") == (["p"], None)
    with pytest.raises(e.DeleteConflict, match="must delete policies first"):
        await iam.delete_role("ops")
    await iam.tag_role("ops", [("A", "c")])
    assert iam.state.roles["ops"].tags == (("A", "c"),)
    await iam.delete_role_policy("ops", "p")
    await iam.delete_role("ops")
    assert await iam.list_roles() == ([], None)


async def test_access_keys_quota_status_and_ownership(world: World) -> None:
    iam = world.iam
    await iam.create_user("bob")
    await iam.create_user("eve")
    k1, issued = await iam.create_access_key("bob")
    assert issued.access_key_id == k1.access_key_id and k1.status == "Active"
    assert minter().verify(k1, issued.secret_access_key)
    k2, _ = await iam.create_access_key("bob")
    with pytest.raises(e.IamLimitExceeded) as info:
        await iam.create_access_key("bob")
    assert info.value.message == "Cannot exceed quota for AccessKeysPerUser: 2"
    keys, _ = await iam.list_access_keys("bob")
    assert {k.access_key_id for k in keys} == {k1.access_key_id, k2.access_key_id}
    with pytest.raises(e.NoSuchEntity, match=f"The Access Key with id {k1.access_key_id} cannot"):
        await iam.update_access_key("eve", k1.access_key_id, "Inactive")
    with pytest.raises(e.NoSuchEntity):
        await iam.delete_access_key("eve", k1.access_key_id)
    with pytest.raises(e.IamValidationError):
        await iam.update_access_key("bob", k1.access_key_id, "Disabled")
    await iam.update_access_key("bob", k1.access_key_id, "Inactive")
    found = directory(iam.state).access_key(k1.access_key_id)
    assert found is not None and found[0].status == "Inactive" and found[1].name == "bob"
    reloaded = await world.reopen()
    assert reloaded.state.keys[k1.access_key_id].status == "Inactive"


async def test_tag_user_merges_and_the_principal_follows(world: World) -> None:
    iam = world.iam
    u = await iam.create_user("bob", tags=[("team", "blue")])
    await iam.put_user_policy("bob", "p", POLICY)
    p1 = directory(iam.state).principal(u.arn)
    assert p1 is not None and dict(p1.tags) == {"team": "blue"} and p1.policies[0].name == "p"
    await iam.create_user("other")  # an unrelated change keeps bob's compiled principal
    assert directory(iam.state).principal(u.arn) is p1
    await iam.tag_user("bob", [("Team", "red"), ("cost", "1")])
    p2 = directory(iam.state).principal(u.arn)
    assert p2 is not None and dict(p2.tags) == {"Team": "red", "cost": "1"}
    assert directory(iam.state).principal("arn:aws:iam::123456789012:user/nobody") is None


async def test_concurrent_writes_lose_nothing(world: World) -> None:
    await asyncio.gather(*(world.iam.create_user(f"u{i}") for i in range(30)))
    assert world.iam.state.generation == 30
    assert len((await world.reopen()).state.users) == 30


async def test_a_failed_commit_leaves_the_state_alone(world: World) -> None:
    iam = world.iam
    await iam.create_user("bob")
    before = iam.state
    # Someone else commits behind this process's back (another IamUseCases on the same db).
    other = IamUseCases(world.store, minter(), world.clock, "us-east-1", before)
    await other.create_user("carol")
    with pytest.raises(e.IamConflict) as info:
        await iam.create_user("dave")
    assert info.value.aws_code == "ConcurrentModification"
    # It took up the stored state: a retry works and keeps carol.
    assert "carol" in iam.state.users and "dave" not in iam.state.users
    await iam.create_user("dave")
    assert set((await world.reopen()).state.users) == {"bob", "carol", "dave"}


async def test_only_the_iam_region_writes(world: World) -> None:
    replica = await world.reopen(region="eu-west-1", holder="us-east-1")
    with pytest.raises(e.NotIamRegion) as info:
        await replica.create_user("bob")
    assert "us-east-1" in info.value.message and info.value.aws_code == "NotIamRegionException"
    assert await replica.bootstrap_admin() is None
    assert await replica.list_users() == ([], None)


async def test_bootstrap_admin_once_and_replicated_apply(world: World) -> None:
    iam = world.iam
    delivered: list[str] = []

    async def deliver(k: object) -> None:
        delivered.append(k.access_key_id)  # type: ignore[attr-defined]

    issued = await iam.bootstrap_admin(deliver)
    assert issued is not None and delivered == [issued.access_key_id]
    admin = iam.state.users["admin"]
    assert admin.policies == (("AdministratorAccess", ADMIN_POLICY),) and iam.state.generation == 1
    assert await iam.bootstrap_admin(deliver) is None
    # A replica takes a newer snapshot only.
    replica_store = await SqliteStore.open(world.path.with_name("replica.db"))
    try:
        empty = await replica_store.iam_load(ACCOUNT, "us-east-1")
        replica = IamUseCases(replica_store, minter(), world.clock, "eu-west-1", empty)
        assert await replica.apply_replicated(iam.state) is True
        assert await replica.apply_replicated(iam.state) is False  # not newer
        assert replica.state.users["admin"] == admin
        assert (await replica_store.iam_load(ACCOUNT, "x")).generation == 1
    finally:
        await replica_store.close()


async def test_a_failing_delivery_commits_no_admin(world: World) -> None:
    async def fail(k: object) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError):
        await world.iam.bootstrap_admin(fail)
    assert world.iam.state.users == {}
    assert (await world.reopen()).state.users == {}


async def test_the_secret_is_never_in_the_database_files_reprs_or_logs(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    iam = world.iam
    admin = await iam.bootstrap_admin()
    await iam.create_user("bob")
    key, issued = await iam.create_access_key("bob")
    secrets = [admin.secret_access_key, issued.secret_access_key]  # type: ignore[union-attr]
    texts = [repr(iam.state), str(iam.state), repr(key), repr(issued), repr(admin), caplog.text]
    texts.append(repr(directory(iam.state).access_key(key.access_key_id)))
    with pytest.raises(e.NoSuchEntity) as info:
        await iam.delete_access_key("admin", key.access_key_id)
    texts.append(str(info.value))
    raw = b"".join(p.read_bytes() for p in world.path.parent.iterdir() if p.is_file())
    await world.store.close()
    raw += b"".join(p.read_bytes() for p in world.path.parent.iterdir() if p.is_file())
    world.store = await SqliteStore.open(world.path)
    assert issued.access_key_id.encode() in raw  # the rows are there ...
    for s in secrets:
        for form in (s, s[:16], s[-16:]):
            assert form.encode() not in raw  # ... but not the secret
            assert all(form not in t for t in texts)


async def test_account_quotas_for_users_and_roles(world: World) -> None:
    start = world.iam.state
    users = {
        f"u{i}": User(f"u{i}", f"AIDA{i:016d}", f"arn:aws:iam::{ACCOUNT}:user/u{i}", "/", 1.0)
        for i in range(5000)
    }
    roles = {
        f"r{i}": Role(
            f"r{i}", f"AROA{i:016d}", f"arn:aws:iam::{ACCOUNT}:role/r{i}", "/", 1.0, TRUST
        )
        for i in range(1000)
    }
    full = replace(start, generation=1, users=users, roles=roles)
    await world.store.iam_commit(start, full)
    iam = await world.reopen()
    assert len(iam.state.users) == 5000
    with pytest.raises(e.IamLimitExceeded, match="Cannot exceed quota for UsersPerAccount: 5000"):
        await iam.create_user("one-more")
    with pytest.raises(e.IamLimitExceeded, match="Cannot exceed quota for RolesPerAccount: 1000"):
        await iam.create_role("one-more", TRUST)
    await iam.delete_user("u1")
    await iam.create_user("one-more")
    page, marker = await iam.list_users(max_items=1000)
    assert len(page) == 1000 and marker is not None


def test_a_stored_policy_that_no_longer_parses_denies_everything() -> None:
    """A damaged or replicated inline policy that fails to parse compiles to a deny-all of
    the same name: its principal is refused (fail closed), authentication itself does not
    fail with MalformedPolicyDocument (review Low 15)."""
    from smgrpc.core.iam.directory import compile_policies
    from smgrpc.core.iam.model import User
    from smgrpc.core.policy import Request, evaluate

    arn = "arn:aws:iam::123456789012:user/u"
    broken = User("u", "AIDAEXAMPLE", arn, "/", 0.0, policies=(("p", '{"Version": "nope"'),))
    [policy] = compile_policies(broken)
    assert policy.name == "p"
    req = Request.build(
        principal_arn=arn, principal_account="123456789012", action="s3:Get", resource="*"
    )
    assert evaluate(req, (policy,)).outcome == "explicit_deny"
