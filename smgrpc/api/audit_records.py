"""CloudTrail-shaped audit records of calls and background events (built in the audit thread).

What is left out follows CloudTrail's practice for Secrets Manager (the API model's
`sensitive` members) and IAM: SecretString, SecretBinary (every bytes member), RandomPassword,
RotationToken and SecretAccessKey never appear, at any depth. Everything else is logged in
clear as CloudTrail does, including names, descriptions, tags, ClientRequestTokens and policy
documents (resource policies, identity policies, trust policies): CloudTrail records those.
List calls record responseElements null (as CloudTrail does for them): the listed names are
not "who read what", and a page of 100 secrets would make every line large.
"""

from __future__ import annotations

import datetime
from functools import lru_cache
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor, ServiceDescriptor
from google.protobuf.message import Message

from smgrpc.audit.chain import body
from smgrpc.core.errors import ServiceError
from smgrpc.core.iam.model import Principal

SENSITIVE = frozenset(
    {"SecretString", "SecretBinary", "RandomPassword", "RotationToken", "SecretAccessKey"}
)
EVENT_VERSION = "1.08"
SOURCES = {
    "smgrpc.secretsmanager.v1.SecretsManager": "secretsmanager.amazonaws.com",
    "smgrpc.iam.v1.IAM": "iam.amazonaws.com",
}
_BYTES = FieldDescriptor.TYPE_BYTES
_MESSAGE = FieldDescriptor.CPPTYPE_MESSAGE
_READ_PREFIXES = ("Get", "List", "Describe", "BatchGet", "Validate", "Watch")


def read_only(method: str) -> bool:
    return method.startswith(_READ_PREFIXES)


def _hidden(fd: FieldDescriptor) -> bool:
    """A member no record shows (the rule `_plan` applies)."""
    return fd.json_name in SENSITIVE or fd.type == _BYTES or fd.GetOptions().debug_redact


def holds_secrets(message: Descriptor, seen: frozenset[str] = frozenset()) -> bool:
    """Whether a message of this type can carry a member no record shows, at any depth."""
    if message.full_name in seen:
        return False
    seen = seen | {message.full_name}
    return any(
        _hidden(fd) or (fd.message_type is not None and holds_secrets(fd.message_type, seen))
        for fd in message.fields
    )


def withheld_methods(service: ServiceDescriptor) -> frozenset[str]:
    """The methods whose response may carry secret material (GetSecretValue, CreateAccessKey,
    GetRandomPassword, ...): their response leaves only once its Event is written."""
    return frozenset(m.name for m in service.methods if holds_secrets(m.output_type))


