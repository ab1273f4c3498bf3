"""AWS IAM input rules: names, paths, documents, tags, paging and quotas (pure checks)."""

from __future__ import annotations

import json

import pytest

from smgrpc.core import errors as e
from smgrpc.core.iam import validate as v

ALLOW = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
TRUST = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:*"}


def doc(*statements: object) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.mark.parametrize("name", ["a", "Bob", "x" * 64, "svc+=,.@-_1"])
def test_valid_entity_names(name: str) -> None:
    v.entity_name(name)


@pytest.mark.parametrize(
    ("name", "constraint"),
    [
        ("", "Member must have length greater than or equal to 1"),
        ("x" * 65, "Member must have length less than or equal to 64"),
        ("bad name", "Member must satisfy regular expression pattern: [\\w+=,.@-]+"),
        ("a/b", "Member must satisfy regular expression pattern"),
        ("é", "Member must satisfy regular expression pattern"),
    ],
)
def test_invalid_entity_names_are_iam_validation_errors(name: str, constraint: str) -> None:
    with pytest.raises(e.IamValidationError) as info:
        v.entity_name(name)
    assert info.value.aws_code == "ValidationError"
    assert info.value.message.startswith("1 validation error detected: ")
    assert "'userName'" in info.value.message and constraint in info.value.message


def test_policy_names_allow_128() -> None:
    v.policy_name("p" * 128)
    with pytest.raises(e.IamValidationError, match="less than or equal to 128"):
        v.policy_name("p" * 129)


@pytest.mark.parametrize(
    "path", ["/", "/a/", "/division_abc/subdivision_xyz/", "/" + "a" * 510 + "/"]
)
def test_valid_paths(path: str) -> None:
    assert v.path(path) == path


@pytest.mark.parametrize("path", ["a/", "/a", "//x", "/a b/", "/é/"])
def test_invalid_paths(path: str) -> None:
    with pytest.raises(e.IamValidationError) as info:
        v.path(path)
    assert info.value.message == v.PATH_INVALID


def test_path_longer_than_512_and_default() -> None:
    with pytest.raises(e.IamValidationError, match="less than or equal to 512"):
        v.path("/" + "a" * 511 + "/")
    assert v.path(None) == "/"


def test_identity_policy_is_parsed_and_errors_carry_the_iam_code() -> None:
    policy = v.identity_policy(doc(ALLOW), "p")
    assert policy.kind == "identity" and len(policy.statements) == 1
    for bad, words in [
        ("{", "Syntax errors in policy."),
        (doc({**ALLOW, "Principal": "*"}), "Policy document should not specify a principal."),
        (doc({"Effect": "Allow", "Resource": "*"}), "Policy statement must contain actions."),
        (json.dumps({"Version": "2001-01-01", "Statement": [ALLOW]}), "valid version string"),
    ]:
        with pytest.raises(e.IamMalformedPolicyDocument) as info:
            v.identity_policy(bad)
        assert info.value.aws_code == "MalformedPolicyDocument" and words in info.value.message


def test_trust_policy_needs_a_principal_and_refuses_a_resource() -> None:
    v.trust_policy(doc(TRUST))
    with pytest.raises(e.IamMalformedPolicyDocument, match="must contain a principal"):
        v.trust_policy(doc({"Effect": "Allow", "Action": "sts:AssumeRole"}))
    with pytest.raises(e.IamMalformedPolicyDocument, match="prohibited field Resource"):
        v.trust_policy(doc({**TRUST, "Resource": "*"}))
    with pytest.raises(e.IamMalformedPolicyDocument, match="Syntax errors"):
        v.trust_policy('{"Statement": [], "Statement": []}')  # duplicate key
    with pytest.raises(e.IamMalformedPolicyDocument, match="Invalid principal"):
        v.trust_policy(doc({**TRUST, "Principal": {"AWS": "not-an-arn"}}))
    with pytest.raises(e.IamLimitExceeded, match="ACLSizePerRole: 2048"):
        v.trust_policy(doc(*[TRUST] * 40))


