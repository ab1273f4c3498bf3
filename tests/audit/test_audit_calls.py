"""Every call through a real server leaves exactly one audit event, with the right principal
and no sensitive member (the leak canary scans the whole audit file)."""

from __future__ import annotations

import base64
import json
from collections import Counter
from pathlib import Path
from typing import Any

import grpc

from smgrpc._pb.iam.v1 import iam_pb2 as ipb
from smgrpc._pb.iam.v1 import iam_pb2_grpc as ipbg
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from tests.api.authz_helpers import allow, stub_for, user, user_arn
from tests.audit.helpers import check, events, records
from tests.authn import policy
from tests.conftest import CANARY, admin_channel, admin_token, make_config, pb, running

ADMIN = "arn:aws:iam::123456789012:user/admin"
BINARY_CANARY = b"\x00bin-" + CANARY.encode() + b"\xff"
ROTATION_CANARY = "rot-token-" + CANARY
ACCOUNT = "123456789012"


def sm_calls(arn_holder: dict[str, str]) -> list[tuple[str, Any]]:
    """One call of each of the 23 operations (some succeed, some fail: each is one event)."""
    doc = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": "*",
                }
            ],
        }
    )
    return [
        ("CreateSecret", pb.CreateSecretRequest(name="s1", secret_string=CANARY)),
        ("GetSecretValue", pb.GetSecretValueRequest(secret_id="s1")),
        (
            "PutSecretValue",
            pb.PutSecretValueRequest(secret_id="s1", secret_binary=BINARY_CANARY),
        ),
        (
            "UpdateSecret",
            pb.UpdateSecretRequest(secret_id="s1", secret_string=CANARY + "-2", description="d"),
        ),
        ("BatchGetSecretValue", pb.BatchGetSecretValueRequest(secret_id_list=["s1"])),
        ("DescribeSecret", pb.DescribeSecretRequest(secret_id="s1")),
        ("ListSecrets", pb.ListSecretsRequest()),
        ("ListSecretVersionIds", pb.ListSecretVersionIdsRequest(secret_id="s1")),
        (
            "UpdateSecretVersionStage",
            pb.UpdateSecretVersionStageRequest(secret_id="s1", version_stage="custom"),
        ),
        ("TagResource", pb.TagResourceRequest(secret_id="s1", tags=[pb.Tag(key="k", value="v")])),
        ("UntagResource", pb.UntagResourceRequest(secret_id="s1", tag_keys=["k"])),
        ("GetRandomPassword", pb.GetRandomPasswordRequest()),
        ("PutResourcePolicy", pb.PutResourcePolicyRequest(secret_id="s1", resource_policy=doc)),
        ("GetResourcePolicy", pb.GetResourcePolicyRequest(secret_id="s1")),
        (
            "ValidateResourcePolicy",
            pb.ValidateResourcePolicyRequest(secret_id="s1", resource_policy=doc),
        ),
        ("DeleteResourcePolicy", pb.DeleteResourcePolicyRequest(secret_id="s1")),
        ("RotateSecret", pb.RotateSecretRequest(secret_id="s1")),
        ("CancelRotateSecret", pb.CancelRotateSecretRequest(secret_id="s1")),
        ("ReplicateSecretToRegions", pb.ReplicateSecretToRegionsRequest(secret_id="s1")),
        (
            "RemoveRegionsFromReplication",
            pb.RemoveRegionsFromReplicationRequest(secret_id="s1", remove_replica_regions=["x"]),
        ),
        ("StopReplicationToReplica", pb.StopReplicationToReplicaRequest(secret_id="s1")),
        ("DeleteSecret", pb.DeleteSecretRequest(secret_id="s1")),
        ("RestoreSecret", pb.RestoreSecretRequest(secret_id="s1")),
    ]