@lru_cache(maxsize=8)
def iso(second: int) -> str:
    return datetime.datetime.fromtimestamp(second, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# How each field of a message type is logged, decided once per type (descriptor attributes
# cost microseconds each; getattr on a message a fraction of one): (attribute, AWS name, kind,
# whether HasField tells presence, the map value's kind). Sensitive fields are not listed.
SCALAR, TIME, MESSAGE = range(3)
Plan = tuple[tuple[str, str, int, bool, bool, int], ...]
_PLANS: dict[type, Plan] = {}


def _kind(fd: FieldDescriptor) -> int:
    if fd.cpp_type != _MESSAGE or fd.message_type is None:
        return SCALAR
    return TIME if fd.message_type.full_name == "google.protobuf.Timestamp" else MESSAGE


def _plan(cls: type) -> Plan:
    plan = []
    for fd in cls.DESCRIPTOR.fields:  # type: ignore[attr-defined]
        if _hidden(fd):
            continue
        entry = fd.message_type if fd.cpp_type == _MESSAGE else None
        if entry is not None and entry.GetOptions().map_entry:
            plan.append(
                (fd.name, fd.json_name, -1, False, False, _kind(entry.fields_by_name["value"]))
            )
        else:
            plan.append((fd.name, fd.json_name, _kind(fd), fd.has_presence, fd.is_repeated, 0))
    _PLANS[cls] = got = tuple(plan)
    return got


def _value(kind: int, v: Any) -> Any:
    if kind == SCALAR:
        return v
    if kind == TIME:
        return iso(v.seconds)
    return params(v)


def params(msg: Message) -> dict[str, Any]:
    """The message's set members by AWS name, sensitive ones removed (recursively)."""
    plan = _PLANS.get(type(msg)) or _plan(type(msg))
    out: dict[str, Any] = {}
    for attr, name, kind, has, repeated, inner in plan:
        if has and not msg.HasField(attr):
            continue
        v = getattr(msg, attr)
        if not has and not v:  # an empty list or map, or a proto3 default: not sent
            continue
        if kind < 0:
            out[name] = {k: _value(inner, x) for k, x in v.items()}
        elif repeated:
            out[name] = [_value(kind, x) for x in v]
        else:
            out[name] = _value(kind, v)
    return out


@lru_cache(maxsize=1024)
def source_ip(peer: str) -> str:
    """grpc's peer string ("ipv4:127.0.0.1:5000", "ipv6:[::1]:5000") as an address."""
    kind, _, rest = peer.partition(":")
    if kind == "ipv4":
        return rest.rpartition(":")[0]
    if kind == "ipv6":
        return rest.rpartition(":")[0].strip("[]")
    return peer or "-"


_IDENTITIES: dict[tuple[str, str | None], dict[str, Any]] = {}


def identity(principal: Principal | None, access_key_id: str | None) -> dict[str, Any]:
    """CloudTrail's userIdentity (cached by ARN and key: the same few callers make most
    calls; the dicts are only ever read)."""
    if principal is None:
        return {"type": "Unknown"}
    got = _IDENTITIES.get((principal.arn, access_key_id))
    if got is None:
        if len(_IDENTITIES) >= 4096:
            _IDENTITIES.clear()
        got = _IDENTITIES[(principal.arn, access_key_id)] = _identity(principal, access_key_id)
    return got


def _identity(principal: Principal, access_key_id: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "IAMUser" if principal.kind == "user" else "Role",
        "arn": principal.arn,
        "accountId": principal.account,
    }
    if principal.kind == "user":
        out["userName"] = principal.name
    if access_key_id:
        out["accessKeyId"] = access_key_id
    return out


def _resources(
    method: str, response: Message | None, exc: ServiceError | None
) -> list[dict[str, str]]:
    arns: list[str] = []
    if method == "BatchGetSecretValue":
        arns.extend(item.arn for item in getattr(response, "secret_values", ()))
    elif response is not None:
        arn = getattr(response, "arn", None)
        if isinstance(arn, str) and arn:
            arns.append(arn)
    elif exc is not None and exc.resource:
        arns.append(exc.resource)
    return [{"ARN": a, "type": "AWS::SecretsManager::Secret"} for a in arns if a]


class CallFacts:
    """What one call's records say, captured on the loop (all immutable or not mutated)."""

    __slots__ = (
        "source", "method", "request_id", "event_id", "at", "peer", "agent", "principal",
        "key_id", "request", "region", "account",
    )  # fmt: skip

    def __init__(
        self,
        source: str,
        method: str,
        request_id: str,
        event_id: str,
        at: float,
        peer: str,
        agent: str | None,
        principal: Principal | None,
        key_id: str | None,
        request: Any,
        region: str,
        account: str,
    ) -> None:
        self.source, self.method, self.request_id = source, method, request_id
        self.event_id, self.at, self.peer, self.agent = event_id, at, peer, agent
        self.principal = principal
        self.key_id, self.request, self.region, self.account = key_id, request, region, account

    def _head(self) -> dict[str, Any]:
        ro = read_only(self.method)
        return {
            "eventVersion": EVENT_VERSION,
            "userIdentity": identity(self.principal, self.key_id),
            "eventTime": iso(int(self.at)),
            "eventSource": self.source,
            "eventName": self.method,
            "awsRegion": self.region,
            "sourceIPAddress": source_ip(self.peer),
            "userAgent": self.agent,
            "requestParameters": (
                params(self.request) if isinstance(self.request, Message) else None
            ),
            "requestID": self.request_id,
            "eventID": self.event_id,
            "readOnly": ro,
        }

    def request_record(self) -> bytes:
        return body({"recordType": "Request", **self._head()})

    def event(self, response: Message | None, exc: ServiceError | None) -> bytes:
        if exc is None:
            return self._event(response, None, None, _resources(self.method, response, None))
        return self._event(None, exc.aws_code, exc.message, _resources(self.method, None, exc))

    def refusal(self, code: str, message: str) -> bytes:
        """The Event of a call refused before anything was checked (throttled, shutting down,
        its deadline passed): no identity, no parameters, no resource."""
        return self._event(None, code, message, [])

    def _event(
        self,
        response: Message | None,
        code: str | None,
        message: str | None,
        resources: list[dict[str, str]],
    ) -> bytes:
        rec = {"recordType": "Event", **self._head()}
        rec["responseElements"] = (
            params(response)
            if response is not None and not self.method.startswith("List")
            else None
        )
        if code is not None:
            rec["errorCode"] = code
            rec["errorMessage"] = message
        rec["resources"] = resources
        rec["eventType"] = "AwsApiCall"
        rec["managementEvent"] = True
        rec["recipientAccountId"] = self.account
        return body(rec)


def service_event(
    name: str,
    region: str,
    account: str,
    at: float,
    event_id: str,
    arn: str | None,
    details: dict[str, Any] | None = None,
) -> bytes:
    """A background event (rotation, replication, deletion): CloudTrail's AwsServiceEvent."""
    return body(
        {
            "recordType": "Event",
            "eventVersion": EVENT_VERSION,
            "userIdentity": {"type": "AWSService", "invokedBy": "secretsmanager.amazonaws.com"},
            "eventTime": iso(int(at)),
            "eventSource": "secretsmanager.amazonaws.com",
            "eventName": name,
            "awsRegion": region,
            "sourceIPAddress": "secretsmanager.amazonaws.com",
            "userAgent": "secretsmanager.amazonaws.com",
            "requestParameters": None,
            "responseElements": None,
            "additionalEventData": details or {},
            "requestID": event_id,
            "eventID": event_id,
            "readOnly": False,
            "resources": [{"ARN": arn, "type": "AWS::SecretsManager::Secret"}] if arn else [],
            "eventType": "AwsServiceEvent",
            "managementEvent": True,
            "recipientAccountId": account,
        }
    )
