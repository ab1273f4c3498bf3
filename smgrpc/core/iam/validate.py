"""AWS IAM input rules (names, paths, documents, tags, paging, quotas) as pure checks.

Model-level violations answer IAM's ValidationError with the "1 validation error detected"
text and IAM's member names (userName, policyDocument, ...); the service-level rules answer the
code IAM uses (LimitExceeded, MalformedPolicyDocument, InvalidInput). Sources: the IAM API
reference (member patterns and lengths) and "IAM and AWS STS quotas".
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from smgrpc.core.errors import (
    IamLimitExceeded,
    IamMalformedPolicyDocument,
    IamValidationError,
    InvalidInput,
    MalformedPolicyDocument,
    iam_validation,
)
from smgrpc.core.iam.model import Tags
from smgrpc.core.policy import Policy, parse_policy

NAME_PATTERN = r"[\w+=,.@-]+"
_NAME_RE = re.compile(NAME_PATTERN)  # \w: IAM's pattern is Java's, ASCII word characters
_PATH_RE = re.compile(r"/|/[\x21-\x7e]+/")
_PATH_PREFIX_RE = re.compile(r"/[\x21-\x7e]*")
_TAG_EXTRA = frozenset("_.:/=+-@")
TAG_PATTERN_KEY = "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+"
TAG_PATTERN_VALUE = "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*"
_ACCESS_KEY_ID_RE = re.compile(r"\w+", re.ASCII)
# What an AccessKeyId looks like (AKIA/ASIA + upper-case letters and digits). Anything else in
# an AccessKeyId member is never echoed in an error: it may be a SecretAccessKey pasted into
# the wrong member (AWS would echo it; a secret must never be in an error message).
_KEY_ID_SHAPE = re.compile(r"[A-Z0-9]{16,128}")
_DESCRIPTION_RE = re.compile(r"[\t\n\r\x20-\x7e\xa1-\xff]*")
_DOCUMENT_RE = re.compile(r"[\t\n\r\x20-\xff]+")  # IAM: [\u0009\u000A\u000D\u0020-\u00FF]+

MAX_USERS = 5000
MAX_ROLES = 1000
MAX_KEYS_PER_USER = 2
MAX_TAGS = 50
USER_POLICY_CHARS = 2048  # aggregate of a user's inline policies, whitespace not counted
ROLE_POLICY_CHARS = 10240
TRUST_POLICY_CHARS = 2048
MAX_DOCUMENT = 131072
MAX_ITEMS_DEFAULT = 100
PATH_INVALID = (
    "The specified value for path is invalid. It must begin and end with / and contain only "
    "alphanumeric characters and/or / characters."
)
TAGS_DUPLICATE = "Duplicate tag keys found. Please note that Tag keys are case insensitive."
TAGS_LIMIT = "The number of tags has reached the maximum limit."


def _shown(value: str) -> str:
    return f"'{value}'" if len(value) <= 256 else ""


def length(value: str, member: str, lo: int, hi: int) -> None:
    n = len(value)
    if n < lo:
        raise iam_validation(
            _shown(value), member, f"Member must have length greater than or equal to {lo}"
        )
    if n > hi:
        raise iam_validation(
            _shown(value), member, f"Member must have length less than or equal to {hi}"
        )


def pattern(value: str, member: str, regex: re.Pattern[str], shown: str) -> None:
    if not regex.fullmatch(value):
        raise iam_validation(
            _shown(value), member, f"Member must satisfy regular expression pattern: {shown}"
        )


def entity_name(value: str, member: str = "userName") -> None:
    """A user or role name: [\\w+=,.@-]{1,64} (unique case-insensitively: see key())."""
    _name(value, member, 64)


def policy_name(value: str, member: str = "policyName") -> None:
    _name(value, member, 128)


def _name(value: str, member: str, hi: int) -> None:
    """An IAM name: 1 to `hi` ASCII characters of NAME_PATTERN."""
    if 0 < len(value) <= hi and value.isascii() and _NAME_RE.fullmatch(value):
        return
    length(value, member, 1, hi)
    raise iam_validation(
        _shown(value), member, f"Member must satisfy regular expression pattern: {NAME_PATTERN}"
    )


def key(name: str) -> str:
    """The comparison key of an IAM name: IAM names are unique regardless of case."""
    return name.lower()


def path(value: str | None, member: str = "path") -> str:
    """An entity path: '/' or '/segments/' of printable ASCII, at most 512; default '/'."""
    if value is None:
        return "/"
    length(value, member, 1, 512)
    if not _PATH_RE.fullmatch(value):
        raise IamValidationError(PATH_INVALID, field=member)
    return value


def path_prefix(value: str | None, member: str = "pathPrefix") -> str:
    if value is None:
        return "/"
    length(value, member, 1, 512)
    pattern(value, member, _PATH_PREFIX_RE, "\\u002F[\\u0021-\\u007F]*")
    return value


def description(value: str | None, member: str = "description") -> None:
    if value is None:
        return
    length(value, member, 0, 1000)
    pattern(
        value, member, _DESCRIPTION_RE, "[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*"
    )


def max_session_duration(value: int | None, member: str = "maxSessionDuration") -> int:
    if value is None:
        return 3600
    if not 3600 <= value <= 43200:
        side = "greater than or equal to 3600" if value < 3600 else "less than or equal to 43200"
        raise iam_validation(f"'{value}'", member, f"Member must have value {side}")
    return value


def shown_key_id(value: str) -> str:
    """An AccessKeyId for an error message: itself if shaped like one, else a placeholder."""
    if _KEY_ID_SHAPE.fullmatch(value):
        return value
    return "(not shown: not shaped like an AccessKeyId)"


def access_key_id(value: str, member: str = "accessKeyId") -> None:
    if _KEY_ID_SHAPE.fullmatch(value):
        return
    n = len(value)
    constraint = "Member must satisfy regular expression pattern: [\\w]+"
    if not 16 <= n <= 128:
        side = "greater than or equal to 16" if n < 16 else "less than or equal to 128"
        constraint = f"Member must have length {side}"
    elif _ACCESS_KEY_ID_RE.fullmatch(value):
        return
    raise iam_validation("", member, constraint)  # the value is not echoed: see _KEY_ID_SHAPE


def status(value: str, member: str = "status") -> None:
    if value not in ("Active", "Inactive"):
        raise iam_validation(
            _shown(value), member, "Member must satisfy enum value set: [Active, Inactive]"
        )


def max_items(value: int | None, member: str = "maxItems") -> int:
    """MaxItems 1..1000, default 100."""
    if value is None:
        return MAX_ITEMS_DEFAULT
    if value < 1:
        raise iam_validation(
            f"'{value}'", member, "Member must have value greater than or equal to 1"
        )
    if value > 1000:
        raise iam_validation(
            f"'{value}'", member, "Member must have value less than or equal to 1000"
        )
    return value


def encode_marker(position: str) -> str:
    """An opaque Marker for the next page: the last item's sort key, encoded."""
    return base64.urlsafe_b64encode(b"m1:" + position.encode()).decode("ascii")


