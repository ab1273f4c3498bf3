"""Policy documents IAM rejects (MalformedPolicyDocument), and what a Decision says."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from smgrpc.core.errors import MalformedPolicyDocument
from smgrpc.core.policy import MAX_RESOURCE_POLICY_CHARS, Request, evaluate, parse_policy

ACCT = "111122223333"
BOB = f"arn:aws:iam::{ACCT}:user/Bob"
SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:MySecret-a1b2c3"
GET = "secretsmanager:GetSecretValue"
OK = {"Effect": "Allow", "Action": GET, "Resource": "*"}


def doc(*stmts: dict[str, Any], version: str = "2012-10-17") -> str:
    return json.dumps({"Version": version, "Statement": list(stmts)})


def with_cond(block: dict[str, Any]) -> str:
    return doc(OK | {"Condition": block})


# (id, kind, text, message fragment)
BAD: list[tuple[str, str, str, str]] = [
    ("not-json", "identity", "{Version:", "Syntax errors in policy."),
    ("not-object", "identity", "[]", "Syntax errors in policy."),
    (
        "duplicate-json-key",
        "identity",
        '{"Version":"2012-10-17","Version":"2012-10-17"}',
        "Duplicate",
    ),
    ("bad-version", "identity", doc(OK, version="2012-10-18"), "valid version"),
    (
        "unknown-top-field",
        "identity",
        '{"Version":"2012-10-17","Statement":[],"X":1}',
        "unknown field X",
    ),
    ("no-statement", "identity", '{"Version":"2012-10-17"}', "must contain a Statement"),
    ("empty-statement-list", "identity", '{"Version":"2012-10-17","Statement":[]}', "Statement"),
    ("statement-string", "identity", '{"Version":"2012-10-17","Statement":"x"}', "Statement"),
    ("statement-not-object", "identity", '{"Version":"2012-10-17","Statement":[1]}', "Syntax"),
    (
        "missing-effect",
        "identity",
        doc({"Action": GET, "Resource": "*"}),
        "Missing required field Effect",
    ),
    ("bad-effect", "identity", doc(OK | {"Effect": "allow"}), "Invalid effect"),
    ("no-action", "identity", doc({"Effect": "Allow", "Resource": "*"}), "must contain actions"),
    (
        "action-and-notaction",
        "identity",
        doc(OK | {"NotAction": "s3:*"}),
        "both Action and NotAction",
    ),
    ("no-resource", "identity", doc({"Effect": "Allow", "Action": GET}), "must contain resources"),
    ("resource-and-notresource", "identity", doc(OK | {"NotResource": "*"}), "both Resource"),
    (
        "action-without-vendor",
        "identity",
        doc(OK | {"Action": "GetSecretValue"}),
        "prefaced by a vendor",
    ),
    ("action-bad-char", "identity", doc(OK | {"Action": "secretsmanager:Get-Value"}), "vendor"),
    ("action-empty-list", "identity", doc(OK | {"Action": []}), "non-empty"),
    ("action-not-string", "identity", doc(OK | {"Action": 5}), "non-empty string"),
    (
        "unknown-statement-field",
        "identity",
        doc(OK | {"Effects": "Allow"}),
        "unknown field Effects",
    ),
    (
        "identity-with-principal",
        "identity",
        doc(OK | {"Principal": "*"}),
        "should not specify a principal",
    ),
    ("resource-without-principal", "resource", doc(OK), "must contain a principal"),
    (
        "principal-partial-wildcard",
        "resource",
        doc(OK | {"Principal": {"AWS": "arn:aws:iam::111122223333:user/*"}}),
        "Invalid principal",
    ),
    (
        "principal-bad-type",
        "resource",
        doc(OK | {"Principal": {"Root": ACCT}}),
        "Invalid principal",
    ),
    ("principal-garbage", "resource", doc(OK | {"Principal": {"AWS": "bob"}}), "Invalid principal"),
    ("principal-empty", "resource", doc(OK | {"Principal": {}}), "Invalid principal"),
    ("duplicate-sid", "identity", doc(OK | {"Sid": "a"}, OK | {"Sid": "a"}), "must be unique"),
    ("sid-not-string", "identity", doc(OK | {"Sid": 1}), "SID"),
    (
        "unknown-operator",
        "identity",
        with_cond({"StringEqualz": {"aws:username": "x"}}),
        "Invalid condition operator",
    ),
    (
        "bad-qualifier",
        "identity",
        with_cond({"ForSomeValues:StringEquals": {"k": "x"}}),
        "qualifier",
    ),
    (
        "null-ifexists",
        "identity",
        with_cond({"NullIfExists": {"k": "true"}}),
        "Invalid condition operator",
    ),
    ("null-bad-value", "identity", with_cond({"Null": {"k": "yes"}}), "Null"),
    (
        "numeric-bad-value",
        "identity",
        with_cond({"NumericLessThan": {"k": "ten"}}),
        "NumericLessThan",
    ),
    ("date-bad-value", "identity", with_cond({"DateLessThan": {"k": "tomorrow"}}), "DateLessThan"),
    (
        "ip-bad-value",
        "identity",
        with_cond({"IpAddress": {"aws:SourceIp": "300.1.1.1/8"}}),
        "IpAddress",
    ),
    ("bool-bad-value", "identity", with_cond({"Bool": {"aws:SecureTransport": "yes"}}), "Bool"),
    (
        "condition-not-object",
        "identity",
        doc(OK | {"Condition": []}),
        "Condition must be an object",
    ),
    ("condition-operator-empty", "identity", with_cond({"StringEquals": {}}), "must map keys"),
    (
        "condition-value-object",
        "identity",
        with_cond({"StringEquals": {"k": {"a": 1}}}),
        "Condition values",
    ),
    (
        "condition-values-empty",
        "identity",
        with_cond({"StringEquals": {"k": []}}),
        "Empty condition",
    ),
]


@pytest.mark.parametrize(
    ("kind", "text", "fragment"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_malformed_documents_are_rejected(kind: str, text: str, fragment: str) -> None:
    with pytest.raises(MalformedPolicyDocument) as err:
        parse_policy(text, kind="resource" if kind == "resource" else "identity")
    assert fragment in err.value.message
    assert err.value.aws_code == "MalformedPolicyDocumentException"


def test_size_limit_is_20480_characters() -> None:
    base = doc(OK | {"Sid": ""})
    pad = MAX_RESOURCE_POLICY_CHARS - len(base)
    at_limit = doc(OK | {"Sid": "x" * pad})
    assert len(at_limit) == MAX_RESOURCE_POLICY_CHARS
    parse_policy(at_limit, kind="identity")
    with pytest.raises(MalformedPolicyDocument, match="exceeds the limit of 20480"):
        parse_policy(doc(OK | {"Sid": "x" * (pad + 1)}), kind="identity")


def test_accepted_shapes() -> None:
    single = parse_policy(json.dumps({"Version": "2008-10-17", "Statement": OK}), kind="identity")
    assert len(single.statements) == 1 and single.version == "2008-10-17"
    no_version = parse_policy(
        json.dumps({"Statement": [OK, OK | {"Effect": "Deny"}]}), kind="identity"
    )
    assert no_version.version == "2008-10-17"
    assert len(no_version.allows) == 1 and len(no_version.denies) == 1
    res = parse_policy(doc(OK | {"Principal": {"AWS": [ACCT, BOB]}}), kind="resource")
    assert res.kind == "resource"


def _req(action: str = GET) -> Request:
    return Request.build(principal_arn=BOB, principal_account=ACCT, action=action, resource=SECRET)


def test_decision_messages_match_aws_wording() -> None:
    prefix = f"User: {BOB} is not authorized to perform: {GET} on resource: {SECRET} "
    none = evaluate(_req())
    assert not none.allowed
    assert none.denied_message(_req()) == (
        prefix + f"because no identity-based policy allows the {GET} action"
    )
    allow = parse_policy(doc(OK), kind="identity", name="inline")
    deny = parse_policy(
        doc({"Sid": "NoGet", "Effect": "Deny", "Action": GET, "Resource": "*", "Principal": "*"}),
        kind="resource",
    )
    d = evaluate(_req(), [allow], deny)
    assert (d.outcome, d.kind, d.sid, d.statement_index) == (
        "explicit_deny",
        "resource",
        "NoGet",
        0,
    )
    assert d.denied_message(_req()) == prefix + "with an explicit deny in a resource-based policy"
    id_deny = parse_policy(doc(OK, OK | {"Effect": "Deny"}), kind="identity", name="deny-get")
    d = evaluate(_req(), [allow, id_deny])
    assert (d.policy_name, d.statement_index) == ("deny-get", 1)
    assert d.explanation(GET) == "with an explicit deny in an identity-based policy"
    ok = evaluate(_req(), [allow])
    assert (
        ok.allowed and ok.policy_name == "inline" and ok.explanation(GET).startswith("allowed by")
    )


def test_compiled_policy_is_reusable_and_immutable() -> None:
    p = parse_policy(
        doc(OK | {"Resource": "arn:aws:secretsmanager:*:*:secret:${aws:username}-*"}),
        kind="identity",
    )
    bob = Request.build(
        principal_arn=BOB,
        principal_account=ACCT,
        action=GET,
        resource=f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:Bob-abcdef",
    )
    alice = Request.build(
        principal_arn=f"arn:aws:iam::{ACCT}:user/Alice",
        principal_account=ACCT,
        action=GET,
        resource=f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:Bob-abcdef",
    )
    for _ in range(3):
        assert evaluate(bob, [p]).allowed
        assert not evaluate(alice, [p]).allowed
    with pytest.raises(AttributeError):
        p.name = "x"  # type: ignore[misc]


def test_special_variables_are_literal() -> None:
    p = parse_policy(
        with_cond({"StringEquals": {"aws:PrincipalTag/x": "a${*}b${?}${$}"}}), kind="identity"
    )
    hit = Request.build(
        principal_arn=BOB,
        principal_account=ACCT,
        action=GET,
        resource=SECRET,
        principal_tags={"x": "a*b?$"},
    )
    assert evaluate(hit, [p]).allowed
    like = parse_policy(
        with_cond({"StringLike": {"aws:PrincipalTag/x": "a${*}*"}}), kind="identity"
    )
    miss = Request.build(
        principal_arn=BOB,
        principal_account=ACCT,
        action=GET,
        resource=SECRET,
        principal_tags={"x": "abc"},
    )
    assert evaluate(hit, [like]).allowed and not evaluate(miss, [like]).allowed


def test_glob_is_linear_and_brackets_are_literal() -> None:
    # A pattern that makes a naive regex translation backtrack exponentially.
    evil = parse_policy(doc(OK | {"Resource": "*a" * 12 + "b"}), kind="identity")
    long = Request.build(
        principal_arn=BOB, principal_account=ACCT, action=GET, resource="a" * 20_000
    )
    started = time.process_time()  # CPU time (a loaded machine's waits for a core aside)
    assert not evaluate(long, [evil]).allowed
    assert time.process_time() - started < 0.05
    brackets = parse_policy(doc(OK | {"Resource": "arn:x:[ab]*"}), kind="identity")
    lit = Request.build(
        principal_arn=BOB, principal_account=ACCT, action=GET, resource="arn:x:[ab]1"
    )
    cls = Request.build(principal_arn=BOB, principal_account=ACCT, action=GET, resource="arn:x:a1")
    assert evaluate(lit, [brackets]).allowed and not evaluate(cls, [brackets]).allowed


def test_variable_with_bad_value_never_raises() -> None:
    p = parse_policy(
        with_cond({"IpAddress": {"aws:SourceIp": "${aws:PrincipalTag/cidr}"}}), kind="identity"
    )
    bad = Request.build(
        principal_arn=BOB,
        principal_account=ACCT,
        action=GET,
        resource=SECRET,
        principal_tags={"cidr": "not-a-cidr"},
        keys={"aws:SourceIp": "10.0.0.1"},
    )
    good = Request.build(
        principal_arn=BOB,
        principal_account=ACCT,
        action=GET,
        resource=SECRET,
        principal_tags={"cidr": "10.0.0.0/8"},
        keys={"aws:SourceIp": "10.0.0.1"},
    )
    assert not evaluate(bad, [p]).allowed and evaluate(good, [p]).allowed


def test_decisions_of_clock_dependent_policies_are_never_cached() -> None:
    """`Policy.clock_free` (the guard caches allows only of such policies): a time condition,
    a policy variable in a condition, or (review Low 14) a clock variable in a Resource or
    Action pattern make a policy clock-dependent; ${aws:username} does not."""

    def doc(resource: str, cond: str = "") -> str:
        return (
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*",'
            f'"Resource":"{resource}"{cond}}}]}}'
        )

    clock_var = doc("arn:aws:secretsmanager:*:*:secret:${aws:CurrentTime}*")
    epoch_var = doc("arn:aws:secretsmanager:*:*:secret:${aws:EpochTime}*")
    user_var = doc("arn:aws:secretsmanager:*:*:secret:${aws:username}/*")
    dated = doc("*", ',"Condition":{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}')
    verdicts = [
        parse_policy(d, kind="identity").clock_free
        for d in (clock_var, epoch_var, user_var, dated, doc("*"))
    ]
    assert verdicts == [False, False, True, False, True]