def iam_calls(key_holder: dict[str, str]) -> list[tuple[str, Any]]:
    doc = policy(allow())
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "x"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    return [
        ("CreateUser", ipb.CreateUserRequest(user_name="u1")),
        ("GetUser", ipb.GetUserRequest(user_name="u1")),
        ("ListUsers", ipb.ListUsersRequest()),
        ("TagUser", ipb.TagUserRequest(user_name="u1", tags=[ipb.Tag(key="k", value="v")])),
        (
            "PutUserPolicy",
            ipb.PutUserPolicyRequest(user_name="u1", policy_name="p", policy_document=doc),
        ),
        ("GetUserPolicy", ipb.GetUserPolicyRequest(user_name="u1", policy_name="p")),
        ("ListUserPolicies", ipb.ListUserPoliciesRequest(user_name="u1")),
        ("DeleteUserPolicy", ipb.DeleteUserPolicyRequest(user_name="u1", policy_name="p")),
        ("CreateAccessKey", ipb.CreateAccessKeyRequest(user_name="u1")),
        ("ListAccessKeys", ipb.ListAccessKeysRequest(user_name="u1")),
        ("UpdateAccessKey", "update-key"),
        ("DeleteAccessKey", "delete-key"),
        ("DeleteUser", ipb.DeleteUserRequest(user_name="u1")),
        (
            "CreateRole",
            ipb.CreateRoleRequest(role_name="r1", assume_role_policy_document=trust),
        ),
        ("GetRole", ipb.GetRoleRequest(role_name="r1")),
        ("ListRoles", ipb.ListRolesRequest()),
        ("TagRole", ipb.TagRoleRequest(role_name="r1", tags=[ipb.Tag(key="k", value="v")])),
        (
            "PutRolePolicy",
            ipb.PutRolePolicyRequest(role_name="r1", policy_name="p", policy_document=doc),
        ),
        ("GetRolePolicy", ipb.GetRolePolicyRequest(role_name="r1", policy_name="p")),
        ("ListRolePolicies", ipb.ListRolePoliciesRequest(role_name="r1")),
        ("DeleteRolePolicy", ipb.DeleteRolePolicyRequest(role_name="r1", policy_name="p")),
        ("DeleteRole", ipb.DeleteRoleRequest(role_name="r1")),
    ]


async def _call(stub: Any, op: str, request: Any) -> Any:
    try:
        return await getattr(stub, op)(request)
    except grpc.aio.AioRpcError:
        return None


def _leaks(data: bytes, *values: str | bytes) -> list[str]:
    found = []
    for v in values:
        raw = v.encode() if isinstance(v, str) else v
        forms = {raw, base64.b64encode(raw), raw.hex().encode()}
        if any(f in data for f in forms):
            found.append(repr(v)[:40])
    return found


