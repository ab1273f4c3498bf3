"""The authorization requests one Secrets Manager call needs, built from plain domain data.

A `Call` names the operation, its request parameters (AWS member names and JSON-shaped values:
`{"SecretId": ..., "Tags": [{"Key": ..., "Value": ...}], "ForceDeleteWithoutRecovery": True}`),
the secret the SecretId resolved to and the KMS key the call encrypts or decrypts with. `needs`
turns it into an ordered list of `Needed` (action, resource ARN, condition keys spelled as AWS
spells them, values as strings or tuples of strings); `requests` adds the caller's global keys
and gives evaluator `Request`s. Every one of them must be allowed.

Sources: the Service Authorization Reference for Secrets Manager (which keys each action has),
the Secrets Manager permissions reference and its KMS page, and §C.4 of replication-security.md.
Rules kept here:
- the resource is the secret's ARN; `*` for ListSecrets, GetRandomPassword and the list-level
  BatchGetSecretValue action (each secret it returns is then a GetSecretValue: `batch_item`),
  and for ValidateResourcePolicy without SecretId;
- request-parameter keys are present only when the request names the parameter (AWS: a
  condition on an omitted parameter does not match unless `...IfExists`); booleans are
  "true"/"false", numbers decimal strings;
- resource keys (secretsmanager:ResourceTag/<k>, aws:ResourceTag/<k>,
  secretsmanager:SecretPrimaryRegion, secretsmanager:resource/AllowRotationLambdaArn) come from
  the resolved secret on every secret-level action;
- a customer KMS key adds kms:Decrypt (GetSecretValue) or kms:GenerateDataKey (a write carrying
  SecretString/SecretBinary) on the key ARN, with kms:ViaService and the SecretARN encryption
  context, after the secretsmanager request; BatchGetSecretValue with Filters also needs
  secretsmanager:ListSecrets, ValidateResourcePolicy also secretsmanager:PutResourcePolicy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from smgrpc.core.model import Secret
from smgrpc.core.policy.evaluate import Request

KeyValue = str | tuple[str, ...]
Keys = dict[str, KeyValue]
SM = "secretsmanager:"

# Operation -> the request-parameter condition keys its action has (resource keys: all).
_PARAM_KEYS: dict[str, tuple[str, ...]] = {
    "BatchGetSecretValue": (),
    "CancelRotateSecret": (),
    "CreateSecret": (
        "Name",
        "Description",
        "KmsKeyId",
        "RequestTags",
        "AddReplicaRegions",
        "ForceOverwriteReplicaSecret",
    ),
    "DeleteResourcePolicy": (),
    "DeleteSecret": ("RecoveryWindowInDays", "ForceDeleteWithoutRecovery"),
    "DescribeSecret": (),
    "GetRandomPassword": (),
    "GetResourcePolicy": (),
    "GetSecretValue": ("VersionId", "VersionStage"),
    "ListSecretVersionIds": (),
    "ListSecrets": (),
    "PutResourcePolicy": ("BlockPublicPolicy",),
    "PutSecretValue": (),
    "RemoveRegionsFromReplication": (),
    "ReplicateSecretToRegions": ("AddReplicaRegions", "ForceOverwriteReplicaSecret"),
    "RestoreSecret": (),
    "RotateSecret": ("RotationLambdaARN", "ModifyRotationRules", "RotateImmediately"),
    "StopReplicationToReplica": (),
    "TagResource": ("RequestTags",),
    "UntagResource": ("TagKeys",),
    "UpdateSecret": ("Description", "KmsKeyId"),
    "UpdateSecretVersionStage": ("VersionStage",),
    "ValidateResourcePolicy": (),
}
OPERATIONS = tuple(sorted(_PARAM_KEYS))
_STAR_ONLY = frozenset({"ListSecrets", "GetRandomPassword", "BatchGetSecretValue"})
_VALUE_WRITES = frozenset({"CreateSecret", "PutSecretValue", "UpdateSecret"})
_SCALARS = (  # request members whose value is the key's value as is
    "Name",
    "Description",
    "VersionId",
    "VersionStage",
    "RotationLambdaARN",
    "ForceOverwriteReplicaSecret",
    "ForceDeleteWithoutRecovery",
    "BlockPublicPolicy",
    "RotateImmediately",
    "RecoveryWindowInDays",
)


@dataclass(frozen=True, slots=True)
class Call:
    """One Secrets Manager call as the authorizer sees it (no protobuf, no values kept).

    `kms_key_arn` is the resolved ARN of the key the call encrypts or decrypts with (the request's
    KmsKeyId, else the secret's key); `customer_key` is False for the AWS managed
    aws/secretsmanager key, which needs no KMS permission. `resource_arn` is the resource when
    no secret resolved: the ARN CreateSecret will give, or the ARN a missing SecretId names.
    """

    operation: str
    params: Mapping[str, object] = field(default_factory=dict)
    secret: Secret | None = None
    kms_key_arn: str | None = None
    customer_key: bool = True
    resource_arn: str | None = None


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks, plus the global keys aws:SourceIp, aws:SecureTransport and aws:CurrentTime."""

    principal_arn: str
    principal_account: str
    principal_tags: Mapping[str, str] = field(default_factory=dict)
    source_ip: str | None = None
    secure_transport: bool = False
    current_time: datetime | None = None

    def global_keys(self) -> Keys:
        keys: Keys = {"aws:SecureTransport": _text(self.secure_transport)}
        if self.source_ip:
            keys["aws:SourceIp"] = self.source_ip
        if self.current_time is not None:
            now = self.current_time.astimezone(UTC).replace(microsecond=0)
            keys["aws:CurrentTime"] = now.isoformat().replace("+00:00", "Z")
            keys["aws:EpochTime"] = str(int(now.timestamp()))
        return keys


@dataclass(frozen=True, slots=True)
class Needed:
    """One authorization request: action, resource ARN and condition keys as AWS spells them."""

    action: str
    resource: str
    keys: Mapping[str, KeyValue]

    def request(self, caller: Caller) -> Request:
        return Request.build(
            principal_arn=caller.principal_arn,
            principal_account=caller.principal_account,
            action=self.action,
            resource=self.resource,
            principal_tags=caller.principal_tags,
            keys={**caller.global_keys(), **self.keys},
        )


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _tags(raw: object) -> list[tuple[str, str]]:
    """Tags from a request's `Tags` member ([{"Key": k, "Value": v}] or pairs)."""
    out: list[tuple[str, str]] = []
    for tag in raw if isinstance(raw, Sequence) and not isinstance(raw, str) else ():
        if isinstance(tag, Mapping):
            out.append((str(tag.get("Key", "")), str(tag.get("Value", ""))))
        else:
            key, value = tag
            out.append((str(key), str(value)))
    return out


def _strings(raw: object) -> tuple[str, ...]:
    if isinstance(raw, str):
        return (raw,)
    return tuple(str(v) for v in raw) if isinstance(raw, Sequence) else ()


def _param_keys(call: Call) -> Keys:
    p, wanted = call.params, _PARAM_KEYS[call.operation]
    keys: Keys = {}
    for name in _SCALARS:
        if name in wanted and p.get(name) is not None:
            keys[SM + name] = _text(p[name])
    if "KmsKeyId" in wanted and p.get("KmsKeyId"):
        keys[SM + "KmsKeyId"] = str(p["KmsKeyId"])
        if call.kms_key_arn:
            keys[SM + "KmsKeyArn"] = call.kms_key_arn
    if "AddReplicaRegions" in wanted and p.get("AddReplicaRegions"):
        raw = p["AddReplicaRegions"]
        regions = raw if isinstance(raw, Sequence) and not isinstance(raw, str) else ()
        keys[SM + "AddReplicaRegions"] = tuple(
            str(r.get("Region", "")) if isinstance(r, Mapping) else str(r) for r in regions
        )
    if "ModifyRotationRules" in wanted:
        keys[SM + "ModifyRotationRules"] = _text(p.get("RotationRules") is not None)
    if "RequestTags" in wanted and "Tags" in p:
        tags = _tags(p["Tags"])
        keys.update({f"aws:RequestTag/{k}": v for k, v in tags})
        keys["aws:TagKeys"] = tuple(k for k, _ in tags)
    if "TagKeys" in wanted and "TagKeys" in p:
        keys["aws:TagKeys"] = _strings(p["TagKeys"])
    return keys


def _resource_keys(secret: Secret) -> Keys:
    keys: Keys = {}
    for k, v in secret.tags or ():
        keys[f"{SM}ResourceTag/{k}"] = v
        keys[f"aws:ResourceTag/{k}"] = v
    parts = secret.arn.split(":")
    primary = secret.primary_region or (parts[3] if len(parts) > 3 else "")
    if primary:
        keys[SM + "SecretPrimaryRegion"] = primary
    if secret.rotation.lambda_arn:
        keys[SM + "resource/AllowRotationLambdaArn"] = secret.rotation.lambda_arn
    return keys


def _kms(call: Call, resource: str) -> list[Needed]:
    op = call.operation
    if not call.customer_key or not call.kms_key_arn:
        return []
    if op == "GetSecretValue":
        action = "kms:Decrypt"
    elif op in _VALUE_WRITES and any(
        call.params.get(m) is not None for m in ("SecretString", "SecretBinary")
    ):
        action = "kms:GenerateDataKey"
    else:
        return []
    region = resource.split(":")[3] if resource.count(":") >= 5 else ""
    keys: Keys = {"kms:EncryptionContext:SecretARN": resource}
    keys["kms:EncryptionContextKeys"] = ("SecretARN",)
    if region:
        keys["kms:ViaService"] = f"secretsmanager.{region}.amazonaws.com"
    return [Needed(action, call.kms_key_arn, keys)]


def needs(call: Call) -> list[Needed]:
    """The ordered authorization requests `call` needs (ValueError: unknown operation)."""
    op = call.operation
    if op not in _PARAM_KEYS:
        raise ValueError(f"unknown Secrets Manager operation {op!r}")
    keys = _param_keys(call)
    if op in _STAR_ONLY:
        out = [Needed(SM + op, "*", keys)]
        if op == "BatchGetSecretValue" and call.params.get("Filters"):
            out.append(Needed(SM + "ListSecrets", "*", {}))
        return out
    resource = call.secret.arn if call.secret is not None else call.resource_arn
    secret_id = call.params.get("SecretId")
    if resource is None and op == "ValidateResourcePolicy" and not secret_id:
        resource = "*"
    if resource is None:
        raise ValueError(f"{op} needs the resolved secret or resource_arn")
    if call.secret is not None:
        keys.update(_resource_keys(call.secret))
    if op != "CreateSecret" and (secret_id or call.secret is not None):
        keys[SM + "SecretId"] = call.secret.arn if call.secret is not None else str(secret_id)
    out = [Needed(SM + op, resource, keys)]
    if op == "ValidateResourcePolicy":
        out.append(Needed(SM + "PutResourcePolicy", resource, dict(keys)))
    return out + _kms(call, resource)


def batch_item(secret: Secret, kms_key_arn: str | None, customer_key: bool = True) -> Call:
    """The GetSecretValue a BatchGetSecretValue result needs (one per secret returned)."""
    return Call("GetSecretValue", {"SecretId": secret.arn}, secret, kms_key_arn, customer_key)


def requests(call: Call, caller: Caller) -> list[Request]:
    """`needs(call)` as evaluator requests with the caller's principal and global keys."""
    return [n.request(caller) for n in needs(call)]
