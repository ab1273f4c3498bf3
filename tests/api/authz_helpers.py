"""Users, credentials and resource policies for the authorization tests (real IAM use cases)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.app import Region
from tests.authn import channel, policy

ACCOUNT = "123456789012"


def allow(action: str = "*", resource: str = "*", **cond: Any) -> dict[str, Any]:
    st: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if cond:
        st["Condition"] = cond
    return st


def deny(action: str = "*", resource: str = "*", **cond: Any) -> dict[str, Any]:
    return {**allow(action, resource, **cond), "Effect": "Deny"}


async def user(
    region: Region,
    name: str,
    *statements: Mapping[str, Any],
    tags: Sequence[tuple[str, str]] = (),
) -> str:
    """A user with one inline policy of these statements (none: no policy) and an access
    key; returns its `<AccessKeyId>:<SecretAccessKey>` credential."""
    await region.iam.create_user(name, tags=list(tags))
    if statements:
        await region.iam.put_user_policy(name, "p", policy(*statements))
    _, issued = await region.iam.create_access_key(name)
    return f"{issued.access_key_id}:{issued.secret_access_key}"


def stub_for(region: Region, token: str | None) -> tuple[Any, pbg.SecretsManagerStub]:
    ch = channel(f"127.0.0.1:{region.port}", token)
    return ch, pbg.SecretsManagerStub(ch)


async def set_resource_policy(region: Region, secret_id: str, document: str | None) -> None:
    """Store a resource policy on a secret (through the store, as PutResourcePolicy will)."""
    async with region.store.transaction() as tx:
        s = tx.find(secret_id)
        assert s is not None
        await tx.save(s.evolve(policy=document))


def resource_statement(effect: str, principal_arn: str, action: str = "*") -> dict[str, Any]:
    return {
        "Effect": effect,
        "Principal": {"AWS": principal_arn},
        "Action": action,
        "Resource": "*",
    }


def user_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/{name}"
