"""IAM use cases, named after the AWS IAM actions (users, roles, inline policies, access keys).

Every write builds a new IamState (generation + 1) from the current one, commits it through
IamRecords (fenced by the generation), and only then swaps `.state` and calls on_change, under
one asyncio.Lock: writes never interleave, a failed commit changes nothing, and readers see
either the old snapshot or the new one. Only the Region holding IAM (`state.holder`) writes.
Secrets never appear in errors or logs: a new key's secret is returned once, as an IssuedKey.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import TypeVar

from smgrpc.core.aio import settle
from smgrpc.core.errors import (
    CONCURRENT_MODIFICATION,
    DeleteConflict,
    EntityAlreadyExists,
    IamConflict,
    NoSuchEntity,
    NotIamRegion,
)
from smgrpc.core.iam import entities as ent
from smgrpc.core.iam import validate as v
from smgrpc.core.iam.directory import directory
from smgrpc.core.iam.model import AccessKey, IamState, Kind, Role, Status, User
from smgrpc.core.ports import Clock, IamRecords, IssuedKey, KeyMinter

T = TypeVar("T")
Change = Callable[[IamState], tuple[IamState, T]]
TagList = Sequence[tuple[str, str]]

ADMIN_USER = "admin"
ADMIN_POLICY_NAME = "AdministratorAccess"
ADMIN_POLICY = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
)
DELETE_POLICIES_FIRST = "Cannot delete entity, must delete policies first."
DELETE_KEYS_FIRST = "Cannot delete entity, must delete access keys first."


def _no_change(state: IamState) -> None:
    return None


def _page(
    items: list[T], sort_key: Callable[[T], str], marker: str | None, limit: int | None
) -> tuple[list[T], str | None]:
    """One page after the Marker's position (items sorted by sort_key, unique keys)."""
    n = v.max_items(limit)
    after = v.decode_marker(marker)
    ordered = sorted(items, key=sort_key)
    if after is not None:
        ordered = [i for i in ordered if sort_key(i) > after]
    page = ordered[:n]
    more = len(ordered) > n
    return page, v.encode_marker(sort_key(page[-1])) if more else None


def _user_key(u: User) -> str:
    return v.key(u.name)


def _role_key(r: Role) -> str:
    return v.key(r.name)


def _with(state: IamState, owner: User | Role) -> IamState:
    """`state` with this user or role replaced."""
    return ent.with_user(state, owner) if isinstance(owner, User) else ent.with_role(state, owner)


