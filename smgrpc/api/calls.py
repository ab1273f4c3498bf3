"""Who the current call runs as: set by the authorization guard before the handler runs.

A ContextVar, because a grpc.aio handler runs in its own task: the value set by the guard in
`handlers.wrap` is seen by the servicer (and nothing else) for that call only.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from smgrpc.core.errors import Unauthenticated
from smgrpc.core.iam.model import Principal
from smgrpc.core.policy.context import Caller

# Authorized's check of one listed secret: (principal, caller, operation, secret) -> the
# AccessDenied message, or None if the caller may see it.
Items = Callable[[Principal, Caller, str, Any], str | None]


class Authorized:
    """The authenticated principal of one call and the global request keys of its caller.

    Immutable: the guard hands one object to every identical call whose allow it cached.
    `caller` is the Caller given, or made when asked for (most handlers never ask; each ask
    makes one, with the time of asking as aws:CurrentTime). `denied` is None, or (asked once
    per call) `(operation, secret) -> AccessDenied message or None` for one Caller: ListSecrets
    and BatchGetSecretValue filter with it (set by the guard).
    """

    __slots__ = ("principal", "_caller", "_items")

    def __init__(
        self,
        principal: Principal,
        caller: Caller | Callable[[], Caller],
        items: Items | None = None,
    ) -> None:
        self.principal = principal
        self._caller = caller
        self._items = items

    @property
    def caller(self) -> Caller:
        got = self._caller
        return got if isinstance(got, Caller) else got()

    @property
    def denied(self) -> Callable[[str, Any], str | None] | None:
        items = self._items
        if items is None:
            return None
        principal, caller = self.principal, self.caller
        return lambda operation, secret: items(principal, caller, operation, secret)


CURRENT: ContextVar[Authorized | None] = ContextVar("smgrpc_caller", default=None)


def current() -> Authorized:
    """The caller of the running call (Unauthenticated if no guard ran: fail closed)."""
    got = CURRENT.get()
    if got is None:
        raise Unauthenticated("The security token included in the request is invalid.")
    return got
