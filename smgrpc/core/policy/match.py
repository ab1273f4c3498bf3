"""Wildcard, ARN and policy-variable matching for IAM policies (pure, cached).

`*` matches any run of characters (including none, and across `:` and `/`), `?` exactly one;
every other character, `[` included, is literal. Action patterns match case-insensitively
(on casefolded text), everything else case-sensitively. ARN patterns (ArnLike/ArnEquals) are
matched component by component over the six `:`-separated parts, so a wildcard never spans a
colon before the resource part. Policy variables (`${aws:username}`, `${aws:PrincipalTag/team}`,
`${*}`, `${?}`, `${$}`, `${key, 'default'}`) are substituted at evaluation time from
single-valued context keys; a variable with no value makes the pattern match nothing, as AWS
documents.

No regular expressions: a glob is split on `*` into chunks (literal text with `?` holes). The
first chunk must match at the start, the last at the end, the middle ones are found in order,
each at its leftmost place (`str.find` of a chunk's longest literal run). Leftmost is always
safe because chunks have a fixed length, so matching is linear-ish and never backtracks, and
building a matcher costs microseconds (a 20 KB policy of ~1,100 patterns parses in a few ms,
where compiling one regex per pattern took ~70-200 ms). A set of globs is indexed by each
glob's literal head (the text before its first wildcard), or its literal tail when the head is
empty, so a request value is tried only against the globs that can match it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

Resolver = Callable[[str], "str | None"]

# Sentinels for a literal `*` / `?` inside a pattern (from ${*}, ${?} or a substituted value).
STAR, QMARK = "\x00", "\x01"
_VAR = re.compile(r"\$\{([^}]*)\}")
_SPECIAL = {"*": STAR, "?": QMARK, "$": "$"}
_LITERAL = str.maketrans({STAR: "*", QMARK: "?"})


def has_variables(pattern: str) -> bool:
    return "${" in pattern


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
class _Chunk:
    """Fixed-length text between two `*`: literal runs at offsets, `?` holes in between."""

    size: int
    runs: tuple[tuple[int, str], ...]  # (offset, literal text), non-empty texts
    anchor: tuple[int, str] | None  # the longest run: what `find` searches for

    @classmethod
    def of(cls, text: str) -> _Chunk:
        runs: list[tuple[int, str]] = []
        offset = 0
        for lit in text.split("?"):
            if lit:
                runs.append((offset, lit.translate(_LITERAL)))
            offset += len(lit) + 1
        anchor = max(runs, key=lambda r: len(r[1])) if runs else None
        return cls(len(text), tuple(runs), anchor)

    def at(self, s: str, i: int) -> bool:
        """Does the chunk match s[i : i + size]? (Caller ensures it fits.)"""
        return all(s.startswith(lit, i + off) for off, lit in self.runs)

    def find(self, s: str, start: int, stop: int) -> int:
        """Leftmost i in [start, stop - size] where the chunk matches, or -1."""
        if start + self.size > stop:
            return -1
        if self.anchor is None:
            return start
        off, lit = self.anchor
        end = stop - self.size + off + len(lit)
        j = s.find(lit, start + off, end)
        while j >= 0:
            if self.at(s, j - off):
                return j - off
            j = s.find(lit, j + 1, end)
        return -1


@dataclass(frozen=True, slots=True)
class Glob:
    """One compiled glob; `match(value)` is a full match of the (already folded) value."""

    head: _Chunk
    middle: tuple[_Chunk, ...]
    tail: _Chunk | None  # None: no `*` at all, the head is the whole pattern
    min_size: int

    @classmethod
    def of(cls, pattern: str) -> Glob:
        parts = pattern.split("*")
        head = _Chunk.of(parts[0])
        if len(parts) == 1:
            return cls(head, (), None, head.size)
        tail = _Chunk.of(parts[-1])
        middle = tuple(_Chunk.of(p) for p in parts[1:-1] if p)
        size = head.size + tail.size + sum(c.size for c in middle)
        return cls(head, middle, tail, size)

    def match(self, s: str) -> bool:
        n = len(s)
        if self.tail is None:
            return n == self.head.size and self.head.at(s, 0)
        if n < self.min_size or not self.head.at(s, 0):
            return False
        stop = n - self.tail.size
        if not self.tail.at(s, stop):
            return False
        pos = self.head.size
        for chunk in self.middle:
            i = chunk.find(s, pos, stop)
            if i < 0:
                return False
            pos = i + chunk.size
        return True


@lru_cache(maxsize=8192)
def compile_glob(pattern: str) -> Glob:
    return Glob.of(pattern)


def _wild(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


def _head(pattern: str) -> str:
    """The text before the first wildcard (sentinels not yet made literal)."""
    return pattern.split("*", 1)[0].split("?", 1)[0]


def _tail(pattern: str) -> str:
    return pattern.rsplit("*", 1)[-1].rsplit("?", 1)[-1]


# One bucket of an affix index: the affix length, and per affix text the globs to try (a None
# glob stands for "the affix is the whole test": the pattern is affix + `*`).
_Buckets = tuple[tuple[int, dict[str, tuple[Glob | None, ...]]], ...]


def _index(entries: Iterable[tuple[str, Glob | None]]) -> _Buckets:
    by_len: dict[int, dict[str, list[Glob | None]]] = {}
    for affix, glob in entries:
        by_len.setdefault(len(affix), {}).setdefault(affix, []).append(glob)
    return tuple(
        (size, {k: tuple(v) for k, v in groups.items()}) for size, groups in sorted(by_len.items())
    )


def _probe(buckets: _Buckets, s: str, from_end: bool) -> bool:
    n = len(s)
    for size, groups in buckets:
        if size > n:
            return False
        found = groups.get(s[n - size :] if from_end else s[:size])
        if found is not None and any(g is None or g.match(s) for g in found):
            return True
    return False


@dataclass(frozen=True, slots=True)
class Globs:
    """Any-of a fixed set of globs: exact texts in a set, the rest indexed by literal affix."""

    ignore_case: bool
    match_all: bool
    exact: frozenset[str]
    by_head: _Buckets
    by_tail: _Buckets

    @classmethod
    def of(cls, patterns: Iterable[str], *, ignore_case: bool) -> Globs:
        pats = [p.casefold() if ignore_case else p for p in patterns]
        exact = frozenset(p.translate(_LITERAL) for p in pats if not _wild(p))
        heads: list[tuple[str, Glob | None]] = []
        tails: list[tuple[str, Glob | None]] = []
        for p in dict.fromkeys(p for p in pats if _wild(p)):
            head, tail = _head(p), _tail(p)
            if head or not tail:
                whole = p[len(head) :].strip("*") == ""  # head + `*`: the head decides
                heads.append((head.translate(_LITERAL), None if whole else compile_glob(p)))
            else:
                tails.append((tail.translate(_LITERAL), compile_glob(p)))
        return cls(ignore_case, "*" in pats, exact, _index(heads), _index(tails))

    def matches(self, value: str) -> bool:
        if self.match_all:
            return True
        s = value.casefold() if self.ignore_case else value
        return s in self.exact or _probe(self.by_head, s, False) or _probe(self.by_tail, s, True)


@lru_cache(maxsize=4096)
def globs(patterns: tuple[str, ...], ignore_case: bool) -> Globs:
    return Globs.of(patterns, ignore_case=ignore_case)


@lru_cache(maxsize=8192)
def _one(pattern: str, ignore_case: bool) -> Globs:
    return Globs.of((pattern,), ignore_case=ignore_case)


@dataclass(frozen=True, slots=True)
class GlobSet:
    """Any-of a set of glob patterns, compiled once; variable-bearing ones resolved per call."""

    patterns: tuple[str, ...]
    ignore_case: bool
    static: Globs
    dynamic: tuple[str, ...]

    @classmethod
    def of(cls, patterns: tuple[str, ...], *, ignore_case: bool, variables: bool) -> GlobSet:
        dyn = tuple(p for p in patterns if variables and has_variables(p))
        fixed = tuple(p for p in patterns if p not in dyn)
        return cls(patterns, ignore_case, Globs.of(fixed, ignore_case=ignore_case), dyn)

    @property
    def match_all(self) -> bool:
        return self.static.match_all

    def matches(self, value: str, resolve: Resolver) -> bool:
        if self.static.matches(value):
            return True
        for p in self.dynamic:
            s = substitute(p, resolve, glob=True)
            if s is not None and _one(s, self.ignore_case).matches(value):
                return True
        return False


@lru_cache(maxsize=8192)
def _arn_parts(pattern: str) -> tuple[Globs, ...]:
    return tuple(_one(part, False) for part in pattern.split(":", 5))


def arn_like(pattern: str, value: str) -> bool:
    """ArnLike/ArnEquals: each of the six colon-separated components matched separately."""
    if pattern == "*":
        return True
    parts = _arn_parts(pattern)
    got = value.split(":", 5)
    if len(got) != len(parts) or len(parts) != 6:
        return False
    return all(g.matches(v) for g, v in zip(parts, got, strict=True))
