"""The authorization requests one IAM call needs: action iam:<Op> on the target user or role.

The guard calls `iam_needs(method, request, caller, state)` before the IAM servicer runs and
evaluates every `Needed` it returns (as `policy.context.needs` does for Secrets Manager);
`IamGuard` is the IAM service's guard for `handlers.wrap` (the shared `Guard` authenticates; the
caller's identity policies alone decide: IAM entities have no resource policy).
Rules (AWS Service Authorization Reference, IAM):
- the resource is the ARN of the user or role the request names,
  `arn:aws:iam::<account>:user<path><name>` / `...:role<path><name>`: the stored one (with its
  path) when it exists in `state`, else built with the request's Path (Create*) or `/`;
- GetUser, CreateAccessKey, ListAccessKeys, UpdateAccessKey and DeleteAccessKey without UserName
  act on the caller's own user: the resource is the caller's ARN (a role caller then gets the
  servicer's ValidationError, once allowed);
- ListUsers and ListRoles: `*`;
- aws:RequestTag/<k> and aws:TagKeys when a TagUser, TagRole, CreateUser or CreateRole request
  carries tags; aws:ResourceTag/<k> and iam:ResourceTag/<k> from an existing target's tags.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from smgrpc.api.calls import Authorized
from smgrpc.api.guard import Guard, check
from smgrpc.api.handlers import Metadata
from smgrpc.core.errors import IamAccessDenied, InvalidClientTokenId, Unauthenticated
from smgrpc.core.iam.directory import directory
from smgrpc.core.iam.entities import entity_arn
from smgrpc.core.iam.model import IamState, Principal, Role, User
from smgrpc.core.policy.context import Caller, Keys, Needed

IAM = "iam:"
_USER_OPS = frozenset(
    {
        "CreateUser",
        "GetUser",
        "DeleteUser",
        "TagUser",
        "PutUserPolicy",
        "GetUserPolicy",
        "ListUserPolicies",
        "DeleteUserPolicy",
        "CreateAccessKey",
        "ListAccessKeys",
        "UpdateAccessKey",
        "DeleteAccessKey",
    }
)
_ROLE_OPS = frozenset(
    {
        "CreateRole",
        "GetRole",
        "DeleteRole",
        "TagRole",
        "PutRolePolicy",
        "GetRolePolicy",
        "ListRolePolicies",
        "DeleteRolePolicy",
    }
)
_STAR = frozenset({"ListUsers", "ListRoles"})
# Operations whose UserName may be omitted: the caller's own user.
_OWN_USER = frozenset(
    {"GetUser", "CreateAccessKey", "ListAccessKeys", "UpdateAccessKey", "DeleteAccessKey"}
)
_TAGGING = frozenset({"CreateUser", "CreateRole", "TagUser", "TagRole"})
OPERATIONS = tuple(sorted(_USER_OPS | _ROLE_OPS | _STAR))


def _request_tag_keys(request: Any) -> Keys:
    tags = [(t.key, t.value) for t in request.tags]
    if not tags:
        return {}
    keys: Keys = {f"aws:RequestTag/{k}": v for k, v in tags}
    keys["aws:TagKeys"] = tuple(k for k, _ in tags)
    return keys


def _resource_tag_keys(entity: User | Role | None) -> Keys:
    keys: Keys = {}
    for k, v in entity.tags if entity is not None else ():
        keys[f"aws:ResourceTag/{k}"] = v
        keys[f"iam:ResourceTag/{k}"] = v
    return keys


def _target(
    method: str, request: Any, caller: Caller, state: IamState | None
) -> tuple[str, User | Role | None]:
    """The resource ARN the call acts on and the stored entity, if there is one."""
    found = directory(state) if state is not None else None
    entity: User | Role | None
    if method in _OWN_USER and not request.HasField("user_name"):
        name = caller.principal_arn.rpartition("/")[2]
        entity = found.user(name) if found is not None else None
        if entity is None or entity.arn != caller.principal_arn:
            return caller.principal_arn, None
        return entity.arn, entity
    creating = method in ("CreateUser", "CreateRole") and request.HasField("path")
    path = request.path if creating else "/"
    if method in _USER_OPS:
        kind, name = "user", request.user_name
        entity = found.user(name) if found is not None else None
    else:
        kind, name = "role", request.role_name
        entity = found.role(name) if found is not None else None
    if entity is not None:
        return entity.arn, entity
    if state is not None:
        return entity_arn(state, kind, path, name), None
    return f"arn:aws:iam::{caller.principal_account}:{kind}{path}{name}", None


def iam_needs(
    method: str, request: Any, caller: Caller, state: IamState | None = None
) -> list[Needed]:
    """The authorization requests of one IAM call (ValueError: unknown operation).

    `method` is the gRPC method name (= the AWS operation), `request` its decoded proto
    message, `state` the IAM snapshot the call will run against (for stored paths and tags).
    """
    if method in _STAR:
        return [Needed(IAM + method, "*", {})]
    if method not in _USER_OPS and method not in _ROLE_OPS:
        raise ValueError(f"unknown IAM operation {method!r}")
    resource, entity = _target(method, request, caller, state)
    keys = _resource_tag_keys(entity)
    if method in _TAGGING:
        keys.update(_request_tag_keys(request))
    return [Needed(IAM + method, resource, keys)]


class IamGuard:
    """Authentication (the shared Guard) + authorization of one IAM call (handlers.CallGuard).

    `state` gives the IAM snapshot the call runs against (IamUseCases.state at call time).
    """

    def __init__(self, guard: Guard, state: Callable[[], IamState]) -> None:
        self.guard = guard
        self._state = state

    def fast(self, md: Metadata, peer: str, method: str, request: Any) -> Authorized | None:
        """IAM calls are rare: always authenticated and authorized afresh."""
        return None

    def authenticate(self, context: Any, md: Metadata) -> Principal:
        """As every service, with IAM's code for a bad credential (InvalidClientTokenId)."""
        try:
            return self.guard.authenticate(context, md)
        except Unauthenticated as exc:
            raise InvalidClientTokenId(exc.message) from None

    def authorize(
        self,
        principal: Principal,
        method: str,
        request: Any,
        context: Any,
        peer: str,
        md: Metadata = (),
        inline: bool = False,
    ) -> Authorized:
        """iam:<Op> on the target allowed by the caller's policies, else AccessDenied."""
        caller = self.guard.caller(principal, context, peer)
        denial = check(principal, caller, iam_needs(method, request, caller, self._state()), None)
        if denial is not None:
            raise IamAccessDenied(denial.message, resource=denial.request.resource)
        return Authorized(principal, caller)
