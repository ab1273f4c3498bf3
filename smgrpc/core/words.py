"""The words that word filters (description, owning-service, all) match, computed once per text.

moto's (and AWS's) word splitting, lower-cased after the split (the split depends on case), and
kept sorted: "some word starts with p" is then one bisect.
"""

from __future__ import annotations

import re
import sys
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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


def sorted_words(s: str) -> Sorted:
    """Distinct lower-cased words of an attribute, sorted (interned: tag words repeat a lot)."""
    return tuple(sorted({sys.intern(w.lower()) for w in split_words(s)}))


def has_prefix(words: Sorted, prefix: str) -> bool:
    """True if some word of the sorted tuple starts with prefix."""
    i = bisect_left(words, prefix)
    return i < len(words) and words[i].startswith(prefix)


def all_prefixes(words: Sorted, pattern: Sequence[str]) -> bool:
    """True if every pattern word is a prefix of some word (never for an empty pattern)."""
    return bool(pattern) and all(has_prefix(words, p) for p in pattern)


def _union(parts: Iterable[Sorted]) -> Sorted:
    return tuple(sorted({w for p in parts for w in p}))


@dataclass(frozen=True, slots=True)
class Words:
    """Sorted words of each attribute of one secret's metadata (one per metadata version)."""

    name: Sorted
    description: tuple[Sorted, ...]  # () without a description, else one entry
    tag_keys: tuple[Sorted, ...]
    tag_values: tuple[Sorted, ...]
    owning_service: tuple[Sorted, ...]
    # Every word of name, description and tags: a pattern word no word starts with rules out
    # every one of those strings at once (the quick reject of an `all` filter).
    union: Sorted

    @classmethod
    def of(
        cls,
        name: str,
        description: str | None,
        tags: Sequence[tuple[str, str]] | None,
        owning_service: str | None,
    ) -> Words:
        n = sorted_words(name)
        d = (sorted_words(description),) if description else ()
        keys = tuple(sorted_words(k) for k, _ in tags or ())
        values = tuple(sorted_words(v) for _, v in tags or ())
        owner = (sorted_words(owning_service),) if owning_service else ()
        union = _union((n, *d, *keys, *values)) if d or keys else n
        return cls(n, d, keys, values, owner, union)

    def all_strings(self) -> tuple[Sorted, ...]:
        """The per-string words an `all` filter looks at, in moto's order."""
        return (self.name, *self.description, *self.tag_keys, *self.tag_values)