def decode_marker(marker: str | None, member: str = "marker") -> str | None:
    """The position a Marker stands for; a Marker this server did not make is refused."""
    if marker is None:
        return None
    length(marker, member, 1, 320)
    try:
        raw = base64.urlsafe_b64decode(marker.encode("ascii"))
        if raw.startswith(b"m1:"):
            return raw[3:].decode()
    except (binascii.Error, UnicodeError, ValueError):
        pass
    raise IamValidationError("Invalid Marker.", field=member)


def document_text(value: str, member: str = "policyDocument") -> None:
    length(value, member, 1, MAX_DOCUMENT)
    if not _DOCUMENT_RE.fullmatch(value):
        raise iam_validation(
            "",
            member,
            "Member must satisfy regular expression pattern: "
            "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+",
        )


def _iam_malformed(exc: MalformedPolicyDocument) -> IamMalformedPolicyDocument:
    return IamMalformedPolicyDocument(exc.message)


def identity_policy(text: str, name: str = "") -> Policy:
    """An inline identity policy, compiled; IAM's MalformedPolicyDocument on any problem."""
    document_text(text)
    try:
        return parse_policy(text, kind="identity", name=name, max_chars=MAX_DOCUMENT)
    except MalformedPolicyDocument as exc:
        raise _iam_malformed(exc) from None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("duplicate key")
    return out


