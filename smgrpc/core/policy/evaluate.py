"""Evaluate compiled policies for one request (same account; cross-account needs both sides).

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html:
an applicable explicit Deny in any policy is final; otherwise an Allow from an identity policy
or from the resource policy allows (same account; across accounts both must allow); otherwise
the request is implicitly denied. A statement applies when its Principal (resource policies),
Action, Resource and every Condition match.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from smgrpc.core.policy.parse import Kind, Policy, Statement

ContextValue = str | bool | int | float | datetime | Sequence[str]
Outcome = Literal["allow", "explicit_deny", "implicit_deny"]
_KIND_WORDS = {"identity": "an identity-based policy", "resource": "a resource-based policy"}


def _norm(value: ContextValue) -> tuple[str, ...]:
    if isinstance(value, bool):
        return ("true" if value else "false",)
    if isinstance(value, datetime):
        return (value.isoformat(),)
    if isinstance(value, (int, float, str)):
        return (str(value),)
    return tuple(value)


@dataclass(frozen=True, slots=True)
class Request:
    """What is being asked. `context` keys are lower-case; every value is a tuple of strings."""

    principal_arn: str
    principal_account: str
    action: str
    resource: str
    context: Mapping[str, tuple[str, ...]]

    @classmethod
    def build(
        cls,
        *,
        principal_arn: str,
        principal_account: str,
        action: str,
        resource: str,
        principal_tags: Mapping[str, str] | None = None,
        keys: Mapping[str, ContextValue] | None = None,
    ) -> Request:
        """A request with the global aws:Principal* keys filled in from the principal."""
        ctx: dict[str, tuple[str, ...]] = {
            "aws:principalarn": (principal_arn,),
            "aws:principalaccount": (principal_account,),
        }
        _, _, res = principal_arn.partition(":user/")
        if res:
            ctx["aws:username"] = (res.rsplit("/", 1)[-1],)
            ctx["aws:principaltype"] = ("User",)
        elif ":role/" in principal_arn or ":assumed-role/" in principal_arn:
            ctx["aws:principaltype"] = ("AssumedRole",)
        for k, v in (principal_tags or {}).items():
            ctx[f"aws:principaltag/{k}".lower()] = (v,)
        for k, val in (keys or {}).items():
            ctx[k.lower()] = _norm(val)
        return cls(principal_arn, principal_account, action, resource, ctx)

    def resolve(self, name: str) -> str | None:
        """The value of a policy variable: a single-valued context key, else None."""
        got = self.context.get(name.lower())
        return got[0] if got is not None and len(got) == 1 else None


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict and what decided it (the statement, or which policy type allowed nothing)."""

    outcome: Outcome
    kind: Kind | None  # policy type of the deciding statement, or the one that allowed nothing
    policy_name: str | None = None
    sid: str | None = None
    statement_index: int | None = None

    @property
    def allowed(self) -> bool:
        return self.outcome == "allow"

    def explanation(self, action: str) -> str:
        """AWS's tail of the AccessDenied message (or a note on what allowed)."""
        words = _KIND_WORDS[self.kind or "identity"]
        if self.outcome == "explicit_deny":
            return f"with an explicit deny in {words}"
        if self.outcome == "implicit_deny":
            noun = words.split(" ", 1)[1]
            return f"because no {noun} allows the {action} action"
        where = f"statement {self.sid!r}" if self.sid else f"statement #{self.statement_index}"
        return f"allowed by {where} of {words}"

    def denied_message(self, request: Request) -> str:
        """AccessDeniedException message, worded as AWS does."""
        return (
            f"User: {request.principal_arn} is not authorized to perform: {request.action} "
            f"on resource: {request.resource} {self.explanation(request.action)}"
        )


def statement_applies(st: Statement, req: Request) -> bool:
    if st.principals is not None:
        named = st.principals.matches(req.principal_arn, req.principal_account)
        if named == st.not_principal:
            return False
    if st.actions.matches(req.action, req.resolve) == st.not_action:
        return False
    if st.resources.matches(req.resource, req.resolve) == st.not_resource:
        return False
    return all(c.test(req.context, req.resolve) for c in st.conditions)


def _names_caller(st: Statement, req: Request) -> bool:
    """A resource-policy Allow grants a same-account caller by itself only if it names the
    caller (its ARN, or "*"), not merely the caller's account (AWS: an account principal
    delegates to that account's identity policies)."""
    p = st.principals
    return p is None or st.not_principal or p.names(req.principal_arn)


def _first(
    policies: Iterable[Policy], req: Request, allow: bool, direct: bool = False
) -> Decision | None:
    for p in policies:
        for st in p.allows if allow else p.denies:
            if statement_applies(st, req) and (not direct or _names_caller(st, req)):
                outcome: Outcome = "allow" if allow else "explicit_deny"
                return Decision(outcome, p.kind, p.name or None, st.sid, st.index)
    return None


def _resource_account(arn: str) -> str | None:
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 and parts[0] == "arn" and parts[4] else None


def evaluate(
    request: Request, identity: Sequence[Policy] = (), resource: Policy | None = None
) -> Decision:
    """Decide `request` against the caller's identity policies and the resource's policy."""
    res = (resource,) if resource is not None else ()
    denied = _first(identity, request, False) or _first(res, request, False)
    if denied is not None:
        return denied
    by_identity = _first(identity, request, True)
    owner = _resource_account(request.resource)
    if owner is not None and owner != request.principal_account:
        if by_identity is None:
            return Decision("implicit_deny", "identity")
        return _first(res, request, True) or Decision("implicit_deny", "resource")
    if by_identity is not None:
        return by_identity
    return _first(res, request, True, direct=True) or Decision("implicit_deny", "identity")
