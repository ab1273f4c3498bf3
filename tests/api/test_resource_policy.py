"""Put/Get/Delete/ValidateResourcePolicy over a real server: shapes, limits, AWS errors.

Sources: api-behaviors.md §2.4, §2.8, §2.12, §2.23 (and moto's test_policy.py cases),
replication-security.md §C.5 and §D rows 18-20.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.api.calls import CURRENT, Authorized
from smgrpc.app import Region
from smgrpc.core.iam.model import Principal
from smgrpc.core.policy.context import Caller
from tests.api.helpers import (
    ACCOUNT,
    ARN_PREFIX,
    INVALID_NAME,
    NOT_FOUND,
    UPDATE_MARKED_DELETED,
    create,
    describe,
    expect,
    servicer_of,
    validation_msg,
)
from tests.api.test_list_scale import max_stall_during
from tests.conftest import admin_channel, aws_error, make_config, pb

INVALID = grpc.StatusCode.INVALID_ARGUMENT
LIMIT = 20_480
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
PUBLIC_MSG = (
    "The BlockPublicPolicy parameter is set to true, and the resource policy did not "
    "prevent broad access to the secret."
)
REPLICA_MSG = (
    "Operation not permitted on a replica secret. Call must be made in primary secret's region."
)


def doc(*statements: dict[str, Any], version: str = "2012-10-17") -> str:
    return json.dumps({"Version": version, "Statement": list(statements)}, ensure_ascii=False)


def allow(principal: Any = None, condition: dict[str, Any] | None = None, **kw: Any) -> dict:
    st: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": ROOT} if principal is None else principal,
        "Action": "secretsmanager:GetSecretValue",
        "Resource": "*",
        **kw,
    }
    if condition is not None:
        st["Condition"] = condition
    return st


ACCOUNT_ONLY = doc(allow())  # the model's ValidateResourcePolicy example
PUBLIC = doc(allow("*"))


async def put_policy(stub: Any, secret_id: str, policy: str, **kw: Any) -> Any:
    return await stub.PutResourcePolicy(
        pb.PutResourcePolicyRequest(secret_id=secret_id, resource_policy=policy, **kw)
    )


async def get_policy(stub: Any, secret_id: str) -> Any:
    return await stub.GetResourcePolicy(pb.GetResourcePolicyRequest(secret_id=secret_id))


async def delete_policy(stub: Any, secret_id: str) -> Any:
    return await stub.DeleteResourcePolicy(pb.DeleteResourcePolicyRequest(secret_id=secret_id))


async def validate(stub: Any, policy: str, secret_id: str | None = None) -> Any:
    req = pb.ValidateResourcePolicyRequest(resource_policy=policy)
    if secret_id is not None:
        req.secret_id = secret_id
    return await stub.ValidateResourcePolicy(req)


async def stored(stub: Any, secret_id: str) -> str | None:
    got = await get_policy(stub, secret_id)
    return got.resource_policy if got.HasField("resource_policy") else None


def padded(policy: str, size: int) -> str:
    """The policy followed by JSON whitespace up to exactly `size` characters."""
    assert len(policy) <= size
    return policy + " " * (size - len(policy))


def errors(resp: Any) -> list[tuple[str, str]]:
    return [(e.check_name, e.error_message) for e in resp.validation_errors]


# ---- success shapes ----


async def test_get_without_policy_has_arn_and_name_only(stub) -> None:
    made = await create(stub, "s")
    got = await get_policy(stub, "s")
    assert (got.arn, got.name, got.HasField("resource_policy")) == (made.arn, "s", False)


async def test_put_returns_arn_name_and_get_returns_the_exact_text(stub) -> None:
    made = await create(stub, "app/db")
    text = '{ "Version":"2012-10-17",\n "Statement": [' + json.dumps(allow()) + "] }"
    out = await put_policy(stub, "app/db", text)
    assert (out.arn, out.name) == (made.arn, "app/db")
    got = await get_policy(stub, "app/db")
    assert (got.arn, got.name, got.resource_policy) == (made.arn, "app/db", text)


@pytest.mark.parametrize("by", ["arn", "partial"])
async def test_every_op_accepts_full_and_partial_arns(stub, by: str) -> None:
    made = await create(stub, "s")
    sid = made.arn if by == "arn" else f"{ARN_PREFIX}s"
    assert (await put_policy(stub, sid, ACCOUNT_ONLY)).arn == made.arn
    assert (await get_policy(stub, sid)).resource_policy == ACCOUNT_ONLY
    assert (await validate(stub, ACCOUNT_ONLY, sid)).policy_validation_passed
    out = await delete_policy(stub, sid)
    assert (out.arn, out.name) == (made.arn, "s")
    assert await stored(stub, "s") is None


async def test_put_replaces_the_previous_policy_and_repeats_are_harmless(stub) -> None:
    await create(stub, "s")
    await put_policy(stub, "s", ACCOUNT_ONLY)
    other = doc(allow({"AWS": ALICE}))
    await put_policy(stub, "s", other)
    await put_policy(stub, "s", other)
    assert await stored(stub, "s") == other


async def test_delete_is_idempotent(stub) -> None:
    made = await create(stub, "s")
    out = await delete_policy(stub, "s")  # never had one
    assert (out.arn, out.name) == (made.arn, "s")
    await put_policy(stub, "s", ACCOUNT_ONLY)
    for _ in range(2):
        out = await delete_policy(stub, "s")
        assert (out.arn, out.name) == (made.arn, "s")
        assert await stored(stub, "s") is None


async def test_describe_and_list_unaffected_by_policy_ops(stub) -> None:
    """No policy member in DescribeSecret; LastChangedDate not moved (api-behaviors §1.6)."""
    await create(stub, "s", description="d")
    before = await describe(stub, "s")
    await put_policy(stub, "s", ACCOUNT_ONLY)
    assert await describe(stub, "s") == before
    await delete_policy(stub, "s")
    assert await describe(stub, "s") == before
    listed = await stub.ListSecrets(pb.ListSecretsRequest())
    assert [e.name for e in listed.secret_list] == ["s"]
    assert listed.secret_list[0].last_changed_date == before.last_changed_date


async def test_policy_survives_a_restart(region: Region, tmp_path) -> None:
    async with admin_channel(region) as ch:
        stub = pbg.SecretsManagerStub(ch)
        await create(stub, "s")
        await put_policy(stub, "s", ACCOUNT_ONLY)
    await region.stop(0.2)
    again = Region(make_config(tmp_path))
    await again.start()
    try:
        async with admin_channel(again) as ch:
            assert await stored(pbg.SecretsManagerStub(ch), "s") == ACCOUNT_ONLY
    finally:
        await again.stop(0.2)


def many_patterns(tag: str) -> str:
    """A policy of ~20,480 characters made of ~1,100 distinct Action and Resource patterns:
    one regex each, ~150-200 ms of CPU to compile."""
    res = [f"{tag}{i:x}*" for i in range(1161)]
    acts = [f"s:{r}" for r in res]
    st = {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": acts, "Resource": res}
    text = json.dumps({"Version": "2012-10-17", "Statement": [st]}, separators=(",", ":"))
    assert len(text) <= LIMIT
    return text


async def test_large_policies_are_parsed_off_the_event_loop(stub) -> None:
    """Regression: parsing ran on the loop and stalled every call ~150-200 ms."""
    await create(stub, "s")
    text = many_patterns("p")
    stall, _, _ = await max_stall_during(put_policy(stub, "s", text, block_public_policy=True))
    assert stall < 0.1, f"event loop stalled {stall * 1000:.0f} ms"
    assert await stored(stub, "s") == text
    stall, _, out = await max_stall_during(validate(stub, many_patterns("v"), "s"))
    assert stall < 0.1, f"event loop stalled {stall * 1000:.0f} ms"
    assert out.policy_validation_passed  # type: ignore[attr-defined]


# ---- unknown secrets, bad ids ----


async def test_unknown_secret_is_not_found_for_every_op(stub) -> None:
    for call in (
        put_policy(stub, "nope", ACCOUNT_ONLY),
        get_policy(stub, "nope"),
        delete_policy(stub, "nope"),
        validate(stub, ACCOUNT_ONLY, "nope"),
    ):
        await expect(call, grpc.StatusCode.NOT_FOUND, "ResourceNotFoundException", NOT_FOUND)


async def test_invalid_secret_id_is_a_validation_error(stub) -> None:
    for call in (
        put_policy(stub, "bad name", ACCOUNT_ONLY),
        get_policy(stub, "bad name"),
        delete_policy(stub, "bad name"),
        validate(stub, ACCOUNT_ONLY, "bad name"),
    ):
        await expect(call, INVALID, "ValidationException", INVALID_NAME)


# ---- the 20,480-character limit ----


async def test_exactly_the_limit_is_accepted(stub) -> None:
    await create(stub, "s")
    text = padded(ACCOUNT_ONLY, LIMIT)
    assert len(text) == LIMIT
    await put_policy(stub, "s", text)
    assert await stored(stub, "s") == text
    assert (await validate(stub, text, "s")).policy_validation_passed


async def test_the_limit_counts_characters_not_bytes(stub) -> None:
    await create(stub, "s")
    text = padded(doc(allow(Sid="é" * 6000)), LIMIT)  # 20,480 characters, ~26,500 bytes
    assert len(text.encode()) > LIMIT
    await put_policy(stub, "s", text)
    assert await stored(stub, "s") == text


LENGTH_MAX = "Member must have length less than or equal to 20480"
LENGTH_MIN = "Member must have length greater than or equal to 1"


@pytest.mark.parametrize(("size", "constraint"), [(LIMIT + 1, LENGTH_MAX), (0, LENGTH_MIN)])
async def test_outside_the_limit_is_a_validation_error_and_nothing_changes(
    stub, size: int, constraint: str
) -> None:
    await create(stub, "s")
    await put_policy(stub, "s", ACCOUNT_ONLY)
    text = padded(ACCOUNT_ONLY, size) if size else ""
    msg = validation_msg("resourcePolicy", constraint, None if size else "")
    await expect(put_policy(stub, "s", text), INVALID, "ValidationException", msg)
    await expect(validate(stub, text), INVALID, "ValidationException", msg)
    await expect(validate(stub, text, "s"), INVALID, "ValidationException", msg)
    assert await stored(stub, "s") == ACCOUNT_ONLY


# ---- syntax ----

MALFORMED = [
    ("not-json", "some policy", "Syntax errors in policy."),
    ("truncated", ACCOUNT_ONLY[:-3], "Syntax errors in policy."),
    ("array", "[]", "Syntax errors in policy."),
    (
        "duplicate-key",
        '{"Version":"2012-10-17","Version":"2012-10-17","Statement":[]}',
        "Duplicate key 'Version' in policy",
    ),
    (
        "duplicate-nested-key",
        '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Effect":"Deny",'
        '"Principal":"*","Action":"*","Resource":"*"}}',
        "Duplicate key 'Effect' in policy",
    ),
    (
        "bad-version",
        doc(allow(), version="2020-01-01"),
        "The policy must contain a valid version string",
    ),
    ("no-statement", '{"Version":"2012-10-17"}', "Policy document must contain a Statement"),
    ("empty-statement", doc(), "Policy document must contain a Statement"),
    (
        "no-principal",
        doc({"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"}),
        "Policy statement must contain a principal.",
    ),
    ("no-effect", doc({k: v for k, v in allow().items() if k != "Effect"}), None),
    ("action-and-notaction", doc(allow(NotAction="secretsmanager:ListSecrets")), None),
    ("unknown-operator", doc(allow(condition={"StringSorta": {"aws:PrincipalTag/x": "y"}})), None),
    ("bad-action", doc(allow(Action="GetSecretValue")), None),
    ("duplicate-sid", doc(allow(Sid="a"), allow(Sid="a")), None),
    ("deep-nesting", "[" * 10_000 + "]" * 10_000, "Syntax errors in policy."),
]


@pytest.mark.parametrize(
    ("text", "message"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
async def test_malformed_policy_put_raises_validate_reports(
    stub, text: str, message: str | None
) -> None:
    await create(stub, "s")
    await put_policy(stub, "s", ACCOUNT_ONLY)
    err = await expect(put_policy(stub, "s", text), INVALID, "MalformedPolicyDocumentException")
    if message is not None:
        assert err.message == message
    assert await stored(stub, "s") == ACCOUNT_ONLY  # nothing written
    for sid in (None, "s"):
        out = await validate(stub, text, sid)
        assert out.policy_validation_passed is False
        assert errors(out) == [("SYNTAX_CHECK", err.message)]
    assert await stored(stub, "s") == ACCOUNT_ONLY


# ---- BlockPublicPolicy / broad access ----

BROAD = [
    ("star", doc(allow("*"))),
    ("aws-star", doc(allow({"AWS": "*"}))),
    ("aws-star-in-list", doc(allow({"AWS": [ROOT, "*"]}))),
    (
        "not-principal",
        doc(
            {
                **{k: v for k, v in allow().items() if k != "Principal"},
                "NotPrincipal": {"AWS": ALICE},
            }
        ),
    ),
    ("if-exists-pin", doc(allow("*", {"StringEqualsIfExists": {"aws:PrincipalAccount": ACCOUNT}}))),
    ("negated-pin", doc(allow("*", {"StringNotEquals": {"aws:PrincipalAccount": ACCOUNT}}))),
    ("wildcard-pin", doc(allow("*", {"StringLike": {"aws:PrincipalAccount": "*"}}))),
    (
        "wildcard-account-arn",
        doc(allow("*", {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:root"}})),
    ),
    (
        "for-all-values",
        doc(allow("*", {"ForAllValues:StringEquals": {"aws:PrincipalAccount": ACCOUNT}})),
    ),
    ("variable-pin", doc(allow("*", {"StringEquals": {"aws:PrincipalArn": "${aws:username}"}}))),
    ("other-key", doc(allow("*", {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))),
]
PINNED = [
    ("account", doc(allow("*", {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}))),
    ("principal-arn", doc(allow("*", {"ArnEquals": {"aws:PrincipalArn": ALICE}}))),
    ("role-wildcard", doc(allow(
        {"AWS": "*"}, {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/*"}}))),
    ("org", doc(allow("*", {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}))),
    ("root", ACCOUNT_ONLY),
    ("user", doc(allow({"AWS": ALICE}))),
    ("fenced-by-deny", doc(allow("*"), {
        "Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:PrincipalAccount": ACCOUNT}}})),
]  # fmt: skip


@pytest.mark.parametrize("text", [b[1] for b in BROAD], ids=[b[0] for b in BROAD])
async def test_broad_policy_blocked_only_with_block_public_policy(stub, text: str) -> None:
    await create(stub, "s")
    await put_policy(stub, "s", ACCOUNT_ONLY)
    await expect(
        put_policy(stub, "s", text, block_public_policy=True),
        grpc.StatusCode.FAILED_PRECONDITION,
        "PublicPolicyException",
        PUBLIC_MSG,
    )
    assert await stored(stub, "s") == ACCOUNT_ONLY
    await put_policy(stub, "s", text, block_public_policy=False)
    assert await stored(stub, "s") == text
    await put_policy(stub, "s", ACCOUNT_ONLY)
    await put_policy(stub, "s", text)  # the default: public policies are not blocked
    assert await stored(stub, "s") == text
    out = await validate(stub, text, "s")
    assert out.policy_validation_passed is False
    assert [name for name, _ in errors(out)] == ["BROAD_ACCESS_CHECK"]
    assert "did not prevent broad access" in errors(out)[0][1]


@pytest.mark.parametrize("text", [p[1] for p in PINNED], ids=[p[0] for p in PINNED])
async def test_pinned_policy_accepted_with_block_public_policy(stub, text: str) -> None:
    made = await create(stub, "s")
    out = await put_policy(stub, "s", text, block_public_policy=True)
    assert (out.arn, out.name) == (made.arn, "s")
    assert await stored(stub, "s") == text
    got = await validate(stub, text, "s")
    assert (got.policy_validation_passed, errors(got)) == (True, [])


async def test_syntax_is_checked_before_broad_access(stub) -> None:
    await create(stub, "s")
    text = doc(allow("*", Effect="Maybe"))
    await expect(
        put_policy(stub, "s", text, block_public_policy=True),
        INVALID,
        "MalformedPolicyDocumentException",
        "Invalid effect: Maybe",
    )


# ---- ValidateResourcePolicy ----


async def test_validate_without_secret_id_matches_the_model_example(stub) -> None:
    out = await validate(stub, ACCOUNT_ONLY)
    assert (out.policy_validation_passed, errors(out)) == (True, [])


async def test_validate_reports_one_entry_per_broad_statement(stub) -> None:
    text = doc(allow("*", Sid="Open"), allow(), allow({"AWS": "*"}))
    out = await validate(stub, text)
    assert out.policy_validation_passed is False
    assert [n for n, _ in errors(out)] == ["BROAD_ACCESS_CHECK", "BROAD_ACCESS_CHECK"]
    assert "statement 'Open'" in errors(out)[0][1]
    assert "statement #2" in errors(out)[1][1]


async def test_validate_stores_nothing(stub) -> None:
    await create(stub, "s")
    await validate(stub, ACCOUNT_ONLY, "s")
    assert await stored(stub, "s") is None


# ---- lockout (needs a caller: the servicer reads calls.CURRENT, set by the guard) ----


def _caller(arn: str = ALICE) -> Authorized:
    principal = Principal(arn=arn, account=ACCOUNT, kind="user", name=arn.rsplit("/", 1)[-1])
    return Authorized(
        principal,
        Caller(arn, ACCOUNT, current_time=datetime(2026, 1, 1, tzinfo=UTC)),
    )


def deny(principal: Any, action: str = "secretsmanager:PutResourcePolicy", **kw: Any) -> dict:
    return {"Effect": "Deny", "Principal": principal, "Action": action, "Resource": "*", **kw}


async def _validate_as(
    region: Region, policy: str, who: Authorized | None, secret_id: str | None = None
) -> Any:
    req = pb.ValidateResourcePolicyRequest(resource_policy=policy)
    if secret_id is not None:
        req.secret_id = secret_id
    token = CURRENT.set(who)
    try:
        return await servicer_of(region).ValidateResourcePolicy(req, None)
    finally:
        CURRENT.reset(token)


async def test_lockout_check_flags_a_deny_of_the_caller(region: Region, stub) -> None:
    made = await create(stub, "s")
    text = doc(allow(), deny({"AWS": ALICE}, Sid="NoMore"))
    for sid in (None, "s"):
        out = await _validate_as(region, text, _caller(), sid)
        assert out.policy_validation_passed is False
        assert errors(out) == [
            (
                "LOCKOUT_CHECK",
                f"The resource policy locks out the caller: statement 'NoMore' denies {ALICE} "
                "secretsmanager:PutResourcePolicy on the secret.",
            )
        ]
    both = doc(deny("*", "secretsmanager:*ResourcePolicy"))
    out = await _validate_as(region, both, _caller(), "s")
    assert [n for n, _ in errors(out)] == ["LOCKOUT_CHECK", "LOCKOUT_CHECK"]
    assert "DeleteResourcePolicy" in errors(out)[1][1]
    # Scoped to this secret's ARN: seen with the SecretId, not without one.
    scoped = doc(deny({"AWS": ALICE}, Resource=made.arn))
    assert not (await _validate_as(region, scoped, _caller(), "s")).policy_validation_passed
    assert (await _validate_as(region, scoped, _caller(), None)).policy_validation_passed


async def test_lockout_check_passes_for_other_principals_and_without_a_caller(
    region: Region, stub
) -> None:
    await create(stub, "s")
    text = doc(allow(), deny({"AWS": ALICE}))
    bob = _caller(f"arn:aws:iam::{ACCOUNT}:user/bob")
    assert (await _validate_as(region, text, bob, "s")).policy_validation_passed
    assert (await _validate_as(region, text, None, "s")).policy_validation_passed
    # Conditions on the caller's request context decide too (resource tags of the secret).
    cond = doc(deny("*", Condition={"StringEquals": {"aws:PrincipalArn": ALICE}}))
    assert not (await _validate_as(region, cond, _caller(), "s")).policy_validation_passed


async def test_all_three_checks_reported_together(region: Region, stub) -> None:
    await create(stub, "s")
    text = doc(allow("*"), deny({"AWS": ALICE}, "secretsmanager:DeleteResourcePolicy"))
    out = await _validate_as(region, text, _caller(), "s")
    assert [n for n, _ in errors(out)] == ["BROAD_ACCESS_CHECK", "LOCKOUT_CHECK"]
    syntax = await _validate_as(region, "{", _caller(), "s")
    assert errors(syntax) == [("SYNTAX_CHECK", "Syntax errors in policy.")]


async def test_put_does_not_run_the_lockout_check(stub) -> None:
    """AWS runs the lockout check in ValidateResourcePolicy only (§C.5)."""
    await create(stub, "s")
    text = doc(allow(), deny("*", "secretsmanager:*"))
    await put_policy(stub, "s", text, block_public_policy=True)
    # Stored and in force: with the guard on, it now denies even the admin reading it back.
    err = await aws_error(stored(stub, "s"))
    assert err.code == grpc.StatusCode.PERMISSION_DENIED


# ---- deletion state, replicas ----


async def test_secret_scheduled_for_deletion(stub) -> None:
    await create(stub, "s")
    await put_policy(stub, "s", ACCOUNT_ONLY)
    await stub.DeleteSecret(pb.DeleteSecretRequest(secret_id="s", recovery_window_in_days=7))
    failed = grpc.StatusCode.FAILED_PRECONDITION
    for call in (put_policy(stub, "s", doc(allow({"AWS": ALICE}))), delete_policy(stub, "s")):
        await expect(call, failed, "InvalidRequestException", UPDATE_MARKED_DELETED)
    assert await stored(stub, "s") == ACCOUNT_ONLY  # reads still answer
    assert (await validate(stub, ACCOUNT_ONLY, "s")).policy_validation_passed
    await stub.RestoreSecret(pb.RestoreSecretRequest(secret_id="s"))
    await delete_policy(stub, "s")
    assert await stored(stub, "s") is None


async def test_replica_refuses_put_and_delete_but_answers_reads(region: Region, stub) -> None:
    """A replica as the Applier stores it (primary_region set); tests/cluster covers the
    same over real replication links."""
    made = await create(stub, "r")
    async with region.store.transaction() as tx:
        secret = tx.find("r")
        assert secret is not None
        await tx.save(secret.evolve(primary_region="eu-west-1", policy=ACCOUNT_ONLY))
    for call in (put_policy(stub, "r", PUBLIC), delete_policy(stub, "r")):
        await expect(call, INVALID, "InvalidParameterException", REPLICA_MSG)
    got = await get_policy(stub, "r")
    assert (got.arn, got.resource_policy) == (made.arn, ACCOUNT_ONLY)
    assert (await validate(stub, ACCOUNT_ONLY, "r")).policy_validation_passed
