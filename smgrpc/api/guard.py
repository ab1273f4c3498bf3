"""Authentication and authorization of every call, in one place before the handler.

`handlers.wrap` calls `authenticate(context)` after admission, then `authorize(...)`, then sets
`calls.CURRENT`. Authentication: a verified client certificate's identity (the mTLS hook,
auth/mtls.py `identity(auth_context)`, when one is configured), else the Bearer access key of
the `authorization` metadata (strict parsing; the id looked up in the current IAM snapshot;
Active status; the secret checked in constant time against its keyed digest). Any failure is
UnrecognizedClientException with AWS's one message; the header is never logged.

Authorization: each service supplies a planner (method, request) → (the `Needed` requests
of the call, the resource policy text of its resource). Every request must be allowed by the
caller's identity policies or the resource policy (evaluate: explicit Deny wins). A denial is
AccessDeniedException worded by `Decision.denied_message` (AWS's words). Resource policies are
compiled once per text (an LRU): a changed policy is a new text, so it is seen at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from smgrpc.api.calls import Authorized
from smgrpc.api.principals import Principals
from smgrpc.auth import bearer
from smgrpc.core.errors import AccessDenied, MalformedPolicyDocument, Unauthenticated
from smgrpc.core.iam.model import Principal
from smgrpc.core.policy import Decision, Policy, Request, evaluate, parse_policy
from smgrpc.core.policy.context import Call, Caller, Needed, needs
from smgrpc.core.ports import Clock
from smgrpc.crypto.access_keys import AccessKeyVault, VaultMinter

Plan = tuple[Sequence[Needed], str | None]
Planner = Callable[[str, Any], Plan]
Identity = Callable[[Any], str | None]  # auth/mtls.py identity(auth_context) (hD)
_RESOURCE_ACTIONS = "secretsmanager:"
_DENY_ALL = parse_policy(
    '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*",'
    '"Action":"*","Resource":"*"}]}',
    kind="resource",
    name="<uncompilable stored policy>",
)


def unrecognized(reason: str = "") -> Unauthenticated:
    """UnrecognizedClientException with AWS's message (the reason is never shown)."""
    return Unauthenticated(bearer.UNRECOGNIZED)


@lru_cache(maxsize=4096)
def resource_policy(text: str) -> Policy:
    """A secret's resource policy, compiled once per text (stored text was validated)."""
    try:
        return parse_policy(text, kind="resource", max_chars=1 << 20)
    except MalformedPolicyDocument:
        return _DENY_ALL  # fail closed


def source_ip(peer: str) -> str | None:
    """The address part of grpc's peer string: ipv4:1.2.3.4:5 / ipv6:[::1]:5 (else None)."""
    kind, _, rest = peer.partition(":")
    if kind == "ipv4":
        return rest.rpartition(":")[0] or None
    if kind == "ipv6":
        return rest.rpartition(":")[0].strip("[]") or None
    return None


def _secure(context: Any) -> bool:
    types = context.auth_context().get("transport_security_type") or ()
    return any(t not in (b"insecure", b"local") for t in types)


@dataclass(frozen=True, slots=True)
class Denial:
    """Why a request is denied (evaluator request + decision): its message is AWS's."""

    request: Request
    decision: Decision

    @property
    def message(self) -> str:
        return self.decision.denied_message(self.request)


def check(
    principal: Principal, caller: Caller, needed: Sequence[Needed], policy_text: str | None
) -> Denial | None:
    """The first request of `needed` the policies do not allow (None: all allowed)."""
    policy = resource_policy(policy_text) if policy_text else None
    for need in needed:
        req = need.request(caller)
        res = policy if need.action.startswith(_RESOURCE_ACTIONS) else None
        decision = evaluate(req, principal.policies, res)
        if not decision.allowed:
            return Denial(req, decision)
    return None


class Guard:
    """Authenticates callers against the current IAM snapshot (shared by every service)."""

    def __init__(
        self,
        principals: Principals,
        vault: AccessKeyVault,
        clock: Clock,
        identity: Identity | None = None,
    ) -> None:
        self.principals = principals
        self._verify = VaultMinter(vault).verify
        self.clock = clock
        self.identity = identity  # hook: mTLS client-certificate identity (auth/mtls.py)
        self._peers: dict[str, tuple[str | None, bool]] = {}

    def authenticate(self, context: Any) -> Principal:
        """The caller's principal, or Unauthenticated (UnrecognizedClientException)."""
        snap = self.principals.current()
        if self.identity is not None:
            arn = self.identity(context.auth_context())
            if arn is not None:
                found = snap.principal(arn)
                if found is None:
                    raise unrecognized("certificate names no IAM user or role")
                return found
        try:
            cred = bearer.from_metadata(context.invocation_metadata() or ())
        except bearer.CredentialError as exc:
            raise unrecognized(exc.reason) from None
        got = snap.access_key(cred.access_key_id)
        if got is None:
            raise unrecognized("unknown access key")
        key, principal = got
        if not self._verify(key, cred.secret_access_key):
            raise unrecognized("wrong secret")
        if key.status != "Active":
            raise unrecognized("inactive access key")
        return principal

    def caller(self, principal: Principal, context: Any) -> Caller:
        """The global request keys: source IP, secure transport, current time."""
        peer = context.peer() or ""
        seen = self._peers.get(peer)
        if seen is None:
            seen = (source_ip(peer), _secure(context))
            if len(self._peers) > 10_000:
                self._peers.clear()
            self._peers[peer] = seen
        return Caller(
            principal.arn,
            principal.account,
            principal.tags,
            seen[0],
            seen[1],
            datetime.fromtimestamp(self.clock.now(), UTC),
        )


class ServiceGuard:
    """The guard of one service: its planner, plus per-item checks for listings."""

    def __init__(
        self,
        guard: Guard,
        planner: Planner,
        item: Callable[[str, Any], Call] | None = None,
        lockout: Callable[[str, Any, Principal, Caller], str | None] | None = None,
    ) -> None:
        self.guard = guard
        self.planner = planner
        self.item = item
        self.lockout = lockout

    def authenticate(self, context: Any) -> Principal:
        return self.guard.authenticate(context)

    def authorize(
        self, principal: Principal, method: str, request: Any, context: Any
    ) -> Authorized:
        """Every request of the call allowed, else AccessDenied; the caller for the handler."""
        caller = self.guard.caller(principal, context)
        needed, policy = self.planner(method, request)
        denial = check(principal, caller, needed, policy)
        if denial is not None:
            raise AccessDenied(denial.message, resource=denial.request.resource)
        if self.lockout is not None:
            locked = self.lockout(method, request, principal, caller)
            if locked is not None:
                raise AccessDenied(locked)
        if self.item is None:
            return Authorized(principal, caller)
        return Authorized(principal, caller, _Items(self.item, principal, caller))


class _Items:
    """`Authorized.denied`: the denial message of one listed secret for this caller, or None."""

    __slots__ = ("_item", "_principal", "_caller")

    def __init__(self, item: Callable[[str, Any], Call], principal: Principal, caller: Caller):
        self._item = item
        self._principal = principal
        self._caller = caller

    def __call__(self, operation: str, secret: Any) -> str | None:
        call = self._item(operation, secret)
        denial = check(self._principal, self._caller, needs(call), secret.policy)
        return None if denial is None else denial.message
