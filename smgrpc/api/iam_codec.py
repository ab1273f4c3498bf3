"""IAM proto <-> domain translation (no logic beyond shape)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from smgrpc._pb.iam.v1 import iam_pb2 as pb
from smgrpc.api.codec import set_ts
from smgrpc.core.iam.model import AccessKey, Role, User


class IssuedKey(Protocol):
    """The shown-once key pair a use case returns (crypto.access_keys.NewAccessKey)."""

    @property
    def access_key_id(self) -> str: ...

    @property
    def secret_access_key(self) -> str: ...


def opt(msg: Any, field: str) -> Any:
    """Value of a proto3 optional field, or None when absent."""
    return getattr(msg, field) if msg.HasField(field) else None


def tags_in(tags: Iterable[pb.Tag]) -> list[tuple[str, str]]:
    return [(t.key, t.value) for t in tags]


def _tags_out(into: Any, tags: Iterable[tuple[str, str]]) -> None:
    for k, v in tags:
        into.add(key=k, value=v)


def user_out(u: User, *, tags: bool = True) -> pb.User:
    """A User; ListUsers leaves Tags out, as AWS does."""
    m = pb.User(path=u.path, user_name=u.name, user_id=u.user_id, arn=u.arn)
    set_ts(m.create_date, u.created_at)
    if tags:
        _tags_out(m.tags, u.tags)
    return m


def role_out(r: Role, *, tags: bool = True) -> pb.Role:
    """A Role; ListRoles leaves Tags out, as AWS does."""
    m = pb.Role(
        path=r.path,
        role_name=r.name,
        role_id=r.role_id,
        arn=r.arn,
        assume_role_policy_document=r.assume_role_policy,
        max_session_duration=r.max_session_duration,
    )
    if r.description is not None:
        m.description = r.description
    set_ts(m.create_date, r.created_at)
    if tags:
        _tags_out(m.tags, r.tags)
    return m


def key_metadata_out(k: AccessKey) -> pb.AccessKeyMetadata:
    m = pb.AccessKeyMetadata(user_name=k.user_name, access_key_id=k.access_key_id, status=k.status)
    set_ts(m.create_date, k.created_at)
    return m


def access_key_out(k: AccessKey, issued: IssuedKey) -> pb.AccessKey:
    """The one response that carries a SecretAccessKey (CreateAccessKey)."""
    m = pb.AccessKey(
        user_name=k.user_name,
        access_key_id=k.access_key_id,
        status=k.status,
        secret_access_key=issued.secret_access_key,
    )
    set_ts(m.create_date, k.created_at)
    return m


def page(out: Any, marker: str | None) -> Any:
    """Set IsTruncated / Marker of a list response (AWS: Marker only when truncated)."""
    if marker is not None:
        out.is_truncated = True
        out.marker = marker
    return out
