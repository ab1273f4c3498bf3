"""Tests for smgrpc.core.passwords: GetRandomPassword with AWS semantics."""

from __future__ import annotations

import string
from collections import Counter
from typing import Any

import pytest

from smgrpc.core.errors import InvalidParameter, ValidationError
from smgrpc.core.passwords import PUNCTUATION, generate_password

LOWER = set(string.ascii_lowercase)
UPPER = set(string.ascii_uppercase)
DIGITS = set(string.digits)
PUNCT = set(PUNCTUATION)
DEFAULT_CHARS = LOWER | UPPER | DIGITS | PUNCT


def test_punctuation_is_the_32_ascii_characters() -> None:
    assert string.punctuation == PUNCTUATION
    assert len(PUNCT) == 32


def test_default_length_and_charset() -> None:
    pw = generate_password()
    assert len(pw) == 32
    assert set(pw) <= DEFAULT_CHARS
    assert " " not in pw


def test_default_requirements_every_draw() -> None:
    for _ in range(300):
        pw = generate_password(length=4)
        assert len(pw) == 4
        assert set(pw) & LOWER and set(pw) & UPPER and set(pw) & DIGITS and set(pw) & PUNCT


@pytest.mark.parametrize("length", [1, 2, 5, 50, 4096])
def test_custom_length(length: int) -> None:
    pw = generate_password(length=length, require_each_included_type=False)
    assert len(pw) == length
    if length >= 4:
        assert len(generate_password(length=length)) == length


def test_none_means_defaults() -> None:
    pw = generate_password(length=None, exclude_characters=None, require_each_included_type=None)
    assert len(pw) == 32
    assert set(pw) & LOWER and set(pw) & UPPER and set(pw) & DIGITS and set(pw) & PUNCT


@pytest.mark.parametrize(
    ("flag", "removed"),
    [
        ("exclude_lowercase", LOWER),
        ("exclude_uppercase", UPPER),
        ("exclude_numbers", DIGITS),
        ("exclude_punctuation", PUNCT),
    ],
)
def test_each_exclusion_flag(flag: str, removed: set[str]) -> None:
    kept = DEFAULT_CHARS - removed
    kwargs: dict[str, Any] = {flag: True}
    for _ in range(50):
        pw = generate_password(length=100, **kwargs)
        assert not set(pw) & removed
        assert set(pw) <= kept
        # The remaining three classes are still required.
        for cls in (LOWER, UPPER, DIGITS, PUNCT):
            if cls is not removed:
                assert set(pw) & cls


def test_exclude_characters() -> None:
    excluded = "abcdefABCDEF012345!@#$%^&*()"
    for _ in range(50):
        pw = generate_password(length=200, exclude_characters=excluded)
        assert not set(pw) & set(excluded)
        assert len(pw) == 200


def test_exclude_characters_leaving_one_char_per_class() -> None:
    only = "aZ7!"
    excluded = "".join(c for c in DEFAULT_CHARS if c not in only)
    for _ in range(50):
        pw = generate_password(length=4, exclude_characters=excluded)
        assert sorted(pw) == sorted(only)


def test_class_emptied_by_exclude_characters_is_not_required() -> None:
    pw = generate_password(length=3, exclude_characters=string.digits)
    assert len(pw) == 3
    assert set(pw) & LOWER and set(pw) & UPPER and set(pw) & PUNCT
    assert not set(pw) & DIGITS


def test_include_space() -> None:
    # The space joins the pool: it shows up, but is not a required type (issue 6, defect 17).
    drawn = [generate_password(length=5, include_space=True) for _ in range(400)]
    for pw in drawn:
        assert len(pw) == 5
        assert set(pw) <= DEFAULT_CHARS | {" "}
        assert set(pw) & LOWER and set(pw) & UPPER and set(pw) & DIGITS and set(pw) & PUNCT
    assert any(" " in pw for pw in drawn)
    assert any(" " not in pw for pw in drawn)
    assert " " not in "".join(generate_password(length=200) for _ in range(20))


def test_include_space_is_not_a_required_type() -> None:
    """Regression (issue 6, defect 17): length 4 with IncludeSpace failed as "too short"."""
    for _ in range(200):
        pw = generate_password(length=4, include_space=True)
        assert len(pw) == 4
        assert set(pw) & LOWER and set(pw) & UPPER and set(pw) & DIGITS and set(pw) & PUNCT
    # The space alone with a letter type: length 1 is enough (one required type).
    pw = generate_password(
        length=1,
        include_space=True,
        exclude_uppercase=True,
        exclude_numbers=True,
        exclude_punctuation=True,
    )
    assert pw in LOWER


