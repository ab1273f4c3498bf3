"""Authentication and authorization of every SecretsManager RPC (the guard, through a real
server): no credential, a bad one, an inactive one, allowed, denied by an identity policy,
denied by the resource policy, explicit deny beating allow."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import grpc
import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.app import Region
from smgrpc.core.policy.context import OPERATIONS
from tests.api.authz_helpers import (
    allow,
    deny,
    resource_statement,
    set_resource_policy,
    stub_for,
    user,
    user_arn,
)
from tests.api.helpers import create
from tests.authn import altered, policy
from tests.conftest import FakeClock, admin_channel, aws_error, make_config, pb, start_region

UNRECOGNIZED = "The security token included in the request is invalid."
# Operations whose resource is "*" or a new ARN: no secret resource policy applies.
NOT_SECRET_LEVEL = {"BatchGetSecretValue", "CreateSecret", "GetRandomPassword", "ListSecrets"}


def request(op: str) -> Any:
    """A minimal request of each operation, naming the secret `t` where it takes one."""
    special: dict[str, Any] = {
        "CreateSecret": pb.CreateSecretRequest(name="new-one", secret_string="v"),
        "GetRandomPassword": pb.GetRandomPasswordRequest(),
        "ListSecrets": pb.ListSecretsRequest(),
        "BatchGetSecretValue": pb.BatchGetSecretValueRequest(secret_id_list=["t"]),
        "ValidateResourcePolicy": pb.ValidateResourcePolicyRequest(
            secret_id="t", resource_policy="{}"
        ),
    }
    if op in special:
        return special[op]
    return getattr(pb, f"{op}Request")(secret_id="t")


async def outcome(stub: Any, op: str) -> tuple[grpc.StatusCode, str]:
    try:
        await getattr(stub, op)(request(op))
    except grpc.aio.AioRpcError as exc:
        return exc.code(), exc.details() or ""
    return grpc.StatusCode.OK, ""


def test_every_public_rpc_is_in_the_table() -> None:
    from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2

    methods = {
        m.name
        for m in secretsmanager_pb2.DESCRIPTOR.services_by_name["SecretsManager"].methods
        if not m.server_streaming  # WatchSecrets: authorized per event, tested on its own
    }
    assert methods == set(OPERATIONS) and len(methods) == 23


async def _check_all(region: Region, token: str | None, want: Any) -> None:
    ch, stub = stub_for(region, token)
    async with ch:
        wrong = {}
        for op in OPERATIONS:
            got = await outcome(stub, op)
            problem = want(op, *got)
            if problem:
                wrong[op] = (got, problem)
    assert not wrong, wrong


@pytest.mark.parametrize("case", ["none", "malformed", "unknown", "wrong-secret", "inactive"])
async def test_bad_credentials_are_unrecognized_on_every_rpc(
    region: Region, stub: Any, case: str
) -> None:
    await create(stub, "t")
    token = await user(region, "alice", allow())
    kid, secret = token.split(":")
    tokens = {
        "none": None,
        "malformed": "not-a-credential",
        "unknown": "AKIA" + "A" * 16 + ":" + secret,
        "wrong-secret": kid + ":" + "x" * 40,
        "inactive": token,
    }
    if case == "inactive":
        await region.iam.update_access_key("alice", kid, "Inactive")

    def want(op: str, code: grpc.StatusCode, msg: str) -> str | None:
        ok = code == grpc.StatusCode.UNAUTHENTICATED and msg == UNRECOGNIZED
        return None if ok else "expected UnrecognizedClientException"

    await _check_all(region, tokens[case], want)


async def test_allowed_caller_passes_the_guard_on_every_rpc(region: Region, stub: Any) -> None:
    await create(stub, "t")
    token = await user(region, "alice", allow())

    def want(op: str, code: grpc.StatusCode, msg: str) -> str | None:
        bad = (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)
        return "stopped by the guard" if code in bad else None

    await _check_all(region, token, want)


async def test_no_identity_policy_is_an_implicit_deny_worded_as_aws(
    region: Region, stub: Any
) -> None:
    made = await create(stub, "t")
    token = await user(region, "bob")

    def want(op: str, code: grpc.StatusCode, msg: str) -> str | None:
        resource = "*" if op in NOT_SECRET_LEVEL else made.arn
        if op == "CreateSecret":
            resource = msg.split(" on resource: ")[-1].split(" ")[0]
            if not resource.startswith(
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:new-one-"
            ):
                return f"CreateSecret resource {resource}"
        expected = (
            f"User: {user_arn('bob')} is not authorized to perform: secretsmanager:{op} on "
            f"resource: {resource} because no identity-based policy allows the "
            f"secretsmanager:{op} action"
        )
        if code != grpc.StatusCode.PERMISSION_DENIED or msg != expected:
            return f"expected {expected!r}"
        return None

    await _check_all(region, token, want)


async def test_explicit_identity_deny_beats_allow_on_every_rpc(region: Region, stub: Any) -> None:
    await create(stub, "t")
    token = await user(region, "carol", allow(), deny("secretsmanager:*"))

    def want(op: str, code: grpc.StatusCode, msg: str) -> str | None:
        ok = code == grpc.StatusCode.PERMISSION_DENIED and msg.endswith(
            "with an explicit deny in an identity-based policy"
        )
        return None if ok else "expected an explicit identity deny"

    await _check_all(region, token, want)


async def test_resource_policy_deny_beats_identity_allow(region: Region, stub: Any) -> None:
    await create(stub, "t")
    token = await user(region, "dave", allow())
    doc = policy(resource_statement("Deny", user_arn("dave")))
    await set_resource_policy(region, "t", doc)

    def want(op: str, code: grpc.StatusCode, msg: str) -> str | None:
        if op in NOT_SECRET_LEVEL:
            return None if code != grpc.StatusCode.PERMISSION_DENIED else "denied"
        ok = code == grpc.StatusCode.PERMISSION_DENIED and msg.endswith(
            "with an explicit deny in a resource-based policy"
        )
        return None if ok else "expected an explicit resource-policy deny"

    await _check_all(region, token, want)


async def test_resource_policy_alone_allows_in_the_same_account(region: Region, stub: Any) -> None:
    await create(stub, "t", "the-value")
    token = await user(region, "erin")  # no identity policy at all
    doc = policy(resource_statement("Allow", user_arn("erin"), "secretsmanager:GetSecretValue"))
    await set_resource_policy(region, "t", doc)
    ch, erin = stub_for(region, token)
    async with ch:
        got = await erin.GetSecretValue(pb.GetSecretValueRequest(secret_id="t"))
        assert got.secret_string == "the-value"
        err = await aws_error(erin.DescribeSecret(pb.DescribeSecretRequest(secret_id="t")))
        assert err.code == grpc.StatusCode.PERMISSION_DENIED
        assert err.aws_code == "AccessDeniedException" and err.reason == "ACCESS_DENIED"


async def test_revoked_and_deactivated_keys_stop_working_on_the_next_call(
    region: Region, stub: Any
) -> None:
    await create(stub, "t")
    token = await user(region, "frank", allow())
    kid = token.split(":")[0]
    ch, frank = stub_for(region, token)
    async with ch:
        await frank.DescribeSecret(pb.DescribeSecretRequest(secret_id="t"))
        await region.iam.update_access_key("frank", kid, "Inactive")
        err = await aws_error(frank.DescribeSecret(pb.DescribeSecretRequest(secret_id="t")))
        assert (err.code, err.aws_code) == (
            grpc.StatusCode.UNAUTHENTICATED,
            "UnrecognizedClientException",
        )
        await region.iam.update_access_key("frank", kid, "Active")
        await frank.DescribeSecret(pb.DescribeSecretRequest(secret_id="t"))
        await region.iam.put_user_policy("frank", "p", policy(allow("secretsmanager:List*")))
        err = await aws_error(frank.DescribeSecret(pb.DescribeSecretRequest(secret_id="t")))
        assert err.code == grpc.StatusCode.PERMISSION_DENIED  # a policy change: at once too
        await region.iam.delete_access_key("frank", kid)
        err = await aws_error(frank.ListSecrets(pb.ListSecretsRequest()))
        assert err.code == grpc.StatusCode.UNAUTHENTICATED


async def test_access_log_names_the_principal_never_the_credential(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    region = await start_region(make_config(tmp_path), FakeClock())
    try:
        async with admin_channel(region) as ch:
            await create(pbg.SecretsManagerStub(ch), "t")
        token = await user(region, "gina", allow("secretsmanager:List*"))
        ch, gina = stub_for(region, token)
        async with ch:
            await gina.ListSecrets(pb.ListSecretsRequest())
            await aws_error(gina.GetSecretValue(pb.GetSecretValueRequest(secret_id="t")))
        bad, bad_stub = stub_for(region, token.split(":")[0] + ":" + "y" * 40)
        async with bad:
            await aws_error(bad_stub.ListSecrets(pb.ListSecretsRequest()))
        region.access_log.flush()
    finally:
        await region.stop(0.5)
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if "smgrpc.access" in ln]
    gina_arn = f"principal={user_arn('gina')}"
    assert any("ListSecrets OK" in ln and gina_arn in ln for ln in lines), lines
    assert any(
        "GetSecretValue PERMISSION_DENIED AccessDeniedException" in ln and gina_arn in ln
        for ln in lines
    )
    assert any("UNAUTHENTICATED UnrecognizedClientException" in ln for ln in lines)
    secret = token.split(":")[1]
    logged = err + caplog.text
    assert secret not in logged and "Bearer" not in logged


async def test_a_wrong_secret_after_a_good_one_is_refused_every_time(
    region: Region, stub: Any
) -> None:
    """The guard remembers a verified secret per key: any other secret for that id (one
    character changed, or a longer/shorter pair that still parses) stays refused, and the
    right one keeps working between them."""
    await create(stub, "t")
    token = await user(region, "gina", allow())
    kid, secret = token.split(":")
    flipped = altered(secret)
    for attempt in (token, f"{kid}:{flipped}", token, f"{kid}:{flipped}", token):
        ch, gina = stub_for(region, attempt)
        async with ch:
            got = await outcome(gina, "DescribeSecret")
        want = grpc.StatusCode.OK if attempt == token else grpc.StatusCode.UNAUTHENTICATED
        assert got[0] == want, attempt == token
