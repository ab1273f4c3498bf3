"""The `smgrpc iam` operations: kebab-case name, gRPC method and aws-cli parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["str", "int", "doc", "tags"]


@dataclass(frozen=True, slots=True)
class Param:
    """One aws-cli parameter (`--user-name`) and the request field it fills."""

    flag: str
    field: str
    kind: Kind = "str"
    required: bool = False
    help: str = ""


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    params: tuple[Param, ...]
    # A list operation: the response's repeated field (paged with Marker / MaxItems).
    items: str | None = None
    help: str = ""


def _user(required: bool = True) -> Param:
    own = "" if required else " (default: the caller's own user)"
    return Param("--user-name", "user_name", required=required, help=f"the IAM user{own}")


ROLE = Param("--role-name", "role_name", required=True, help="the IAM role")
POLICY_NAME = Param("--policy-name", "policy_name", required=True, help="the inline policy")
POLICY_DOC = Param(
    "--policy-document",
    "policy_document",
    "doc",
    required=True,
    help="policy JSON, inline or file://path",
)
TAGS = Param(
    "--tags", "tags", "tags", help="Key=k,Value=v ... or a JSON list [{'Key':..,'Value':..}]"
)
PATH = Param("--path", "path", help="path of the new entity, e.g. /team/ (default /)")
PATH_PREFIX = Param("--path-prefix", "path_prefix", help="only entities under this path")
KEY_ID = Param("--access-key-id", "access_key_id", required=True, help="the access key")

OPERATIONS: dict[str, Operation] = {
    "create-user": Operation("CreateUser", (_user(), PATH, TAGS), help="create an IAM user"),
    "get-user": Operation("GetUser", (_user(False),), help="show a user"),
    "list-users": Operation("ListUsers", (PATH_PREFIX,), items="users", help="list users"),
    "delete-user": Operation("DeleteUser", (_user(),), help="delete a user"),
    "tag-user": Operation("TagUser", (_user(), TAGS), help="add or overwrite a user's tags"),
    "create-role": Operation(
        "CreateRole",
        (
            ROLE,
            Param(
                "--assume-role-policy-document",
                "assume_role_policy_document",
                "doc",
                required=True,
                help="trust policy JSON, inline or file://path",
            ),
            PATH,
            Param("--description", "description"),
            Param("--max-session-duration", "max_session_duration", "int"),
            TAGS,
        ),
        help="create an IAM role",
    ),
    "get-role": Operation("GetRole", (ROLE,), help="show a role"),
    "list-roles": Operation("ListRoles", (PATH_PREFIX,), items="roles", help="list roles"),
    "delete-role": Operation("DeleteRole", (ROLE,), help="delete a role"),
    "tag-role": Operation("TagRole", (ROLE, TAGS), help="add or overwrite a role's tags"),
    "put-user-policy": Operation(
        "PutUserPolicy", (_user(), POLICY_NAME, POLICY_DOC), help="add or replace a user policy"
    ),
    "get-user-policy": Operation(
        "GetUserPolicy", (_user(), POLICY_NAME), help="show a user's inline policy"
    ),
    "list-user-policies": Operation(
        "ListUserPolicies", (_user(),), items="policy_names", help="list a user's inline policies"
    ),
    "delete-user-policy": Operation(
        "DeleteUserPolicy", (_user(), POLICY_NAME), help="delete a user's inline policy"
    ),
    "put-role-policy": Operation(
        "PutRolePolicy", (ROLE, POLICY_NAME, POLICY_DOC), help="add or replace a role policy"
    ),
    "get-role-policy": Operation(
        "GetRolePolicy", (ROLE, POLICY_NAME), help="show a role's inline policy"
    ),
    "list-role-policies": Operation(
        "ListRolePolicies", (ROLE,), items="policy_names", help="list a role's inline policies"
    ),
    "delete-role-policy": Operation(
        "DeleteRolePolicy", (ROLE, POLICY_NAME), help="delete a role's inline policy"
    ),
    "create-access-key": Operation(
        "CreateAccessKey",
        (_user(False),),
        help="create an access key (the only time its SecretAccessKey is shown)",
    ),
    "list-access-keys": Operation(
        "ListAccessKeys", (_user(False),), items="access_key_metadata", help="list access keys"
    ),
    "update-access-key": Operation(
        "UpdateAccessKey",
        (
            _user(False),
            KEY_ID,
            Param("--status", "status", required=True, help="Active or Inactive"),
        ),
        help="activate or deactivate an access key",
    ),
    "delete-access-key": Operation(
        "DeleteAccessKey", (_user(False), KEY_ID), help="delete an access key"
    ),
}
