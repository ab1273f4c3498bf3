"""Broad-access (BlockPublicPolicy), ValidateResourcePolicy and lockout checks, as data.

Doc references: RS = /work/shared/docs/replication-security.md, AB = api-behaviors.md.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from smgrpc.core.errors import MalformedPolicyDocument, PublicPolicy
from smgrpc.core.policy import Request, parse_policy
from smgrpc.core.policy.checks import (
    CHECK_BROAD_ACCESS,
    CHECK_LOCKOUT,
    CHECK_SYNTAX,
    PUBLIC_POLICY_MESSAGE,
    check_put_resource_policy,
    is_public,
    validate_resource_policy,
)

ACCT = "111122223333"
OTHER = "444455556666"
BOB = f"arn:aws:iam::{ACCT}:user/Bob"
ADMIN = f"arn:aws:iam::{ACCT}:role/Admin"
SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:MySecret-a1b2c3"
OTHER_SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:Other-d4e5f6"
GET = "secretsmanager:GetSecretValue"
PUT = "secretsmanager:PutResourcePolicy"
DELETE = "secretsmanager:DeleteResourcePolicy"
CALLER = Request.build(
    principal_arn=BOB,
    principal_account=ACCT,
    action="secretsmanager:ValidateResourcePolicy",
    resource=SECRET,
    keys={"aws:SecureTransport": True},
)


def allow(principal: Any = "*", action: Any = GET, **more: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*", **more}


def deny(principal: Any = "*", action: Any = GET, **more: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Principal": principal, "Action": action, "Resource": "*", **more}


def notp(effect: str, who: str = BOB, action: Any = "*", **more: Any) -> dict[str, Any]:
    return {
        "Effect": effect,
        "NotPrincipal": {"AWS": who},
        "Action": action,
        "Resource": "*",
        **more,
    }


def doc(*stmts: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(stmts)})


def cond(op: str, key: str, value: Any) -> dict[str, Any]:
    return {"Condition": {op: {key: value}}}


# (id, statements, public?)
PUBLIC: list[tuple[str, list[dict[str, Any]], bool]] = [
    # RS §C.5 Public: Principal "*" Allow without a condition.
    ("star", [allow("*")], True),
    # RS §C.5: {"AWS":"*"} is equivalent to "*".
    ("aws-star", [allow({"AWS": "*"})], True),
    # RS §C.5: "*" among named principals still means everyone.
    ("aws-star-in-list", [allow({"AWS": [BOB, "*"]})], True),
    # RS §C.5: NotPrincipal with Allow is broad.
    ("notprincipal-allow", [notp("Allow")], True),
    # AB §2.23 example: one account's root is not broad.
    ("account-root", [allow({"AWS": f"arn:aws:iam::{ACCT}:root"})], False),
    # RS §C.5: cross-account principals alone are not public.
    ("cross-account", [allow({"AWS": [OTHER, f"arn:aws:iam::{OTHER}:role/App"]})], False),
    # RS §C.5 (lenient, documented): service principals are never broad.
    ("service", [allow({"Service": "lambda.amazonaws.com"})], False),
    # RS §D row 20: an aws:PrincipalAccount condition pins it.
    ("pin-account", [allow("*", **cond("StringEquals", "aws:PrincipalAccount", ACCT))], False),
    # RS §C.5: aws:PrincipalOrgID under an equality operator pins.
    ("pin-org", [allow("*", **cond("StringEquals", "aws:PrincipalOrgID", "o-abc123"))], False),
    # RS §C.5: aws:PrincipalArn under ArnEquals pins.
    ("pin-arn", [allow("*", **cond("ArnEquals", "aws:PrincipalArn", ADMIN))], False),
    # RS §C.5: an ARN operator with a wildcard only in the resource part stays in one account.
    (
        "pin-arnlike-account",
        [allow("*", **cond("ArnLike", "aws:PrincipalArn", f"arn:aws:iam::{ACCT}:role/*"))],
        False,
    ),
    # RS §C.5: aws:SourceAccount pins.
    ("pin-source-account", [allow("*", **cond("StringEquals", "aws:SourceAccount", OTHER))], False),
    # RS §C.5: aws:SourceArn (no account field) with ArnEquals pins.
    ("pin-source-arn", [allow("*", **cond("ArnEquals", "aws:SourceArn", "arn:aws:s3:::b"))], False),
    # Brief/RS §C.5: aws:SourceOwner pins.
    ("pin-source-owner", [allow("*", **cond("StringEquals", "aws:SourceOwner", ACCT))], False),
    # RS §C.5: ForAnyValue is false when the key is missing, so it still pins.
    (
        "pin-foranyvalue",
        [allow("*", **cond("ForAnyValue:StringEquals", "aws:PrincipalOrgID", "o-abc123"))],
        False,
    ),
    # RS §C.5: a wildcard value does not pin.
    ("wild-account", [allow("*", **cond("StringLike", "aws:PrincipalAccount", "*"))], True),
    # RS §C.5: a wildcard in the account field of an ARN does not pin.
    (
        "wild-arn-account",
        [allow("*", **cond("ArnLike", "aws:PrincipalArn", "arn:aws:iam::*:role/Admin"))],
        True,
    ),
    # RS §C.5: "not a ...IfExists form" (true when the key is missing).
    ("ifexists", [allow("*", **cond("StringEqualsIfExists", "aws:PrincipalAccount", ACCT))], True),
    # RS §C.5: a negated operator admits everyone else.
    ("negated", [allow("*", **cond("StringNotEquals", "aws:PrincipalAccount", OTHER))], True),
    # RS §C.5 (equality operators only): ForAllValues is true on a missing key.
    (
        "forall",
        [allow("*", **cond("ForAllValues:StringEquals", "aws:PrincipalAccount", ACCT))],
        True,
    ),
    # RS §C.5: only the pinning keys count; aws:SourceIp is not one (conservative).
    ("sourceip", [allow("*", **cond("IpAddress", "aws:SourceIp", "10.0.0.0/8"))], True),
    # RS §C.5: a policy variable is not a specific value.
    (
        "variable",
        [allow("*", **cond("StringEquals", "aws:PrincipalAccount", "${aws:PrincipalAccount}"))],
        True,
    ),
    # RS §C.5: any of several alternatives being a wildcard makes it broad.
    (
        "one-wild-value",
        [allow("*", **cond("StringLike", "aws:PrincipalAccount", [ACCT, "1*"]))],
        True,
    ),
    # RS §C.5: NotPrincipal Allow pinned by an account condition is not broad.
    (
        "notprincipal-pinned",
        [notp("Allow", **cond("StringEquals", "aws:PrincipalAccount", ACCT))],
        False,
    ),
    # RS §C.5 "any Allow statement": Deny statements never count as public.
    ("deny-star", [deny("*")], False),
    # RS §C.5: Deny with NotPrincipal is not broad either.
    ("deny-notprincipal", [notp("Deny")], False),
    # RS §C.5: one broad Allow among safe statements makes the policy public.
    ("multi-one-broad", [allow({"AWS": BOB}), deny("*"), allow("*", Sid="Open")], True),
    # RS §C.5: several pinned/named Allows stay non-public.
    (
        "multi-all-safe",
        [allow({"AWS": BOB}), allow("*", **cond("StringEquals", "aws:PrincipalOrgID", "o-x1"))],
        False,
    ),
    # RS §C.5 (our refinement): Deny everyone outside the account fences the public Allow.
    (
        "deny-fence",
        [allow("*"), deny("*", "*", **cond("StringNotEquals", "aws:PrincipalAccount", ACCT))],
        False,
    ),
    # RS §C.5 conservative: a fence limited to one action does not count.
    (
        "partial-fence",
        [allow("*"), deny("*", GET, **cond("StringNotEquals", "aws:PrincipalAccount", ACCT))],
        True,
    ),
    # RS §C.5 conservative: a fence with IfExists lets a key-less caller through.
    (
        "ifexists-fence",
        [
            allow("*"),
            deny("*", "*", **cond("StringNotEqualsIfExists", "aws:PrincipalAccount", ACCT)),
        ],
        True,
    ),
    # RS §C.5 conservative: the Allow's Resource scope is ignored.
    ("other-resource", [allow("*") | {"Resource": OTHER_SECRET}], True),
]


@pytest.mark.parametrize(("case", "stmts", "public"), PUBLIC, ids=[c[0] for c in PUBLIC])
def test_broad_access(case: str, stmts: list[dict[str, Any]], public: bool) -> None:
    policy = parse_policy(doc(*stmts), kind="resource")
    assert is_public(policy) is public
    result = validate_resource_policy(doc(*stmts), CALLER, SECRET)
    broad = [e for e in result.validation_errors if e.check_name == CHECK_BROAD_ACCESS]
    assert bool(broad) is public


# (id, statements, secret_arn, failing checks in order)
VALIDATE: list[tuple[str, list[dict[str, Any]], str | None, list[str]]] = [
    # AB §2.23 example: root of the account, GetSecretValue -> passed, no errors.
    ("aws-example", [allow({"AWS": f"arn:aws:iam::{ACCT}:root"})], SECRET, []),
    # RS §D row 20: Deny on PutResourcePolicy for the caller fails validation (lockout).
    ("lockout-put", [deny({"AWS": BOB}, PUT)], SECRET, [CHECK_LOCKOUT]),
    # RS §C.5 Lockout: DeleteResourcePolicy too; secretsmanager:* denies both.
    ("lockout-all", [deny({"AWS": ACCT}, "secretsmanager:*")], SECRET, [CHECK_LOCKOUT] * 2),
    # RS §C.5 Lockout: a Deny for someone else is fine.
    ("deny-other", [deny({"AWS": ADMIN}, PUT)], SECRET, []),
    # RS §C.5 Lockout: a Deny on another secret does not lock this one.
    ("deny-other-secret", [deny("*", PUT) | {"Resource": OTHER_SECRET}], SECRET, []),
    # RS §C.5 Lockout: a Deny the caller's context escapes (SecureTransport true) is fine.
    ("deny-insecure", [deny("*", "*", **cond("Bool", "aws:SecureTransport", "false"))], SECRET, []),
    # RS §C.5 Lockout: NotPrincipal Deny that excludes the caller is fine.
    ("notprincipal-deny", [notp("Deny")], SECRET, []),
    # RS §C.5 Lockout, without SecretId: Resource "*" still seen.
    ("lockout-no-secret", [deny("*", DELETE)], None, [CHECK_LOCKOUT]),
    # RS §C.5 + §D row 20: broad access and lockout reported together.
    ("both", [allow("*"), deny({"AWS": BOB}, PUT)], SECRET, [CHECK_BROAD_ACCESS, CHECK_LOCKOUT]),
]


@pytest.mark.parametrize(
    ("case", "stmts", "secret", "checks"), VALIDATE, ids=[c[0] for c in VALIDATE]
)
def test_validate(
    case: str, stmts: list[dict[str, Any]], secret: str | None, checks: list[str]
) -> None:
    result = validate_resource_policy(doc(*stmts), CALLER, secret)
    assert [e.check_name for e in result.validation_errors] == checks
    assert result.policy_validation_passed is (not checks)
    assert all(e.error_message for e in result.validation_errors)


# (id, text, message fragment): RS §D row 19, Validate returns a failed result, never raises.
SYNTAX: list[tuple[str, str, str]] = [
    ("not-json", "{Version:", "Syntax errors in policy."),
    ("bad-version", json.dumps({"Version": "2020-01-01", "Statement": [allow()]}), "version"),
    ("empty-statement", json.dumps({"Version": "2012-10-17", "Statement": []}), "Statement"),
    ("no-principal", doc({"Effect": "Allow", "Action": GET, "Resource": "*"}), "principal"),
    (
        "bad-operator",
        doc(allow("*", **cond("StringSorta", "aws:PrincipalAccount", ACCT))),
        "operator",
    ),
    (
        "duplicate-key",
        '{"Version":"2012-10-17","Version":"2012-10-17","Statement":[]}',
        "Duplicate",
    ),
    ("too-long", doc(allow({"AWS": [BOB] * 700})), "20480"),
]


@pytest.mark.parametrize(("case", "text", "fragment"), SYNTAX, ids=[c[0] for c in SYNTAX])
def test_syntax_errors(case: str, text: str, fragment: str) -> None:
    result = validate_resource_policy(text, CALLER, SECRET)
    assert result.policy_validation_passed is False
    assert [e.check_name for e in result.validation_errors] == [CHECK_SYNTAX]
    assert fragment.lower() in result.validation_errors[0].error_message.lower()
    # AB §2.12 / RS §C.5: PutResourcePolicy raises MalformedPolicyDocumentException instead.
    with pytest.raises(MalformedPolicyDocument):
        check_put_resource_policy(text, block_public=True)


# RS §C.5 / §D row 20 / §A.15: BlockPublicPolicy=true raises PublicPolicyException with AWS's
# wording; the default (false) stores a public policy; a pinned policy is accepted either way.
@pytest.mark.parametrize(
    ("stmts", "block", "raises"),
    [
        ([allow("*")], True, True),
        ([allow("*")], False, False),
        ([allow("*", **cond("StringEquals", "aws:PrincipalAccount", ACCT))], True, False),
        ([deny({"AWS": BOB}, PUT)], True, False),
    ],
    ids=["public-blocked", "public-default", "pinned-blocked", "lockout-not-public"],
)
def test_put_resource_policy(stmts: list[dict[str, Any]], block: bool, raises: bool) -> None:
    text = doc(*stmts)
    if raises:
        with pytest.raises(PublicPolicy) as err:
            check_put_resource_policy(text, block_public=block)
        assert err.value.message == PUBLIC_POLICY_MESSAGE
        assert err.value.aws_code == "PublicPolicyException"
    else:
        assert check_put_resource_policy(text, block_public=block).kind == "resource"


def test_messages_name_the_statement() -> None:
    # RS §C.5: the error must let the author find the offending statement.
    result = validate_resource_policy(doc(allow({"AWS": BOB}), allow("*", Sid="Open")), CALLER)
    assert result.validation_errors[0].check_name == CHECK_BROAD_ACCESS
    assert "'Open'" in result.validation_errors[0].error_message
