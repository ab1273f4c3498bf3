"""iam_needs: the action, resource ARN and condition keys of every IAM call, and own_user."""

from __future__ import annotations

from typing import Any

import pytest

from smgrpc._pb.iam.v1 import iam_pb2 as ipb
from smgrpc.api import calls
from smgrpc.api.iam_authz import OPERATIONS, iam_needs
from smgrpc.api.iam_servicer import NOT_A_USER, SERVICE, own_user
from smgrpc.core.errors import IamValidationError, Unauthenticated
from smgrpc.core.iam.model import IamState, Principal, Role, User
from smgrpc.core.policy import evaluate, parse_policy
from smgrpc.core.policy.context import Caller

ACCOUNT = "123456789012"
ADMIN = f"arn:aws:iam::{ACCOUNT}:user/admin"
TEAM_BOB = f"arn:aws:iam::{ACCOUNT}:user/team/bob"
CALLER = Caller(ADMIN, ACCOUNT)
BOB = User("bob", "AIDABOB", TEAM_BOB, "/team/", 0.0, tags=(("env", "prod"),))
APP = Role("App", "AROAAPP", f"arn:aws:iam::{ACCOUNT}:role/svc/App", "/svc/", 0.0, "{}")
ADMIN_USER = User("admin", "AIDAADMIN", ADMIN, "/", 0.0)
STATE = IamState(ACCOUNT, "us-east-1", users={"admin": ADMIN_USER, "bob": BOB}, roles={"App": APP})


def req(method: str, **kw: Any) -> Any:
    return getattr(ipb, f"{method}Request")(**kw)


def test_every_rpc_of_the_service_has_a_plan() -> None:
    assert sorted(m.name for m in SERVICE.methods) == list(OPERATIONS)
    assert len(OPERATIONS) == 22
    for op in OPERATIONS:
        fields = req(op).DESCRIPTOR.fields_by_name
        kw = {f: "x" for f in ("user_name", "role_name") if f in fields}
        (needed,) = iam_needs(op, req(op, **kw), CALLER, STATE)
        assert needed.action == f"iam:{op}"


def test_stored_user_resource_has_its_path_and_tags() -> None:
    (n,) = iam_needs("GetUser", req("GetUser", user_name="BOB"), CALLER, STATE)
    assert n.resource == TEAM_BOB  # IAM names are case-insensitive; the stored ARN
    assert n.keys == {"aws:ResourceTag/env": "prod", "iam:ResourceTag/env": "prod"}
    (n,) = iam_needs(
        "PutUserPolicy", req("PutUserPolicy", user_name="bob", policy_name="p"), CALLER, STATE
    )
    assert n.resource == TEAM_BOB


def test_new_or_missing_entity_resource() -> None:
    (n,) = iam_needs("CreateUser", req("CreateUser", user_name="eve", path="/a/b/"), CALLER, STATE)
    assert (n.resource, n.keys) == (f"arn:aws:iam::{ACCOUNT}:user/a/b/eve", {})
    (n,) = iam_needs("DeleteUser", req("DeleteUser", user_name="ghost"), CALLER, STATE)
    assert n.resource == f"arn:aws:iam::{ACCOUNT}:user/ghost"
    (n,) = iam_needs("CreateRole", req("CreateRole", role_name="r", path="/x/"), CALLER, None)
    assert n.resource == f"arn:aws:iam::{ACCOUNT}:role/x/r"
    (n,) = iam_needs("GetRolePolicy", req("GetRolePolicy", role_name="app"), CALLER, STATE)
    assert n.resource == APP.arn


def test_lists_are_on_star() -> None:
    for op in ("ListUsers", "ListRoles"):
        assert [(n.action, n.resource) for n in iam_needs(op, req(op), CALLER, STATE)] == [
            (f"iam:{op}", "*")
        ]


