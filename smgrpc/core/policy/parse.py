"""Parse and validate a policy document into an immutable compiled Policy.

Every problem raises MalformedPolicyDocument with an IAM-style message. Accepted grammar:
top level {Version?, Id?, Statement}; Version "2012-10-17" or "2008-10-17" (absent means
2008-10-17, under which policy variables are literal text); Statement an object or a
non-empty list; per statement Sid? (unique), Effect Allow|Deny, exactly one of
Action/NotAction ("*" or "service:Name" with `*`/`?`), exactly one of Resource/NotResource,
Principal/NotPrincipal (required in resource policies, forbidden in identity policies),
Condition {operator: {key: value | [values]}}. Duplicate JSON keys are rejected.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from smgrpc.core.errors import MalformedPolicyDocument
from smgrpc.core.policy.conditions import Condition, compile_condition
from smgrpc.core.policy.match import GlobSet

Kind = Literal["identity", "resource"]
MAX_RESOURCE_POLICY_CHARS = 20_480
VERSIONS = ("2012-10-17", "2008-10-17")
_TOP = frozenset({"Version", "Id", "Statement"})
_STMT = frozenset(
    {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource"}
    | {"Principal", "NotPrincipal", "Condition"}
)
_ACTION = re.compile(r"\*|[A-Za-z0-9-]+:[A-Za-z0-9*?]+")
_ACCOUNT = re.compile(r"\d{12}")
_PRINCIPAL_ARN = re.compile(r"arn:aws[a-z-]*:(iam|sts)::(\d{12}):[^*?]+")


@dataclass(frozen=True, slots=True)
class Principals:
    """Who a Principal element names: everyone, whole accounts, or exact ARNs."""

    everyone: bool
    accounts: frozenset[str]
    arns: frozenset[str]

    def matches(self, arn: str, account: str) -> bool:
        return self.everyone or account in self.accounts or arn in self.arns

    def names(self, arn: str) -> bool:
        """Whether the caller is named itself (or everyone is), not only through its account:
        an account principal delegates to the account's IAM policies, it grants nobody."""
        return self.everyone or arn in self.arns


@dataclass(frozen=True, slots=True)
class Statement:
    index: int
    sid: str | None
    allow: bool
    actions: GlobSet
    not_action: bool
    resources: GlobSet
    not_resource: bool
    principals: Principals | None
    not_principal: bool
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Policy:
    """A compiled policy; `denies`/`allows` are its statements split by Effect."""

    kind: Kind
    name: str
    version: str
    statements: tuple[Statement, ...]
    denies: tuple[Statement, ...]
    allows: tuple[Statement, ...]
    # Its decisions cannot change with the clock: no aws:CurrentTime/EpochTime condition, no
    # condition value with a policy variable, no clock variable in an Action/Resource pattern
    # (callers may cache its decisions per principal and request).
    clock_free: bool = True


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise MalformedPolicyDocument(f"Duplicate key {k!r} in policy")
        out[k] = v
    return out


def _strings(value: Any, element: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, str) and v for v in items):
        raise MalformedPolicyDocument(f"{element} must be a non-empty string or list of strings")
    return tuple(items)


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float, str)):
        return str(v)
    raise MalformedPolicyDocument("Condition values must be strings, numbers or booleans")


def _principals(value: Any) -> Principals:
    if value == "*":
        return Principals(True, frozenset(), frozenset())
    if not isinstance(value, dict) or not value:
        raise MalformedPolicyDocument("Invalid principal in policy")
    accounts: set[str] = set()
    arns: set[str] = set()
    everyone = False
    for ptype, ids in value.items():
        if ptype not in ("AWS", "Service", "Federated", "CanonicalUser"):
            raise MalformedPolicyDocument(f"Invalid principal in policy: {ptype!r}")
        for ident in _strings(ids, "Principal"):
            if ptype != "AWS":
                continue  # never the caller of a same-account IAM request
            if ident == "*":
                everyone = True
            elif _ACCOUNT.fullmatch(ident):
                accounts.add(ident)
            elif (m := _PRINCIPAL_ARN.fullmatch(ident)) is not None:
                if ident.endswith(":root"):
                    accounts.add(m.group(2))
                else:
                    arns.add(ident)
            else:
                raise MalformedPolicyDocument(f"Invalid principal in policy: {ident!r}")
    return Principals(everyone, frozenset(accounts), frozenset(arns))


