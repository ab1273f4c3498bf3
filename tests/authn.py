"""Credentials for tests: real IAM snapshots (users, access keys sealed by the Region's vault)
and a channel interceptor that sends a Bearer credential with every call."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import grpc

from smgrpc.core.iam.model import AccessKey, IamState, User
from smgrpc.crypto.access_keys import AccessKeyVault, generate

ADMIN_POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)


def policy(*statements: Mapping[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def metadata(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


class IamBox:
    """The IAM snapshot a test Region's guard reads (`Region(..., iam=box)`); every change
    makes a new IamState, as the IAM use cases do."""

    def __init__(self, account: str = "123456789012", holder: str = "us-east-1") -> None:
        self.state = IamState(account, holder)
        self.vault: AccessKeyVault | None = None

    def __call__(self) -> IamState:
        return self.state

    def bind(self, vault: AccessKeyVault) -> None:
        self.vault = vault

    def add_user(
        self,
        name: str,
        policies: Mapping[str, str] | None = None,
        tags: Sequence[tuple[str, str]] = (),
    ) -> str:
        """A user with one Active access key; returns its `<AccessKeyId>:<Secret>` token."""
        assert self.vault is not None, "bind the Region's vault first"
        s = self.state
        arn = f"arn:aws:iam::{s.account}:user/{name}"
        user = User(
            name,
            f"AIDA{name.upper():0<16}"[:20],
            arn,
            "/",
            0.0,
            tuple(tags),
            tuple((policies or {}).items()),
        )
        new = generate()
        stored = self.vault.seal(new)
        key = AccessKey(new.access_key_id, name, "Active", 0.0, stored.sealed, stored.digest)
        self.state = dataclasses.replace(
            s,
            generation=s.generation + 1,
            users={**s.users, name: user},
            keys={**s.keys, key.access_key_id: key},
        )
        return f"{new.access_key_id}:{new.secret_access_key}"

    def set_key_status(self, token: str, status: str) -> None:
        kid = token.split(":", 1)[0]
        s = self.state
        key = dataclasses.replace(s.keys[kid], status=status)
        self.state = dataclasses.replace(s, generation=s.generation + 1, keys={**s.keys, kid: key})

    def delete_key(self, token: str) -> None:
        kid = token.split(":", 1)[0]
        s = self.state
        keys = {k: v for k, v in s.keys.items() if k != kid}
        self.state = dataclasses.replace(s, generation=s.generation + 1, keys=keys)

    def put_policy(self, name: str, policy_name: str, document: str) -> None:
        s = self.state
        user = s.users[name]
        pols = dict(user.policies)
        pols[policy_name] = document
        users = {**s.users, name: dataclasses.replace(user, policies=tuple(pols.items()))}
        self.state = dataclasses.replace(s, generation=s.generation + 1, users=users)


class _Bearer(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    """Adds `authorization: Bearer <token>` to every call that has none of its own."""

    def __init__(self, token: Callable[[], str | None]) -> None:
        self._token = token

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        token = self._token()
        md = list(details.metadata or ())
        if token and not any(k == "authorization" for k, _ in md):
            md.append(("authorization", f"Bearer {token}"))
            details = details._replace(metadata=grpc.aio.Metadata(*md))
        return await continuation(details, request)


def channel(addr: str, token: str | Callable[[], str | None] | None) -> grpc.aio.Channel:
    """An insecure channel to addr that sends the token (a string, or read per call)."""
    get = token if callable(token) else (lambda: token)
    return grpc.aio.insecure_channel(addr, interceptors=[_Bearer(get)])
