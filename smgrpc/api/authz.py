"""Secrets Manager requests as the authorizer sees them: proto request → `policy.context.Call`.

The guard (api/guard.py) asks `SecretsAuthz.needs(method, request)` for the authorization
requests of one call. Built here from the protobuf message, once per call:
- params: the AWS members a condition key reads, present only when the request sets them
  (proto3 `optional`/message presence; a repeated member when non-empty); SecretString and
  SecretBinary become a bare marker (`True`): values never reach the authorizer;
- the secret: the SecretId resolved through the store's in-memory index (no I/O);
- the resource ARN when nothing resolved: the ARN a missing SecretId names, or for CreateSecret
  an ARN the new secret could get (`<name>-` + 6 characters; AWS evaluates a not-yet-suffixed
  ARN too, so `secret:<name>-*` / `secret:<name>-??????` policies match);
- the KMS key: the request's KmsKeyId, else the secret's; the AWS managed aws/secretsmanager
  key needs no KMS permission (`customer_key=False`); a key that does not resolve adds nothing
  (the use case then answers the AWS error for it);
- RotateSecret whose effective function (the request's RotationLambdaARN, else the secret's
  stored one) is the in-process built-in rotator: it writes with the server's own authority,
  so the caller must also be allowed the writes it does, secretsmanager:PutSecretValue and
  secretsmanager:UpdateSecretVersionStage (VersionStage AWSCURRENT) on the secret, as an
  external function's own credential must be.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from smgrpc.api.guard import Plan, check
from smgrpc.core import arn as arns
from smgrpc.core.errors import ServiceError
from smgrpc.core.iam.model import Principal
from smgrpc.core.model import DEFAULT_KMS_ALIAS, KmsKeyRecord, Secret
from smgrpc.core.policy.context import OPERATIONS, Call, Caller, Needed, batch_item, needs
from smgrpc.core.rotation import BUILTIN_PASSWORD, effective_function, function_name

# Request members a condition key or a needs() rule reads (AWS member names = json_name).
_WANTED = frozenset(
    {
        "SecretId",
        "Name",
        "Description",
        "KmsKeyId",
        "Tags",
        "AddReplicaRegions",
        "ForceOverwriteReplicaSecret",
        "RecoveryWindowInDays",
        "ForceDeleteWithoutRecovery",
        "VersionId",
        "VersionStage",
        "BlockPublicPolicy",
        "RotationLambdaARN",
        "RotationRules",
        "RotateImmediately",
        "TagKeys",
        "SecretString",
        "SecretBinary",
        "Filters",
    }
)
_MARKERS = frozenset({"SecretString", "SecretBinary", "Filters", "RotationRules"})
_CURRENT = {"VersionStage": "AWSCURRENT"}  # the stage the built-in rotator moves
_PLACEHOLDER_SUFFIX = "??????"  # never a real suffix (those are letters and digits)
# Tag lockout: the secret-level permissions a tag change must not take from its caller.
_LOCKOUT_OPS = tuple(
    op
    for op in OPERATIONS
    if op
    not in {
        "BatchGetSecretValue",
        "CreateSecret",
        "GetRandomPassword",
        "ListSecrets",
        "ValidateResourcePolicy",
    }
)


@lru_cache(maxsize=64)
def _fields(descriptor: Any) -> tuple[tuple[str, str, str], ...]:
    """(proto field name, AWS member, how to read it) for the wanted members of a message."""
    out = []
    for f in descriptor.fields:
        if f.json_name not in _WANTED:
            continue
        if f.is_repeated:
            how = "repeated"
        elif f.has_presence:
            how = "optional"
        else:
            how = "plain"
        out.append((f.name, f.json_name, how))
    return tuple(out)


def _member(name: str, value: Any) -> object:
    if name in _MARKERS:
        return True
    if name == "Tags":
        return [{"Key": t.key, "Value": t.value} for t in value]
    if name == "AddReplicaRegions":
        return [{"Region": r.region} for r in value]
    if name == "TagKeys":
        return list(value)
    return value


def params_of(request: Any) -> dict[str, object]:
    """The AWS members of `request` that authorization reads (present ones only)."""
    out: dict[str, object] = {}
    for field, member, how in _fields(request.DESCRIPTOR):
        if how == "optional":
            if not request.HasField(field):
                continue
        value = getattr(request, field)
        if how != "optional" and not value:
            continue
        out[member] = _member(member, value)
    return out


class SecretsAuthz:
    """Builds the `Call` and its `needs` for one SecretsManager request (no I/O)."""

    def __init__(
        self,
        find: Callable[[str], Secret | None],
        resolve_key: Callable[[str | None], KmsKeyRecord],
        region: str,
        account: str,
    ) -> None:
        self.find = find
        self.resolve_key = resolve_key
        self.region = region
        self.account = account

    def kms(self, ref: str | None) -> tuple[str | None, bool]:
        """(key ARN, is a customer key) of a KmsKeyId reference; (None, False) if unknown."""
        try:
            rec = self.resolve_key(ref)
        except ServiceError:
            return None, False
        return rec.arn, rec.alias != DEFAULT_KMS_ALIAS

    def _missing_arn(self, operation: str, params: Mapping[str, object]) -> str | None:
        if operation == "CreateSecret":
            name = str(params.get("Name", ""))
            return arns.secret_arn(self.region, self.account, name, _PLACEHOLDER_SUFFIX)
        if operation == "ValidateResourcePolicy" and not params.get("SecretId"):
            return None  # needs() makes it "*"
        # An empty SecretId (the use case answers the validation error) names no secret.
        sid = str(params.get("SecretId") or "")
        if arns.is_arn(sid):
            # No other account's secret is ever stored here: such an ARN is evaluated as
            # this account's (so a same-account caller gets ResourceNotFound, not a
            # cross-account denial for a secret that does not exist).
            parts = sid.split(":", 6)
            if len(parts) == 7 and parts[4] == self.account:
                return sid
            sid = parts[-1] if len(parts) == 7 else sid
        return arns.region_arn_prefix(self.region, self.account) + sid

    def call(self, operation: str, request: Any) -> Call:
        """The Call of one request (operation = the RPC method name = the AWS operation)."""
        params = params_of(request)
        secret_id = params.get("SecretId")
        secret = self.find(str(secret_id)) if secret_id and operation != "CreateSecret" else None
        key_ref = params.get("KmsKeyId")
        if key_ref is None and secret is not None:
            key_ref = secret.kms_key_id
        key_arn, customer = self.kms(str(key_ref) if key_ref else None)
        resource = None if secret is not None else self._missing_arn(operation, params)
        return Call(operation, params, secret, key_arn, customer, resource)

    def builtin_rotation(
        self, operation: str, params: Mapping[str, object], secret: Secret | None
    ) -> bool:
        """Whether the call is a RotateSecret whose effective function (core.rotation's
        effective_function, as the use case picks it) is the built-in rotator."""
        if operation != "RotateSecret" or secret is None:
            return False
        requested = params.get("RotationLambdaARN")
        arn = effective_function(str(requested) if requested else None, secret)
        return arn is not None and function_name(arn, self.region, self.account) == BUILTIN_PASSWORD

    def _needs(self, call: Call) -> list[Needed]:
        out = needs(call)
        if self.builtin_rotation(call.operation, call.params, call.secret):
            sid = {"SecretId": call.params.get("SecretId")}
            for op, extra in (("PutSecretValue", {}), ("UpdateSecretVersionStage", _CURRENT)):
                write = Call(op, {**sid, **extra}, call.secret, None, False, call.resource_arn)
                out += needs(write)
        return out

    def needs(self, operation: str, request: Any) -> list[Needed]:
        return self._needs(self.call(operation, request))

    def item(self, operation: str, secret: Secret | str) -> Call:
        """The Call a listed secret needs (ListSecrets: DescribeSecret; BatchGet: a Get); a
        str is an id that resolved to nothing (evaluated on the ARN it names)."""
        if isinstance(secret, str):
            params = {"SecretId": secret}
            return Call(operation, params, None, None, False, self._missing_arn(operation, params))
        if operation == "GetSecretValue":
            return batch_item(secret, *self.kms(secret.kms_key_id))
        return Call(operation, {"SecretId": secret.arn}, secret)

    def cache_key(self, operation: str, request: Any) -> tuple[tuple[object, ...], object] | None:
        """(key, pinned secret) of a request whose decision may be cached: every parameter a
        scalar (no tags, regions or filters: those calls are rare, and TagResource runs the
        lockout check); None otherwise. The secret is pinned by identity (see ServiceGuard)."""
        if operation == "WatchSecrets":
            return None  # one decision per stream (api/streams.py), nothing to cache
        if operation == "GetSecretValue":  # the hot path, without the generic walk
            params: tuple[object, ...] = (
                request.version_id if request.HasField("version_id") else None,
                request.version_stage if request.HasField("version_stage") else None,
            )
            secret_id = request.secret_id
        else:
            got = params_of(request)
            # A KmsKeyId names a key that may not exist yet (its KMS permission would then be
            # skipped, and a cached allow would skip it again once the key exists): not cached.
            if "KmsKeyId" in got or any(isinstance(v, list) for v in got.values()):
                return None
            params = tuple(sorted(got.items()))
            secret_id = got.get("SecretId")
        secret = self.find(str(secret_id)) if secret_id and operation != "CreateSecret" else None
        if secret is not None and secret.kms_key_id and self.kms(secret.kms_key_id)[0] is None:
            return None  # its key does not resolve (yet): decide afresh every time
        if operation == "RotateSecret":  # the built-in needs more (explicit, not via pinning)
            params = (*params, ("builtin", self.builtin_rotation(operation, got, secret)))
        return (operation, secret_id, *params), secret

    def plan(self, operation: str, request: Any) -> Plan:
        """The guard's planner: the call's requests and its secret's resource policy.

        WatchSecrets needs nothing up front: api/watch.py checks DescribeSecret per SecretIds
        entry and per event (Authorized.denied)."""
        if operation == "WatchSecrets":
            return [], None
        call = self.call(operation, request)
        return self._needs(call), call.secret.policy if call.secret is not None else None

    def lockout(
        self, operation: str, request: Any, principal: Principal, caller: Caller
    ) -> str | None:
        """Tag lockout protection: the AccessDenied message if the tags the call leaves would
        take from the caller a permission it has on the secret now (None: no loss)."""
        if operation not in ("TagResource", "UntagResource"):
            return None
        secret = self.find(request.secret_id) if request.secret_id else None
        if secret is None:
            return None
        tags = dict(secret.tags or ())
        if operation == "TagResource":
            tags.update((t.key, t.value) for t in request.tags)
        else:
            for k in request.tag_keys:
                tags.pop(k, None)
        after = secret.evolve(tags=tuple(tags.items()) or None)
        for op in _LOCKOUT_OPS:
            params = {"SecretId": secret.arn}
            before_call = Call(op, params, secret, customer_key=False)
            if check(principal, caller, needs(before_call), secret.policy) is not None:
                continue  # not a permission the caller has now
            after_call = Call(op, params, after, customer_key=False)
            if check(principal, caller, needs(after_call), secret.policy) is not None:
                return (
                    f"User: {principal.arn} is not authorized to perform: "
                    f"secretsmanager:{operation} on resource: {secret.arn} because the new tags "
                    f"would remove its permission to perform secretsmanager:{op} on the secret "
                    "(tag lockout protection)"
                )
        return None