def trust_policy(text: str, member: str = "assumeRolePolicyDocument") -> None:
    """A role's trust policy: Principal required, Resource prohibited (IAM's rules).

    parse_policy has no trust kind: the document is checked as a resource policy (Principal
    required, principals/actions/conditions validated) with `"Resource": "*"` put into each
    statement for the check, after refusing a statement that names a Resource itself.
    """
    document_text(text, member)
    if sum(not c.isspace() for c in text) > TRUST_POLICY_CHARS:
        raise IamLimitExceeded(
            f"Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_CHARS}", field=member
        )
    try:
        doc = json.loads(text, object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError):
        raise IamMalformedPolicyDocument("Syntax errors in policy.") from None
    statements: Any = doc.get("Statement") if isinstance(doc, dict) else None
    items = statements if isinstance(statements, list) else [statements]
    for st in items:
        if isinstance(st, dict) and ("Resource" in st or "NotResource" in st):
            raise IamMalformedPolicyDocument("Has prohibited field Resource")
        if isinstance(st, dict):
            st["Resource"] = "*"
    try:
        parse_policy(json.dumps(doc), kind="resource", max_chars=MAX_DOCUMENT * 2)
    except MalformedPolicyDocument as exc:
        raise _iam_malformed(exc) from None


def policy_chars(documents: Sequence[str]) -> int:
    """What counts toward the inline policy quota: characters other than whitespace."""
    return sum(sum(not c.isspace() for c in d) for d in documents)


def inline_quota(kind: str, name: str, documents: Sequence[str]) -> None:
    """Aggregate inline policy size of one user (2048) or role (10240), whitespace excluded."""
    limit = USER_POLICY_CHARS if kind == "user" else ROLE_POLICY_CHARS
    if policy_chars(documents) > limit:
        raise IamLimitExceeded(f"Maximum policy size of {limit} bytes exceeded for {kind} {name}")


def _tag_chars(text: str) -> bool:
    """Letters, separators, numbers (\\p{L}\\p{Z}\\p{N}) and _.:/=+-@."""
    return all(c in _TAG_EXTRA or unicodedata.category(c)[0] in "LZN" for c in text)


def _tag_text(text: str, member: str, lo: int, hi: int, shown: str) -> None:
    length(text, member, lo, hi)
    if not _tag_chars(text):
        raise iam_validation(
            _shown(text), member, f"Member must satisfy regular expression pattern: {shown}"
        )


def tags(given: Sequence[tuple[str, str]], member: str = "tags") -> Tags:
    """Tags of a request: at most 50, key 1..128 and value 0..256 of IAM's tag characters,
    no key twice (case-insensitively)."""
    if len(given) > MAX_TAGS:
        raise iam_validation(
            "", member, f"Member must have length less than or equal to {MAX_TAGS}"
        )
    seen: set[str] = set()
    for i, (k, v) in enumerate(given, 1):
        _tag_text(k, f"{member}.{i}.member.key", 1, 128, TAG_PATTERN_KEY)
        _tag_text(v, f"{member}.{i}.member.value", 0, 256, TAG_PATTERN_VALUE)
        if k.lower() in seen:
            raise InvalidInput(TAGS_DUPLICATE, field=member)
        seen.add(k.lower())
    return tuple((k, v) for k, v in given)


def merge_tags(current: Tags, added: Tags) -> Tags:
    """TagUser/TagRole: a key already there (any case) takes the new value; at most 50."""
    out = dict(current)
    lower = {k.lower(): k for k, _ in current}
    for k, v in added:
        old = lower.get(k.lower())
        if old is not None:
            del out[old]
        out[k] = v
        lower[k.lower()] = k
    if len(out) > MAX_TAGS:
        raise IamLimitExceeded(TAGS_LIMIT)
    return tuple(out.items())


def quota(name: str, count: int, limit: int) -> None:
    """Adding one more would exceed `limit`: AWS's quota wording."""
    if count >= limit:
        raise IamLimitExceeded(f"Cannot exceed quota for {name}: {limit}")
