"""Read-side view of one IamState: lookups by name, ARN and access key id, compiled principals.

Memoised per snapshot (`directory(state)` gives the same Directory for the same state object),
so authentication on every call costs a dict lookup. A Principal (its inline policies parsed
once) is made on first use and carried over to the next snapshot's Directory while its user or
role is the very same object (a change replaces only the entities it touched), so an IAM write
does not make every caller's policies compile again.
"""

from __future__ import annotations

from collections import OrderedDict
from types import MappingProxyType

from smgrpc.core.errors import MalformedPolicyDocument
from smgrpc.core.iam.model import AccessKey, IamState, Principal, Role, User
from smgrpc.core.policy import Policy, parse_policy

_KEEP = 4  # snapshots memoised (the current one, plus a few readers may still hold)
_memo: OrderedDict[int, tuple[IamState, Directory]] = OrderedDict()


_DENY_ALL = '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}'


def compile_policies(entity: User | Role) -> tuple[Policy, ...]:
    """The entity's inline identity policies, parsed. Stored documents were validated when
    written; one that no longer parses (a replicated or damaged row) becomes a deny-all policy
    of the same name: the caller is refused (AccessDenied, fail closed) rather than every call
    answering MalformedPolicyDocument."""
    out = []
    for name, doc in entity.policies:
        try:
            out.append(parse_policy(doc, kind="identity", name=name))
        except MalformedPolicyDocument:
            out.append(parse_policy(_DENY_ALL, kind="identity", name=name))
    return tuple(out)


class Directory:
    """Lookups over one snapshot (see module docstring). Never mutates the state."""

    def __init__(self, state: IamState, previous: Directory | None = None) -> None:
        self.state = state
        self._users = {u.name.lower(): u for u in state.users.values()}
        self._roles = {r.name.lower(): r for r in state.roles.values()}
        self._by_arn: dict[str, User | Role] = {u.arn: u for u in state.users.values()}
        self._by_arn.update((r.arn, r) for r in state.roles.values())
        self._principals: dict[str, tuple[User | Role, Principal]] = {}
        if previous is not None and previous.state.account == state.account:
            for arn, (entity, principal) in previous._principals.items():
                if self._by_arn.get(arn) is entity:
                    self._principals[arn] = (entity, principal)

    def user(self, name: str) -> User | None:
        """A user by name, case-insensitively (IAM names are unique regardless of case)."""
        return self._users.get(name.lower())

    def role(self, name: str) -> Role | None:
        return self._roles.get(name.lower())

    def principal(self, arn: str) -> Principal | None:
        """The user or role with this ARN as a Principal (exact ARN match)."""
        entity = self._by_arn.get(arn)
        if entity is None:
            return None
        hit = self._principals.get(arn)
        if hit is not None and hit[0] is entity:
            return hit[1]
        principal = Principal(
            arn=entity.arn,
            account=self.state.account,
            kind="user" if isinstance(entity, User) else "role",
            name=entity.name,
            tags=MappingProxyType(dict(entity.tags)),
            policies=compile_policies(entity),
        )
        self._principals[arn] = (entity, principal)
        return principal

    def access_key(self, access_key_id: str) -> tuple[AccessKey, Principal] | None:
        """The key with this id and the user it belongs to (None: no such key or user)."""
        key = self.state.keys.get(access_key_id)
        if key is None:
            return None
        user = self.state.users.get(key.user_name)
        principal = self.principal(user.arn) if user is not None else None
        return None if principal is None else (key, principal)

    def keys_of(self, user_name: str) -> list[AccessKey]:
        """A user's access keys, oldest first."""
        found = [k for k in self.state.keys.values() if k.user_name == user_name]
        return sorted(found, key=lambda k: (k.created_at, k.access_key_id))


def directory(state: IamState) -> Directory:
    """The Directory of this snapshot (memoised by identity of the state object; the newest
    is checked first: authentication asks for the current snapshot on every call)."""
    if _memo:
        newest = next(reversed(_memo.values()))
        if newest[0] is state:
            return newest[1]
    hit = _memo.get(id(state))
    if hit is not None and hit[0] is state:
        _memo.move_to_end(id(state))
        return hit[1]
    previous = next(reversed(_memo.values()))[1] if _memo else None
    made = Directory(state, previous)
    _memo[id(state)] = (state, made)  # the state is held: its id can't be reused meanwhile
    while len(_memo) > _KEEP:
        _memo.popitem(last=False)
    return made
