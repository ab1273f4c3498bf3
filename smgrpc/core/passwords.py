"""GetRandomPassword: CSPRNG password generation with AWS semantics."""

from __future__ import annotations

import secrets
import string

from smgrpc.core.errors import InvalidParameter, validation

__all__ = [
    "DEFAULT_LENGTH",
    "MAX_EXCLUDE_CHARACTERS",
    "MAX_LENGTH",
    "MIN_LENGTH",
    "PUNCTUATION",
    "generate_password",
]

DEFAULT_LENGTH = 32
MIN_LENGTH = 1
MAX_LENGTH = 4096
MAX_EXCLUDE_CHARACTERS = 4096
# The 32 ASCII punctuation characters AWS documents; identical to string.punctuation.
PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

TOO_SHORT = "Password length is too short based on the required types."
NOTHING_LEFT = "The password can't be generated because the exclusions leave no characters to use."

_rng = secrets.SystemRandom()


def _check_limits(length: int, exclude_characters: str) -> None:
    """Raise the AWS model-validation error for out-of-range inputs."""
    if length < MIN_LENGTH:
        raise validation(
            f"'{length}'",
            "passwordLength",
            f"Member must have value greater than or equal to {MIN_LENGTH}",
        )
    if length > MAX_LENGTH:
        raise validation(
            f"'{length}'",
            "passwordLength",
            f"Member must have value less than or equal to {MAX_LENGTH}",
        )
    if len(exclude_characters) > MAX_EXCLUDE_CHARACTERS:
        raise validation(
            f"'{exclude_characters}'",
            "excludeCharacters",
            f"Member must have length less than or equal to {MAX_EXCLUDE_CHARACTERS}",
        )


def generate_password(
    *,
    length: int | None = None,
    exclude_characters: str | None = None,
    exclude_numbers: bool = False,
    exclude_punctuation: bool = False,
    exclude_uppercase: bool = False,
    exclude_lowercase: bool = False,
    include_space: bool = False,
    require_each_included_type: bool | None = None,
) -> str:
    """Return a random password built from the included character classes."""
    length = DEFAULT_LENGTH if length is None else length
    excluded = exclude_characters or ""
    _check_limits(length, excluded)
    require_each = True if require_each_included_type is None else require_each_included_type

    wanted: list[str] = []
    if not exclude_lowercase:
        wanted.append(string.ascii_lowercase)
    if not exclude_uppercase:
        wanted.append(string.ascii_uppercase)
    if not exclude_numbers:
        wanted.append(string.digits)
    if not exclude_punctuation:
        wanted.append(PUNCTUATION)

    drop = set(excluded)
    # A class emptied by ExcludeCharacters is no longer "included", so it is not required.
    classes = [kept for cls in wanted if (kept := "".join(c for c in cls if c not in drop))]
    # IncludeSpace adds the space to the pool only: RequireEachIncludedType covers the four
    # types AWS names (upper, lower, digit, punctuation), never the space.
    space = " " if include_space and " " not in drop else ""
    pool = "".join(classes) + space
    if not pool:
        raise InvalidParameter(NOTHING_LEFT, field="excludeCharacters")

    if not require_each:
        return "".join(secrets.choice(pool) for _ in range(length))

    if length < len(classes):
        raise InvalidParameter(TOO_SHORT, field="passwordLength")
    # One character from each class, the rest from the whole pool, then a CSPRNG shuffle so the
    # required characters land at random positions (moto always appends them at the end).
    chars = [secrets.choice(cls) for cls in classes]
    chars.extend(secrets.choice(pool) for _ in range(length - len(classes)))
    _rng.shuffle(chars)
    return "".join(chars)
