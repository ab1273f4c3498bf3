"""ListSecrets / BatchGetSecretValue filter validation and matching (pure, stdlib only).

Word matching runs over words precomputed once per metadata version (core/words.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from smgrpc.core.errors import InvalidParameter, validation
from smgrpc.core.words import Sorted, Words, all_prefixes, lower_words, split_words

__all__ = [
    "FILTER_KEYS",
    "Filter",
    "FilterTarget",
    "compile_filters",
    "matches",
    "split_words",
    "text_test",
    "validate_filters",
]

FILTER_KEYS: frozenset[str] = frozenset(
    {"description", "name", "tag-key", "tag-value", "primary-region", "owning-service", "all"}
)
# AWS lists the enum in this (non-alphabetical) order in its validation message.
_ENUM_TEXT = "[all, name, tag-key, description, tag-value, primary-region, owning-service]"
MAX_FILTERS = 10
MAX_VALUES = 10
MAX_VALUE_LENGTH = 512
_VALUE_PATTERN_TEXT = r"^\!?[a-zA-Z0-9 :_@\/\+\=\.\-\!]*$"
# fullmatch without the anchors: Python's `$` would also accept a trailing newline.
_VALUE_RE = re.compile(r"\!?[a-zA-Z0-9 :_@\/\+\=\.\-\!]*")


@dataclass(frozen=True)
class Filter:
    """One ListSecrets filter: a key and the values OR'ed under it."""

    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class FilterTarget:
    """The attributes of one secret that filters look at."""

    name: str
    description: str | None
    tags: tuple[tuple[str, str], ...] | None
    # The primary's region for a replica, this region for a primary that has replicas, else None.
    primary_region: str | None
    owning_service: str | None
    # Precomputed words of this metadata (Secret.filter_words); computed on first use if None.
    words: Words | None = field(default=None, compare=False, repr=False)

    @property
    def _words(self) -> Words:
        w = self.words
        if w is None:
            w = Words.of(self.name, self.description, self.tags, self.owning_service)
            # A cache of derived data (compare=False): the target's value does not change.
            object.__setattr__(self, "words", w)
        return w


def _list_desc(items: Sequence[str]) -> str:
    """Java-style rendering of a list value, as AWS echoes it in validation messages."""
    return "'[" + ", ".join(items) + "]'"


def validate_filters(filters: Sequence[Filter], *, path_prefix: str = "filters") -> None:
    """Raise the AWS error for the first filter that breaks the model constraints."""
    if len(filters) > MAX_FILTERS:
        raise validation(
            _list_desc([f.key for f in filters]),
            path_prefix,
            f"Member must have length less than or equal to {MAX_FILTERS}",
        )
    # One pass in request order, first error wins (moto's order: key, then values).
    for n, flt in enumerate(filters, start=1):
        member = f"{path_prefix}.{n}.member"
        if not flt.key:
            raise InvalidParameter("Invalid filter key", field=f"{member}.key")
        if flt.key not in FILTER_KEYS:
            raise validation(
                f"'{flt.key}'",
                f"{member}.key",
                f"Member must satisfy enum value set: {_ENUM_TEXT}",
            )
        if not flt.values:
            raise InvalidParameter(
                f"Invalid filter values for key: {flt.key}", field=f"{member}.values"
            )
        if len(flt.values) > MAX_VALUES:
            raise validation(
                _list_desc(flt.values),
                f"{member}.values",
                f"Member must have length less than or equal to {MAX_VALUES}",
            )
        for m, value in enumerate(flt.values, start=1):
            path = f"{member}.values.{m}.member"
            if len(value) > MAX_VALUE_LENGTH:
                raise validation(
                    f"'{value}'",
                    path,
                    f"Member must have length less than or equal to {MAX_VALUE_LENGTH}",
                )
            if _VALUE_RE.fullmatch(value) is None:
                raise validation(
                    f"'{value}'",
                    path,
                    f"Member must satisfy regular expression pattern: {_VALUE_PATTERN_TEXT}",
                )


_Predicate = Callable[[FilterTarget], bool]
_Strings = Callable[[FilterTarget], Sequence[str]]
_WordStrings = Callable[[Words], Sequence[Sorted]]


def _name_strings(t: FilterTarget) -> Sequence[str]:
    return (t.name,)


def _tag_key_strings(t: FilterTarget) -> Sequence[str]:
    return tuple(k for k, _ in t.tags) if t.tags else ()


def _tag_value_strings(t: FilterTarget) -> Sequence[str]:
    return tuple(v for _, v in t.tags) if t.tags else ()


_PREFIX_KEYS: dict[str, _Strings] = {
    "name": _name_strings,
    "tag-key": _tag_key_strings,
    "tag-value": _tag_value_strings,
}
# A secret without (or with an empty) description / owning service has no string there and
# never matches, negated or not.
_WORD_KEYS: dict[str, tuple[Callable[[Words], bool], _WordStrings]] = {
    "description": (lambda w: w.has_description, lambda w: w.description),
    "owning-service": (lambda w: w.has_owning_service, lambda w: w.owning_service),
    "all": (lambda w: True, lambda w: w.all),
}


