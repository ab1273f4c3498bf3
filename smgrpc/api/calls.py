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


class Authorized:
    """The authenticated principal and the global request keys of one call.

    `caller` is made when first asked for (most handlers never ask: building it costs a few
    microseconds per call); `denied(operation, secret)` is the AccessDenied message for one
    listed secret or None (ListSecrets / BatchGetSecretValue filter with it; set by the guard).
    """

    __slots__ = ("principal", "_make", "_made", "denied")

    def __init__(
        self,
        principal: Principal,
        caller: Caller | Callable[[], Caller],
        denied: Callable[[str, Any], str | None] | None = None,
    ) -> None:
        self.principal = principal
        self._made: Caller | None
        self._make: Callable[[], Caller]
        if isinstance(caller, Caller):
            given = caller
            self._made, self._make = given, lambda: given
        else:
            self._made, self._make = None, caller
        self.denied = denied

    @property
    def caller(self) -> Caller:
        made = self._made
        if made is None:
            made = self._made = self._make()
        return made


CURRENT: ContextVar[Authorized | None] = ContextVar("smgrpc_caller", default=None)


def current() -> Authorized:
    """The caller of the running call (Unauthenticated if no guard ran: fail closed)."""
    got = CURRENT.get()
    if got is None:
        raise Unauthenticated("The security token included in the request is invalid.")
    return got
