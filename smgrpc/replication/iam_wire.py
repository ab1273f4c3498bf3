"""IAM replication records and their protobuf encoding (the IAM half of transport.py).

The IAM Region pushes its whole IAM snapshot (users, roles, inline policies, tags, access keys)
to every peer; a snapshot is small (IAM limits bound it) and idempotent, so there is no log,
no cursor and no gap protocol: the receiver keeps the snapshot with the highest
(epoch, generation) and acknowledges every other one as a no-op. Access-key secrets travel only
sealed under the cluster's IAM wire key (AAD: source, target, AccessKeyId).
"""

from __future__ import annotations

from dataclasses import dataclass

from smgrpc._pb.replication.v1 import replication_pb2 as rpb
from smgrpc.core.iam.model import Role, Status, User

OPERATOR = "@operator"  # the "source Region" of an operator's signed MoveIamRegion call
Version = tuple[int, int]  # (epoch, generation)


@dataclass(frozen=True, repr=False)
class WireKey:
    access_key_id: str
    user_name: str
    status: Status
    created_at: float
    sealed_secret: bytes  # under the cluster IAM wire key, bound to (source, target, id)

    def __repr__(self) -> str:
        return f"WireKey({self.access_key_id!r}, user={self.user_name!r}, <sealed>)"


@dataclass(frozen=True)
class IamPush:
    source: str
    target: str
    account: str
    holder: str
    epoch: int
    generation: int
    users: tuple[User, ...] = ()
    roles: tuple[Role, ...] = ()
    keys: tuple[WireKey, ...] = ()

    @property
    def version(self) -> Version:
        return (self.epoch, self.generation)


@dataclass(frozen=True)
class IamAck:
    """The receiver's IAM version after a push or a move, and whether it changed."""

    holder: str
    epoch: int
    generation: int
    applied: bool = False

    @property
    def version(self) -> Version:
        return (self.epoch, self.generation)


@dataclass(frozen=True)
class MoveRequest:
    target: str
    min_epoch: int = 0


def _tags(msg: object, tags: tuple[tuple[str, str], ...]) -> None:
    for k, v in tags:
        msg.tags.add(key=k, value=v)  # type: ignore[attr-defined]


def _policies(msg: object, policies: tuple[tuple[str, str], ...]) -> None:
    for name, doc in policies:
        msg.policies.add(name=name, document=doc)  # type: ignore[attr-defined]


def encode_push(p: IamPush) -> bytes:
    msg = rpb.IamSnapshot(
        source_region=p.source,
        target_region=p.target,
        account=p.account,
        holder=p.holder,
        epoch=p.epoch,
        generation=p.generation,
    )
    for u in p.users:
        mu = msg.users.add(
            name=u.name, user_id=u.user_id, arn=u.arn, path=u.path, created_at=u.created_at
        )
        _tags(mu, u.tags)
        _policies(mu, u.policies)
    for r in p.roles:
        mr = msg.roles.add(
            name=r.name,
            role_id=r.role_id,
            arn=r.arn,
            path=r.path,
            created_at=r.created_at,
            assume_role_policy=r.assume_role_policy,
            max_session_duration=r.max_session_duration,
        )
        if r.description is not None:
            mr.description = r.description
        _tags(mr, r.tags)
        _policies(mr, r.policies)
    for k in p.keys:
        msg.keys.add(
            access_key_id=k.access_key_id,
            user_name=k.user_name,
            status=k.status,
            created_at=k.created_at,
            sealed_secret=k.sealed_secret,
        )
    return msg.SerializeToString()


def _status(raw: str) -> Status:
    if raw not in ("Active", "Inactive"):
        raise ValueError("access key status")
    return "Active" if raw == "Active" else "Inactive"


def decode_push(data: bytes) -> IamPush:
    """Raises ValueError/DecodeError on a malformed snapshot (after authentication only)."""
    m = rpb.IamSnapshot.FromString(data)
    users = tuple(
        User(
            u.name,
            u.user_id,
            u.arn,
            u.path,
            u.created_at,
            tuple((t.key, t.value) for t in u.tags),
            tuple((p.name, p.document) for p in u.policies),
        )
        for u in m.users
    )
    roles = tuple(
        Role(
            r.name,
            r.role_id,
            r.arn,
            r.path,
            r.created_at,
            r.assume_role_policy,
            r.description if r.HasField("description") else None,
            r.max_session_duration,
            tuple((t.key, t.value) for t in r.tags),
            tuple((p.name, p.document) for p in r.policies),
        )
        for r in m.roles
    )
    keys = tuple(
        WireKey(k.access_key_id, k.user_name, _status(k.status), k.created_at, k.sealed_secret)
        for k in m.keys
    )
    return IamPush(
        m.source_region,
        m.target_region,
        m.account,
        m.holder,
        m.epoch,
        m.generation,
        users,
        roles,
        keys,
    )


def encode_move(r: MoveRequest) -> bytes:
    return rpb.MoveIamRequest(target_region=r.target, min_epoch=r.min_epoch).SerializeToString()


def decode_move(data: bytes) -> MoveRequest:
    m = rpb.MoveIamRequest.FromString(data)
    return MoveRequest(m.target_region, m.min_epoch)


def encode_status(target: str) -> bytes:
    return rpb.IamStatusRequest(target_region=target).SerializeToString()


def decode_status(data: bytes) -> str:
    return rpb.IamStatusRequest.FromString(data).target_region


def ack_out(a: IamAck) -> rpb.IamReply:
    return rpb.IamReply(holder=a.holder, epoch=a.epoch, generation=a.generation, applied=a.applied)


def ack_in(m: rpb.IamReply) -> IamAck:
    return IamAck(m.holder, m.epoch, m.generation, m.applied)