def test_request_tags_on_create_and_tag() -> None:
    tags = [ipb.Tag(key="team", value="a"), ipb.Tag(key="cost", value="7")]
    for op, name in (("CreateUser", "user_name"), ("TagRole", "role_name")):
        (n,) = iam_needs(op, req(op, tags=tags, **{name: "new"}), CALLER, STATE)
        assert n.keys == {
            "aws:RequestTag/team": "a",
            "aws:RequestTag/cost": "7",
            "aws:TagKeys": ("team", "cost"),
        }
    (n,) = iam_needs("CreateUser", req("CreateUser", user_name="n"), CALLER, STATE)
    assert "aws:TagKeys" not in n.keys


def test_own_user_defaults_to_the_caller() -> None:
    for op in ("GetUser", "CreateAccessKey", "ListAccessKeys", "UpdateAccessKey"):
        (n,) = iam_needs(op, req(op), Caller(TEAM_BOB, ACCOUNT), STATE)
        assert n.resource == TEAM_BOB and n.keys["aws:ResourceTag/env"] == "prod"
    role_caller = Caller(APP.arn, ACCOUNT)
    (n,) = iam_needs("DeleteAccessKey", req("DeleteAccessKey"), role_caller, STATE)
    assert (n.resource, n.keys) == (APP.arn, {})
    (n,) = iam_needs("GetUser", req("GetUser", user_name="admin"), Caller(TEAM_BOB, ACCOUNT))
    assert n.resource == ADMIN


def test_unknown_operation() -> None:
    with pytest.raises(ValueError, match="unknown IAM operation"):
        iam_needs("AttachUserPolicy", ipb.GetUserRequest(), CALLER, STATE)


def test_evaluation_by_path() -> None:
    policy = parse_policy(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:Get*",'
        f'"Resource":"arn:aws:iam::{ACCOUNT}:user/team/*"}}]}}',
        kind="identity",
    )

    def plan(op: str, request: Any, caller: Caller) -> Any:
        return iam_needs(op, request, caller, STATE), None

    needed, _ = plan("GetUser", req("GetUser", user_name="bob"), CALLER)
    assert evaluate(needed[0].request(CALLER), (policy,), None).allowed
    needed, _ = plan("GetUser", req("GetUser", user_name="admin"), CALLER)
    assert not evaluate(needed[0].request(CALLER), (policy,), None).allowed
    needed, _ = plan("DeleteUser", req("DeleteUser", user_name="bob"), CALLER)
    assert not evaluate(needed[0].request(CALLER), (policy,), None).allowed


def test_tag_condition_evaluates() -> None:
    policy = parse_policy(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:CreateUser",'
        '"Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/team":"a"}}}]}',
        kind="identity",
    )
    good = req("CreateUser", user_name="n", tags=[ipb.Tag(key="team", value="a")])
    bad = req("CreateUser", user_name="n", tags=[ipb.Tag(key="team", value="b")])
    for request, allowed in ((good, True), (bad, False), (req("CreateUser", user_name="n"), False)):
        (n,) = iam_needs("CreateUser", request, CALLER, STATE)
        assert evaluate(n.request(CALLER), (policy,), None).allowed is allowed


def _as(principal: Principal) -> calls.Authorized:
    return calls.Authorized(principal, Caller(principal.arn, ACCOUNT))


def test_own_user() -> None:
    assert own_user("given") == "given"
    with pytest.raises(Unauthenticated):  # no guard ran: fail closed
        own_user(None)
    token = calls.CURRENT.set(_as(Principal(TEAM_BOB, ACCOUNT, "user", "bob")))
    try:
        assert own_user(None) == "bob"
        assert own_user("") == ""  # present but empty: the use case's ValidationError
    finally:
        calls.CURRENT.reset(token)
    token = calls.CURRENT.set(_as(Principal(APP.arn, ACCOUNT, "role", "App")))
    try:
        with pytest.raises(IamValidationError) as got:
            own_user(None)
        assert got.value.message == NOT_A_USER
        assert got.value.aws_code == "ValidationError"
    finally:
        calls.CURRENT.reset(token)
