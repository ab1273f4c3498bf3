"""IAM entities as frozen values, and the immutable snapshot authentication reads.

Shared contract of the access-control work (storage, use cases, API, replication, authz all
code against these names). Extend with fields; do not rename.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from smgrpc.core.policy import Policy

Kind = Literal["user", "role"]
Status = Literal["Active", "Inactive"]
Tags = tuple[tuple[str, str], ...]
_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class User:
    """arn:aws:iam::<account>:user<path><name>; policies: inline name -> document text."""

    name: str
    user_id: str
    arn: str
    path: str
    created_at: float
    tags: Tags = ()
    policies: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Role:
    """arn:aws:iam::<account>:role<path><name>."""

    name: str
    role_id: str
    arn: str
    path: str
    created_at: float
    assume_role_policy: str
    description: str | None = None
    max_session_duration: int = 3600
    tags: Tags = ()
    policies: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, repr=False)
class AccessKey:
    """A user's access key as stored: the secret only sealed and as a keyed digest (crypto's
    AccessKeyVault makes and checks both; they are opaque bytes to the domain)."""

    access_key_id: str
    user_name: str
    status: Status
    created_at: float
    sealed: bytes
    digest: bytes

    def __repr__(self) -> str:
        return f"AccessKey({self.access_key_id!r}, user={self.user_name!r}, {self.status})"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a call runs as: an IAM user or role, with its compiled identity policies."""

    arn: str
    account: str
    kind: Kind
    name: str
    tags: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    policies: tuple[Policy, ...] = ()


@dataclass(frozen=True, slots=True)
class IamState:
    """One immutable snapshot of the account's IAM data.

    `holder` is the Region that accepts IAM writes and `epoch` fences a moved holder: a
    Region applies a replicated snapshot only if (epoch, generation) is higher than its own.
    """

    account: str
    holder: str
    epoch: int = 0
    generation: int = 0
    users: Mapping[str, User] = field(default_factory=dict)
    roles: Mapping[str, Role] = field(default_factory=dict)
    keys: Mapping[str, AccessKey] = field(default_factory=dict)
