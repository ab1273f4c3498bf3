"""Secret ARNs: build them, and resolve a SecretId (name, full ARN or partial ARN)."""

from __future__ import annotations

import re
import secrets
import string

DEFAULT_ACCOUNT = "123456789012"
_SUFFIX_ALPHABET = string.ascii_letters + string.digits
_ARN_PREFIX = re.compile(r"^arn:(aws|aws-cn|aws-eusc|aws-iso|aws-iso-b|aws-us-gov):secretsmanager:")


def partition_for(region: str) -> str:
    """AWS partition of a Region name."""
    for prefix, part in (
        ("cn-", "aws-cn"),
        ("us-gov-", "aws-us-gov"),
        ("us-isob-", "aws-iso-b"),
        ("us-iso-", "aws-iso"),
        ("eusc-", "aws-eusc"),
    ):
        if region.startswith(prefix):
            return part
    return "aws"


def random_suffix() -> str:
    """Six random characters, as AWS appends after the name."""
    return "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(6))


def secret_arn(region: str, account: str, name: str, suffix: str) -> str:
    return f"arn:{partition_for(region)}:secretsmanager:{region}:{account}:secret:{name}-{suffix}"


def region_arn_prefix(region: str, account: str) -> str:
    return f"arn:{partition_for(region)}:secretsmanager:{region}:{account}:secret:"


def with_region(arn: str, region: str) -> str:
    """The same secret ARN in another Region (a replica's ARN; a promoted replica keeps it)."""
    parts = arn.split(":", 6)
    parts[1] = partition_for(region)
    parts[3] = region
    return ":".join(parts)


def is_arn(secret_id: str) -> bool:
    return bool(_ARN_PREFIX.match(secret_id))


def name_from_partial_arn(
    secret_id: str, region: str | None = None, account: str | None = None
) -> str | None:
    """The name inside a partial ARN (arn:...:secret:<name>), or None if not an ARN.

    With region/account given, a partial ARN naming another Region or account resolves to
    nothing (a secret is per Region and account).
    """
    if not is_arn(secret_id):
        return None
    parts = secret_id.split(":", 6)
    if len(parts) < 7 or parts[5] != "secret":
        return None
    if (region is not None and parts[3] != region) or (account is not None and parts[4] != account):
        return None
    return parts[6]
