"""Wildcard, ARN and policy-variable matching for IAM policies (pure, cached).

`*` matches any run of characters (including none, and across `:` and `/`), `?` exactly one.
Action patterns match case-insensitively, everything else case-sensitively. ARN patterns
(ArnLike/ArnEquals) are matched component by component over the six `:`-separated parts, so
a wildcard never spans a colon before the resource part. Policy variables (`${aws:username}`,
`${aws:PrincipalTag/team}`, `${*}`, `${?}`, `${$}`, `${key, 'default'}`) are substituted at
evaluation time from single-valued context keys; a variable with no value makes the pattern
match nothing, as AWS documents.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

Resolver = Callable[[str], "str | None"]

# Sentinels for a literal `*` / `?` inside a pattern (from ${*}, ${?} or a substituted value).
STAR, QMARK = "\x00", "\x01"
_VAR = re.compile(r"\$\{([^}]*)\}")
_SPECIAL = {"*": STAR, "?": QMARK, "$": "$"}


def has_variables(pattern: str) -> bool:
    return "${" in pattern


_FNMATCH_ESCAPES = {"[": "[[]", STAR: "[*]", QMARK: "[?]"}


@lru_cache(maxsize=8192)
def glob_source(pattern: str) -> str:
    """The regular-expression source of one glob pattern, for `fullmatch`.

    Built by fnmatch.translate (atomic groups: no catastrophic backtracking on patterns such
    as `*a*a*a*b`) after escaping `[`, which IAM treats literally, and the literal sentinels.
    """
    return fnmatch.translate("".join(_FNMATCH_ESCAPES.get(ch, ch) for ch in pattern))


@lru_cache(maxsize=8192)
def glob_regex(patterns: tuple[str, ...], ignore_case: bool) -> re.Pattern[str]:
    """One compiled alternation of globs; use with `fullmatch`."""
    source = "|".join(f"(?:{glob_source(p)})" for p in patterns)
    return re.compile(source, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def substitute(pattern: str, resolve: Resolver, *, glob: bool) -> str | None:
    """`pattern` with its policy variables replaced, or None when one has no value.

    With `glob`, substituted text is literal (its `*`/`?` become sentinels); without, the
    result is a plain string (sentinels never appear).
    """
    missing = False

    def one(m: re.Match[str]) -> str:
        nonlocal missing
        name, _, default = m.group(1).partition(",")
        name = name.strip()
        if name in _SPECIAL:
            lit = _SPECIAL[name]
            return lit if glob else {STAR: "*", QMARK: "?"}.get(lit, lit)
        value = resolve(name)
        if value is None:
            default = default.strip()
            if len(default) >= 2 and default[0] == default[-1] == "'":
                value = default[1:-1]
            else:
                missing = True
                return ""
        return value.replace("*", STAR).replace("?", QMARK) if glob else value

    out = _VAR.sub(one, pattern)
    return None if missing else out


@dataclass(frozen=True, slots=True)
class GlobSet:
    """Any-of a set of glob patterns, compiled once; variable-bearing ones resolved per call."""

    patterns: tuple[str, ...]
    ignore_case: bool
    match_all: bool
    static: re.Pattern[str] | None
    dynamic: tuple[str, ...]

    @classmethod
    def of(cls, patterns: tuple[str, ...], *, ignore_case: bool, variables: bool) -> GlobSet:
        dyn = tuple(p for p in patterns if variables and has_variables(p))
        fixed = tuple(p for p in patterns if p not in dyn)
        return cls(
            patterns=patterns,
            ignore_case=ignore_case,
            match_all="*" in fixed,
            static=glob_regex(fixed, ignore_case) if fixed else None,
            dynamic=dyn,
        )

    def matches(self, value: str, resolve: Resolver) -> bool:
        if self.match_all:
            return True
        if self.static is not None and self.static.fullmatch(value) is not None:
            return True
        for p in self.dynamic:
            s = substitute(p, resolve, glob=True)
            if s is not None and glob_regex((s,), self.ignore_case).fullmatch(value):
                return True
        return False


@lru_cache(maxsize=8192)
def _arn_parts(pattern: str) -> tuple[re.Pattern[str], ...]:
    return tuple(glob_regex((part,), False) for part in pattern.split(":", 5))


def arn_like(pattern: str, value: str) -> bool:
    """ArnLike/ArnEquals: each of the six colon-separated components matched separately."""
    if pattern == "*":
        return True
    parts = _arn_parts(pattern)
    got = value.split(":", 5)
    if len(got) != len(parts) or len(parts) != 6:
        return False
    return all(rx.fullmatch(g) is not None for rx, g in zip(parts, got, strict=True))
