"""Condition operators: compile a Condition block once, test it against a request context.

Semantics (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
and ..._condition-single-vs-multi-valued-context-keys.html):
- every operator in a block, and every key under an operator, must be true (AND);
- the values listed for one key are alternatives (OR); a negated operator (StringNotEquals,
  ArnNotLike, NumericNotEquals, NotIpAddress, ...) is true when the request value matches
  none of them;
- a key missing from the context makes a positive operator false and a negated one true;
  `...IfExists` makes any operator true on a missing key; `Null: true` means "absent";
- ForAnyValue: true if some request value satisfies the operator (false on a missing or
  empty set); ForAllValues: true if every request value does (true on a missing/empty set);
  without a qualifier a multi-valued key behaves like ForAnyValue (negated: none matches).
"""

from __future__ import annotations

import ipaddress
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from smgrpc.core.errors import MalformedPolicyDocument
from smgrpc.core.policy.match import Resolver, any_glob, arn_like, has_variables, substitute

Context = Mapping[str, tuple[str, ...]]
Pred = Callable[[str], bool]
_CMP: dict[str, Callable[[float, float], bool]] = {
    "Equals": operator.eq,
    "NotEquals": operator.eq,
    "LessThan": operator.lt,
    "LessThanEquals": operator.le,
    "GreaterThan": operator.gt,
    "GreaterThanEquals": operator.ge,
}
# lower-case operator name -> (canonical name, family, negated)
OPERATORS: dict[str, tuple[str, str, bool]] = {}


def _register(name: str, family: str, negated: bool) -> None:
    OPERATORS[name.lower()] = (name, family, negated)


for _n, _f, _neg in (
    ("StringEquals", "str", False),
    ("StringNotEquals", "str", True),
    ("StringEqualsIgnoreCase", "stri", False),
    ("StringNotEqualsIgnoreCase", "stri", True),
    ("StringLike", "like", False),
    ("StringNotLike", "like", True),
    ("ArnEquals", "arn", False),
    ("ArnLike", "arn", False),
    ("ArnNotEquals", "arn", True),
    ("ArnNotLike", "arn", True),
    ("BinaryEquals", "str", False),
    ("Bool", "bool", False),
    ("IpAddress", "ip", False),
    ("NotIpAddress", "ip", True),
):
    _register(_n, _f, _neg)
for _cmp in _CMP:
    _register(f"Numeric{_cmp}", f"num:{_cmp}", _cmp == "NotEquals")
    _register(f"Date{_cmp}", f"date:{_cmp}", _cmp == "NotEquals")


def _number(text: str) -> float | None:
    try:
        n = float(text)
    except ValueError:
        return None
    return n if math.isfinite(n) else None


def parse_date(text: str) -> float | None:
    """Epoch seconds of an ISO 8601 date/time (UTC when no offset) or of an epoch number."""
    n = _number(text)
    if n is not None:
        return n
    try:
        d = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (d if d.tzinfo else d.replace(tzinfo=UTC)).timestamp()


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def compile_values(family: str, values: tuple[str, ...]) -> Pred:
    """Predicate: does a request value match ANY of the policy values (positive sense)?"""
    if family == "str":
        exact = frozenset(values)
        return exact.__contains__
    if family == "stri":
        folded = frozenset(v.casefold() for v in values)
        return lambda v: v.casefold() in folded
    if family == "like":
        return any_glob(values, ignore_case=False)
    if family == "arn":
        return lambda v: any(arn_like(p, v) for p in values)
    if family == "bool":
        wanted = frozenset(v.lower() for v in values)
        return lambda v: v.lower() in wanted
    if family == "ip":
        nets = tuple(n for n in (_network(v) for v in values) if n is not None)
        return lambda v: (a := _ip(v)) is not None and any(a in n for n in nets)
    kind, _, cmp_name = family.partition(":")
    conv = _number if kind == "num" else parse_date
    cmp = _CMP[cmp_name]
    bounds = tuple(b for b in (conv(v) for v in values) if b is not None)
    return lambda v: (x := conv(v)) is not None and any(cmp(x, b) for b in bounds)


def _check_values(family: str, canonical: str, values: tuple[str, ...]) -> None:
    """Reject policy values the operator can never use (caught at compile time)."""
    for v in values:
        if has_variables(v):
            continue
        ok = True
        if family == "bool":
            ok = v.lower() in ("true", "false")
        elif family == "ip":
            ok = _network(v) is not None
        elif family.startswith("num:"):
            ok = _number(v) is not None
        elif family.startswith("date:"):
            ok = parse_date(v) is not None
        if not ok:
            raise MalformedPolicyDocument(f"Invalid value {v!r} for condition operator {canonical}")


@dataclass(frozen=True, slots=True)
class Condition:
    """One (operator, key, values) triple of a Condition block."""

    operator: str  # as written, for explanations
    key: str  # lower-cased
    family: str
    negated: bool
    if_exists: bool
    qualifier: str  # "", "any" or "all"
    values: tuple[str, ...]
    dynamic: bool  # values hold policy variables

    def test(self, ctx: Context, resolve: Resolver) -> bool:
        got = ctx.get(self.key)
        if self.family == "null":
            absent = not got
            return any((v.lower() == "true") == absent for v in self.values)
        if not got:
            if self.if_exists or self.qualifier == "all":
                return True
            return False if self.qualifier == "any" else self.negated
        pred = self._pred(resolve)
        if pred is None:
            return self.negated and self.qualifier != "any"
        if self.qualifier == "all":
            return all(pred(v) != self.negated for v in got)
        if self.qualifier == "any":
            return any(pred(v) != self.negated for v in got)
        return any(pred(v) for v in got) != self.negated

    def _pred(self, resolve: Resolver) -> Pred | None:
        if not self.dynamic:
            return compile_values(self.family, self.values)
        glob = self.family in ("like", "arn")
        subs = tuple(s for v in self.values if (s := substitute(v, resolve, glob=glob)) is not None)
        return compile_values(self.family, subs) if subs else None


def compile_condition(
    op_text: str, key: str, values: tuple[str, ...], variables: bool
) -> Condition:
    """Validate and pre-process one operator/key pair; raises MalformedPolicyDocument."""
    name = op_text
    qualifier = ""
    prefix, sep, rest = name.partition(":")
    if sep:
        qualifier = {"foranyvalue": "any", "forallvalues": "all"}.get(prefix.lower(), "?")
        if qualifier == "?":
            raise MalformedPolicyDocument(f"Invalid condition qualifier {prefix!r}")
        name = rest
    if_exists = name.lower().endswith("ifexists") and name.lower() != "ifexists"
    base = name[: -len("IfExists")] if if_exists else name
    if base.lower() == "null":
        if if_exists or qualifier:
            raise MalformedPolicyDocument(f"Invalid condition operator {op_text!r}")
        canonical, family, negated = "Null", "null", False
        if any(v.lower() not in ("true", "false") for v in values):
            raise MalformedPolicyDocument("Invalid value for condition operator Null")
    elif base.lower() in OPERATORS:
        canonical, family, negated = OPERATORS[base.lower()]
    else:
        raise MalformedPolicyDocument(f"Invalid condition operator {op_text!r}")
    if not key or not values:
        raise MalformedPolicyDocument(f"Empty condition key or values under {op_text}")
    _check_values(family, canonical, values)
    return Condition(
        operator=op_text,
        key=key.lower(),
        family=family,
        negated=negated,
        if_exists=if_exists,
        qualifier=qualifier,
        values=values,
        dynamic=variables and any(has_variables(v) for v in values),
    )
