"""ListSecrets / BatchGetSecretValue filter validation and matching (pure, stdlib only)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from smgrpc.core.errors import InvalidParameter, validation

__all__ = [
    "FILTER_KEYS",
    "Filter",
    "FilterTarget",
    "compile_filters",
    "matches",
    "split_words",
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

# moto's split_words: separators, and the camel-case splitter (capture group keeps the pieces).
_SEPARATORS = ("/", "-", "_", "+", "=", ".", "@")
_SEPARATOR_SET = frozenset(_SEPARATORS)
_CAMEL_RE = re.compile(r"([^a-z][a-z]+)")


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


@lru_cache(maxsize=4096)
def _lower_words(s: str) -> tuple[str, ...]:
    """Lower-cased words of an attribute; cached because ListSecrets re-scans the same strings."""
    # Lower-case only after splitting: the split itself depends on case.
    return tuple(w.lower() for w in split_words(s))


def _word_match(pattern_words: tuple[str, ...], value: str) -> bool:
    """True if every pattern word is a prefix of some word of value."""
    if not pattern_words:
        return False
    value_words = _lower_words(value)
    return all(any(w.startswith(p) for w in value_words) for p in pattern_words)


_Predicate = Callable[[FilterTarget], bool]
_Strings = Callable[[FilterTarget], Sequence[str]]


def _name_strings(t: FilterTarget) -> Sequence[str]:
    return (t.name,)


def _description_strings(t: FilterTarget) -> Sequence[str]:
    # A secret without (or with an empty) description never matches, negated or not.
    return (t.description,) if t.description else ()


def _owning_service_strings(t: FilterTarget) -> Sequence[str]:
    return (t.owning_service,) if t.owning_service else ()


def _tag_key_strings(t: FilterTarget) -> Sequence[str]:
    return tuple(k for k, _ in t.tags) if t.tags else ()


def _tag_value_strings(t: FilterTarget) -> Sequence[str]:
    return tuple(v for _, v in t.tags) if t.tags else ()


def _all_strings(t: FilterTarget) -> Sequence[str]:
    out = [t.name]
    if t.description:
        out.append(t.description)
    if t.tags:
        out.extend(k for k, _ in t.tags)
        out.extend(v for _, v in t.tags)
    return out


_PREFIX_KEYS: dict[str, _Strings] = {
    "name": _name_strings,
    "tag-key": _tag_key_strings,
    "tag-value": _tag_value_strings,
}
_WORD_KEYS: dict[str, _Strings] = {
    "description": _description_strings,
    "owning-service": _owning_service_strings,
    "all": _all_strings,
}


def _split_negated(values: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(negated values without their '!', plain values)."""
    neg = tuple(v[1:] for v in values if v.startswith("!"))
    plain = tuple(v for v in values if not v.startswith("!"))
    return neg, plain


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
        get = _WORD_KEYS[flt.key]
        neg_raw, plain_raw = _split_negated(flt.values)
        # Pattern words are split once per filter, not once per secret.
        neg_w = tuple(_lower_words(v) for v in neg_raw)
        plain_w = tuple(_lower_words(v) for v in plain_raw)

        def word_pred(t: FilterTarget) -> bool:
            strings = get(t)
            return any(not _word_match(n, s) for n in neg_w for s in strings) or any(
                _word_match(p, s) for p in plain_w for s in strings
            )

        return word_pred
    raise ValueError(f"unvalidated filter key {flt.key!r}")


@lru_cache(maxsize=256)
def _compile_cached(filters: tuple[Filter, ...]) -> _Predicate:
    preds = tuple(_compile_one(f) for f in filters)
    return lambda t: all(p(t) for p in preds)


def compile_filters(filters: Sequence[Filter]) -> Callable[[FilterTarget], bool]:
    """Predicate for validated filters: AND across filters (repeated keys included)."""
    return _compile_cached(tuple(filters))


def matches(target: FilterTarget, filters: Sequence[Filter]) -> bool:
    """True if the secret described by target passes every (validated) filter."""
    return _compile_cached(tuple(filters))(target)