def _split_negated(values: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(negated values without their '!', plain values)."""
    neg = tuple(v[1:] for v in values if v.startswith("!"))
    plain = tuple(v for v in values if not v.startswith("!"))
    return neg, plain


def _word_pred(key: str, values: Sequence[str]) -> _Predicate:
    """Word filter: a value matches a string if each of its words prefixes a word there."""
    present, get = _WORD_KEYS[key]
    neg_raw, plain_raw = _split_negated(values)
    # Pattern words are split once per filter, not once per secret.
    neg_w = tuple(lower_words(v) for v in neg_raw)
    plain_w = tuple(lower_words(v) for v in plain_raw)
    quick = key == "all"
    # One C-level search for the first word of every plain value: none found, none matches.
    firsts = sorted({p[0] for p in plain_w if p})
    any_first = re.compile("|".join(map(re.escape, firsts))).search if firsts else None

    def word_pred(t: FilterTarget) -> bool:
        w = t._words
        if not present(w):
            return False
        # Quick rejects first (a pattern word found nowhere fails every string at once); the
        # per-string words are only computed for the secrets that pass them.
        for n in neg_w:  # '!v' holds if any string fails to match v
            if not w.may_match(n):
                return True
            for s in get(w):
                if not all_prefixes(s, n):
                    return True
        if any_first is None or any_first(w.text) is None:
            return False
        for p in plain_w:
            if not w.may_match(p) or (quick and not all_prefixes(w.union, p)):
                continue
            for s in get(w):
                if all_prefixes(s, p):
                    return True
        return False

    return word_pred


def _compile_one(flt: Filter) -> _Predicate:
    """Predicate for one filter: OR over its values, '!v' true if any string fails to match v."""
    if flt.key == "primary-region":
        # Exact equality, no negation; non-replicated secrets (primary_region None) never match.
        regions = frozenset(flt.values)
        return lambda t: t.primary_region is not None and t.primary_region in regions
    if flt.key in _PREFIX_KEYS:
        get = _PREFIX_KEYS[flt.key]
        neg, plain = _split_negated(flt.values)

        def prefix_pred(t: FilterTarget) -> bool:
            strings = get(t)
            return any(not s.startswith(n) for n in neg for s in strings) or any(
                s.startswith(p) for p in plain for s in strings
            )

        return prefix_pred
    if flt.key in _WORD_KEYS:
        return _word_pred(flt.key, flt.values)
    raise ValueError(f"unvalidated filter key {flt.key!r}")


@lru_cache(maxsize=256)
def _compile_cached(filters: tuple[Filter, ...]) -> _Predicate:
    preds = tuple(_compile_one(f) for f in filters)
    if len(preds) == 1:
        return preds[0]
    return lambda t: all(p(t) for p in preds)


@lru_cache(maxsize=256)
def _text_test_cached(filters: tuple[Filter, ...]) -> Callable[[str], bool] | None:
    # Per word filter without negated values: the word tuples of its values (a value without
    # words never matches). Such a filter holds only if every word of one of its values is a
    # substring of the text (see core.words.Words), so failing that rules the secret out.
    groups: list[tuple[tuple[str, ...], ...]] = []
    for f in filters:
        if f.key not in _WORD_KEYS or any(v.startswith("!") for v in f.values):
            continue
        groups.append(tuple(p for p in map(lower_words, f.values) if p))
    if not groups:
        return None
    if len(groups) == 1 and len(groups[0]) == 1 and len(groups[0][0]) == 1:
        word = groups[0][0][0]
        return lambda text: word in text  # the common case: one word, one C-level search
    # Per group, one C-level search for any value's first word: exact when every value is
    # one word, else the full substring test follows for the secrets that pass it.
    tests = tuple(
        (_any_of(sorted({p[0] for p in pats})), all(len(p) == 1 for p in pats), pats)
        for pats in groups
    )

    def text_test(text: str) -> bool:
        for search, single, pats in tests:
            if search is None or search(text) is None:
                return False
            if not single and not any(all(w in text for w in p) for p in pats):
                return False
        return True

    return text_test


def _any_of(words: Sequence[str]) -> Callable[[str], object] | None:
    return re.compile("|".join(map(re.escape, words))).search if words else None


def text_test(filters: Sequence[Filter]) -> Callable[[str], bool] | None:
    """A quick necessary test on a secret's filter text (Secret.filter_text) for validated
    filters: False means the filters reject the secret; True, ask the full predicate. None:
    the filters have no such test (no word filter without negated values)."""
    return _text_test_cached(tuple(filters))


def compile_filters(filters: Sequence[Filter]) -> Callable[[FilterTarget], bool]:
    """Predicate for validated filters: AND across filters (repeated keys included)."""
    return _compile_cached(tuple(filters))


def matches(target: FilterTarget, filters: Sequence[Filter]) -> bool:
    """True if the secret described by target passes every (validated) filter."""
    return _compile_cached(tuple(filters))(target)
