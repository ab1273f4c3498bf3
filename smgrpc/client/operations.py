"""The operations of smgrpc.secretsmanager.v1.SecretsManager, from the generated descriptors, and
request messages built from AWS member names (`SecretId="x"`, `Tags=[{"Key": .., "Value": ..}]`).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from google.protobuf import message_factory
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc.client.errors import ParamValidationError

SERVICE = pb.DESCRIPTOR.services_by_name["SecretsManager"]
# Operations that change nothing: always safe to retry.
READS = frozenset(
    {
        "BatchGetSecretValue",
        "DescribeSecret",
        "GetRandomPassword",
        "GetResourcePolicy",
        "GetSecretValue",
        "ListSecretVersionIds",
        "ListSecrets",
        "ValidateResourcePolicy",
        "WatchSecrets",
    }
)


@dataclass(frozen=True)
class Operation:
    name: str  # GetSecretValue
    path: str  # /smgrpc.secretsmanager.v1.SecretsManager/GetSecretValue
    request: type[Message]
    response: type[Message]
    streaming: bool

    @property
    def read(self) -> bool:
        return self.name in READS

    @property
    def python_name(self) -> str:
        return snake(self.name)

    def retryable(self, request: Message) -> bool:
        """Reads always; a write only with a ClientRequestToken (the server deduplicates it)."""
        if self.read:
            return True
        field = self.request.DESCRIPTOR.fields_by_name.get("client_request_token")
        return field is not None and bool(getattr(request, "client_request_token", ""))


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


OPERATIONS: dict[str, Operation] = {
    m.name: Operation(
        m.name,
        f"/{SERVICE.full_name}/{m.name}",
        message_factory.GetMessageClass(m.input_type),
        message_factory.GetMessageClass(m.output_type),
        m.server_streaming,
    )
    for m in SERVICE.methods
}


def operation(name: str) -> Operation:
    op = OPERATIONS.get(name)
    if op is None:
        raise ParamValidationError(
            f"unknown operation {name!r} (one of: {', '.join(sorted(OPERATIONS))})"
        )
    return op


def _field(desc: Any, key: str) -> Any:
    for f in desc.fields:
        if key in (f.json_name, f.name):
            return f
    known = ", ".join(f.json_name for f in desc.fields)
    raise ParamValidationError(
        f'Unknown parameter in {desc.name}: "{key}", must be one of: {known}'
    )


def build(cls: type[Message], members: Mapping[str, Any]) -> Message:
    """A `cls` message from AWS member names (nested structures as dicts or messages)."""
    msg = cls()
    _fill(msg, members)
    return msg


def _fill(msg: Message, members: Mapping[str, Any]) -> None:
    desc = msg.DESCRIPTOR
    for key, value in members.items():
        if value is None:
            continue
        f = _field(desc, key)
        where = f"{desc.name}.{f.json_name}"
        failed = False
        try:
            _set(msg, f, value, where)
        except (TypeError, ValueError):
            # protobuf's text (and the exception itself: a UnicodeDecodeError holds the whole
            # value) may carry the value, e.g. a secret: name the field and types only, and
            # raise outside the handler so no __context__ keeps the original.
            failed = True
        if failed:
            raise ParamValidationError(_invalid(where, f, value))


def _expected(f: FieldDescriptor) -> str:
    if f.message_type is not None:
        return "a structure" if not f.message_type.GetOptions().map_entry else "a mapping"
    if f.type == FieldDescriptor.TYPE_STRING:
        return "str (valid UTF-8)"
    if f.type == FieldDescriptor.TYPE_BYTES:
        return "bytes"
    if f.type == FieldDescriptor.TYPE_BOOL:
        return "bool"
    if f.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return "float"
    if f.type == FieldDescriptor.TYPE_ENUM:
        return "an enum value"
    return "int (in range)"


def _invalid(where: str, f: FieldDescriptor, value: Any) -> str:
    """The message of a value protobuf refused: field and type names only, never the value."""
    expected = _expected(f)
    if f.is_repeated and f.message_type is None:
        expected = f"a list of {expected}"
    return f"Invalid type for parameter {where}: got {type(value).__name__}, expected {expected}"


def _set(msg: Message, f: FieldDescriptor, value: Any, where: str) -> None:
    target = getattr(msg, f.name)
    if f.message_type is not None and f.message_type.GetOptions().map_entry:
        value_field = f.message_type.fields_by_name["value"]
        for k, v in dict(value).items():
            if value_field.message_type is None:
                target[k] = v
            else:
                _merge(target[k], v, where)
        return
    if f.is_repeated:
        if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
            raise ParamValidationError(f"Invalid type for parameter {where}: expected a list")
        for item in value:
            if f.message_type is None:
                target.append(item)
            else:
                _merge(target.add(), item, where)
        return
    if f.message_type is not None:
        _merge(target, value, where)
        return
    setattr(msg, f.name, value)


def _merge(target: Message, value: Any, where: str) -> None:
    if isinstance(value, Message):
        target.CopyFrom(value)
    elif isinstance(value, datetime.datetime) and target.DESCRIPTOR.full_name.endswith("Timestamp"):
        target.FromDatetime(value)  # type: ignore[attr-defined]
    elif isinstance(value, Mapping):
        _fill(target, value)
    else:
        raise ParamValidationError(f"Invalid type for parameter {where}: expected a structure")