class IamUseCases:
    """The account's IAM data of one Region (see module docstring)."""

    def __init__(
        self,
        store: IamRecords,
        minter: KeyMinter,
        clock: Clock,
        region: str,
        state: IamState,
        on_change: Callable[[IamState], None] = _no_change,
    ) -> None:
        self._store = store
        self._minter = minter
        self._clock = clock
        self.region = region
        self.state = state
        self._on_change = on_change
        self._lock = asyncio.Lock()

    # ---- plumbing ----

    def _writable(self) -> None:
        if self.state.holder != self.region:
            raise NotIamRegion(
                f"IAM changes are accepted only by the IAM Region {self.state.holder}; "
                f"this Region is {self.region}. Send the request to {self.state.holder}."
            )

    async def _write(self, change: Change[T]) -> T:
        """Apply one change to the current state and commit it (see module docstring)."""
        async with self._lock:
            self._writable()
            before = self.state
            after, result = change(before)
            if after is not before:
                await self._commit(before, replace(after, generation=before.generation + 1))
            return result

    async def _commit(self, before: IamState, after: IamState) -> None:
        """Persist, then publish (the lock is held by the caller)."""
        try:
            await settle(self._store.iam_commit(before, after))
        except IamConflict:
            # Another writer moved the stored state: take it up, tell the caller to retry.
            self.state = await self._store.iam_load(before.account, before.holder)
            self._on_change(self.state)
            raise IamConflict(CONCURRENT_MODIFICATION) from None
        self.state = after
        self._on_change(after)

    def _user(self, state: IamState, name: str, member: str = "userName") -> User:
        v.entity_name(name, member)
        found = directory(state).user(name)
        if found is None:
            raise NoSuchEntity(f"The user with name {name} cannot be found.")
        return found

    def _role(self, state: IamState, name: str, member: str = "roleName") -> Role:
        v.entity_name(name, member)
        found = directory(state).role(name)
        if found is None:
            raise NoSuchEntity(f"The role with name {name} cannot be found.")
        return found

    # ---- users ----

    async def create_user(self, name: str, path: str | None = None, tags: TagList = ()) -> User:
        v.entity_name(name)
        p = v.path(path)
        t = v.tags(tags)

        def change(state: IamState) -> tuple[IamState, User]:
            if directory(state).user(name) is not None:
                raise EntityAlreadyExists(f"User with name {name} already exists.")
            v.quota("UsersPerAccount", len(state.users), v.MAX_USERS)
            user = User(
                name=name,
                user_id=ent.unique_id("AIDA"),
                arn=ent.entity_arn(state, "user", p, name),
                path=p,
                created_at=self._clock.now(),
                tags=t,
            )
            return ent.with_user(state, user), user

        return await self._write(change)

    async def get_user(self, name: str) -> User:
        return self._user(self.state, name)

    async def list_users(
        self,
        path_prefix: str | None = None,
        marker: str | None = None,
        max_items: int | None = None,
    ) -> tuple[list[User], str | None]:
        prefix = v.path_prefix(path_prefix)
        users = [u for u in self.state.users.values() if u.path.startswith(prefix)]
        return _page(users, _user_key, marker, max_items)

    async def delete_user(self, name: str) -> None:
        def change(state: IamState) -> tuple[IamState, None]:
            user = self._user(state, name)
            if user.policies:
                raise DeleteConflict(DELETE_POLICIES_FIRST)
            if directory(state).keys_of(user.name):
                raise DeleteConflict(DELETE_KEYS_FIRST)
            return ent.without_user(state, user.name), None

        await self._write(change)

    async def tag_user(self, name: str, tags: TagList) -> None:
        t = v.tags(tags)

        def change(state: IamState) -> tuple[IamState, None]:
            user = self._user(state, name)
            return ent.with_user(state, replace(user, tags=v.merge_tags(user.tags, t))), None

        await self._write(change)

    # ---- roles ----

    async def create_role(
        self,
        name: str,
        assume_role_policy_document: str,
        path: str | None = None,
        description: str | None = None,
        max_session_duration: int | None = None,
        tags: TagList = (),
    ) -> Role:
        v.entity_name(name, "roleName")
        p = v.path(path)
        v.trust_policy(assume_role_policy_document)
        v.description(description)
        duration = v.max_session_duration(max_session_duration)
        t = v.tags(tags)

        def change(state: IamState) -> tuple[IamState, Role]:
            if directory(state).role(name) is not None:
                raise EntityAlreadyExists(f"Role with name {name} already exists.")
            v.quota("RolesPerAccount", len(state.roles), v.MAX_ROLES)
            role = Role(
                name=name,
                role_id=ent.unique_id("AROA"),
                arn=ent.entity_arn(state, "role", p, name),
                path=p,
                created_at=self._clock.now(),
                assume_role_policy=assume_role_policy_document,
                description=description,
                max_session_duration=duration,
                tags=t,
            )
            return ent.with_role(state, role), role

        return await self._write(change)

    async def get_role(self, name: str) -> Role:
        return self._role(self.state, name)

    async def list_roles(
        self,
        path_prefix: str | None = None,
        marker: str | None = None,
        max_items: int | None = None,
    ) -> tuple[list[Role], str | None]:
        prefix = v.path_prefix(path_prefix)
        roles = [r for r in self.state.roles.values() if r.path.startswith(prefix)]
        return _page(roles, _role_key, marker, max_items)

    async def delete_role(self, name: str) -> None:
        def change(state: IamState) -> tuple[IamState, None]:
            role = self._role(state, name)
            if role.policies:
                raise DeleteConflict(DELETE_POLICIES_FIRST)
            return ent.without_role(state, role.name), None

        await self._write(change)

    async def tag_role(self, name: str, tags: TagList) -> None:
        t = v.tags(tags)

        def change(state: IamState) -> tuple[IamState, None]:
            role = self._role(state, name)
            return ent.with_role(state, replace(role, tags=v.merge_tags(role.tags, t))), None

        await self._write(change)

    # ---- inline policies (users and roles alike) ----

    def _owner(self, state: IamState, kind: Kind, name: str) -> User | Role:
        return self._user(state, name) if kind == "user" else self._role(state, name)

    async def _put_policy(self, kind: Kind, name: str, policy_name: str, document: str) -> None:
        v.entity_name(name, f"{kind}Name")
        v.policy_name(policy_name)
        v.identity_policy(document, policy_name)

        def change(state: IamState) -> tuple[IamState, None]:
            owner = self._owner(state, kind, name)
            policies = ent.put_policy(owner.policies, policy_name, document)
            v.inline_quota(kind, owner.name, [d for _, d in policies])
            return _with(state, replace(owner, policies=policies)), None

        await self._write(change)

    def _get_policy(self, kind: Kind, name: str, policy_name: str) -> str:
        v.policy_name(policy_name)
        return _policy(self._owner(self.state, kind, name).policies, kind, policy_name)

    def _list_policies(
        self, kind: Kind, name: str, marker: str | None, max_items: int | None
    ) -> tuple[list[str], str | None]:
        names = [n for n, _ in self._owner(self.state, kind, name).policies]
        return _page(names, str, marker, max_items)

    async def _delete_policy(self, kind: Kind, name: str, policy_name: str) -> None:
        v.policy_name(policy_name)

        def change(state: IamState) -> tuple[IamState, None]:
            owner = self._owner(state, kind, name)
            _policy(owner.policies, kind, policy_name)
            policies = ent.drop_policy(owner.policies, policy_name)
            return _with(state, replace(owner, policies=policies)), None

        await self._write(change)

    async def put_user_policy(self, user_name: str, policy_name: str, document: str) -> None:
        await self._put_policy("user", user_name, policy_name, document)

    async def get_user_policy(self, user_name: str, policy_name: str) -> str:
        return self._get_policy("user", user_name, policy_name)

    async def list_user_policies(
        self, user_name: str, marker: str | None = None, max_items: int | None = None
    ) -> tuple[list[str], str | None]:
        return self._list_policies("user", user_name, marker, max_items)

    async def delete_user_policy(self, user_name: str, policy_name: str) -> None:
        await self._delete_policy("user", user_name, policy_name)

    async def put_role_policy(self, role_name: str, policy_name: str, document: str) -> None:
        await self._put_policy("role", role_name, policy_name, document)

    async def get_role_policy(self, role_name: str, policy_name: str) -> str:
        return self._get_policy("role", role_name, policy_name)

    async def list_role_policies(
        self, role_name: str, marker: str | None = None, max_items: int | None = None
    ) -> tuple[list[str], str | None]:
        return self._list_policies("role", role_name, marker, max_items)

    async def delete_role_policy(self, role_name: str, policy_name: str) -> None:
        await self._delete_policy("role", role_name, policy_name)

    # ---- access keys ----

    async def create_access_key(self, user_name: str) -> tuple[AccessKey, IssuedKey]:
        def change(state: IamState) -> tuple[IamState, tuple[AccessKey, IssuedKey]]:
            user = self._user(state, user_name)
            v.quota(
                "AccessKeysPerUser", len(directory(state).keys_of(user.name)), v.MAX_KEYS_PER_USER
            )
            issued, sealed, digest = self._minter.mint()
            key = AccessKey(
                access_key_id=issued.access_key_id,
                user_name=user.name,
                status="Active",
                created_at=self._clock.now(),
                sealed=sealed,
                digest=digest,
            )
            return ent.with_key(state, key), (key, issued)

        return await self._write(change)

    async def list_access_keys(
        self, user_name: str, marker: str | None = None, max_items: int | None = None
    ) -> tuple[list[AccessKey], str | None]:
        user = self._user(self.state, user_name)
        keys = directory(self.state).keys_of(user.name)
        return _page(keys, _key_position, marker, max_items)

    def _key(self, state: IamState, user_name: str, access_key_id: str) -> AccessKey:
        user = self._user(state, user_name)
        v.access_key_id(access_key_id)
        key = state.keys.get(access_key_id)
        if key is None or key.user_name != user.name:
            shown = v.shown_key_id(access_key_id)
            raise NoSuchEntity(f"The Access Key with id {shown} cannot be found.")
        return key

    async def update_access_key(self, user_name: str, access_key_id: str, status: str) -> None:
        v.status(status)
        new_status: Status = "Active" if status == "Active" else "Inactive"

        def change(state: IamState) -> tuple[IamState, None]:
            key = self._key(state, user_name, access_key_id)
            if key.status == new_status:
                return state, None
            return ent.with_key(state, replace(key, status=new_status)), None

        await self._write(change)

    async def delete_access_key(self, user_name: str, access_key_id: str) -> None:
        def change(state: IamState) -> tuple[IamState, None]:
            self._key(state, user_name, access_key_id)
            return ent.without_key(state, access_key_id), None

        await self._write(change)

    # ---- bootstrap and replication ----

    async def bootstrap_admin(
        self, deliver: Callable[[IssuedKey], Awaitable[None]] | None = None
    ) -> IssuedKey | None:
        """First start of the IAM Region with no users: user `admin`, inline policy allowing
        `*` on `*`, one access key. `deliver` (e.g. write the token file) runs before the
        commit: if it fails nothing is committed, so a credential is never lost in between.
        None: nothing to do (users exist, this Region does not hold IAM, or IAM was written
        before: an account whose users were all deleted, e.g. one run on client certificates
        and roles, does not get a new full-access admin on its next restart)."""
        async with self._lock:
            before = self.state
            if before.users or before.holder != self.region or before.generation != 0:
                return None
            issued, sealed, digest = self._minter.mint()
            if deliver is not None:
                await deliver(issued)
            now = self._clock.now()
            user = User(
                name=ADMIN_USER,
                user_id=ent.unique_id("AIDA"),
                arn=ent.entity_arn(before, "user", "/", ADMIN_USER),
                path="/",
                created_at=now,
                policies=((ADMIN_POLICY_NAME, ADMIN_POLICY),),
            )
            key = AccessKey(issued.access_key_id, ADMIN_USER, "Active", now, sealed, digest)
            after = ent.with_key(ent.with_user(before, user), key)
            # One commit: a crash leaves either no admin at all (the next start makes one) or
            # the whole admin, whose credential `deliver` has already put in place.
            await self._commit(before, replace(after, generation=before.generation + 1))
            return issued

    async def apply_replicated(self, incoming: IamState) -> bool:
        """Take a snapshot shipped by the IAM Region if it is newer by (epoch, generation)."""
        async with self._lock:
            before = self.state
            if incoming.account != before.account:
                return False
            if (incoming.epoch, incoming.generation) <= (before.epoch, before.generation):
                return False
            await self._commit(before, incoming)
            return True


def _key_position(k: AccessKey) -> str:
    return f"{k.created_at:020.6f}/{k.access_key_id}"


def _policy(policies: tuple[tuple[str, str], ...], kind: str, name: str) -> str:
    for n, d in policies:
        if n == name:
            return d
    raise NoSuchEntity(f"The {kind} policy with name {name} cannot be found.")
