"""Condition keys in real calls, customer KMS keys, listing visibility and tag lockout."""

from __future__ import annotations

from typing import Any

import grpc

from smgrpc.app import Region
from tests.api.authz_helpers import allow, deny, stub_for, user, user_arn
from tests.api.helpers import create, kms, poll
from tests.conftest import aws_error, pb

DENIED = grpc.StatusCode.PERMISSION_DENIED


async def test_resource_tag_condition(region: Region, stub: Any) -> None:
    await create(stub, "team-a", tags=[pb.Tag(key="team", value="a")])
    await create(stub, "team-b", tags=[pb.Tag(key="team", value="b")])
    token = await user(
        region,
        "t1",
        allow(
            "secretsmanager:GetSecretValue", StringEquals={"secretsmanager:ResourceTag/team": "a"}
        ),
    )
    ch, s = stub_for(region, token)
    async with ch:
        await s.GetSecretValue(pb.GetSecretValueRequest(secret_id="team-a"))
        err = await aws_error(s.GetSecretValue(pb.GetSecretValueRequest(secret_id="team-b")))
        assert err.code == DENIED


async def test_request_tag_and_tag_keys_on_create(region: Region) -> None:
    token = await user(
        region,
        "t2",
        allow("secretsmanager:CreateSecret", StringEquals={"aws:RequestTag/env": "dev"}),
    )
    ch, s = stub_for(region, token)
    async with ch:
        await s.CreateSecret(
            pb.CreateSecretRequest(name="ok", tags=[pb.Tag(key="env", value="dev")])
        )
        err = await aws_error(
            s.CreateSecret(
                pb.CreateSecretRequest(name="no", tags=[pb.Tag(key="env", value="prod")])
            )
        )
        assert err.code == DENIED
        err = await aws_error(s.CreateSecret(pb.CreateSecretRequest(name="untagged")))
        assert err.code == DENIED  # the key is missing: no match without ...IfExists


async def test_version_stage_without_if_exists_denies_an_omitted_stage(
    region: Region, stub: Any
) -> None:
    await create(stub, "vs")
    token = await user(
        region,
        "t3",
        allow(
            "secretsmanager:GetSecretValue",
            StringEquals={"secretsmanager:VersionStage": "AWSCURRENT"},
        ),
    )
    ch, s = stub_for(region, token)
    async with ch:
        await s.GetSecretValue(pb.GetSecretValueRequest(secret_id="vs", version_stage="AWSCURRENT"))
        err = await aws_error(s.GetSecretValue(pb.GetSecretValueRequest(secret_id="vs")))
        assert err.code == DENIED


async def test_source_ip_and_secure_transport(region: Region, stub: Any) -> None:
    await create(stub, "net")
    local = await user(region, "t4", allow(IpAddress={"aws:SourceIp": "127.0.0.0/8"}))
    remote = await user(region, "t5", allow(IpAddress={"aws:SourceIp": "10.0.0.0/8"}))
    tls_only = await user(region, "t6", allow(), deny(Bool={"aws:SecureTransport": "false"}))
    for token, ok in ((local, True), (remote, False), (tls_only, False)):
        ch, s = stub_for(region, token)
        async with ch:
            call = s.DescribeSecret(pb.DescribeSecretRequest(secret_id="net"))
            if ok:
                await call
            else:
                assert (await aws_error(call)).code == DENIED


async def test_customer_kms_key_needs_decrypt_and_generate_data_key(
    region: Region, stub: Any
) -> None:
    await kms(region, "create-key", "--alias", "alias/app")

    async def loaded() -> bool | None:
        return any(r.alias == "alias/app" for r in region.keyring.records()) or None

    await poll(loaded)
    await create(stub, "cmk", kms_key_id="alias/app")
    await create(stub, "default-key")
    sm_only = await user(region, "t7", allow("secretsmanager:*"))
    with_kms = await user(region, "t8", allow("secretsmanager:*"), allow("kms:Decrypt"))
    ch, s = stub_for(region, sm_only)
    async with ch:
        await s.GetSecretValue(pb.GetSecretValueRequest(secret_id="default-key"))
        err = await aws_error(s.GetSecretValue(pb.GetSecretValueRequest(secret_id="cmk")))
        assert err.code == DENIED and "kms:Decrypt on resource: arn:aws:kms:" in err.message
    ch, s = stub_for(region, with_kms)
    async with ch:
        await s.GetSecretValue(pb.GetSecretValueRequest(secret_id="cmk"))
        err = await aws_error(
            s.PutSecretValue(pb.PutSecretValueRequest(secret_id="cmk", secret_string="n"))
        )
        assert err.code == DENIED and "kms:GenerateDataKey" in err.message


async def test_a_key_created_after_a_call_still_needs_its_kms_permission(
    region: Region,
) -> None:
    """Review finding: a CreateSecret naming a KmsKeyId that did not exist yet was allowed
    without a KMS request and the allow cached; once the key existed, the same call skipped
    kms:GenerateDataKey. Calls naming a KmsKeyId are never served from the cache."""
    caller = await user(region, "t9", allow("secretsmanager:*"))
    req = pb.CreateSecretRequest(name="late", kms_key_id="alias/late", secret_string="v")
    ch, s = stub_for(region, caller)
    async with ch:
        err = await aws_error(s.CreateSecret(req))
        assert err.code != grpc.StatusCode.OK and err.code != DENIED  # the key is unknown
        await kms(region, "create-key", "--alias", "alias/late")

        async def loaded() -> bool | None:
            return any(r.alias == "alias/late" for r in region.keyring.records()) or None

        await poll(loaded)
        err = await aws_error(s.CreateSecret(req))
        assert err.code == DENIED and "kms:GenerateDataKey" in err.message


