"""IAM policy evaluation table: examples from the AWS IAM and Secrets Manager documentation.

Each case is data: identity policies (statements), an optional resource policy, a request,
and the expected outcome (allow / explicit_deny / implicit_deny) with the deciding policy type.
`doc` names the documentation page in DOCS the example follows.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from smgrpc.core.policy import Request, evaluate, parse_policy

IAM = "https://docs.aws.amazon.com/IAM/latest/UserGuide/"
DOCS = {
    "logic": IAM + "reference_policies_evaluation-logic.html",
    "xacct": IAM + "reference_policies_evaluation-logic-cross-account.html",
    "action": IAM + "reference_policies_elements_action.html",
    "notaction": IAM + "reference_policies_elements_notaction.html",
    "resource": IAM + "reference_policies_elements_resource.html",
    "notresource": IAM + "reference_policies_elements_notresource.html",
    "principal": IAM + "reference_policies_elements_principal.html",
    "notprincipal": IAM + "reference_policies_elements_notprincipal.html",
    "ops": IAM + "reference_policies_elements_condition_operators.html",
    "cond": IAM + "reference_policies_elements_condition.html",
    "multi": IAM + "reference_policies_condition-single-vs-multi-valued-context-keys.html",
    "vars": IAM + "reference_policies_variables.html",
    "abac": IAM + "tutorial_attribute-based-access-control.html",
    "mfa": IAM + "reference_policies_examples_aws_my-sec-creds-self-manage.html",
    "ip": IAM + "reference_policies_examples_aws_deny-ip.html",
    "dates": IAM + "reference_policies_examples_aws-dates.html",
    "sm": "https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples.html",
    "smkeys": "https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_iam-permissions.html",
    "c4": "/work/shared/docs/replication-security.md#C.4",
}

ACCT = "111122223333"
OTHER = "444455556666"
BOB = f"arn:aws:iam::{ACCT}:user/Bob"
ALICE = f"arn:aws:iam::{ACCT}:user/Alice"
ADMIN_ROLE = f"arn:aws:iam::{ACCT}:role/AdminOps"
EXT = f"arn:aws:iam::{OTHER}:user/Eve"
SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:MySecret-a1b2c3"
BOBS = f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:Bob/db-x1y2z3"
OTHER_SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:Other-d4e5f6"
GET = "secretsmanager:GetSecretValue"
ROT_PATTERN = f"arn:aws:lambda:*:{ACCT}:function:rot*"


def allow(action: Any = GET, resource: Any = "*", **more: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **more}


def deny(action: Any = GET, resource: Any = "*", **more: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **more}


def cond(**blocks: dict[str, Any]) -> dict[str, Any]:
    return {"Condition": blocks}


def P(who: Any) -> dict[str, Any]:  # noqa: N802 - reads like the policy element
    return {"Principal": who}


ALLOW_ALL = allow("*", "*")

CASES: list[dict[str, Any]] = [
    # --- evaluation logic: deny wins, allow from either side, implicit deny ---------------
    {"id": "no-policy", "doc": "logic", "identity": [], "expect": "implicit_deny"},
    {"id": "identity-allow", "doc": "logic", "identity": [[allow()]], "expect": "allow"},
    {
        "id": "deny-beats-allow",
        "doc": "logic",
        "identity": [[allow()], [deny()]],
        "expect": "explicit_deny",
        "kind": "identity",
    },
    {
        "id": "deny-same-policy",
        "doc": "logic",
        "identity": [[ALLOW_ALL, deny()]],
        "expect": "explicit_deny",
    },
    {
        "id": "resource-only-allow",
        "doc": "logic",
        "resource": [allow(**P({"AWS": BOB}))],
        "expect": "allow",
        "kind": "resource",
    },
    {
        "id": "resource-deny-beats-identity",
        "doc": "logic",
        "identity": [[ALLOW_ALL]],
        "resource": [deny(**P({"AWS": BOB}))],
        "expect": "explicit_deny",
        "kind": "resource",
    },
    {
        "id": "other-action",
        "doc": "logic",
        "identity": [[allow("secretsmanager:DescribeSecret")]],
        "expect": "implicit_deny",
        "kind": "identity",
    },
    {
        "id": "resource-other-principal",
        "doc": "logic",
        "resource": [allow(**P({"AWS": ALICE}))],
        "expect": "implicit_deny",
    },
    {
        "id": "resource-deny-other-principal",
        "doc": "logic",
        "identity": [[allow()]],
        "resource": [deny(**P({"AWS": ALICE}))],
        "expect": "allow",
    },
    {
        "id": "deny-other-action-irrelevant",
        "doc": "logic",
        "identity": [[allow(), deny("secretsmanager:DeleteSecret")]],
        "expect": "allow",
    },
    # --- principals ---------------------------------------------------------------------------
    # An account principal delegates to the account's IAM: it grants nobody by itself
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
    # "...the account... can then delegate permissions to IAM users and roles").
    {
        "id": "principal-account-root-alone-grants-nobody",
        "doc": "principal",
        "resource": [allow(**P({"AWS": f"arn:aws:iam::{ACCT}:root"}))],
        "expect": "implicit_deny",
    },
    {
        "id": "principal-account-id-alone-grants-nobody",
        "doc": "principal",
        "resource": [allow(**P({"AWS": ACCT}))],
        "expect": "implicit_deny",
    },
    {
        "id": "principal-account-root-with-identity-allow",
        "doc": "principal",
        "identity": [[allow()]],
        "resource": [allow(**P({"AWS": f"arn:aws:iam::{ACCT}:root"}))],
        "expect": "allow",
    },
    {
        "id": "principal-account-root-deny-applies-to-its-users",
        "doc": "principal",
        "identity": [[allow()]],
        "resource": [deny(**P({"AWS": f"arn:aws:iam::{ACCT}:root"}))],
        "expect": "explicit_deny",
    },
    {"id": "principal-star", "doc": "principal", "resource": [allow(**P("*"))], "expect": "allow"},
    {
        "id": "principal-aws-star",
        "doc": "principal",
        "resource": [allow(**P({"AWS": "*"}))],
        "expect": "allow",
    },
    {
        "id": "principal-list",
        "doc": "principal",
        "resource": [allow(**P({"AWS": [ALICE, BOB]}))],
        "expect": "allow",
    },
    {
        "id": "principal-role",
        "doc": "principal",
        "resource": [allow(**P({"AWS": ADMIN_ROLE}))],
        "req": {"principal": ADMIN_ROLE},
        "expect": "allow",
    },
    {
        "id": "principal-service-not-user",
        "doc": "principal",
        "resource": [allow(**P({"Service": "lambda.amazonaws.com"}))],
        "expect": "implicit_deny",
    },
    {
        "id": "notprincipal-deny-spares-named",
        "doc": "notprincipal",
        "identity": [[allow()]],
        "resource": [
            {"Effect": "Deny", "Action": "*", "Resource": "*", "NotPrincipal": {"AWS": BOB}}
        ],
        "expect": "allow",
    },
    {
        "id": "notprincipal-deny-hits-others",
        "doc": "notprincipal",
        "identity": [[allow()]],
        "resource": [
            {"Effect": "Deny", "Action": "*", "Resource": "*", "NotPrincipal": {"AWS": BOB}}
        ],
        "req": {"principal": ALICE},
        "expect": "explicit_deny",
    },
    # --- cross-account: both sides must allow ------------------------------------------------
    {
        "id": "xacct-identity-only",
        "doc": "xacct",
        "identity": [[allow()]],
        "req": {"principal": EXT, "account": OTHER},
        "expect": "implicit_deny",
        "kind": "resource",
    },
    {
        "id": "xacct-both",
        "doc": "xacct",
        "identity": [[allow()]],
        "resource": [allow(**P({"AWS": OTHER}))],
        "req": {"principal": EXT, "account": OTHER},
        "expect": "allow",
    },
    {
        "id": "xacct-resource-only",
        "doc": "xacct",
        "resource": [allow(**P({"AWS": EXT}))],
        "req": {"principal": EXT, "account": OTHER},
        "expect": "implicit_deny",
        "kind": "identity",
    },
    # --- Action / NotAction ------------------------------------------------------------------
    {
        "id": "action-service-star",
        "doc": "action",
        "identity": [[allow("secretsmanager:*")]],
        "expect": "allow",
    },
    {
        "id": "action-prefix",
        "doc": "action",
        "identity": [[allow("secretsmanager:Get*")]],
        "expect": "allow",
    },
    {
        "id": "action-prefix-miss",
        "doc": "action",
        "identity": [[allow("secretsmanager:Get*")]],
        "req": {"action": "secretsmanager:PutSecretValue"},
        "expect": "implicit_deny",
    },
    {
        "id": "action-case-insensitive",
        "doc": "action",
        "identity": [[allow("SecretsManager:getsecretVALUE")]],
        "expect": "allow",
    },
    {
        "id": "action-question-mark",
        "doc": "action",
        "identity": [[allow("secretsmanager:?etSecretValue")]],
        "expect": "allow",
    },
    {
        "id": "action-list",
        "doc": "action",
        "identity": [[allow(["secretsmanager:DescribeSecret", GET])]],
        "expect": "allow",
    },
    {"id": "action-star", "doc": "action", "identity": [[allow("*")]], "expect": "allow"},
    {
        "id": "action-other-service",
        "doc": "action",
        "identity": [[allow("s3:*")]],
        "expect": "implicit_deny",
    },
    {
        "id": "action-inner-wildcard",
        "doc": "action",
        "identity": [[allow("secretsmanager:*Secret*")]],
        "req": {"action": "secretsmanager:DescribeSecret"},
        "expect": "allow",
    },
    {
        "id": "notaction-allow-other",
        "doc": "notaction",
        "identity": [[{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]],
        "expect": "allow",
    },
    {
        "id": "notaction-excludes",
        "doc": "notaction",
        "identity": [[{"Effect": "Allow", "NotAction": "secretsmanager:*", "Resource": "*"}]],
        "expect": "implicit_deny",
    },
    {
        "id": "notaction-deny-spares-listed",
        "doc": "notaction",
        "identity": [[ALLOW_ALL, {"Effect": "Deny", "NotAction": GET, "Resource": "*"}]],
        "expect": "allow",
    },
    {
        "id": "notaction-deny-hits-rest",
        "doc": "notaction",
        "identity": [[ALLOW_ALL, {"Effect": "Deny", "NotAction": GET, "Resource": "*"}]],
        "req": {"action": "secretsmanager:DeleteSecret"},
        "expect": "explicit_deny",
    },
    # MFA self-management example: deny everything but iam:* unless MFA is present.
    {
        "id": "mfa-missing-denied",
        "doc": "mfa",
        "identity": [
            [
                ALLOW_ALL,
                {
                    "Effect": "Deny",
                    "NotAction": ["iam:*", "sts:GetSessionToken"],
                    "Resource": "*",
                    "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
                },
            ]
        ],
        "expect": "explicit_deny",
    },
    {
        "id": "mfa-present-allowed",
        "doc": "mfa",
        "identity": [
            [
                ALLOW_ALL,
                {
                    "Effect": "Deny",
                    "NotAction": ["iam:*", "sts:GetSessionToken"],
                    "Resource": "*",
                    "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
                },
            ]
        ],
        "req": {"keys": {"aws:MultiFactorAuthPresent": True}},
        "expect": "allow",
    },
    {
        "id": "mfa-false-denied",
        "doc": "mfa",
        "identity": [
            [
                ALLOW_ALL,
                {
                    "Effect": "Deny",
                    "NotAction": ["iam:*", "sts:GetSessionToken"],
                    "Resource": "*",
                    "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
                },
            ]
        ],
        "req": {"keys": {"aws:MultiFactorAuthPresent": "false"}},
        "expect": "explicit_deny",
    },
    # --- Resource / NotResource --------------------------------------------------------------
    {
        "id": "resource-exact",
        "doc": "resource",
        "identity": [[allow(GET, SECRET)]],
        "expect": "allow",
    },
    {
        "id": "resource-suffix-wildcard",
        "doc": "sm",
        "identity": [[allow(GET, f"arn:aws:secretsmanager:*:{ACCT}:secret:MySecret-??????")]],
        "expect": "allow",
    },
    {
        "id": "resource-prefix-miss",
        "doc": "resource",
        "identity": [[allow(GET, f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:Other*")]],
        "expect": "implicit_deny",
    },
    {
        "id": "resource-case-sensitive",
        "doc": "resource",
        "identity": [[allow(GET, SECRET.replace("MySecret", "mysecret"))]],
        "expect": "implicit_deny",
    },
    {
        "id": "resource-list",
        "doc": "resource",
        "identity": [[allow(GET, [OTHER_SECRET, SECRET])]],
        "expect": "allow",
    },
    {
        "id": "resource-star-spans-colons",
        "doc": "resource",
        "identity": [[allow(GET, "arn:aws:secretsmanager:*")]],
        "expect": "allow",
    },
    {
        "id": "resource-no-type-needs-star",
        "doc": "smkeys",
        "identity": [[allow("secretsmanager:ListSecrets", "arn:aws:secretsmanager:*:*:secret:*")]],
        "req": {"action": "secretsmanager:ListSecrets", "resource": "*"},
        "expect": "implicit_deny",
    },
    {
        "id": "resource-no-type-star",
        "doc": "smkeys",
        "identity": [[allow("secretsmanager:ListSecrets", "*")]],
        "req": {"action": "secretsmanager:ListSecrets", "resource": "*"},
        "expect": "allow",
    },
    {
        "id": "notresource-excludes",
        "doc": "notresource",
        "identity": [[{"Effect": "Allow", "Action": GET, "NotResource": SECRET}]],
        "expect": "implicit_deny",
    },
    {
        "id": "notresource-allows-other",
        "doc": "notresource",
        "identity": [[{"Effect": "Allow", "Action": GET, "NotResource": SECRET}]],
        "req": {"resource": OTHER_SECRET},
        "expect": "allow",
    },
    {
        "id": "notresource-deny-all-but",
        "doc": "notresource",
        "identity": [[ALLOW_ALL, {"Effect": "Deny", "Action": "*", "NotResource": [SECRET]}]],
        "req": {"resource": OTHER_SECRET},
        "expect": "explicit_deny",
    },
    {
        "id": "notresource-deny-spares",
        "doc": "notresource",
        "identity": [[ALLOW_ALL, {"Effect": "Deny", "Action": "*", "NotResource": [SECRET]}]],
        "expect": "allow",
    },
    # --- policy variables ---------------------------------------------------------------------
    {
        "id": "var-username-own",
        "doc": "vars",
        "identity": [[allow(GET, f"arn:aws:secretsmanager:*:{ACCT}:secret:${{aws:username}}/*")]],
        "req": {"resource": BOBS},
        "expect": "allow",
    },
    {
        "id": "var-username-other",
        "doc": "vars",
        "identity": [[allow(GET, f"arn:aws:secretsmanager:*:{ACCT}:secret:${{aws:username}}/*")]],
        "req": {"resource": BOBS, "principal": ALICE},
        "expect": "implicit_deny",
    },
    {
        "id": "var-2008-literal",
        "doc": "vars",
        "version": "2008-10-17",
        "identity": [[allow(GET, f"arn:aws:secretsmanager:*:{ACCT}:secret:${{aws:username}}/*")]],
        "req": {"resource": BOBS},
        "expect": "implicit_deny",
    },
    {
        "id": "var-missing-no-match",
        "doc": "vars",
        "identity": [[allow(GET, "arn:aws:secretsmanager:*:*:secret:${aws:PrincipalTag/team}-*")]],
        "expect": "implicit_deny",
    },
    {
        "id": "var-default-value",
        "doc": "vars",
        "identity": [[allow(GET, "arn:*:secret:${aws:PrincipalTag/team, 'MySecret'}-*")]],
        "expect": "allow",
    },
    {
        "id": "abac-tags-match",
        "doc": "abac",
        "identity": [
            [allow(**cond(StringEquals={"aws:ResourceTag/project": "${aws:PrincipalTag/project}"}))]
        ],
        "req": {"tags": {"project": "peg"}, "keys": {"aws:ResourceTag/project": "peg"}},
        "expect": "allow",
    },
    {
        "id": "abac-tags-differ",
        "doc": "abac",
        "identity": [
            [allow(**cond(StringEquals={"aws:ResourceTag/project": "${aws:PrincipalTag/project}"}))]
        ],
        "req": {"tags": {"project": "peg"}, "keys": {"aws:ResourceTag/project": "uni"}},
        "expect": "implicit_deny",
    },
    {
        "id": "abac-principal-untagged",
        "doc": "abac",
        "identity": [
            [allow(**cond(StringEquals={"aws:ResourceTag/project": "${aws:PrincipalTag/project}"}))]
        ],
        "req": {"keys": {"aws:ResourceTag/project": "peg"}},
        "expect": "implicit_deny",
    },
    # --- String operators -------------------------------------------------------------------
    {
        "id": "streq-tag",
        "doc": "sm",
        "identity": [
            [allow(**cond(StringEquals={"secretsmanager:ResourceTag/Environment": "prod"}))]
        ],
        "req": {"keys": {"secretsmanager:ResourceTag/Environment": "prod"}},
        "expect": "allow",
    },
    {
        "id": "streq-tag-other",
        "doc": "sm",
        "identity": [
            [allow(**cond(StringEquals={"secretsmanager:ResourceTag/Environment": "prod"}))]
        ],
        "req": {"keys": {"secretsmanager:ResourceTag/Environment": "dev"}},
        "expect": "implicit_deny",
    },
    {
        "id": "streq-missing",
        "doc": "cond",
        "identity": [
            [allow(**cond(StringEquals={"secretsmanager:ResourceTag/Environment": "prod"}))]
        ],
        "expect": "implicit_deny",
    },
    {
        "id": "key-name-case-insensitive",
        "doc": "cond",
        "identity": [
            [allow(**cond(StringEquals={"SECRETSMANAGER:resourcetag/environment": "prod"}))]
        ],
        "req": {"keys": {"secretsmanager:ResourceTag/Environment": "prod"}},
        "expect": "allow",
    },
    {
        "id": "streq-value-case",
        "doc": "ops",
        "identity": [[allow(**cond(StringEquals={"aws:PrincipalTag/dept": "Prod"}))]],
        "req": {"tags": {"dept": "prod"}},
        "expect": "implicit_deny",
    },
    {
        "id": "streq-ignorecase",
        "doc": "ops",
        "identity": [[allow(**cond(StringEqualsIgnoreCase={"aws:PrincipalTag/dept": "PROD"}))]],
        "req": {"tags": {"dept": "prod"}},
        "expect": "allow",
    },
    {
        "id": "strne",
        "doc": "ops",
        "identity": [[allow(**cond(StringNotEquals={"aws:PrincipalTag/department": "finance"}))]],
        "req": {"tags": {"department": "hr"}},
        "expect": "allow",
    },
    {
        "id": "strne-equal",
        "doc": "ops",
        "identity": [[allow(**cond(StringNotEquals={"aws:PrincipalTag/department": "finance"}))]],
        "req": {"tags": {"department": "finance"}},
        "expect": "implicit_deny",
    },
    {
        "id": "strne-missing-true",
        "doc": "ops",
        "identity": [[allow(**cond(StringNotEquals={"aws:PrincipalTag/department": "finance"}))]],
        "expect": "allow",
    },
    {
        "id": "strne-ignorecase",
        "doc": "ops",
        "identity": [
            [allow(**cond(StringNotEqualsIgnoreCase={"aws:PrincipalTag/department": "Finance"}))]
        ],
        "req": {"tags": {"department": "FINANCE"}},
        "expect": "implicit_deny",
    },
    {
        "id": "strlike",
        "doc": "ops",
        "identity": [[allow(**cond(StringLike={"secretsmanager:Name": "prod/*"}))]],
        "req": {"keys": {"secretsmanager:Name": "prod/db"}},
        "expect": "allow",
    },
    {
        "id": "strlike-miss",
        "doc": "ops",
        "identity": [[allow(**cond(StringLike={"secretsmanager:Name": "prod/*"}))]],
        "req": {"keys": {"secretsmanager:Name": "dev/db"}},
        "expect": "implicit_deny",
    },
    {
        "id": "strlike-question",
        "doc": "ops",
        "identity": [[allow(**cond(StringLike={"secretsmanager:Name": "db-??"}))]],
        "req": {"keys": {"secretsmanager:Name": "db-01"}},
        "expect": "allow",
    },
    {
        "id": "strnotlike",
        "doc": "ops",
        "identity": [[allow(**cond(StringNotLike={"secretsmanager:Name": "prod/*"}))]],
        "req": {"keys": {"secretsmanager:Name": "dev/db"}},
        "expect": "allow",
    },
    {
        "id": "str-values-or",
        "doc": "cond",
        "identity": [[allow(**cond(StringEquals={"aws:PrincipalTag/team": ["a", "b"]}))]],
        "req": {"tags": {"team": "b"}},
        "expect": "allow",
    },
    {
        "id": "str-keys-and",
        "doc": "cond",
        "identity": [
            [
                allow(
                    **cond(
                        StringEquals={"aws:PrincipalTag/team": "a", "aws:PrincipalTag/env": "prod"}
                    )
                )
            ]
        ],
        "req": {"tags": {"team": "a", "env": "dev"}},
        "expect": "implicit_deny",
    },
    {
        "id": "operators-and",
        "doc": "cond",
        "identity": [
            [
                allow(
                    **cond(
                        StringEquals={"aws:PrincipalTag/team": "a"},
                        Bool={"aws:SecureTransport": "true"},
                    )
                )
            ]
        ],
        "req": {"tags": {"team": "a"}, "keys": {"aws:SecureTransport": True}},
        "expect": "allow",
    },
    {
        "id": "operators-and-one-fails",
        "doc": "cond",
        "identity": [
            [
                allow(
                    **cond(
                        StringEquals={"aws:PrincipalTag/team": "a"},
                        Bool={"aws:SecureTransport": "true"},
                    )
                )
            ]
        ],
        "req": {"tags": {"team": "a"}, "keys": {"aws:SecureTransport": False}},
        "expect": "implicit_deny",
    },
    {
        "id": "versionstage-omitted",
        "doc": "c4",
        "identity": [[allow(**cond(StringEquals={"secretsmanager:VersionStage": "AWSCURRENT"}))]],
        "expect": "implicit_deny",
    },
    {
        "id": "versionstage-ifexists-omitted",
        "doc": "smkeys",
        "identity": [
            [allow(**cond(StringEqualsIfExists={"secretsmanager:VersionStage": "AWSCURRENT"}))]
        ],
        "expect": "allow",
    },
    {
        "id": "versionstage-ifexists-other",
        "doc": "smkeys",
        "identity": [
            [allow(**cond(StringEqualsIfExists={"secretsmanager:VersionStage": "AWSCURRENT"}))]
        ],
        "req": {"keys": {"secretsmanager:VersionStage": "AWSPREVIOUS"}},
        "expect": "implicit_deny",
    },
    {
        "id": "strlike-ifexists-present",
        "doc": "ops",
        "identity": [[allow(**cond(StringLikeIfExists={"secretsmanager:Name": "app/*"}))]],
        "req": {"keys": {"secretsmanager:Name": "app/x"}},
        "expect": "allow",
    },
    # --- Numeric -----------------------------------------------------------------------------
    {
        "id": "recovery-window-short-denied",
        "doc": "smkeys",
        "identity": [
            [
                ALLOW_ALL,
                deny(
                    "secretsmanager:DeleteSecret",
                    **cond(NumericLessThan={"secretsmanager:RecoveryWindowInDays": "30"}),
                ),
            ]
        ],
        "req": {
            "action": "secretsmanager:DeleteSecret",
            "keys": {"secretsmanager:RecoveryWindowInDays": 7},
        },
        "expect": "explicit_deny",
    },
    {
        "id": "recovery-window-30-ok",
        "doc": "smkeys",
        "identity": [
            [
                ALLOW_ALL,
                deny(
                    "secretsmanager:DeleteSecret",
                    **cond(NumericLessThan={"secretsmanager:RecoveryWindowInDays": "30"}),
                ),
            ]
        ],
        "req": {
            "action": "secretsmanager:DeleteSecret",
            "keys": {"secretsmanager:RecoveryWindowInDays": 30},
        },
        "expect": "allow",
    },
    {
        "id": "numeric-equals-float",
        "doc": "ops",
        "identity": [[allow(**cond(NumericEquals={"s3:max-keys": "10"}))]],
        "req": {"keys": {"s3:max-keys": "10.0"}},
        "expect": "allow",
    },
    {
        "id": "numeric-not-a-number",
        "doc": "ops",
        "identity": [[allow(**cond(NumericGreaterThan={"s3:max-keys": 5}))]],
        "req": {"keys": {"s3:max-keys": "many"}},
        "expect": "implicit_deny",
    },
    {
        "id": "numeric-ne-missing",
        "doc": "ops",
        "identity": [[allow(**cond(NumericNotEquals={"s3:max-keys": "10"}))]],
        "expect": "allow",
    },
    {
        "id": "numeric-lte",
        "doc": "ops",
        "identity": [[allow(**cond(NumericLessThanEquals={"s3:max-keys": "10"}))]],
        "req": {"keys": {"s3:max-keys": 10}},
        "expect": "allow",
    },
    {
        "id": "numeric-gte-miss",
        "doc": "ops",
        "identity": [[allow(**cond(NumericGreaterThanEquals={"s3:max-keys": "10"}))]],
        "req": {"keys": {"s3:max-keys": 9}},
        "expect": "implicit_deny",
    },
    # --- Date --------------------------------------------------------------------------------
    {
        "id": "date-after",
        "doc": "dates",
        "identity": [[allow(**cond(DateGreaterThan={"aws:CurrentTime": "2020-04-01T00:00:00Z"}))]],
        "req": {"keys": {"aws:CurrentTime": "2026-12-01T09:00:00Z"}},
        "expect": "allow",
    },
    {
        "id": "date-expired",
        "doc": "dates",
        "identity": [[allow(**cond(DateLessThan={"aws:CurrentTime": "2020-06-30T23:59:59Z"}))]],
        "req": {"keys": {"aws:CurrentTime": "2026-12-01T09:00:00Z"}},
        "expect": "implicit_deny",
    },
    {
        "id": "date-window",
        "doc": "dates",
        "identity": [
            [
                allow(
                    **cond(
                        DateGreaterThan={"aws:CurrentTime": "2026-01-01T00:00:00Z"},
                        DateLessThan={"aws:CurrentTime": "2027-01-01T00:00:00Z"},
                    )
                )
            ]
        ],
        "req": {"keys": {"aws:CurrentTime": "2026-12-01T09:00:00Z"}},
        "expect": "allow",
    },
    {
        "id": "date-epoch-policy",
        "doc": "ops",
        "identity": [[allow(**cond(DateLessThan={"aws:CurrentTime": 1893456000}))]],  # 2030-01-01
        "req": {"keys": {"aws:CurrentTime": "2026-12-01T09:00:00Z"}},
        "expect": "allow",
    },
    {
        "id": "date-epoch-request",
        "doc": "ops",
        "identity": [
            [allow(**cond(DateGreaterThanEquals={"aws:EpochTime": "2026-01-01T00:00:00Z"}))]
        ],
        "req": {"keys": {"aws:EpochTime": 1796115600}},
        "expect": "allow",
    },
    {
        "id": "date-equals-offset",
        "doc": "ops",
        "identity": [[allow(**cond(DateEquals={"aws:CurrentTime": "2026-12-01T10:00:00+01:00"}))]],
        "req": {"keys": {"aws:CurrentTime": "2026-12-01T09:00:00Z"}},
        "expect": "allow",
    },
    {
        "id": "date-not-equals",
        "doc": "ops",
        "identity": [[allow(**cond(DateNotEquals={"aws:CurrentTime": "2026-12-01"}))]],
        "req": {"keys": {"aws:CurrentTime": "2026-12-01T00:00:00Z"}},
        "expect": "implicit_deny",
    },
    # --- Bool --------------------------------------------------------------------------------
    {
        "id": "deny-insecure-transport",
        "doc": "ops",
        "identity": [[ALLOW_ALL, deny("*", **cond(Bool={"aws:SecureTransport": "false"}))]],
        "req": {"keys": {"aws:SecureTransport": False}},
        "expect": "explicit_deny",
    },
    {
        "id": "secure-transport-ok",
        "doc": "ops",
        "identity": [[ALLOW_ALL, deny("*", **cond(Bool={"aws:SecureTransport": "false"}))]],
        "req": {"keys": {"aws:SecureTransport": True}},
        "expect": "allow",
    },
    {
        "id": "bool-missing-no-deny",
        "doc": "ops",
        "identity": [[ALLOW_ALL, deny("*", **cond(Bool={"aws:SecureTransport": "false"}))]],
        "expect": "allow",
    },
    {
        "id": "bool-json-true",
        "doc": "ops",
        "identity": [[allow(**cond(Bool={"aws:SecureTransport": True}))]],
        "req": {"keys": {"aws:SecureTransport": "TRUE"}},
        "expect": "allow",
    },
    {
        "id": "force-delete-denied",
        "doc": "smkeys",
        "identity": [
            [
                ALLOW_ALL,
                deny(
                    "secretsmanager:DeleteSecret",
                    **cond(Bool={"secretsmanager:ForceDeleteWithoutRecovery": "true"}),
                ),
            ]
        ],
        "req": {
            "action": "secretsmanager:DeleteSecret",
            "keys": {"secretsmanager:ForceDeleteWithoutRecovery": True},
        },
        "expect": "explicit_deny",
    },
    {
        "id": "block-public-policy-required",
        "doc": "sm",
        "identity": [
            [
                allow(
                    "secretsmanager:PutResourcePolicy",
                    **cond(Bool={"secretsmanager:BlockPublicPolicy": "true"}),
                )
            ]
        ],
        "req": {
            "action": "secretsmanager:PutResourcePolicy",
            "keys": {"secretsmanager:BlockPublicPolicy": False},
        },
        "expect": "implicit_deny",
    },
    # --- IpAddress / NotIpAddress -------------------------------------------------------------
    {
        "id": "ip-in-range",
        "doc": "ip",
        "identity": [[allow(**cond(IpAddress={"aws:SourceIp": "203.0.113.0/24"}))]],
        "req": {"keys": {"aws:SourceIp": "203.0.113.5"}},
        "expect": "allow",
    },
    {
        "id": "ip-out-of-range",
        "doc": "ip",
        "identity": [[allow(**cond(IpAddress={"aws:SourceIp": "203.0.113.0/24"}))]],
        "req": {"keys": {"aws:SourceIp": "198.51.100.1"}},
        "expect": "implicit_deny",
    },
    {
        "id": "deny-outside-ranges",
        "doc": "ip",
        "identity": [
            [
                ALLOW_ALL,
                deny(
                    "*", **cond(NotIpAddress={"aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"]})
                ),
            ]
        ],
        "req": {"keys": {"aws:SourceIp": "198.51.100.1"}},
        "expect": "explicit_deny",
    },
    {
        "id": "deny-outside-ranges-inside",
        "doc": "ip",
        "identity": [
            [
                ALLOW_ALL,
                deny(
                    "*", **cond(NotIpAddress={"aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"]})
                ),
            ]
        ],
        "req": {"keys": {"aws:SourceIp": "192.0.2.77"}},
        "expect": "allow",
    },
    {
        "id": "deny-outside-ranges-no-ip",
        "doc": "ip",
        "identity": [
            [ALLOW_ALL, deny("*", **cond(NotIpAddress={"aws:SourceIp": ["192.0.2.0/24"]}))]
        ],
        "expect": "explicit_deny",
    },
    {
        "id": "ipv6-range",
        "doc": "ops",
        "identity": [[allow(**cond(IpAddress={"aws:SourceIp": "2001:DB8:1234:5678::/64"}))]],
        "req": {"keys": {"aws:SourceIp": "2001:db8:1234:5678::1"}},
        "expect": "allow",
    },
    {
        "id": "ip-single-address",
        "doc": "ops",
        "identity": [[allow(**cond(IpAddress={"aws:SourceIp": "203.0.113.5"}))]],
        "req": {"keys": {"aws:SourceIp": "203.0.113.5"}},
        "expect": "allow",
    },
    {
        "id": "ip-garbage-request",
        "doc": "ops",
        "identity": [[allow(**cond(IpAddress={"aws:SourceIp": "0.0.0.0/0"}))]],
        "req": {"keys": {"aws:SourceIp": "not-an-ip"}},
        "expect": "implicit_deny",
    },
    # --- Null --------------------------------------------------------------------------------
    {
        "id": "null-true-absent",
        "doc": "ops",
        "identity": [[allow(**cond(Null={"aws:TokenIssueTime": "true"}))]],
        "expect": "allow",
    },
    {
        "id": "null-false-absent",
        "doc": "ops",
        "identity": [[allow(**cond(Null={"aws:TokenIssueTime": "false"}))]],
        "expect": "implicit_deny",
    },
    {
        "id": "require-request-tag-missing",
        "doc": "ops",
        "identity": [
            [
                ALLOW_ALL,
                deny("secretsmanager:CreateSecret", **cond(Null={"aws:RequestTag/Owner": "true"})),
            ]
        ],
        "req": {"action": "secretsmanager:CreateSecret"},
        "expect": "explicit_deny",
    },
    {
        "id": "require-request-tag-present",
        "doc": "ops",
        "identity": [
            [
                ALLOW_ALL,
                deny("secretsmanager:CreateSecret", **cond(Null={"aws:RequestTag/Owner": "true"})),
            ]
        ],
        "req": {"action": "secretsmanager:CreateSecret", "keys": {"aws:RequestTag/Owner": "bob"}},
        "expect": "allow",
    },
    # --- ARN operators ------------------------------------------------------------------------
    {
        "id": "arnlike-role-prefix",
        "doc": "ops",
        "identity": [
            [allow(**cond(ArnLike={"aws:PrincipalArn": f"arn:aws:iam::{ACCT}:role/Admin*"}))]
        ],
        "req": {"principal": ADMIN_ROLE},
        "expect": "allow",
    },
    {
        "id": "arnequals-exact",
        "doc": "ops",
        "resource": [allow(**P("*"), **cond(ArnEquals={"aws:PrincipalArn": BOB}))],
        "expect": "allow",
    },
    {
        "id": "arnequals-other",
        "doc": "ops",
        "resource": [allow(**P("*"), **cond(ArnEquals={"aws:PrincipalArn": ALICE}))],
        "expect": "implicit_deny",
    },
    {
        "id": "arnnotlike-deny",
        "doc": "ops",
        "identity": [[ALLOW_ALL]],
        "resource": [
            deny(
                "*",
                **P("*"),
                **cond(ArnNotLike={"aws:PrincipalArn": f"arn:aws:iam::{ACCT}:role/*"}),
            )
        ],
        "expect": "explicit_deny",
        "kind": "resource",
    },
    {
        "id": "arnnotequals-spares",
        "doc": "ops",
        "identity": [[ALLOW_ALL]],
        "resource": [deny("*", **P("*"), **cond(ArnNotEquals={"aws:PrincipalArn": BOB}))],
        "expect": "allow",
    },
    {
        "id": "arnlike-any-account",
        "doc": "ops",
        "identity": [[allow(**cond(ArnLike={"aws:PrincipalArn": "arn:aws:iam::*:user/Bob"}))]],
        "expect": "allow",
    },
    {
        "id": "arnlike-component-count",
        "doc": "ops",
        "identity": [[allow(**cond(ArnLike={"aws:PrincipalArn": "arn:aws:iam::*"}))]],
        "expect": "implicit_deny",
    },
    {
        "id": "arnlike-ifexists-missing",
        "doc": "smkeys",
        "identity": [
            [
                allow(
                    **cond(
                        ArnLikeIfExists={
                            "secretsmanager:RotationLambdaARN": "arn:aws:lambda:*:*:function:rot*"
                        }
                    )
                )
            ]
        ],
        "expect": "allow",
    },
    {
        "id": "arnlike-rotation-lambda",
        "doc": "smkeys",
        "identity": [
            [
                allow(
                    "secretsmanager:RotateSecret",
                    **cond(ArnLike={"secretsmanager:RotationLambdaARN": ROT_PATTERN}),
                )
            ]
        ],
        "req": {
            "action": "secretsmanager:RotateSecret",
            "keys": {
                "secretsmanager:RotationLambdaARN": f"arn:aws:lambda:us-east-1:{ACCT}:function:rotA"
            },
        },
        "expect": "allow",
    },
    # --- multi-valued keys and set qualifiers ------------------------------------------------
    {
        "id": "forall-subset",
        "doc": "multi",
        "identity": [
            [
                allow(
                    **cond(
                        **{
                            "ForAllValues:StringEquals": {
                                "aws:TagKeys": ["environment", "cost-center"]
                            }
                        }
                    )
                )
            ]
        ],
        "req": {"keys": {"aws:TagKeys": ["environment"]}},
        "expect": "allow",
    },
    {
        "id": "forall-extra-key",
        "doc": "multi",
        "identity": [
            [
                allow(
                    **cond(
                        **{
                            "ForAllValues:StringEquals": {
                                "aws:TagKeys": ["environment", "cost-center"]
                            }
                        }
                    )
                )
            ]
        ],
        "req": {"keys": {"aws:TagKeys": ["environment", "owner"]}},
        "expect": "implicit_deny",
    },
    {
        "id": "forall-missing-true",
        "doc": "multi",
        "identity": [
            [allow(**cond(**{"ForAllValues:StringEquals": {"aws:TagKeys": ["environment"]}}))]
        ],
        "expect": "allow",
    },
    {
        "id": "forall-empty-true",
        "doc": "multi",
        "identity": [
            [allow(**cond(**{"ForAllValues:StringEquals": {"aws:TagKeys": ["environment"]}}))]
        ],
        "req": {"keys": {"aws:TagKeys": []}},
        "expect": "allow",
    },
    {
        "id": "foranyvalue-hit",
        "doc": "multi",
        "identity": [
            [
                allow(
                    **cond(
                        **{
                            "ForAnyValue:StringEquals": {
                                "aws:TagKeys": ["environment", "cost-center"]
                            }
                        }
                    )
                )
            ]
        ],
        "req": {"keys": {"aws:TagKeys": ["owner", "environment"]}},
        "expect": "allow",
    },
    {
        "id": "foranyvalue-missing-false",
        "doc": "multi",
        "identity": [
            [allow(**cond(**{"ForAnyValue:StringEquals": {"aws:TagKeys": ["environment"]}}))]
        ],
        "expect": "implicit_deny",
    },
    {
        "id": "foranyvalue-notequals-deny",
        "doc": "multi",
        "identity": [
            [
                ALLOW_ALL,
                deny(
                    "secretsmanager:TagResource",
                    **cond(**{"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["a", "b"]}}),
                ),
            ]
        ],
        "req": {"action": "secretsmanager:TagResource", "keys": {"aws:TagKeys": ["a", "c"]}},
        "expect": "explicit_deny",
    },
    {
        "id": "foranyvalue-notequals-ok",
        "doc": "multi",
        "identity": [
            [
                ALLOW_ALL,
                deny(
                    "secretsmanager:TagResource",
                    **cond(**{"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["a", "b"]}}),
                ),
            ]
        ],
        "req": {"action": "secretsmanager:TagResource", "keys": {"aws:TagKeys": ["a", "b"]}},
        "expect": "allow",
    },
    {
        "id": "forall-like",
        "doc": "multi",
        "identity": [[allow(**cond(**{"ForAllValues:StringLike": {"aws:TagKeys": ["key*"]}}))]],
        "req": {"keys": {"aws:TagKeys": ["key1", "key2"]}},
        "expect": "allow",
    },
    {
        "id": "forall-notequals",
        "doc": "multi",
        "identity": [
            [allow(**cond(**{"ForAllValues:StringNotEquals": {"aws:TagKeys": ["secret"]}}))]
        ],
        "req": {"keys": {"aws:TagKeys": ["a", "secret"]}},
        "expect": "implicit_deny",
    },
    {
        "id": "multi-no-qualifier-any",
        "doc": "multi",
        "identity": [[allow(**cond(StringEquals={"aws:TagKeys": "a"}))]],
        "req": {"keys": {"aws:TagKeys": ["a", "b"]}},
        "expect": "allow",
    },
    {
        "id": "forany-ignorecase",
        "doc": "multi",
        "identity": [
            [allow(**cond(**{"ForAnyValue:StringEqualsIgnoreCase": {"aws:TagKeys": ["ENV"]}}))]
        ],
        "req": {"keys": {"aws:TagKeys": ["env"]}},
        "expect": "allow",
    },
    {
        "id": "versionstage-forany-resource",
        "doc": "sm",
        "resource": [
            allow(
                **P({"AWS": ADMIN_ROLE}),
                **cond(
                    **{"ForAnyValue:StringEquals": {"secretsmanager:VersionStage": "AWSCURRENT"}}
                ),
            )
        ],
        "req": {"principal": ADMIN_ROLE, "keys": {"secretsmanager:VersionStage": "AWSCURRENT"}},
        "expect": "allow",
    },
    {
        "id": "forall-ifexists-missing",
        "doc": "multi",
        "identity": [
            [allow(**cond(**{"ForAllValues:StringEqualsIfExists": {"aws:TagKeys": ["a"]}}))]
        ],
        "expect": "allow",
    },
]


def _policy(stmts: list[dict[str, Any]], version: str) -> str:
    return json.dumps({"Version": version, "Statement": stmts})


def _request(spec: dict[str, Any]) -> Request:
    return Request.build(
        principal_arn=spec.get("principal", BOB),
        principal_account=spec.get("account", ACCT),
        action=spec.get("action", GET),
        resource=spec.get("resource", SECRET),
        principal_tags=spec.get("tags"),
        keys=spec.get("keys"),
    )


def test_table_is_large_and_sourced() -> None:
    assert len(CASES) >= 80
    assert len({c["id"] for c in CASES}) == len(CASES)
    assert all(c["doc"] in DOCS for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_policy_evaluation(case: dict[str, Any]) -> None:
    version = case.get("version", "2012-10-17")
    identity = [
        parse_policy(_policy(s, version), kind="identity", name=f"p{i}")
        for i, s in enumerate(case.get("identity", []))
    ]
    res_stmts = case.get("resource")
    resource = (
        parse_policy(_policy(res_stmts, version), kind="resource")
        if res_stmts is not None
        else None
    )
    decision = evaluate(_request(case.get("req", {})), identity, resource)
    assert decision.outcome == case["expect"], DOCS[case["doc"]]
    if "kind" in case:
        assert decision.kind == case["kind"]
