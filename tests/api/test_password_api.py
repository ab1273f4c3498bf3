"""GetRandomPassword through the API: every parameter and every error."""

from __future__ import annotations

import string

import grpc
import pytest

from tests.api.helpers import expect, validation_msg
from tests.conftest import pb

LOWER, UPPER, DIGITS = set(string.ascii_lowercase), set(string.ascii_uppercase), set(string.digits)
PUNCT = set(string.punctuation)
BAD = grpc.StatusCode.INVALID_ARGUMENT


async def password(stub, **kw) -> str:
    resp = await stub.GetRandomPassword(pb.GetRandomPasswordRequest(**kw))
    return resp.random_password  # type: ignore[no-any-return]


async def test_defaults(stub) -> None:
    pw = await password(stub)
    assert len(pw) == 32
    assert set(pw) <= LOWER | UPPER | DIGITS | PUNCT
    # RequireEachIncludedType defaults to true; no space unless asked for.
    assert all(set(pw) & cls for cls in (LOWER, UPPER, DIGITS, PUNCT))
    assert " " not in pw
    assert len({await password(stub) for _ in range(5)}) == 5


@pytest.mark.parametrize("n", [1, 4, 100, 4096])
async def test_lengths(stub, n: int) -> None:
    pw = await password(stub, password_length=n, require_each_included_type=n >= 4)
    assert len(pw) == n


@pytest.mark.parametrize(
    ("n", "constraint"),
    [
        (0, "Member must have value greater than or equal to 1"),
        (-3, "Member must have value greater than or equal to 1"),
        (4097, "Member must have value less than or equal to 4096"),
    ],
)
async def test_length_out_of_range(stub, n: int, constraint: str) -> None:
    await expect(
        stub.GetRandomPassword(pb.GetRandomPasswordRequest(password_length=n)),
        BAD,
        "ValidationException",
        validation_msg("passwordLength", constraint, str(n)),
    )


@pytest.mark.parametrize(
    ("flag", "banned"),
    [
        ("exclude_numbers", DIGITS),
        ("exclude_punctuation", PUNCT),
        ("exclude_uppercase", UPPER),
        ("exclude_lowercase", LOWER),
    ],
)
async def test_exclude_class(stub, flag: str, banned: set[str]) -> None:
    pw = await password(stub, password_length=200, **{flag: True})
    assert len(pw) == 200
    assert not set(pw) & banned
    assert all(set(pw) & cls for cls in (LOWER, UPPER, DIGITS, PUNCT) if cls is not banned)


async def test_exclude_characters(stub) -> None:
    banned = "aeiouAEIOU0123!@#"
    pw = await password(stub, password_length=500, exclude_characters=banned)
    assert not set(pw) & set(banned)
    # ExcludeCharacters of 4097 characters: see test_limits.test_long_invalid_values_*.
    assert len(await password(stub, exclude_characters="x" * 4096)) == 32


async def test_include_space(stub) -> None:
    pw = await password(stub, password_length=4096, include_space=True)
    assert " " in pw and len(pw) == 4096
    only = await password(
        stub,
        password_length=5,
        include_space=True,
        exclude_numbers=True,
        exclude_punctuation=True,
        exclude_uppercase=True,
        exclude_lowercase=True,
    )
    assert only == "     "


async def test_without_require_each_type(stub) -> None:
    pw = await password(stub, password_length=2, require_each_included_type=False)
    assert len(pw) == 2
    digits_only = await password(
        stub,
        password_length=50,
        require_each_included_type=False,
        exclude_punctuation=True,
        exclude_uppercase=True,
        exclude_lowercase=True,
    )
    assert set(digits_only) <= DIGITS


async def test_too_short_for_required_types(stub) -> None:
    msg = "Password length is too short based on the required types."
    await expect(
        stub.GetRandomPassword(pb.GetRandomPasswordRequest(password_length=3)),
        BAD,
        "InvalidParameterException",
        msg,
    )
    # A class removed entirely by ExcludeCharacters is no longer required.
    pw = await password(stub, password_length=3, exclude_characters=string.digits)
    assert len(pw) == 3 and not set(pw) & DIGITS


async def test_nothing_left_to_use(stub) -> None:
    msg = "The password can't be generated because the exclusions leave no characters to use."
    await expect(
        stub.GetRandomPassword(
            pb.GetRandomPasswordRequest(
                exclude_numbers=True,
                exclude_punctuation=True,
                exclude_uppercase=True,
                exclude_lowercase=True,
            )
        ),
        BAD,
        "InvalidParameterException",
        msg,
    )
    await expect(
        stub.GetRandomPassword(
            pb.GetRandomPasswordRequest(
                exclude_characters=string.ascii_letters + string.digits, exclude_punctuation=True
            )
        ),
        BAD,
        "InvalidParameterException",
        msg,
    )


async def test_include_space_with_length_four(stub) -> None:
    """Regression (issue 6, defect 17): the space is not a required type, so 4 is enough."""
    for _ in range(20):
        pw = await password(stub, password_length=4, include_space=True)
        assert len(pw) == 4
        assert all(set(pw) & cls for cls in (LOWER, UPPER, DIGITS, PUNCT))
    await expect(
        stub.GetRandomPassword(pb.GetRandomPasswordRequest(password_length=3, include_space=True)),
        BAD,
        "InvalidParameterException",
        "Password length is too short based on the required types.",
    )
