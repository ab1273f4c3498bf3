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
from collections.abc import Callable
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

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
_READ_PREFIXES = ("Get", "List", "Describe", "BatchGet", "Validate")


def read_only(method: str) -> bool:
    return method.startswith(_READ_PREFIXES)


def iso(at: float) -> str:
    return datetime.datetime.fromtimestamp(at, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _value(fd: FieldDescriptor, v: Any) -> Any:
    if fd.cpp_type != _MESSAGE or fd.message_type is None:
        return v
    if fd.message_type.full_name == "google.protobuf.Timestamp":
        return iso(v.seconds + v.nanos / 1e9)
    return params(v)


def params(msg: Message) -> dict[str, Any]:
    """The message's set members by AWS name, sensitive ones removed (recursively)."""
    out: dict[str, Any] = {}
    for fd, value in msg.ListFields():
        name = fd.json_name
        if name in SENSITIVE or fd.type == _BYTES or fd.GetOptions().debug_redact:
            continue
        entry = fd.message_type if fd.cpp_type == _MESSAGE else None
        if entry is not None and entry.GetOptions().map_entry:
            vfd = entry.fields_by_name["value"]
            out[name] = {k: _value(vfd, v) for k, v in value.items()}
        elif fd.is_repeated:
            out[name] = [_value(fd, v) for v in value]
        else:
            out[name] = _value(fd, value)
    return out


def source_ip(peer: str) -> str:
    """grpc's peer string ("ipv4:127.0.0.1:5000", "ipv6:[::1]:5000") as an address."""
    kind, _, rest = peer.partition(":")
    if kind == "ipv4":
        return rest.rpartition(":")[0]
    if kind == "ipv6":
        return rest.rpartition(":")[0].strip("[]")
    return peer or "-"


def identity(principal: Principal | None, access_key_id: str | None) -> dict[str, Any]:
    if principal is None:
        return {"type": "Unknown"}
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


def _resources(response: Message | None, exc: ServiceError | None) -> list[dict[str, str]]:
    arns: list[str] = []
    if response is not None:
        arn = getattr(response, "arn", None)
        if isinstance(arn, str) and arn:
            arns.append(arn)
        for item in getattr(response, "secret_values", ()):  # BatchGetSecretValue
            arns.append(item.arn)
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
            "eventTime": iso(self.at),
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

    def request_record(self) -> Render:
        def render() -> dict[str, Any]:
            return {"recordType": "Request", **self._head()}

        return render

    def event(self, response: Message | None, exc: ServiceError | None) -> Render:
        def render() -> dict[str, Any]:
            rec = {"recordType": "Event", **self._head()}
            rec["responseElements"] = (
                params(response)
                if response is not None and not self.method.startswith("List")
                else None
            )
            if exc is not None:
                rec["errorCode"] = exc.aws_code
                rec["errorMessage"] = exc.message
            rec["resources"] = _resources(response, exc)
            rec["eventType"] = "AwsApiCall"
            rec["managementEvent"] = True
            rec["recipientAccountId"] = self.account
            return rec

        return render


Render = Callable[[], dict[str, Any]]


def service_event(
    name: str,
    region: str,
    account: str,
    at: float,
    event_id: str,
    arn: str | None,
    details: dict[str, Any] | None = None,
) -> Render:
    """A background event (rotation, replication, deletion): CloudTrail's AwsServiceEvent."""

    def render() -> dict[str, Any]:
        return {
            "recordType": "Event",
            "eventVersion": EVENT_VERSION,
            "userIdentity": {"type": "AWSService", "invokedBy": "secretsmanager.amazonaws.com"},
            "eventTime": iso(at),
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

    return render