async def test_every_operation_leaves_one_event_with_its_principal_and_no_secret(
    tmp_path: Path,
) -> None:
    log = tmp_path / "audit.log"
    cfg = make_config(tmp_path, audit_log=log)
    secrets: list[str | bytes] = [CANARY, BINARY_CANARY, ROTATION_CANARY]
    async with running(cfg) as region:
        admin_secret = admin_token(region).split(":", 1)[1]
        admin_key = admin_token(region).split(":", 1)[0]
        secrets.append(admin_secret)
        async with admin_channel(region) as ch:
            sm, iam = pbg.SecretsManagerStub(ch), ipbg.IAMStub(ch)
            for op, req in sm_calls({}):
                got = await _call(sm, op, req)
                if op == "GetRandomPassword":
                    secrets.append(got.random_password)
            # A PutSecretValue with a RotationToken (refused: no rotation runs), also recorded.
            await _call(
                sm,
                "PutSecretValue",
                pb.PutSecretValueRequest(
                    secret_id="s1", secret_string="x", rotation_token=ROTATION_CANARY
                ),
            )
            new_key = ""
            for op, req in iam_calls({}):
                if op in ("UpdateAccessKey", "DeleteAccessKey"):
                    cls = getattr(ipb, f"{op}Request")
                    kw = {"status": "Inactive"} if op == "UpdateAccessKey" else {}
                    req = cls(user_name="u1", access_key_id=new_key, **kw)
                got = await _call(iam, op, req)
                if op == "CreateAccessKey":
                    new_key = got.access_key.access_key_id
                    secrets.append(got.access_key.secret_access_key)
    data = log.read_bytes()
    assert _leaks(data, *secrets) == []
    evs = events(log)
    names = Counter(e["eventName"] for e in evs)
    sm_ops = [
        m.name
        for m in secretsmanager_pb2.DESCRIPTOR.services_by_name["SecretsManager"].methods
        if not m.server_streaming
    ]
    iam_ops = [m.name for m in ipb.DESCRIPTOR.services_by_name["IAM"].methods]
    assert len(sm_ops) == 23 and len(iam_ops) == 22
    want = Counter({op: 1 for op in sm_ops + iam_ops})
    want["PutSecretValue"] = 2
    assert names == want
    for e in evs:
        assert e["userIdentity"] == {
            "type": "IAMUser",
            "arn": ADMIN,
            "accountId": ACCOUNT,
            "userName": "admin",
            "accessKeyId": admin_key,
        }, e["eventName"]
        assert e["eventSource"] == (
            "iam.amazonaws.com" if e["eventName"] in iam_ops else "secretsmanager.amazonaws.com"
        )
        assert e["awsRegion"] == "us-east-1" and e["sourceIPAddress"] == "127.0.0.1"
        assert e["eventType"] == "AwsApiCall" and e["managementEvent"] is True
        assert e["readOnly"] is e["eventName"].startswith(
            ("Get", "List", "Describe", "BatchGet", "Validate")
        )
    # A mutating call wrote its Request record (same eventID) before its handler ran.
    requests = {r["eventID"]: r for r in records(log) if r["recordType"] == "Request"}
    for e in evs:
        assert (e["eventID"] in requests) is (not e["readOnly"]), e["eventName"]
    create = events(log, "CreateSecret")[0]
    assert create["requestParameters"] == {"Name": "s1"}  # SecretString removed
    assert create["responseElements"]["Name"] == "s1"
    assert create["resources"] == [
        {"ARN": create["responseElements"]["ARN"], "type": "AWS::SecretsManager::Secret"}
    ]
    get = events(log, "GetSecretValue")[0]
    assert "SecretString" not in get["responseElements"]
    assert get["responseElements"]["VersionStages"] == ["AWSCURRENT"]
    rotation = events(log, "PutSecretValue")[1]
    assert "RotationToken" not in rotation["requestParameters"]
    put_policy = events(log, "PutResourcePolicy")[0]  # policies are logged, as CloudTrail does
    assert "ResourcePolicy" in put_policy["requestParameters"]
    missing = events(log, "StopReplicationToReplica")[0]
    assert missing["errorCode"] and missing["errorMessage"]
    assert check(log, cfg.data_dir).ok


async def test_denied_and_unauthenticated_calls_are_recorded(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    cfg = make_config(tmp_path, audit_log=log)
    async with running(cfg) as region:
        async with admin_channel(region) as ch:
            await pbg.SecretsManagerStub(ch).CreateSecret(
                pb.CreateSecretRequest(name="t", secret_string=CANARY)
            )
        token = await user(region, "reader")  # no policy: implicitly denied
        ch, stub = stub_for(region, token)
        async with ch:
            await _call(stub, "GetSecretValue", pb.GetSecretValueRequest(secret_id="t"))
            await _call(stub, "DeleteSecret", pb.DeleteSecretRequest(secret_id="t"))
        ch, stub = stub_for(region, "AKIAAAAAAAAAAAAAAAAA:" + "x" * 40)
        async with ch:
            await _call(stub, "DescribeSecret", pb.DescribeSecretRequest(secret_id="t"))
    denied = [e for e in events(log) if e["userIdentity"].get("arn") == user_arn("reader")]
    assert [(e["eventName"], e["errorCode"]) for e in denied] == [
        ("GetSecretValue", "AccessDeniedException"),
        ("DeleteSecret", "AccessDeniedException"),
    ]
    assert all(e["responseElements"] is None for e in denied)
    assert all(e["userIdentity"]["accessKeyId"] == token.split(":")[0] for e in denied)
    unknown = events(log, "DescribeSecret")
    assert [(e["userIdentity"], e["errorCode"]) for e in unknown] == [
        ({"type": "Unknown"}, "UnrecognizedClientException")
    ]
    # A denied mutating call never ran: no Request record.
    assert not [r for r in records(log) if r["recordType"] == "Request" and
                r["eventName"] == "DeleteSecret"]  # fmt: skip
    assert CANARY.encode() not in log.read_bytes()
    assert check(log, cfg.data_dir).ok
