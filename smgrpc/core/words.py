"""The words that word filters (description, owning-service, all) match, computed once per text.

moto's (and AWS's) word splitting, lower-cased after the split (the split depends on case), and
kept sorted: "some word starts with p" is then one bisect.
"""

from __future__ import annotations

import re
import sys
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from functools import lru_cache

# moto's split_words: separators, and the camel-case splitter (capture group keeps the pieces).
_SEPARATORS = ("/", "-", "_", "+", "=", ".", "@")
_SEPARATOR_SET = frozenset(_SEPARATORS)
_CAMEL_RE = re.compile(r"([^a-z][a-z]+)")

Sorted = tuple[str, ...]


def _camel_split(piece: str) -> list[str]:
    """Split one piece at case boundaries, keeping moto's strip-after-emptiness-check quirk."""
    return [x.strip() for x in _CAMEL_RE.split(piece) if x]


def split_words(s: str) -> list[str]:
    """Split like moto: one separator kind splits, mixed kinds stay one word, then camel case."""
    if s in _SEPARATOR_SET:
        return []
    present = [c for c in _SEPARATORS if c in s]
    if not present:
        return _camel_split(s)
    if len(present) > 1:
        # Mixed separators (e.g. "a-b/c"): AWS treats the whole string as one word, unsplit.
        return [s]
    words: list[str] = []
    for piece in s.split(present[0]):
        words.extend(_camel_split(piece))
    return words


def lower_words(s: str) -> tuple[str, ...]:
    """Lower-cased words of a filter value, in order."""
    return tuple(w.lower() for w in split_words(s))


@lru_cache(maxsize=16384)
def sorted_words(s: str) -> Sorted:
    """Distinct lower-cased words of an attribute, sorted (tag keys and values repeat a lot:
    cached, and the words interned)."""
    return tuple(sorted({sys.intern(w.lower()) for w in split_words(s)}))


def has_prefix(words: Sorted, prefix: str) -> bool:
    """True if some word of the sorted tuple starts with prefix."""
    i = bisect_left(words, prefix)
    return i < len(words) and words[i].startswith(prefix)


def all_prefixes(words: Sorted, pattern: Sequence[str]) -> bool:
    """True if every pattern word is a prefix of some word (never for an empty pattern)."""
    if not pattern:
        return False
    n = len(words)
    for p in pattern:  # inlined has_prefix: this is the inner loop of a filtered scan
        i = bisect_left(words, p)
        if i == n or not words[i].startswith(p):
            return False
    return True


def _union(parts: Iterable[Sorted]) -> Sorted:
    return tuple(sorted({w for p in parts for w in p}))


def filter_text(
    name: str,
    description: str | None,
    tags: Sequence[tuple[str, str]] | None,
    owning_service: str | None,
) -> str:
    """Every attribute a word filter looks at, lower-cased, joined by NULs (see Words)."""
    parts = [name, description or "", owning_service or ""]
    if tags:
        parts.extend(k for k, _ in tags)
        parts.extend(v for _, v in tags)
    return "\0".join(parts).lower()


def may_match(text: str, pattern: Sequence[str]) -> bool:
    """False if some pattern word is not even a substring of filter_text (so no word's prefix)."""
    return all(p in text for p in pattern)


class Words:
    """The filter words of one secret's metadata.

    `text` (every attribute, lower-cased, joined; see filter_text) is cheap: a pattern word
    that is not even a substring of it is no word's prefix (filter values are ASCII, and
    lower() maps characters one by one except the non-ASCII final sigma), so most secrets are
    ruled out with a C-level substring search. The sorted words of each attribute, which the
    exact test needs, are computed only for the secrets that get past that.
    """

    __slots__ = (
        "_name",
        "_description",
        "_tags",
        "_owning_service",
        "text",
        "_name_w",
        "_all",
        "_union",
    )

    def __init__(
        self,
        name: str,
        description: str | None,
        tags: Sequence[tuple[str, str]] | None,
        owning_service: str | None,
        text: str | None = None,
    ) -> None:
        self._name = name
        self._description = description or None
        self._tags = tuple(tags or ())
        self._owning_service = owning_service or None
        self.text = (
            text if text is not None else filter_text(name, description, tags, owning_service)
        )
        self._name_w: Sorted | None = None
        self._all: tuple[Sorted, ...] | None = None
        self._union: Sorted | None = None

    @classmethod
    def of(
        cls,
        name: str,
        description: str | None,
        tags: Sequence[tuple[str, str]] | None,
        owning_service: str | None,
    ) -> Words:
        return cls(name, description, tags, owning_service)

    def __repr__(self) -> str:
        return f"Words({self._name!r})"

    @property
    def has_description(self) -> bool:
        return self._description is not None

    @property
    def has_owning_service(self) -> bool:
        return self._owning_service is not None

    def may_match(self, pattern: Sequence[str]) -> bool:
        """False if some pattern word is no word's prefix anywhere (a quick, exact reject)."""
        text = self.text
        return all(p in text for p in pattern)

    @property
    def name(self) -> Sorted:
        w = self._name_w
        if w is None:
            w = self._name_w = sorted_words(self._name)
        return w

    @property
    def description(self) -> tuple[Sorted, ...]:
        """() without a description, else one entry."""
        return (sorted_words(self._description),) if self._description else ()

    @property
    def owning_service(self) -> tuple[Sorted, ...]:
        return (sorted_words(self._owning_service),) if self._owning_service else ()

    @property
    def all(self) -> tuple[Sorted, ...]:
        """What an `all` filter looks at, string by string, in moto's order."""
        a = self._all
        if a is None:
            keys = tuple(sorted_words(k) for k, _ in self._tags)
            values = tuple(sorted_words(v) for _, v in self._tags)
            a = self._all = (self.name, *self.description, *keys, *values)
        return a

    @property
    def union(self) -> Sorted:
        """Every word of name, description and tags."""
        u = self._union
        if u is None:
            a = self.all
            u = self._union = _union(a) if len(a) > 1 else self.name
        return u
