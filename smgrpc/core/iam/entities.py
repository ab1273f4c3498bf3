"""Pure IamState transitions: each returns a new snapshot and leaves the old one untouched.

Unchanged users, roles and keys stay the very same objects in the new snapshot (the store's
diff and the Directory's principal cache rely on that identity).
"""

from __future__ import annotations

import secrets
from dataclasses import replace

from smgrpc.core.arn import partition_for
from smgrpc.core.iam.model import AccessKey, IamState, Role, User

_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # AWS unique ids: base32-like uppercase


def unique_id(prefix: str) -> str:
    """An AWS-shaped unique id: "AIDA" (user) / "AROA" (role) + 16 characters."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))


def entity_arn(state: IamState, kind: str, path: str, name: str) -> str:
    """arn:<partition>:iam::<account>:<kind><path><name> (IAM is global: no Region)."""
    return f"arn:{partition_for(state.holder)}:iam::{state.account}:{kind}{path}{name}"


def with_user(state: IamState, user: User) -> IamState:
    return replace(state, users={**state.users, user.name: user})


def without_user(state: IamState, name: str) -> IamState:
    users = dict(state.users)
    del users[name]
    keys = {k: v for k, v in state.keys.items() if v.user_name != name}
    return replace(state, users=users, keys=keys if len(keys) != len(state.keys) else state.keys)


def with_role(state: IamState, role: Role) -> IamState:
    return replace(state, roles={**state.roles, role.name: role})


def without_role(state: IamState, name: str) -> IamState:
    roles = dict(state.roles)
    del roles[name]
    return replace(state, roles=roles)


def with_key(state: IamState, key: AccessKey) -> IamState:
    return replace(state, keys={**state.keys, key.access_key_id: key})


def without_key(state: IamState, access_key_id: str) -> IamState:
    keys = dict(state.keys)
    del keys[access_key_id]
    return replace(state, keys=keys)


def put_policy(
    policies: tuple[tuple[str, str], ...], name: str, document: str
) -> tuple[tuple[str, str], ...]:
    """Add or replace (same name) an inline policy; kept sorted by name (the listing order)."""
    kept = [(n, d) for n, d in policies if n != name]
    kept.append((name, document))
    return tuple(sorted(kept))


def drop_policy(policies: tuple[tuple[str, str], ...], name: str) -> tuple[tuple[str, str], ...]:
    return tuple((n, d) for n, d in policies if n != name)
