"""The `smgrpc secretsmanager` commands, derived from the SecretsManager service descriptor.

Each unary RPC is a command named as aws-cli names it (kebab-case: `get-secret-value`), each
request field a parameter with the kebab-case of its AWS member name (`--secret-id`,
`--rotation-lambda-arn`). Booleans are aws-cli's pairs (`--force-delete-without-recovery` /
`--no-force-delete-without-recovery`), lists take several values (`--tags Key=a,Value=b
Key=c,Value=d`), structures shorthand or JSON, blobs `fileb://` (or base64), every value
`file://`. A request field without presence is required, as in the AWS model, plus the lists
the model requires (below).
"""

from __future__ import annotations

import argparse
import json
import uuid
from dataclasses import dataclass
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from smgrpc.cli.awscli import Field, blob_param, fill, kebab, structure, text_param, usage
from smgrpc.client.operations import OPERATIONS, Operation

# Lists AWS requires (a proto repeated field has no presence to say so).
REQUIRED_LISTS = {
    "TagResource": {"Tags"},
    "UntagResource": {"TagKeys"},
    "ReplicateSecretToRegions": {"AddReplicaRegions"},
    "RemoveRegionsFromReplication": {"RemoveReplicaRegions"},
}


@dataclass(frozen=True)
class Paging:
    """A list operation: NextToken / MaxResults, its result lists (the first one is counted
    by --max-items) and the members that are the same on every page."""

    result_keys: tuple[str, ...]


PAGED = {
    "ListSecrets": Paging(("SecretList",)),
    "ListSecretVersionIds": Paging(("Versions",)),
    "BatchGetSecretValue": Paging(("SecretValues", "Errors")),
}
PAGING_FIELDS = frozenset({"next_token", "max_results"})


@dataclass(frozen=True)
class Command:
    name: str  # get-secret-value
    op: Operation
    paging: Paging | None

    @property
    def fields(self) -> tuple[Field, ...]:
        return tuple(self.op.request.DESCRIPTOR.fields)

    def required(self, f: Field) -> bool:
        if f.json_name in REQUIRED_LISTS.get(self.op.name, ()):
            return True
        return not (f.is_repeated or f.has_presence or f.message_type is not None)


COMMANDS: dict[str, Command] = {
    kebab(op.name): Command(kebab(op.name), op, PAGED.get(op.name))
    for op in OPERATIONS.values()
    if not op.streaming
}


def flag(f: Field) -> str:
    return "--" + kebab(f.json_name)


def _kind(f: Field) -> str:
    if f.message_type is not None:
        return "structure"
    return {
        FieldDescriptor.TYPE_BOOL: "boolean",
        FieldDescriptor.TYPE_BYTES: "blob",
        FieldDescriptor.TYPE_STRING: "string",
    }.get(f.type, "integer")


def add_params(p: argparse.ArgumentParser, cmd: Command) -> None:
    for f in cmd.fields:
        kind = _kind(f)
        hidden = cmd.paging is not None and f.name in PAGING_FIELDS
        text = (
            argparse.SUPPRESS if hidden else f"{f.json_name} ({'list of ' * f.is_repeated}{kind})"
        )
        kw: dict[str, Any] = {"dest": f.name, "default": None, "help": text}
        if kind == "boolean" and not f.is_repeated:
            kw["action"] = argparse.BooleanOptionalAction
        else:
            kw["metavar"] = "<value>"
            kw["required"] = cmd.required(f)
            if f.is_repeated:
                kw["nargs"] = "+"
        p.add_argument(flag(f), **kw)


def build_request(cmd: Command, args: argparse.Namespace) -> Message:
    request = cmd.op.request()
    for f in cmd.fields:
        raw = getattr(args, f.name, None)
        if raw is None:
            continue
        value = _list(f, raw) if f.is_repeated else _single(f, raw)
        fill(request, {f.json_name: value}, flag(f), "")
    _idempotent(cmd.op.name, request)
    return request


def _idempotent(operation: str, request: Message) -> None:
    """botocore fills an idempotency token the caller did not give (CreateSecret,
    PutSecretValue, RotateSecret, UpdateSecret with a new value): the write is then safe to
    retry, and the client retries it (smgrpc.client retries no write without one)."""
    if "client_request_token" not in request.DESCRIPTOR.fields_by_name:
        return
    if request.HasField("client_request_token"):
        return
    if operation == "UpdateSecret" and not (
        request.HasField("secret_string") or request.HasField("secret_binary")
    ):
        return  # a metadata-only update makes no version: nothing to make idempotent
    request.client_request_token = str(uuid.uuid4())  # type: ignore[attr-defined]


def _single(f: Field, raw: Any) -> Any:
    kind = _kind(f)
    if kind == "boolean":
        return bool(raw)
    if kind == "structure":
        return structure(flag(f), raw)
    if kind == "blob":
        return blob_param(flag(f), raw)
    return text_param(flag(f), raw)


def _list(f: Field, raw: list[str]) -> list[Any]:
    """Several values, or one JSON list (`--tags '[{"Key": "a", "Value": "b"}]'`)."""
    if len(raw) == 1 and f.message_type is None:
        text = text_param(flag(f), raw[0]).strip()
        if text.startswith("["):
            try:
                items = json.loads(text)
            except ValueError as exc:
                raise usage(flag(f), f"Invalid JSON: {exc}") from None
            return items if isinstance(items, list) else [items]
    out: list[Any] = []
    for item in raw:
        value = _single(f, item)
        out.extend(value if isinstance(value, list) else [value])
    return out
