"""smgrpc.iam.v1.IAM over a real server: every operation's success shape and its AWS errors."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from smgrpc._pb.iam.v1 import iam_pb2 as ipb
from smgrpc._pb.iam.v1 import iam_pb2_grpc as ipbg
from smgrpc.app import Region
from tests.authn import channel as authed_channel
from tests.conftest import FakeClock, aws_error

ACCOUNT = "123456789012"
POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"}],
    },
    indent=2,
)
TRUST = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
    '"Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}'
)
INVALID = grpc.StatusCode.INVALID_ARGUMENT


def admin_token(region: Region) -> str:
    return region.admin_token_path.read_text().strip()


@pytest.fixture
async def iam(region: Region) -> AsyncIterator[ipbg.IAMStub]:
    async with authed_channel(f"127.0.0.1:{region.port}", admin_token(region)) as channel:
        yield ipbg.IAMStub(channel)  # type: ignore[no-untyped-call]


async def make_user(iam: Any, name: str, **kw: Any) -> ipb.User:
    out = await iam.CreateUser(ipb.CreateUserRequest(user_name=name, **kw))
    return out.user  # type: ignore[no-any-return]


# ---- the service is served, listed and healthy ----


async def test_health_and_reflection_list_iam(region: Region) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{region.port}") as ch:
        health = health_pb2_grpc.HealthStub(ch)
        got = await health.Check(health_pb2.HealthCheckRequest(service="smgrpc.iam.v1.IAM"))
        assert got.status == health_pb2.HealthCheckResponse.SERVING
        refl = reflection_pb2_grpc.ServerReflectionStub(ch)
        names: list[str] = []
        async for resp in refl.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")])
        ):
            names = [s.name for s in resp.list_services_response.service]
        assert "smgrpc.iam.v1.IAM" in names


# ---- users ----


async def test_create_get_user_shape(iam: Any, clock: FakeClock) -> None:
    user = await make_user(iam, "alice", path="/team/", tags=[ipb.Tag(key="dept", value="ops")])
    assert user.user_name == "alice"
    assert user.path == "/team/"
    assert user.arn == f"arn:aws:iam::{ACCOUNT}:user/team/alice"
    assert re.fullmatch(r"AIDA[A-Z0-9]{16}", user.user_id)
    assert user.create_date.seconds == int(clock.now())
    assert [(t.key, t.value) for t in user.tags] == [("dept", "ops")]
    got = (await iam.GetUser(ipb.GetUserRequest(user_name="alice"))).user
    assert got == user


async def test_create_user_default_path(iam: Any) -> None:
    user = await make_user(iam, "bob")
    assert (user.path, user.arn) == ("/", f"arn:aws:iam::{ACCOUNT}:user/bob")
    assert list(user.tags) == []


async def test_create_user_twice_is_entity_already_exists(iam: Any) -> None:
    await make_user(iam, "bob")
    err = await aws_error(iam.CreateUser(ipb.CreateUserRequest(user_name="bob")))
    assert (err.code, err.aws_code) == (grpc.StatusCode.ALREADY_EXISTS, "EntityAlreadyExists")
    assert err.message == "User with name bob already exists."


async def test_get_missing_user_is_no_such_entity(iam: Any) -> None:
    err = await aws_error(iam.GetUser(ipb.GetUserRequest(user_name="ghost")))
    assert (err.code, err.aws_code, err.reason) == (
        grpc.StatusCode.NOT_FOUND,
        "NoSuchEntity",
        "NO_SUCH_ENTITY",
    )
    assert err.message == "The user with name ghost cannot be found."


async def test_invalid_user_name_is_validation_error(iam: Any) -> None:
    err = await aws_error(iam.CreateUser(ipb.CreateUserRequest(user_name="bad name!")))
    assert (err.code, err.aws_code) == (INVALID, "ValidationError")
    assert "userName" in err.message
    err = await aws_error(iam.CreateUser(ipb.CreateUserRequest(user_name="x", path="nopath")))
    assert (err.code, err.aws_code) == (INVALID, "ValidationError")


async def test_list_users_pages_without_tags(iam: Any) -> None:
    for name in ("carol", "bob", "dave"):
        await make_user(iam, name, path="/p/", tags=[ipb.Tag(key="k", value="v")])
    first = await iam.ListUsers(ipb.ListUsersRequest(path_prefix="/p/", max_items=2))
    assert [u.user_name for u in first.users] == ["bob", "carol"]
    assert first.is_truncated and first.HasField("marker")
    assert all(len(u.tags) == 0 for u in first.users)  # AWS: ListUsers carries no tags
    rest = await iam.ListUsers(
        ipb.ListUsersRequest(path_prefix="/p/", max_items=2, marker=first.marker)
    )
    assert [u.user_name for u in rest.users] == ["dave"]
    assert not rest.is_truncated and not rest.HasField("marker")
    everyone = await iam.ListUsers(ipb.ListUsersRequest())
    assert [u.user_name for u in everyone.users] == ["admin", "bob", "carol", "dave"]


async def test_list_users_bad_marker_and_max_items(iam: Any) -> None:
    err = await aws_error(iam.ListUsers(ipb.ListUsersRequest(marker="not-a-marker")))
    assert (err.code, err.aws_code) == (INVALID, "ValidationError")
    err = await aws_error(iam.ListUsers(ipb.ListUsersRequest(max_items=0)))
    assert (err.code, err.aws_code) == (INVALID, "ValidationError")


async def test_tag_user_merges_and_limits(iam: Any) -> None:
    await make_user(iam, "bob", tags=[ipb.Tag(key="a", value="1")])
    await iam.TagUser(
        ipb.TagUserRequest(
            user_name="bob", tags=[ipb.Tag(key="a", value="2"), ipb.Tag(key="b", value="3")]
        )
    )
    user = (await iam.GetUser(ipb.GetUserRequest(user_name="bob"))).user
    assert sorted((t.key, t.value) for t in user.tags) == [("a", "2"), ("b", "3")]
    dup = [ipb.Tag(key="x", value="1"), ipb.Tag(key="X", value="2")]
    err = await aws_error(iam.TagUser(ipb.TagUserRequest(user_name="bob", tags=dup)))
    assert (err.code, err.aws_code) == (INVALID, "InvalidInput")
    err = await aws_error(iam.TagUser(ipb.TagUserRequest(user_name="ghost", tags=dup[:1])))
    assert err.aws_code == "NoSuchEntity"


async def test_delete_user_conflicts_then_succeeds(iam: Any) -> None:
    await make_user(iam, "bob")
    await iam.PutUserPolicy(
        ipb.PutUserPolicyRequest(user_name="bob", policy_name="p", policy_document=POLICY)
    )
    err = await aws_error(iam.DeleteUser(ipb.DeleteUserRequest(user_name="bob")))
    assert (err.code, err.aws_code) == (grpc.StatusCode.FAILED_PRECONDITION, "DeleteConflict")
    assert err.message == "Cannot delete entity, must delete policies first."
    await iam.DeleteUserPolicy(ipb.DeleteUserPolicyRequest(user_name="bob", policy_name="p"))
    key = (await iam.CreateAccessKey(ipb.CreateAccessKeyRequest(user_name="bob"))).access_key
    err = await aws_error(iam.DeleteUser(ipb.DeleteUserRequest(user_name="bob")))
    assert err.message == "Cannot delete entity, must delete access keys first."
    await iam.DeleteAccessKey(
        ipb.DeleteAccessKeyRequest(user_name="bob", access_key_id=key.access_key_id)
    )
    assert await iam.DeleteUser(ipb.DeleteUserRequest(user_name="bob")) == ipb.DeleteUserResponse()
    err = await aws_error(iam.GetUser(ipb.GetUserRequest(user_name="bob")))
    assert err.aws_code == "NoSuchEntity"
    err = await aws_error(iam.DeleteUser(ipb.DeleteUserRequest(user_name="bob")))
    assert err.aws_code == "NoSuchEntity"


# ---- roles ----


async def test_role_lifecycle_shape(iam: Any, clock: FakeClock) -> None:
    made = await iam.CreateRole(
        ipb.CreateRoleRequest(
            role_name="app",
            path="/svc/",
            assume_role_policy_document=TRUST,
            description="the app",
            max_session_duration=7200,
            tags=[ipb.Tag(key="env", value="prod")],
        )
    )
    role = made.role
    assert (role.role_name, role.path) == ("app", "/svc/")
    assert role.arn == f"arn:aws:iam::{ACCOUNT}:role/svc/app"
    assert re.fullmatch(r"AROA[A-Z0-9]{16}", role.role_id)
    assert role.assume_role_policy_document == TRUST  # plain JSON, as stored
    assert (role.description, role.max_session_duration) == ("the app", 7200)
    assert role.create_date.seconds == int(clock.now())
    assert [(t.key, t.value) for t in role.tags] == [("env", "prod")]
    assert (await iam.GetRole(ipb.GetRoleRequest(role_name="app"))).role == role
    await iam.TagRole(ipb.TagRoleRequest(role_name="app", tags=[ipb.Tag(key="t", value="")]))
    again = (await iam.GetRole(ipb.GetRoleRequest(role_name="app"))).role
    assert sorted((t.key, t.value) for t in again.tags) == [("env", "prod"), ("t", "")]
    listed = await iam.ListRoles(ipb.ListRolesRequest(path_prefix="/svc/"))
    assert [r.role_name for r in listed.roles] == ["app"]
    assert listed.roles[0].description == "the app" and len(listed.roles[0].tags) == 0
    assert not listed.is_truncated
    await iam.DeleteRole(ipb.DeleteRoleRequest(role_name="app"))
    err = await aws_error(iam.GetRole(ipb.GetRoleRequest(role_name="app")))
    assert (err.aws_code, err.message) == (
        "NoSuchEntity",
        "The role with name app cannot be found.",
    )


async def test_role_defaults_and_errors(iam: Any) -> None:
    role = (
        await iam.CreateRole(
            ipb.CreateRoleRequest(role_name="r", assume_role_policy_document=TRUST)
        )
    ).role
    assert role.max_session_duration == 3600 and not role.HasField("description")
    err = await aws_error(
        iam.CreateRole(ipb.CreateRoleRequest(role_name="r", assume_role_policy_document=TRUST))
    )
    assert (err.code, err.aws_code) == (grpc.StatusCode.ALREADY_EXISTS, "EntityAlreadyExists")
    err = await aws_error(
        iam.CreateRole(ipb.CreateRoleRequest(role_name="r2", assume_role_policy_document="{"))
    )
    assert (err.code, err.aws_code) == (INVALID, "MalformedPolicyDocument")
    err = await aws_error(
        iam.CreateRole(
            ipb.CreateRoleRequest(
                role_name="r3", assume_role_policy_document=TRUST, max_session_duration=60
            )
        )
    )
    assert (err.code, err.aws_code) == (INVALID, "ValidationError")
    await iam.PutRolePolicy(
        ipb.PutRolePolicyRequest(role_name="r", policy_name="p", policy_document=POLICY)
    )
    err = await aws_error(iam.DeleteRole(ipb.DeleteRoleRequest(role_name="r")))
    assert (err.code, err.aws_code) == (grpc.StatusCode.FAILED_PRECONDITION, "DeleteConflict")


# ---- inline policies ----


async def test_user_policies(iam: Any) -> None:
    await make_user(iam, "bob")
    for name in ("b-pol", "a-pol"):
        await iam.PutUserPolicy(
            ipb.PutUserPolicyRequest(user_name="bob", policy_name=name, policy_document=POLICY)
        )
    got = await iam.GetUserPolicy(ipb.GetUserPolicyRequest(user_name="bob", policy_name="a-pol"))
    assert (got.user_name, got.policy_name, got.policy_document) == ("bob", "a-pol", POLICY)
    page = await iam.ListUserPolicies(ipb.ListUserPoliciesRequest(user_name="bob", max_items=1))
    assert list(page.policy_names) == ["a-pol"] and page.is_truncated
    rest = await iam.ListUserPolicies(
        ipb.ListUserPoliciesRequest(user_name="bob", marker=page.marker)
    )
    assert list(rest.policy_names) == ["b-pol"] and not rest.is_truncated
    await iam.DeleteUserPolicy(ipb.DeleteUserPolicyRequest(user_name="bob", policy_name="a-pol"))
    err = await aws_error(
        iam.GetUserPolicy(ipb.GetUserPolicyRequest(user_name="bob", policy_name="a-pol"))
    )
    assert (err.code, err.aws_code) == (grpc.StatusCode.NOT_FOUND, "NoSuchEntity")
    assert err.message == "The user policy with name a-pol cannot be found."
    err = await aws_error(
        iam.DeleteUserPolicy(ipb.DeleteUserPolicyRequest(user_name="bob", policy_name="a-pol"))
    )
    assert err.aws_code == "NoSuchEntity"


async def test_malformed_policy_document(iam: Any) -> None:
    await make_user(iam, "bob")
    for doc in ("not json", '{"Version":"2012-10-17","Statement":[{"Effect":"Maybe"}]}'):
        err = await aws_error(
            iam.PutUserPolicy(
                ipb.PutUserPolicyRequest(user_name="bob", policy_name="p", policy_document=doc)
            )
        )
        assert (err.code, err.aws_code, err.reason) == (
            INVALID,
            "MalformedPolicyDocument",
            "MALFORMED_POLICY_DOCUMENT",
        )
    names = await iam.ListUserPolicies(ipb.ListUserPoliciesRequest(user_name="bob"))
    assert list(names.policy_names) == []  # nothing half written
    err = await aws_error(
        iam.PutUserPolicy(
            ipb.PutUserPolicyRequest(user_name="ghost", policy_name="p", policy_document=POLICY)
        )
    )
    assert err.aws_code == "NoSuchEntity"


async def test_role_policies(iam: Any) -> None:
    await iam.CreateRole(ipb.CreateRoleRequest(role_name="r", assume_role_policy_document=TRUST))
    await iam.PutRolePolicy(
        ipb.PutRolePolicyRequest(role_name="r", policy_name="p", policy_document=POLICY)
    )
    got = await iam.GetRolePolicy(ipb.GetRolePolicyRequest(role_name="r", policy_name="p"))
    assert (got.role_name, got.policy_name, got.policy_document) == ("r", "p", POLICY)
    listed = await iam.ListRolePolicies(ipb.ListRolePoliciesRequest(role_name="r"))
    assert list(listed.policy_names) == ["p"] and not listed.is_truncated
    await iam.DeleteRolePolicy(ipb.DeleteRolePolicyRequest(role_name="r", policy_name="p"))
    err = await aws_error(
        iam.GetRolePolicy(ipb.GetRolePolicyRequest(role_name="r", policy_name="p"))
    )
    assert (err.aws_code, err.message) == (
        "NoSuchEntity",
        "The role policy with name p cannot be found.",
    )
    err = await aws_error(iam.ListRolePolicies(ipb.ListRolePoliciesRequest(role_name="ghost")))
    assert err.aws_code == "NoSuchEntity"
    err = await aws_error(
        iam.PutRolePolicy(
            ipb.PutRolePolicyRequest(role_name="r", policy_name="p", policy_document="[]")
        )
    )
    assert err.aws_code == "MalformedPolicyDocument"


# ---- access keys ----


async def test_access_keys(iam: Any, clock: FakeClock) -> None:
    await make_user(iam, "bob")
    made = (await iam.CreateAccessKey(ipb.CreateAccessKeyRequest(user_name="bob"))).access_key
    assert made.user_name == "bob" and made.status == "Active"
    assert re.fullmatch(r"AKIA[A-Z2-7]{16}", made.access_key_id)
    assert re.fullmatch(r"[A-Za-z0-9+/]{40}", made.secret_access_key)
    assert made.create_date.seconds == int(clock.now())
    clock.advance(1)
    second = (await iam.CreateAccessKey(ipb.CreateAccessKeyRequest(user_name="bob"))).access_key
    listed = await iam.ListAccessKeys(ipb.ListAccessKeysRequest(user_name="bob"))
    assert [(k.access_key_id, k.status) for k in listed.access_key_metadata] == [
        (made.access_key_id, "Active"),
        (second.access_key_id, "Active"),
    ]
    assert made.secret_access_key not in str(listed)  # metadata never carries the secret
    err = await aws_error(iam.CreateAccessKey(ipb.CreateAccessKeyRequest(user_name="bob")))
    assert (err.code, err.aws_code) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "LimitExceeded")
    assert err.message == "Cannot exceed quota for AccessKeysPerUser: 2"

    await iam.UpdateAccessKey(
        ipb.UpdateAccessKeyRequest(
            user_name="bob", access_key_id=made.access_key_id, status="Inactive"
        )
    )
    listed = await iam.ListAccessKeys(ipb.ListAccessKeysRequest(user_name="bob", max_items=1))
    assert [k.status for k in listed.access_key_metadata] == ["Inactive"]
    assert listed.is_truncated
    err = await aws_error(
        iam.UpdateAccessKey(
            ipb.UpdateAccessKeyRequest(
                user_name="bob", access_key_id=made.access_key_id, status="Paused"
            )
        )
    )
    assert (err.code, err.aws_code) == (INVALID, "ValidationError")

    await iam.DeleteAccessKey(
        ipb.DeleteAccessKeyRequest(user_name="bob", access_key_id=made.access_key_id)
    )
    err = await aws_error(
        iam.DeleteAccessKey(
            ipb.DeleteAccessKeyRequest(user_name="bob", access_key_id=made.access_key_id)
        )
    )
    assert (err.code, err.aws_code) == (grpc.StatusCode.NOT_FOUND, "NoSuchEntity")
    assert err.message == f"The Access Key with id {made.access_key_id} cannot be found."


async def test_access_key_of_another_user_is_not_found(iam: Any) -> None:
    await make_user(iam, "bob")
    await make_user(iam, "eve")
    key = (await iam.CreateAccessKey(ipb.CreateAccessKeyRequest(user_name="bob"))).access_key
    err = await aws_error(
        iam.UpdateAccessKey(
            ipb.UpdateAccessKeyRequest(
                user_name="eve", access_key_id=key.access_key_id, status="Inactive"
            )
        )
    )
    assert err.aws_code == "NoSuchEntity"
    err = await aws_error(iam.ListAccessKeys(ipb.ListAccessKeysRequest(user_name="ghost")))
    assert err.aws_code == "NoSuchEntity"


async def test_secret_access_key_only_in_create_access_key(iam: Any) -> None:
    await make_user(iam, "bob")
    key = (await iam.CreateAccessKey(ipb.CreateAccessKeyRequest(user_name="bob"))).access_key
    user = await iam.GetUser(ipb.GetUserRequest(user_name="bob"))
    assert key.secret_access_key not in str(user)


# ---- authenticated and authorized with iam:<Op> ----


async def _user_with_key(iam: Any, name: str, policy: str | None) -> str:
    await make_user(iam, name)
    if policy is not None:
        await iam.PutUserPolicy(
            ipb.PutUserPolicyRequest(user_name=name, policy_name="p", policy_document=policy)
        )
    key = (await iam.CreateAccessKey(ipb.CreateAccessKeyRequest(user_name=name))).access_key
    return f"{key.access_key_id}:{key.secret_access_key}"


def _as(region: Region, token: str | None) -> grpc.aio.Channel:
    return authed_channel(f"127.0.0.1:{region.port}", token)


SELF_SERVICE = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["iam:GetUser", "iam:*AccessKey*"],
                "Resource": "arn:aws:iam::123456789012:user/${aws:username}",
            }
        ],
    }
)


async def test_no_or_bad_credential_is_unauthenticated(region: Region) -> None:
    for token in (None, "AKIAAAAAAAAAAAAAAAAA:" + "x" * 40):
        async with _as(region, token) as ch:
            err = await aws_error(ipbg.IAMStub(ch).ListUsers(ipb.ListUsersRequest()))  # type: ignore[no-untyped-call]
        # IAM's own code (Secrets Manager: UnrecognizedClientException), AWS's message.
        assert (err.code, err.aws_code) == (grpc.StatusCode.UNAUTHENTICATED, "InvalidClientTokenId")
        assert err.message == "The security token included in the request is invalid."


async def test_caller_own_user_defaults(iam: Any, region: Region) -> None:
    token = await _user_with_key(iam, "bob", SELF_SERVICE)
    own_id = token.split(":")[0]
    async with _as(region, token) as ch:
        bob = ipbg.IAMStub(ch)  # type: ignore[no-untyped-call]
        me = (await bob.GetUser(ipb.GetUserRequest())).user
        assert (me.user_name, me.arn) == ("bob", f"arn:aws:iam::{ACCOUNT}:user/bob")
        second = (await bob.CreateAccessKey(ipb.CreateAccessKeyRequest())).access_key
        assert second.user_name == "bob"
        listed = await bob.ListAccessKeys(ipb.ListAccessKeysRequest())
        assert {k.access_key_id for k in listed.access_key_metadata} == {
            own_id,
            second.access_key_id,
        }
        await bob.UpdateAccessKey(
            ipb.UpdateAccessKeyRequest(access_key_id=second.access_key_id, status="Inactive")
        )
        await bob.DeleteAccessKey(ipb.DeleteAccessKeyRequest(access_key_id=second.access_key_id))
        listed = await bob.ListAccessKeys(ipb.ListAccessKeysRequest())
        assert [k.access_key_id for k in listed.access_key_metadata] == [own_id]
        # Another user's keys, or listing users: not allowed by the policy.
        err = await aws_error(bob.ListAccessKeys(ipb.ListAccessKeysRequest(user_name="admin")))
        assert (err.code, err.aws_code) == (grpc.StatusCode.PERMISSION_DENIED, "AccessDenied")
        assert err.message.startswith(
            f"User: arn:aws:iam::{ACCOUNT}:user/bob is not authorized to perform: "
            f"iam:ListAccessKeys on resource: arn:aws:iam::{ACCOUNT}:user/admin"
        )
        err = await aws_error(bob.ListUsers(ipb.ListUsersRequest()))
        assert err.code == grpc.StatusCode.PERMISSION_DENIED
        assert "iam:ListUsers on resource: *" in err.message


async def test_no_policy_means_denied(iam: Any, region: Region) -> None:
    token = await _user_with_key(iam, "nobody", None)
    async with _as(region, token) as ch:
        err = await aws_error(ipbg.IAMStub(ch).GetUser(ipb.GetUserRequest()))  # type: ignore[no-untyped-call]
    # IAM's own code (AWS IAM answers "AccessDenied", Secrets Manager "AccessDeniedException").
    assert (err.code, err.aws_code) == (grpc.StatusCode.PERMISSION_DENIED, "AccessDenied")


async def test_new_key_works_at_once_and_deactivation_takes_effect(
    iam: Any, region: Region
) -> None:
    token = await _user_with_key(iam, "bob", SELF_SERVICE)
    async with _as(region, token) as ch:
        bob = ipbg.IAMStub(ch)  # type: ignore[no-untyped-call]
        assert (await bob.GetUser(ipb.GetUserRequest())).user.user_name == "bob"
        await iam.UpdateAccessKey(
            ipb.UpdateAccessKeyRequest(
                user_name="bob", access_key_id=token.split(":")[0], status="Inactive"
            )
        )
        err = await aws_error(bob.GetUser(ipb.GetUserRequest()))
        assert err.code == grpc.StatusCode.UNAUTHENTICATED