def test_inline_policy_quota_counts_characters_but_not_whitespace() -> None:
    spaced = " " * 5000 + "x" * 2048
    v.inline_quota("user", "bob", [spaced])  # whitespace is free
    with pytest.raises(e.IamLimitExceeded) as info:
        v.inline_quota("user", "bob", ["x" * 1024, "y" * 1025])  # the aggregate counts
    assert info.value.message == "Maximum policy size of 2048 bytes exceeded for user bob"
    assert info.value.aws_code == "LimitExceeded"
    v.inline_quota("role", "r", ["x" * 10240])
    with pytest.raises(e.IamLimitExceeded, match="10240 bytes exceeded for role r"):
        v.inline_quota("role", "r", ["x" * 10241])


def test_tags_limits_and_characters() -> None:
    assert v.tags([("k", ""), ("Ünïcode key", "v 1:/=+-@")]) == (
        ("k", ""),
        ("Ünïcode key", "v 1:/=+-@"),
    )
    v.tags([(f"k{i}", "v") for i in range(50)])
    with pytest.raises(e.IamValidationError, match="less than or equal to 50"):
        v.tags([(f"k{i}", "v") for i in range(51)])
    with pytest.raises(e.IamValidationError, match="'tags.1.member.key'"):
        v.tags([("", "v")])
    with pytest.raises(
        e.IamValidationError, match="'tags.1.member.key'.*less than or equal to 128"
    ):
        v.tags([("k" * 129, "v")])
    with pytest.raises(e.IamValidationError, match="'tags.2.member.value'"):
        v.tags([("a", "b"), ("k", "v" * 257)])
    with pytest.raises(e.IamValidationError, match="regular expression pattern"):
        v.tags([("semi;colon", "v")])
    with pytest.raises(e.InvalidInput, match="Tag keys are case insensitive"):
        v.tags([("Team", "a"), ("team", "b")])


def test_merging_tags_replaces_keys_regardless_of_case_and_caps_at_50() -> None:
    assert v.merge_tags((("Team", "a"), ("x", "1")), (("team", "b"),)) == (
        ("x", "1"),
        ("team", "b"),
    )
    full = tuple((f"k{i}", "v") for i in range(50))
    assert v.merge_tags(full, (("K0", "w"),))[-1] == ("K0", "w")
    with pytest.raises(e.IamLimitExceeded, match="maximum limit"):
        v.merge_tags(full, (("new", "v"),))


def test_max_items_and_markers() -> None:
    assert v.max_items(None) == 100 and v.max_items(1) == 1 and v.max_items(1000) == 1000
    for bad in (0, 1001):
        with pytest.raises(e.IamValidationError, match="'maxItems'"):
            v.max_items(bad)
    assert v.decode_marker(v.encode_marker("bob")) == "bob"
    assert v.decode_marker(None) is None
    for bad in ("!!!", "Ym9i", ""):  # not base64; base64 without our prefix; empty
        with pytest.raises(e.IamValidationError):
            v.decode_marker(bad)


def test_quota_wording() -> None:
    v.quota("AccessKeysPerUser", 1, 2)
    with pytest.raises(e.IamLimitExceeded) as info:
        v.quota("AccessKeysPerUser", 2, 2)
    assert info.value.message == "Cannot exceed quota for AccessKeysPerUser: 2"


def test_status_access_key_id_and_session_duration() -> None:
    v.status("Inactive")
    with pytest.raises(e.IamValidationError, match=r"\[Active, Inactive\]"):
        v.status("active")
    v.access_key_id("AKIAAAAAAAAAAAAAAAAA")
    with pytest.raises(e.IamValidationError, match="greater than or equal to 16"):
        v.access_key_id("AKIA")
    assert v.max_session_duration(None) == 3600
    with pytest.raises(e.IamValidationError, match="less than or equal to 43200"):
        v.max_session_duration(43201)
