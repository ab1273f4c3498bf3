"""Credential → principal, memoised per IAM snapshot (the authentication cache).

A new IamState (after any IAM write, or a replicated snapshot) is a new object: the memo is
keyed by the snapshot's identity, so a deleted or deactivated key, or a changed policy, is seen
on the very next call. Compiled identity policies are cached by (name, text) across
snapshots, so a change to one user does not re-parse everybody's policies.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from types import MappingProxyType

from smgrpc.core.errors import MalformedPolicyDocument
from smgrpc.core.iam.model import AccessKey, IamState, Principal, Role, User
from smgrpc.core.policy import Policy, parse_policy

# Inline identity policies are limited by IAM (2,048 / 10,240 characters in aggregate); the
# stored text was validated when it was put, so no limit is re-applied here.
_NO_LIMIT = 1 << 20
# A stored policy that no longer compiles (it never should) denies everything: fail closed.
_DENY_ALL = parse_policy(
    '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}',
    kind="identity",
    name="<uncompilable stored policy>",
)


@lru_cache(maxsize=4096)
def identity_policy(name: str, text: str) -> Policy:
    """One inline identity policy, compiled once per (name, text)."""
    try:
        return parse_policy(text, kind="identity", name=name, max_chars=_NO_LIMIT)
    except MalformedPolicyDocument:
        return _DENY_ALL


def principal_of(entity: User | Role, account: str) -> Principal:
    return Principal(
        arn=entity.arn,
        account=account,
        kind="user" if isinstance(entity, User) else "role",
        name=entity.name,
        tags=MappingProxyType(dict(entity.tags)),
        policies=tuple(identity_policy(n, t) for n, t in entity.policies),
    )


class Snapshot:
    """The principals of one IamState, made on first use (a key's user, or an ARN)."""

    def __init__(self, state: IamState) -> None:
        self.state = state
        self._by_key: dict[str, tuple[AccessKey, Principal] | None] = {}
        self._by_arn: dict[str, Principal | None] = {}

    def access_key(self, access_key_id: str) -> tuple[AccessKey, Principal] | None:
        try:
            return self._by_key[access_key_id]
        except KeyError:
            pass
        got: tuple[AccessKey, Principal] | None = None
        key = self.state.keys.get(access_key_id)
        user = self.state.users.get(key.user_name) if key is not None else None
        if key is not None and user is not None:
            got = (key, principal_of(user, self.state.account))
        if len(self._by_key) < 100_000:  # unknown ids are remembered too, within a bound
            self._by_key[access_key_id] = got
        return got

    def principal(self, arn: str) -> Principal | None:
        """A user or role by ARN (client-certificate identities)."""
        if arn in self._by_arn:
            return self._by_arn[arn]
        found: Principal | None = None
        for entity in (*self.state.users.values(), *self.state.roles.values()):
            if entity.arn == arn:
                found = principal_of(entity, self.state.account)
                break
        if len(self._by_arn) < 10_000:
            self._by_arn[arn] = found
        return found


class Principals:
    """The current snapshot's principals: rebuilt when `state()` returns a new IamState."""

    def __init__(self, state: Callable[[], IamState]) -> None:
        self._state = state
        self._snap: Snapshot | None = None

    def current(self) -> Snapshot:
        state = self._state()
        snap = self._snap
        if snap is None or snap.state is not state:
            snap = self._snap = Snapshot(state)
        return snap