def test_include_space_but_space_excluded() -> None:
    pw = generate_password(length=4, include_space=True, exclude_characters=" ")
    assert " " not in pw
    assert len(pw) == 4


def test_only_digits() -> None:
    pw = generate_password(
        length=64, exclude_lowercase=True, exclude_uppercase=True, exclude_punctuation=True
    )
    assert len(pw) == 64
    assert set(pw) <= DIGITS


def test_only_space() -> None:
    pw = generate_password(
        length=3,
        exclude_lowercase=True,
        exclude_uppercase=True,
        exclude_numbers=True,
        exclude_punctuation=True,
        include_space=True,
    )
    assert pw == "   "


def test_require_each_false_allows_short_passwords() -> None:
    pw = generate_password(length=1, require_each_included_type=False)
    assert len(pw) == 1
    assert pw in DEFAULT_CHARS


def test_require_each_false_draws_from_whole_pool() -> None:
    drawn = "".join(
        generate_password(length=200, require_each_included_type=False) for _ in range(20)
    )
    assert set(drawn) <= DEFAULT_CHARS
    # 4000 uniform draws over 94 characters: every class shows up.
    for cls in (LOWER, UPPER, DIGITS, PUNCT):
        assert set(drawn) & cls


def test_required_characters_are_at_random_positions() -> None:
    # "0" is the only digit left, so it is required; its first position must vary.
    positions: Counter[int] = Counter()
    for _ in range(400):
        pw = generate_password(
            length=8,
            exclude_characters=string.digits[1:],  # only "0" left in the digit class
            exclude_punctuation=True,
        )
        assert "0" in pw
        positions[pw.index("0")] += 1
    assert len(positions) >= 6
    assert positions[7] < 300


def test_default_tail_is_not_fixed_pattern() -> None:
    # moto always ends with [lower][upper][digit][punct]; ours must not.
    tails = {
        tuple(
            "l" if c in LOWER else "u" if c in UPPER else "d" if c in DIGITS else "p"
            for c in generate_password()[-4:]
        )
        for _ in range(200)
    }
    assert len(tails) > 1


def test_passwords_differ() -> None:
    assert len({generate_password() for _ in range(100)}) == 100


def test_length_too_long() -> None:
    with pytest.raises(ValidationError) as exc:
        generate_password(length=5555)
    assert exc.value.message == (
        "1 validation error detected: Value '5555' at 'passwordLength' failed to satisfy "
        "constraint: Member must have value less than or equal to 4096"
    )
    assert exc.value.aws_code == "ValidationException"


@pytest.mark.parametrize("length", [0, -1])
def test_length_too_small(length: int) -> None:
    with pytest.raises(ValidationError) as exc:
        generate_password(length=length)
    assert exc.value.message == (
        f"1 validation error detected: Value '{length}' at 'passwordLength' failed to satisfy "
        "constraint: Member must have value greater than or equal to 1"
    )


def test_length_too_short_for_required_types() -> None:
    with pytest.raises(InvalidParameter) as exc:
        generate_password(length=3)
    assert exc.value.message == "Password length is too short based on the required types."
    assert exc.value.aws_code == "InvalidParameterException"
    with pytest.raises(InvalidParameter):
        generate_password(length=3, include_space=True)
    # Fewer required classes need less length (AWS, unlike moto's fixed minimum of 4).
    assert len(generate_password(length=2, exclude_numbers=True, exclude_punctuation=True)) == 2


def test_exclude_characters_too_long() -> None:
    excluded = "a" * 4097
    with pytest.raises(ValidationError) as exc:
        generate_password(exclude_characters=excluded)
    assert exc.value.message == (
        "1 validation error detected: Value at 'excludeCharacters' failed to "
        "satisfy constraint: Member must have length less than or equal to 4096"
    )
    # Exactly 4096 is allowed.
    assert len(generate_password(exclude_characters="a" * 4096)) == 32


def test_empty_pool_by_flags() -> None:
    with pytest.raises(InvalidParameter):
        generate_password(
            exclude_lowercase=True,
            exclude_uppercase=True,
            exclude_numbers=True,
            exclude_punctuation=True,
        )


def test_empty_pool_by_exclude_characters() -> None:
    everything = "".join(sorted(DEFAULT_CHARS))
    with pytest.raises(InvalidParameter):
        generate_password(exclude_characters=everything)
    with pytest.raises(InvalidParameter):
        generate_password(exclude_characters=everything, require_each_included_type=False)
