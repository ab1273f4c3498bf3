"""Authorization requests per operation (core/policy/context), and end to end through the evaluator.

Table rows: a Call, then the expected list of (action, resource, keys) — keys compared exactly,
so a missing or extra condition key fails the row.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from smgrpc.core.model import RotationConfig, Secret
from smgrpc.core.policy import evaluate, parse_policy
from smgrpc.core.policy.context import OPERATIONS, Call, Caller, batch_item, needs, requests

ACCT = "111122223333"
ARN = f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:prod/db-a1b2c3"
NEW_ARN = f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:new-x9y8z7"
KEY = f"arn:aws:kms:us-east-1:{ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
LAMBDA = f"arn:aws:lambda:us-east-1:{ACCT}:function:rotator"
SECRET = Secret(
    arn=ARN,
    name="prod/db",
    created_at=0.0,
    last_changed_at=0.0,
    tags=(("team", "x"), ("env", "prod")),
)
UNTAGGED = Secret(arn=ARN, name="prod/db", created_at=0.0, last_changed_at=0.0)
REPLICA = Secret(
    arn=ARN.replace("us-east-1", "eu-west-1"),
    name="prod/db",
    created_at=0.0,
    last_changed_at=0.0,
    primary_region="us-east-1",
)
ROTATING = Secret(
    arn=ARN,
    name="prod/db",
    created_at=0.0,
    last_changed_at=0.0,
    rotation=RotationConfig(enabled=True, lambda_arn=LAMBDA),
)
SM = "secretsmanager:"
BOB = f"arn:aws:iam::{ACCT}:user/Bob"
CALLER = Caller(
    BOB, ACCT, {"dept": "ops"}, "10.0.0.5", True, datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
)

RES = {  # resource keys of SECRET
    SM + "ResourceTag/team": "x",
    "aws:ResourceTag/team": "x",
    SM + "ResourceTag/env": "prod",
    "aws:ResourceTag/env": "prod",
    SM + "SecretPrimaryRegion": "us-east-1",
}
ID = {SM + "SecretId": ARN}
PRIMARY = {SM + "SecretPrimaryRegion": "us-east-1"}
KMS_CTX = {
    "kms:EncryptionContext:SecretARN": ARN,
    "kms:EncryptionContextKeys": ("SecretARN",),
    "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com",
}


def sm(op: str, keys: dict[str, Any], resource: str = ARN) -> tuple[str, str, dict[str, Any]]:
    return (SM + op, resource, keys)


def on(op: str, **params: Any) -> Call:
    return Call(op, params, SECRET)


# Every secret-level operation with only SecretId carries SecretId + the resource keys.
_PLAIN_OPS = [
    "CancelRotateSecret",
    "DeleteResourcePolicy",
    "DescribeSecret",
    "GetResourcePolicy",
    "ListSecretVersionIds",
    "PutSecretValue",
    "RemoveRegionsFromReplication",
    "RestoreSecret",
    "StopReplicationToReplica",
]
CASES: list[tuple[str, Call, list[tuple[str, str, dict[str, Any]]]]] = [
    (f"{op}-plain", on(op, SecretId="prod/db"), [sm(op, {**ID, **RES})]) for op in _PLAIN_OPS
] + [
    ("ListSecrets-star", Call("ListSecrets", {"MaxResults": 10}), [sm("ListSecrets", {}, "*")]),
    (
        "GetRandomPassword-star",
        Call("GetRandomPassword", {"PasswordLength": 32}),
        [sm("GetRandomPassword", {}, "*")],
    ),
    (
        "BatchGet-ids",
        Call("BatchGetSecretValue", {"SecretIdList": ["a", "b"]}),
        [sm("BatchGetSecretValue", {}, "*")],
    ),
    (
        "BatchGet-filters-needs-ListSecrets",
        Call("BatchGetSecretValue", {"Filters": [{"Key": "name", "Values": ["a"]}]}),
        [sm("BatchGetSecretValue", {}, "*"), sm("ListSecrets", {}, "*")],
    ),
    (
        "GetSecretValue-bare",
        on("GetSecretValue", SecretId="prod/db"),
        [sm("GetSecretValue", {**ID, **RES})],
    ),
    (
        "GetSecretValue-stage",
        on("GetSecretValue", SecretId=ARN, VersionStage="AWSPREVIOUS"),
        [sm("GetSecretValue", {**ID, **RES, SM + "VersionStage": "AWSPREVIOUS"})],
    ),
    (
        "GetSecretValue-version-id",
        on("GetSecretValue", SecretId="prod/db", VersionId="v1"),
        [sm("GetSecretValue", {**ID, **RES, SM + "VersionId": "v1"})],
    ),
    (
        "GetSecretValue-customer-key-decrypt",
        Call("GetSecretValue", {"SecretId": "prod/db"}, UNTAGGED, KEY),
        [sm("GetSecretValue", {**ID, **PRIMARY}), ("kms:Decrypt", KEY, KMS_CTX)],
    ),
    (
        "GetSecretValue-managed-key-no-kms",
        Call("GetSecretValue", {"SecretId": "prod/db"}, UNTAGGED, KEY, customer_key=False),
        [sm("GetSecretValue", {**ID, **PRIMARY})],
    ),
    (
        "GetSecretValue-replica-primary-region",
        Call("GetSecretValue", {"SecretId": "prod/db"}, REPLICA),
        [sm("GetSecretValue", {SM + "SecretId": REPLICA.arn, **PRIMARY}, REPLICA.arn)],
    ),
    (
        "GetSecretValue-missing-secret-raw-id",
        Call("GetSecretValue", {"SecretId": "nope"}, resource_arn=f"{ARN[:-14]}nope"),
        [
            sm(
                "GetSecretValue",
                {SM + "SecretId": "nope"},
                f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:nope",
            )
        ],
    ),
    (
        "CreateSecret-minimal",
        Call("CreateSecret", {"Name": "new"}, resource_arn=NEW_ARN),
        [sm("CreateSecret", {SM + "Name": "new"}, NEW_ARN)],
    ),
    (
        "CreateSecret-full",
        Call(
            "CreateSecret",
            {
                "Name": "new",
                "Description": "d",
                "KmsKeyId": "alias/app",
                "SecretString": "s3cr3t",
                "Tags": [{"Key": "team", "Value": "x"}, {"Key": "cost", "Value": "42"}],
                "AddReplicaRegions": [
                    {"Region": "eu-west-1"},
                    {"Region": "ap-south-1", "KmsKeyId": "k"},
                ],
                "ForceOverwriteReplicaSecret": True,
            },
            kms_key_arn=KEY,
            resource_arn=NEW_ARN,
        ),
        [
            sm(
                "CreateSecret",
                {
                    SM + "Name": "new",
                    SM + "Description": "d",
                    SM + "KmsKeyId": "alias/app",
                    SM + "KmsKeyArn": KEY,
                    "aws:RequestTag/team": "x",
                    "aws:RequestTag/cost": "42",
                    "aws:TagKeys": ("team", "cost"),
                    SM + "AddReplicaRegions": ("eu-west-1", "ap-south-1"),
                    SM + "ForceOverwriteReplicaSecret": "true",
                },
                NEW_ARN,
            ),
            ("kms:GenerateDataKey", KEY, {**KMS_CTX, "kms:EncryptionContext:SecretARN": NEW_ARN}),
        ],
    ),
    (
        "CreateSecret-no-value-no-kms",
        Call("CreateSecret", {"Name": "new"}, kms_key_arn=KEY, resource_arn=NEW_ARN),
        [sm("CreateSecret", {SM + "Name": "new"}, NEW_ARN)],
    ),
    (
        "CreateSecret-empty-tags",
        Call("CreateSecret", {"Name": "new", "Tags": []}, resource_arn=NEW_ARN),
        [sm("CreateSecret", {SM + "Name": "new", "aws:TagKeys": ()}, NEW_ARN)],
    ),
    (
        "PutSecretValue-customer-key",
        Call("PutSecretValue", {"SecretId": "prod/db", "SecretBinary": b"x"}, UNTAGGED, KEY),
        [sm("PutSecretValue", {**ID, **PRIMARY}), ("kms:GenerateDataKey", KEY, KMS_CTX)],
    ),
    (
        "UpdateSecret-description-key",
        Call(
            "UpdateSecret",
            {"SecretId": "prod/db", "Description": "new", "KmsKeyId": KEY},
            UNTAGGED,
            KEY,
        ),
        [
            sm(
                "UpdateSecret",
                {
                    **ID,
                    **PRIMARY,
                    SM + "Description": "new",
                    SM + "KmsKeyId": KEY,
                    SM + "KmsKeyArn": KEY,
                },
            )
        ],
    ),
    (
        "UpdateSecret-value-generates",
        Call("UpdateSecret", {"SecretId": "prod/db", "SecretString": "v"}, UNTAGGED, KEY),
        [sm("UpdateSecret", {**ID, **PRIMARY}), ("kms:GenerateDataKey", KEY, KMS_CTX)],
    ),
    (
        "DeleteSecret-window",
        on("DeleteSecret", SecretId="prod/db", RecoveryWindowInDays=7),
        [sm("DeleteSecret", {**ID, **RES, SM + "RecoveryWindowInDays": "7"})],
    ),
    (
        "DeleteSecret-force",
        on("DeleteSecret", SecretId="prod/db", ForceDeleteWithoutRecovery=True),
        [sm("DeleteSecret", {**ID, **RES, SM + "ForceDeleteWithoutRecovery": "true"})],
    ),
    (
        "DeleteSecret-force-false",
        on("DeleteSecret", SecretId="prod/db", ForceDeleteWithoutRecovery=False),
        [sm("DeleteSecret", {**ID, **RES, SM + "ForceDeleteWithoutRecovery": "false"})],
    ),
    (
        "PutResourcePolicy-block",
        on("PutResourcePolicy", SecretId="prod/db", ResourcePolicy="{}", BlockPublicPolicy=True),
        [sm("PutResourcePolicy", {**ID, **RES, SM + "BlockPublicPolicy": "true"})],
    ),
    (
        "PutResourcePolicy-default",
        on("PutResourcePolicy", SecretId="prod/db", ResourcePolicy="{}"),
        [sm("PutResourcePolicy", {**ID, **RES})],
    ),
    (
        "ValidateResourcePolicy-no-secret",
        Call("ValidateResourcePolicy", {"ResourcePolicy": "{}"}),
        [sm("ValidateResourcePolicy", {}, "*"), sm("PutResourcePolicy", {}, "*")],
    ),
    (
        "ValidateResourcePolicy-secret",
        on("ValidateResourcePolicy", SecretId="prod/db"),
        [sm("ValidateResourcePolicy", {**ID, **RES}), sm("PutResourcePolicy", {**ID, **RES})],
    ),
    (
        "ReplicateSecretToRegions",
        on(
            "ReplicateSecretToRegions",
            SecretId="prod/db",
            AddReplicaRegions=[{"Region": "eu-west-1"}],
            ForceOverwriteReplicaSecret=False,
        ),
        [
            sm(
                "ReplicateSecretToRegions",
                {
                    **ID,
                    **RES,
                    SM + "AddReplicaRegions": ("eu-west-1",),
                    SM + "ForceOverwriteReplicaSecret": "false",
                },
            )
        ],
    ),
    (
        "RotateSecret-lambda-rules",
        on(
            "RotateSecret",
            SecretId="prod/db",
            RotationLambdaARN=LAMBDA,
            RotationRules={"AutomaticallyAfterDays": 30},
            RotateImmediately=False,
        ),
        [
            sm(
                "RotateSecret",
                {
                    **ID,
                    **RES,
                    SM + "RotationLambdaARN": LAMBDA,
                    SM + "ModifyRotationRules": "true",
                    SM + "RotateImmediately": "false",
                },
            )
        ],
    ),
    (
        "RotateSecret-bare-existing-lambda",
        Call("RotateSecret", {"SecretId": "prod/db"}, ROTATING),
        [
            sm(
                "RotateSecret",
                {
                    **ID,
                    **PRIMARY,
                    SM + "ModifyRotationRules": "false",
                    SM + "resource/AllowRotationLambdaArn": LAMBDA,
                },
            )
        ],
    ),
    (
        "TagResource",
        on("TagResource", SecretId="prod/db", Tags=[{"Key": "owner", "Value": "ann"}]),
        [
            sm(
                "TagResource",
                {**ID, **RES, "aws:RequestTag/owner": "ann", "aws:TagKeys": ("owner",)},
            )
        ],
    ),
    (
        "UntagResource",
        on("UntagResource", SecretId="prod/db", TagKeys=["team", "env"]),
        [sm("UntagResource", {**ID, **RES, "aws:TagKeys": ("team", "env")})],
    ),
    (
        "UpdateSecretVersionStage",
        on(
            "UpdateSecretVersionStage",
            SecretId="prod/db",
            VersionStage="AWSCURRENT",
            MoveToVersionId="v2",
        ),
        [sm("UpdateSecretVersionStage", {**ID, **RES, SM + "VersionStage": "AWSCURRENT"})],
    ),
    (
        "DescribeSecret-ignores-foreign-params",
        on("DescribeSecret", SecretId="prod/db", VersionStage="AWSCURRENT", Tags=[]),
        [sm("DescribeSecret", {**ID, **RES})],
    ),
]


@pytest.mark.parametrize(("call", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_needs_table(call: Call, expected: list[tuple[str, str, dict[str, Any]]]) -> None:
    got = [(n.action, n.resource, dict(n.keys)) for n in needs(call)]
    assert got == expected


def test_table_covers_every_operation() -> None:
    assert len(OPERATIONS) == 23
    assert {c[1].operation for c in CASES} == set(OPERATIONS)
    assert len(CASES) >= 30


def test_unknown_operation_and_unresolved_secret_are_errors() -> None:
    with pytest.raises(ValueError, match="unknown"):
        needs(Call("GetSecret", {}))
    with pytest.raises(ValueError, match="resource_arn"):
        needs(Call("DescribeSecret", {"SecretId": "x"}))


def test_batch_item_is_get_secret_value_with_decrypt() -> None:
    got = needs(batch_item(UNTAGGED, KEY))
    assert [(n.action, n.resource) for n in got] == [
        (SM + "GetSecretValue", ARN),
        ("kms:Decrypt", KEY),
    ]


def test_request_carries_global_and_principal_keys() -> None:
    (req,) = requests(on("DescribeSecret", SecretId="prod/db"), CALLER)
    assert req.action == SM + "DescribeSecret" and req.resource == ARN
    ctx = req.context
    assert ctx["aws:principalarn"] == (BOB,)
    assert ctx["aws:principalaccount"] == (ACCT,)
    assert ctx["aws:principaltag/dept"] == ("ops",)
    assert ctx["aws:sourceip"] == ("10.0.0.5",)
    assert ctx["aws:securetransport"] == ("true",)
    assert ctx["aws:currenttime"] == ("2026-12-01T12:00:00Z",)
    assert ctx["aws:epochtime"] == (str(int(datetime(2026, 12, 1, 12, tzinfo=UTC).timestamp())),)
    assert ctx["secretsmanager:resourcetag/team"] == ("x",)


# End to end: AWS documentation example policies against the built requests.
def _policy(*statements: dict[str, Any]) -> Any:
    doc = {"Version": "2012-10-17", "Statement": list(statements)}
    return parse_policy(json.dumps(doc), kind="identity", name="p")


ALLOW_ALL = {"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"}


def _outcomes(call: Call, *statements: dict[str, Any]) -> list[str]:
    policies = [_policy(ALLOW_ALL, *statements)]
    return [evaluate(r, policies).outcome for r in requests(call, CALLER)]


def test_deny_get_unless_awscurrent() -> None:
    st = {
        "Effect": "Deny",
        "Action": "secretsmanager:GetSecretValue",
        "Resource": "*",
        "Condition": {"StringNotEquals": {"secretsmanager:VersionStage": "AWSCURRENT"}},
    }
    get = "GetSecretValue"
    assert _outcomes(on(get, SecretId="prod/db", VersionStage="AWSCURRENT"), st) == ["allow"]
    assert _outcomes(on(get, SecretId="prod/db", VersionStage="AWSPREVIOUS"), st) == [
        "explicit_deny"
    ]
    # Omitted VersionStage: the key is missing, so the negated operator is true (C.4).
    assert _outcomes(on(get, SecretId="prod/db"), st) == ["explicit_deny"]


def test_allow_only_team_x_by_resource_tag() -> None:
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "*",
                "Condition": {"StringEquals": {"secretsmanager:ResourceTag/team": "x"}},
            }
        ],
    }
    pol = [parse_policy(json.dumps(doc), kind="identity")]
    tagged = requests(on("GetSecretValue", SecretId="prod/db"), CALLER)
    other = requests(Call("GetSecretValue", {"SecretId": "prod/db"}, UNTAGGED), CALLER)
    assert evaluate(tagged[0], pol).outcome == "allow"
    assert evaluate(other[0], pol).outcome == "implicit_deny"


def test_deny_create_without_required_request_tag() -> None:
    st = {
        "Effect": "Deny",
        "Action": "secretsmanager:CreateSecret",
        "Resource": "*",
        "Condition": {"Null": {"aws:RequestTag/team": "true"}},
    }
    bare = Call("CreateSecret", {"Name": "new"}, resource_arn=NEW_ARN)
    tagged = Call(
        "CreateSecret",
        {"Name": "new", "Tags": [{"Key": "team", "Value": "x"}]},
        resource_arn=NEW_ARN,
    )
    assert _outcomes(bare, st) == ["explicit_deny"]
    assert _outcomes(tagged, st) == ["allow"]


def test_deny_force_delete_without_recovery() -> None:
    st = {
        "Effect": "Deny",
        "Action": "secretsmanager:DeleteSecret",
        "Resource": "*",
        "Condition": {"Bool": {"secretsmanager:ForceDeleteWithoutRecovery": "true"}},
    }
    delete = "DeleteSecret"
    assert _outcomes(on(delete, SecretId="prod/db", ForceDeleteWithoutRecovery=True), st) == [
        "explicit_deny"
    ]
    assert _outcomes(on(delete, SecretId="prod/db", RecoveryWindowInDays=7), st) == ["allow"]


def test_untag_of_protected_key_denied_for_all_values() -> None:
    st = {
        "Effect": "Deny",
        "Action": "secretsmanager:UntagResource",
        "Resource": "*",
        "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}},
    }
    assert _outcomes(on("UntagResource", SecretId="prod/db", TagKeys=["env", "team"]), st) == [
        "explicit_deny"
    ]
    assert _outcomes(on("UntagResource", SecretId="prod/db", TagKeys=["env"]), st) == ["allow"]


def test_customer_key_decrypt_must_be_allowed_too() -> None:
    only_sm = [_policy(ALLOW_ALL)]
    call = Call("GetSecretValue", {"SecretId": "prod/db"}, UNTAGGED, KEY)
    outcomes = [evaluate(r, only_sm).outcome for r in requests(call, CALLER)]
    assert outcomes == ["allow", "implicit_deny"]
    via = {
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": KEY,
        "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}},
    }
    both = [_policy(ALLOW_ALL, via)]
    assert [evaluate(r, both).outcome for r in requests(call, CALLER)] == ["allow", "allow"]


def test_deny_outside_time_window_and_without_tls() -> None:
    late = {
        "Effect": "Deny",
        "Action": "secretsmanager:*",
        "Resource": "*",
        "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2026-11-30T23:59:59Z"}},
    }
    plain = {
        "Effect": "Deny",
        "Action": "*",
        "Resource": "*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    call = on("DescribeSecret", SecretId="prod/db")
    assert _outcomes(call, late) == ["explicit_deny"]
    assert _outcomes(call, plain) == ["allow"]
