"""IAM servicer: decode → one use case → encode. No domain logic here.

GetUser, CreateAccessKey, ListAccessKeys, UpdateAccessKey and DeleteAccessKey without UserName
act on the caller's own user (the principal the guard authenticated, `calls.current()`).
"""

from __future__ import annotations

from typing import Any

from smgrpc._pb.iam.v1 import iam_pb2 as pb
from smgrpc.api import calls
from smgrpc.api import iam_codec as codec
from smgrpc.api.iam_codec import opt
from smgrpc.core.errors import IamValidationError
from smgrpc.core.iam.usecases import IamUseCases

Ctx = Any
SERVICE = pb.DESCRIPTOR.services_by_name["IAM"]
NOT_A_USER = "Must specify userName when calling with non-User credentials"


def iam_service(servicer: IamServicer) -> tuple[Any, Any, Any]:
    """The IAM service entry for build_server (callers need not know _pb)."""
    return (SERVICE, pb, servicer)


def own_user(user_name: str | None) -> str:
    """The request's UserName, else the calling user's own name (a role must name one)."""
    if user_name is not None:
        return user_name
    principal = calls.current().principal
    if principal.kind != "user":
        raise IamValidationError(NOT_A_USER)
    return principal.name


class IamServicer:
    """One async method per AWS IAM operation."""

    def __init__(self, iam: IamUseCases) -> None:
        self.iam = iam

    # ---- users ----

    async def CreateUser(self, r: pb.CreateUserRequest, ctx: Ctx) -> pb.CreateUserResponse:
        user = await self.iam.create_user(r.user_name, opt(r, "path"), codec.tags_in(r.tags))
        return pb.CreateUserResponse(user=codec.user_out(user))

    async def GetUser(self, r: pb.GetUserRequest, ctx: Ctx) -> pb.GetUserResponse:
        user = await self.iam.get_user(own_user(opt(r, "user_name")))
        return pb.GetUserResponse(user=codec.user_out(user))

    async def ListUsers(self, r: pb.ListUsersRequest, ctx: Ctx) -> pb.ListUsersResponse:
        users, marker = await self.iam.list_users(
            opt(r, "path_prefix"), opt(r, "marker"), opt(r, "max_items")
        )
        out = pb.ListUsersResponse(users=[codec.user_out(u, tags=False) for u in users])
        return codec.page(out, marker)  # type: ignore[no-any-return]

    async def DeleteUser(self, r: pb.DeleteUserRequest, ctx: Ctx) -> pb.DeleteUserResponse:
        await self.iam.delete_user(r.user_name)
        return pb.DeleteUserResponse()

    async def TagUser(self, r: pb.TagUserRequest, ctx: Ctx) -> pb.TagUserResponse:
        await self.iam.tag_user(r.user_name, codec.tags_in(r.tags))
        return pb.TagUserResponse()

    # ---- roles ----

    async def CreateRole(self, r: pb.CreateRoleRequest, ctx: Ctx) -> pb.CreateRoleResponse:
        role = await self.iam.create_role(
            r.role_name,
            r.assume_role_policy_document,
            opt(r, "path"),
            opt(r, "description"),
            opt(r, "max_session_duration"),
            codec.tags_in(r.tags),
        )
        return pb.CreateRoleResponse(role=codec.role_out(role))

    async def GetRole(self, r: pb.GetRoleRequest, ctx: Ctx) -> pb.GetRoleResponse:
        return pb.GetRoleResponse(role=codec.role_out(await self.iam.get_role(r.role_name)))

    async def ListRoles(self, r: pb.ListRolesRequest, ctx: Ctx) -> pb.ListRolesResponse:
        roles, marker = await self.iam.list_roles(
            opt(r, "path_prefix"), opt(r, "marker"), opt(r, "max_items")
        )
        out = pb.ListRolesResponse(roles=[codec.role_out(x, tags=False) for x in roles])
        return codec.page(out, marker)  # type: ignore[no-any-return]

    async def DeleteRole(self, r: pb.DeleteRoleRequest, ctx: Ctx) -> pb.DeleteRoleResponse:
        await self.iam.delete_role(r.role_name)
        return pb.DeleteRoleResponse()

    async def TagRole(self, r: pb.TagRoleRequest, ctx: Ctx) -> pb.TagRoleResponse:
        await self.iam.tag_role(r.role_name, codec.tags_in(r.tags))
        return pb.TagRoleResponse()

    # ---- inline policies ----

    async def PutUserPolicy(self, r: pb.PutUserPolicyRequest, ctx: Ctx) -> pb.PutUserPolicyResponse:
        await self.iam.put_user_policy(r.user_name, r.policy_name, r.policy_document)
        return pb.PutUserPolicyResponse()

    async def GetUserPolicy(self, r: pb.GetUserPolicyRequest, ctx: Ctx) -> pb.GetUserPolicyResponse:
        doc = await self.iam.get_user_policy(r.user_name, r.policy_name)
        return pb.GetUserPolicyResponse(
            user_name=r.user_name, policy_name=r.policy_name, policy_document=doc
        )

    async def ListUserPolicies(
        self, r: pb.ListUserPoliciesRequest, ctx: Ctx
    ) -> pb.ListUserPoliciesResponse:
        names, marker = await self.iam.list_user_policies(
            r.user_name, opt(r, "marker"), opt(r, "max_items")
        )
        return codec.page(pb.ListUserPoliciesResponse(policy_names=names), marker)  # type: ignore[no-any-return]

    async def DeleteUserPolicy(
        self, r: pb.DeleteUserPolicyRequest, ctx: Ctx
    ) -> pb.DeleteUserPolicyResponse:
        await self.iam.delete_user_policy(r.user_name, r.policy_name)
        return pb.DeleteUserPolicyResponse()

    async def PutRolePolicy(self, r: pb.PutRolePolicyRequest, ctx: Ctx) -> pb.PutRolePolicyResponse:
        await self.iam.put_role_policy(r.role_name, r.policy_name, r.policy_document)
        return pb.PutRolePolicyResponse()

    async def GetRolePolicy(self, r: pb.GetRolePolicyRequest, ctx: Ctx) -> pb.GetRolePolicyResponse:
        doc = await self.iam.get_role_policy(r.role_name, r.policy_name)
        return pb.GetRolePolicyResponse(
            role_name=r.role_name, policy_name=r.policy_name, policy_document=doc
        )

    async def ListRolePolicies(
        self, r: pb.ListRolePoliciesRequest, ctx: Ctx
    ) -> pb.ListRolePoliciesResponse:
        names, marker = await self.iam.list_role_policies(
            r.role_name, opt(r, "marker"), opt(r, "max_items")
        )
        return codec.page(pb.ListRolePoliciesResponse(policy_names=names), marker)  # type: ignore[no-any-return]

    async def DeleteRolePolicy(
        self, r: pb.DeleteRolePolicyRequest, ctx: Ctx
    ) -> pb.DeleteRolePolicyResponse:
        await self.iam.delete_role_policy(r.role_name, r.policy_name)
        return pb.DeleteRolePolicyResponse()

    # ---- access keys ----

    async def CreateAccessKey(
        self, r: pb.CreateAccessKeyRequest, ctx: Ctx
    ) -> pb.CreateAccessKeyResponse:
        key, issued = await self.iam.create_access_key(own_user(opt(r, "user_name")))
        return pb.CreateAccessKeyResponse(access_key=codec.access_key_out(key, issued))

    async def ListAccessKeys(
        self, r: pb.ListAccessKeysRequest, ctx: Ctx
    ) -> pb.ListAccessKeysResponse:
        keys, marker = await self.iam.list_access_keys(
            own_user(opt(r, "user_name")), opt(r, "marker"), opt(r, "max_items")
        )
        out = pb.ListAccessKeysResponse(
            access_key_metadata=[codec.key_metadata_out(k) for k in keys]
        )
        return codec.page(out, marker)  # type: ignore[no-any-return]

    async def UpdateAccessKey(
        self, r: pb.UpdateAccessKeyRequest, ctx: Ctx
    ) -> pb.UpdateAccessKeyResponse:
        await self.iam.update_access_key(own_user(opt(r, "user_name")), r.access_key_id, r.status)
        return pb.UpdateAccessKeyResponse()

    async def DeleteAccessKey(
        self, r: pb.DeleteAccessKeyRequest, ctx: Ctx
    ) -> pb.DeleteAccessKeyResponse:
        await self.iam.delete_access_key(own_user(opt(r, "user_name")), r.access_key_id)
        return pb.DeleteAccessKeyResponse()