async def test_list_and_batch_return_only_what_the_caller_may_see(
    region: Region, stub: Any
) -> None:
    for name in ("app/one", "app/two", "other/three"):
        await create(stub, name, f"value-{name}")
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/*"
    token = await user(
        region,
        "t9",
        allow("secretsmanager:ListSecrets"),
        allow("secretsmanager:BatchGetSecretValue"),
        allow("secretsmanager:DescribeSecret", arn),
        allow("secretsmanager:GetSecretValue", arn),
    )
    ch, s = stub_for(region, token)
    async with ch:
        seen, next_token = [], None
        while True:
            req = pb.ListSecretsRequest(max_results=1)
            if next_token:
                req.next_token = next_token
            page = await s.ListSecrets(req)
            seen += [e.name for e in page.secret_list]
            if not page.HasField("next_token"):
                break
            next_token = page.next_token
        assert sorted(seen) == ["app/one", "app/two"]
        got = await s.BatchGetSecretValue(
            pb.BatchGetSecretValueRequest(filters=[pb.Filter(key="name", values=["app", "other"])])
        )
        assert sorted(v.name for v in got.secret_values) == ["app/one", "app/two"]
        got = await s.BatchGetSecretValue(
            pb.BatchGetSecretValueRequest(secret_id_list=["app/one", "other/three"])
        )
        assert [v.name for v in got.secret_values] == ["app/one"]
        [error] = got.errors
        assert error.secret_id == "other/three" and error.error_code == "AccessDeniedException"
        assert error.message.startswith(
            f"User: {user_arn('t9')} is not authorized to perform: secretsmanager:GetSecretValue"
        )
        # A missing id is authorized on the ARN it names, as GetSecretValue is: outside the
        # caller's grant it is AccessDenied (existence is not revealed), inside NotFound.
        got = await s.BatchGetSecretValue(
            pb.BatchGetSecretValueRequest(secret_id_list=["other/absent", "app/absent"])
        )
        codes = {e.secret_id: e.error_code for e in got.errors}
        assert codes == {
            "other/absent": "AccessDeniedException",
            "app/absent": "ResourceNotFoundException",
        }


async def test_tag_lockout_refuses_a_change_that_removes_the_callers_access(
    region: Region, stub: Any
) -> None:
    await create(stub, "locked", tags=[pb.Tag(key="team", value="a")])
    token = await user(region, "t10", allow(StringEquals={"secretsmanager:ResourceTag/team": "a"}))
    ch, s = stub_for(region, token)
    async with ch:
        err = await aws_error(
            s.UntagResource(pb.UntagResourceRequest(secret_id="locked", tag_keys=["team"]))
        )
        assert err.code == DENIED and "tag lockout" in err.message
        err = await aws_error(
            s.TagResource(
                pb.TagResourceRequest(secret_id="locked", tags=[pb.Tag(key="team", value="b")])
            )
        )
        assert err.code == DENIED
        await s.TagResource(
            pb.TagResourceRequest(secret_id="locked", tags=[pb.Tag(key="more", value="x")])
        )
    d = await stub.DescribeSecret(pb.DescribeSecretRequest(secret_id="locked"))
    assert sorted((t.key, t.value) for t in d.tags) == [("more", "x"), ("team", "a")]


async def test_secret_access_key_never_in_the_database(region: Region, stub: Any) -> None:
    token = await user(region, "t11", allow())
    secret = token.split(":")[1].encode()
    await region.iam.create_access_key("t11")
    raw = b"".join(p.read_bytes() for p in region.config.data_dir.glob("secrets.db*"))
    assert token.split(":")[0].encode() in raw  # the id is stored; the secret never is
    assert secret not in raw


async def test_cached_allow_is_dropped_when_the_secret_or_its_policy_changes(
    region: Region, stub: Any
) -> None:
    """The decision cache pins the secret object: a new tag set or policy is evaluated."""
    from tests.api.authz_helpers import resource_statement, set_resource_policy
    from tests.authn import policy

    await create(stub, "c", tags=[pb.Tag(key="team", value="a")])
    token = await user(region, "t12", allow(StringEquals={"aws:ResourceTag/team": "a"}))
    ch, s = stub_for(region, token)
    async with ch:
        for _ in range(2):  # the second call is a cache hit
            await s.GetSecretValue(pb.GetSecretValueRequest(secret_id="c"))
        await set_resource_policy(region, "c", policy(resource_statement("Deny", user_arn("t12"))))
        err = await aws_error(s.GetSecretValue(pb.GetSecretValueRequest(secret_id="c")))
        assert err.code == DENIED
        await set_resource_policy(region, "c", None)
        await s.GetSecretValue(pb.GetSecretValueRequest(secret_id="c"))
        await stub.TagResource(
            pb.TagResourceRequest(secret_id="c", tags=[pb.Tag(key="team", value="b")])
        )
        err = await aws_error(s.GetSecretValue(pb.GetSecretValueRequest(secret_id="c")))
        assert err.code == DENIED
