"""Who the current call runs as: set by the authorization guard before the handler runs.

A ContextVar, because a grpc.aio handler runs in its own task: the value set by the guard in
`handlers.wrap` is seen by the servicer (and nothing else) for that call only.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from smgrpc.core.errors import Unauthenticated
from smgrpc.core.iam.model import Principal
from smgrpc.core.policy.context import Caller


@dataclass(frozen=True, slots=True)
class Authorized:
    """The authenticated principal and the global request keys of one call."""

    principal: Principal
    caller: Caller
    # (operation, secret) -> the AccessDenied message for that secret, or None if allowed:
    # ListSecrets / BatchGetSecretValue filter what they return with it (set by the guard).
    denied: Callable[[str, Any], str | None] | None = None


CURRENT: ContextVar[Authorized | None] = ContextVar("smgrpc_caller", default=None)


def current() -> Authorized:
    """The caller of the running call (Unauthenticated if no guard ran: fail closed)."""
    got = CURRENT.get()
    if got is None:
        raise Unauthenticated("The security token included in the request is invalid.")
    return got