def _conditions(block: Any, variables: bool) -> tuple[Condition, ...]:
    if not isinstance(block, dict):
        raise MalformedPolicyDocument("Condition must be an object")
    out = []
    for op, keys in block.items():
        if not isinstance(keys, dict) or not keys:
            raise MalformedPolicyDocument(f"Condition operator {op} must map keys to values")
        for key, vals in keys.items():
            items = vals if isinstance(vals, list) else [vals]
            out.append(compile_condition(op, key, tuple(_scalar(v) for v in items), variables))
    return tuple(out)


def _one_of(st: dict[str, Any], a: str, b: str, required: bool) -> tuple[Any, bool]:
    if a in st and b in st:
        raise MalformedPolicyDocument(f"Statement cannot contain both {a} and {b}")
    if required and a not in st and b not in st:
        noun = {"Action": "actions", "Resource": "resources", "Principal": "a principal"}[a]
        raise MalformedPolicyDocument(f"Policy statement must contain {noun}.")
    return (st[b], True) if b in st else (st.get(a), False)


def _statement(i: int, st: Any, kind: Kind, variables: bool) -> Statement:
    if not isinstance(st, dict):
        raise MalformedPolicyDocument("Syntax errors in policy.")
    unknown = set(st) - _STMT
    if unknown:
        raise MalformedPolicyDocument(f"Syntax errors in policy: unknown field {min(unknown)}")
    effect = st.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise MalformedPolicyDocument(
            "Missing required field Effect" if effect is None else f"Invalid effect: {effect}"
        )
    sid = st.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise MalformedPolicyDocument("Statement IDs (SID) must be strings")
    actions, not_action = _one_of(st, "Action", "NotAction", True)
    acts = _strings(actions, "Action")
    for a in acts:
        if not _ACTION.fullmatch(a):
            raise MalformedPolicyDocument(
                "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
            )
    resources, not_resource = _one_of(st, "Resource", "NotResource", True)
    principal, not_principal = _one_of(st, "Principal", "NotPrincipal", kind == "resource")
    if kind == "identity" and principal is not None:
        raise MalformedPolicyDocument("Policy document should not specify a principal.")
    return Statement(
        index=i,
        sid=sid,
        allow=effect == "Allow",
        actions=GlobSet.of(acts, ignore_case=True, variables=False),
        not_action=not_action,
        resources=GlobSet.of(
            _strings(resources, "Resource"), ignore_case=False, variables=variables
        ),
        not_resource=not_resource,
        principals=_principals(principal) if principal is not None else None,
        not_principal=not_principal,
        conditions=_conditions(st["Condition"], variables) if "Condition" in st else (),
    )


def parse_policy(
    text: str, *, kind: Kind, name: str = "", max_chars: int = MAX_RESOURCE_POLICY_CHARS
) -> Policy:
    """Compile a policy document; raises MalformedPolicyDocument on any problem."""
    if len(text) > max_chars:
        raise MalformedPolicyDocument(
            f"The policy document exceeds the limit of {max_chars} characters."
        )
    try:
        doc = json.loads(text, object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError):
        raise MalformedPolicyDocument("Syntax errors in policy.") from None
    if not isinstance(doc, dict):
        raise MalformedPolicyDocument("Syntax errors in policy.")
    if set(doc) - _TOP:
        raise MalformedPolicyDocument(
            f"Syntax errors in policy: unknown field {min(set(doc) - _TOP)}"
        )
    version = doc.get("Version", "2008-10-17")
    if version not in VERSIONS:
        raise MalformedPolicyDocument("The policy must contain a valid version string")
    body = doc.get("Statement")
    stmts = body if isinstance(body, list) else [body] if isinstance(body, dict) else []
    if not stmts:
        raise MalformedPolicyDocument("Policy document must contain a Statement")
    variables = version == "2012-10-17"
    compiled = tuple(_statement(i, s, kind, variables) for i, s in enumerate(stmts))
    sids = [s.sid for s in compiled if s.sid is not None]
    if len(sids) != len(set(sids)):
        raise MalformedPolicyDocument("Statement IDs (SID) in a single policy must be unique.")
    return Policy(
        kind=kind,
        name=name,
        version=version,
        statements=compiled,
        denies=tuple(s for s in compiled if not s.allow),
        allows=tuple(s for s in compiled if s.allow),
        clock_free=not any(_reads_clock(st) for st in compiled),
    )


_CLOCK_KEYS = frozenset({"aws:currenttime", "aws:epochtime"})


def _reads_clock(st: Statement) -> bool:
    if any(c.key in _CLOCK_KEYS or c.dynamic for c in st.conditions):
        return True
    patterns = (*st.actions.dynamic, *st.resources.dynamic)
    return any("${aws:currenttime" in p.lower() or "${aws:epochtime" in p.lower() for p in patterns)
