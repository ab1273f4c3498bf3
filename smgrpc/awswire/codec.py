"""AWS JSON 1.1 bodies <-> the gRPC messages of smgrpc.secretsmanager.v1, for the 23 operations.

Every proto field's json_name is its AWS member name, so the conversion is driven by two tables
read once at import: the AWS service model (smgrpc/awswire/model.py, generated from botocore:
member types, required members, which structures nest where) and the proto descriptors (field
names, presence). Each structure gets a precomputed reader (request) or writer (response); the
hot path is one orjson call plus one pass over the members present.

Requests (decode), in AWS's order of checks:
1. Not JSON (also an empty body, a BOM, trailing data) -> SerializationException. AWS sends it
   without a message; ours says what is wrong. A JSON array at the top -> "Start of list found
   where not expected" (AWS's text); any other non-object -> SerializationException.
2. A member of the wrong JSON type -> SerializationException with AWS's texts (wiretypes.py);
   base64 errors in SecretBinary never echo the value. JSON null is the same as an absent
   member, and null items of a list are dropped (as AWS). Unknown members are ignored, at every
   level; so are model members our proto does not carry (none today: tests/awswire check it).
3. Missing required members (model "required") -> ValidationException "1 validation error
   detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null";
   several -> "2 validation errors detected: ...; ..." in model member order; member paths are
   lowerCamel, nested as 'tags.1.member.key' (the model has no nested required members today).
4. CreateSecret, UpdateSecret, PutSecretValue without ClientRequestToken -> InvalidRequestException
   "You must provide a ClientRequestToken value. We recommend a UUID-type value." (SDKs always
   fill it in; the gRPC API generates one instead, the AWS wire does not).
Everything else (lengths, patterns, ranges, enums) is the gRPC side's validation, unchanged.

Bounded cost (decode runs before authentication, as AWS validates after it, so an unsigned
caller chooses the body): a body holding more than MAX_VALUES JSON values (a comma, `{` or
`[` outside strings each; `values_bound` counts them cheaply, an upper bound; `_values`
exactly when that bound is over, refusing bodies of more than MAX_STRINGS strings outright)
is a SerializationException before orjson builds it; a request list longer than LIST_CAP
items (every model list is at most 50 by the model's `max` or AWS's quotas, or names
Regions) is a ValidationException "Member must have length less than or equal to <the
model's max, else LIST_CAP>" before its items are converted. Shorter lists over the max are
converted and refused by the gRPC side's validation, with its message.

Responses (encode): AWS member names, keys in sorted order and no spaces (as AWS writes them),
absent members omitted, int64 as JSON numbers, blobs base64, maps of lists as an object of
lists (VersionIdsToStages / SecretVersionsToStages: {"<version id>": ["AWSCURRENT"]}), and
timestamps as epoch seconds to the millisecond in AWS's Java double form (1.523477145713E9).
Lists where the wire format needed a decision (proto3 cannot tell an empty list from an absent
one, so each is decided here):
* always sent, [] when empty: BatchGetSecretValue SecretValues and Errors (AWS's example sends
  "Errors": []), ListSecrets SecretList, ListSecretVersionIds Versions, ValidateResourcePolicy
  ValidationErrors (AWS's example: "ValidationErrors": []), ReplicateSecretToRegions and
  RemoveRegionsFromReplication ReplicationStatus (the replicas that remain: [] after the last);
* Tags of DescribeSecret and ListSecrets entries: sent when the proto's tags_present is set,
  so "Tags": [] after UntagResource removed every tag, no Tags on a never-tagged secret;
* omitted when empty: VersionStages (AWS's ListSecretVersionIds example shows a label-less
  version without the key), VersionIdsToStages / SecretVersionsToStages (a secret without
  versions), ReplicationStatus of CreateSecret and DescribeSecret (no replicas), KmsKeyIds,
  ExternalSecretRotationMetadata;
* scalars without proto presence: PolicyValidationPassed is always sent (false included);
  ARN / Name / VersionId strings are sent when non-empty (always, in practice).
TagResource and UntagResource have no output members: their body is {}.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc.awswire import wiretypes as wt
from smgrpc.awswire.model import OPERATIONS as MODEL_OPERATIONS
from smgrpc.awswire.model import STRUCTURES
from smgrpc.core.errors import InvalidRequest, SerializationError, ValidationError, validation

OPERATIONS: frozenset[str] = frozenset(MODEL_OPERATIONS)

NOT_JSON = "The request body is not valid JSON."
NOT_OBJECT = "The request body must be a JSON object."
NO_TOKEN = "You must provide a ClientRequestToken value. We recommend a UUID-type value."
_TOKEN_REQUIRED = frozenset({"CreateSecret", "UpdateSecret", "PutSecretValue"})
MAX_VALUES = 16_384  # JSON values in a body (legit requests hold a few hundred)
TOO_MANY_VALUES = f"The request body holds more than {MAX_VALUES} JSON values."
MAX_STRINGS = 4_096  # strings in a body whose values_bound is over MAX_VALUES (legit: < 1,000)
LIST_CAP = 100
# lowerCamel member -> the model's `max` (Tags: AWS's quota of 50 tags a secret)
_LIST_MAX = {"filters": 10, "values": 10, "secretIdList": 20, "versionStages": 20, "tags": 50}
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"')

# Response lists sent even when empty (see the module docstring).
_ALWAYS_LISTS: frozenset[tuple[str, str]] = frozenset(
    {
        ("BatchGetSecretValueResponse", "SecretValues"),
        ("BatchGetSecretValueResponse", "Errors"),
        ("ListSecretsResponse", "SecretList"),
        ("ListSecretVersionIdsResponse", "Versions"),
        ("ValidateResourcePolicyResponse", "ValidationErrors"),
        ("ReplicateSecretToRegionsResponse", "ReplicationStatus"),
        ("RemoveRegionsFromReplicationResponse", "ReplicationStatus"),
    }
)
_TAGS_PRESENT = "tags_present"  # the proto field that says "Tags" is present, maybe empty


# ---- requests ----

Member = tuple[str, Callable[..., Any], bool, str]  # field, convert, nested, lowerCamel name


class _Reader:
    """Reads one AWS structure (a JSON object) into its proto message's constructor kwargs."""

    __slots__ = ("members", "required")

    def __init__(self, members: dict[str, Member], required: tuple[tuple[str, str], ...]):
        self.members = members
        self.required = required  # (proto field, lowerCamel member), model order

    def read(self, value: Any, path: str, errors: list[str]) -> dict[str, Any]:
        if type(value) is not dict:
            kind = type(value)
            raise SerializationError(wt.LIST_FOUND if kind is list else wt.EXPECTED_STRUCTURE)
        out: dict[str, Any] = {}
        members = self.members
        for key, item in value.items():
            member = members.get(key)
            if member is None or item is None:
                continue
            field, convert, nested, lower = member
            out[field] = convert(item, path + lower, errors) if nested else convert(item)
        for field, lower in self.required:
            if field not in out:
                errors.append(
                    f"Value null at '{path}{lower}' failed to satisfy constraint: "
                    "Member must not be null"
                )
        return out


def _not_a_list(value: Any) -> SerializationError:
    return SerializationError(wt.MAP_FOUND if type(value) is dict else wt.EXPECTED_LIST)


def _check_list(value: Any, path: str) -> None:
    """A JSON list of at most LIST_CAP items (before any is converted)."""
    if type(value) is not list:
        raise _not_a_list(value)
    if len(value) > LIST_CAP:
        most = _LIST_MAX.get(path.rpartition(".")[2], LIST_CAP)
        raise validation("", path, f"Member must have length less than or equal to {most}")


def _scalar_list(scalar: wt.Scalar) -> Callable[[Any, str, list[str]], list[Any]]:
    def convert(value: Any, path: str, errors: list[str]) -> list[Any]:
        _check_list(value, path)
        return [scalar(x) for x in value if x is not None]

    return convert


def _structure_list(reader: _Reader) -> Callable[[Any, str, list[str]], list[Any]]:
    def convert(value: Any, path: str, errors: list[str]) -> list[Any]:
        _check_list(value, path)
        return [
            reader.read(x, f"{path}.{i}.member.", errors)
            for i, x in enumerate(value, 1)
            if x is not None
        ]

    return convert


def _structure(reader: _Reader) -> Callable[[Any, str, list[str]], dict[str, Any]]:
    def convert(value: Any, path: str, errors: list[str]) -> dict[str, Any]:
        return reader.read(value, path + ".", errors)

    return convert


def _message_type(fd: FieldDescriptor) -> Descriptor:
    if fd.message_type is None:
        raise TypeError(f"{fd.full_name}: the model says structure, the proto says scalar")
    return fd.message_type


def _reader(structure: str, desc: Descriptor) -> _Reader:
    by_json = {f.json_name: f for f in desc.fields}
    members: dict[str, Member] = {}
    required = []
    for name, kind, is_required in STRUCTURES[structure]:
        fd = by_json.get(name)
        if fd is None:
            continue  # not carried by our proto: ignored like an unknown member
        lower = name[0].lower() + name[1:]
        convert: Callable[..., Any]
        if kind in wt.SCALARS:
            convert, nested = wt.SCALARS[kind], False
        elif kind.startswith("S:"):
            convert, nested = _structure(_reader(kind[2:], _message_type(fd))), True
        elif kind.startswith("L:S:"):
            convert, nested = _structure_list(_reader(kind[4:], _message_type(fd))), True
        elif kind.startswith("L:") and kind[2:] in wt.SCALARS:
            convert, nested = _scalar_list(wt.SCALARS[kind[2:]]), True
        else:
            raise TypeError(f"no request conversion for {structure}.{name} ({kind})")
        members[name] = (fd.name, convert, nested, lower)
        if is_required:
            required.append((fd.name, lower))
    return _Reader(members, tuple(required))


class _Decoder:
    __slots__ = ("cls", "reader", "token")

    def __init__(self, operation: str) -> None:
        name = MODEL_OPERATIONS[operation][0]
        self.cls: type[Message] = getattr(pb, name)
        self.reader = _reader(name, self.cls.DESCRIPTOR)
        self.token = operation in _TOKEN_REQUIRED


_DECODERS = {op: _Decoder(op) for op in MODEL_OPERATIONS}


def _validation(errors: list[str]) -> ValidationError:
    n = len(errors)
    head = "1 validation error detected: " if n == 1 else f"{n} validation errors detected: "
    path = errors[0].split("'", 2)[1]
    return ValidationError(head + "; ".join(errors), field=path)


def values_bound(body: bytes) -> int:
    """At least the number of JSON values in `body` beyond the first (C speed: ~1 ms a MiB)."""
    return body.count(b",") + body.count(b"{") + body.count(b"[")


def _values(body: bytes) -> int:
    """values_bound without the commas and brackets inside strings (MAX_VALUES + 1: more
    than MAX_STRINGS strings, by a cheap count of unescaped quotes; a few ms at most)."""
    if body.count(b'"') - body.count(b'\\"') > 2 * MAX_STRINGS:
        return MAX_VALUES + 1
    inside = 0
    for m in _STRING.finditer(body):
        start, end = m.span()
        inside += sum(body.count(c, start, end) for c in (b",", b"{", b"["))
    return values_bound(body) - inside


def decode(operation: str, body: bytes) -> Message:
    """The gRPC request message of an AWS JSON body (see the module docstring for the errors).

    `operation` must be one of OPERATIONS (KeyError otherwise: the caller answers an unknown
    X-Amz-Target before decoding)."""
    plan = _DECODERS[operation]
    if values_bound(body) > MAX_VALUES and _values(body) > MAX_VALUES:
        raise SerializationError(TOO_MANY_VALUES)
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise SerializationError(NOT_JSON) from None
    if type(value) is not dict:
        raise SerializationError(wt.LIST_FOUND if type(value) is list else NOT_OBJECT)
    errors: list[str] = []
    kwargs = plan.reader.read(value, "", errors)
    if errors:
        raise _validation(errors)
    if plan.token and "client_request_token" not in kwargs:
        raise InvalidRequest(NO_TOKEN, field="clientRequestToken")
    try:
        return plan.cls(**kwargs)
    except (ValueError, TypeError):  # e.g. a string protobuf refuses; never echo the value
        raise SerializationError("A member value could not be read.") from None


# ---- responses ----

Convert = Callable[[Any], Any] | None  # None: the proto value is already the JSON value


Emit = Callable[[Message], dict[str, Any]]


def _emitter(
    fields: dict[FieldDescriptor, tuple[str, Convert]],
    always: tuple[tuple[str, Any], ...],
    tags: bool,
    every_field: bool,
) -> Emit:
    """The function writing one proto message as the dict of its AWS structure.

    fields: the proto fields that are AWS members; always: (member, value when unset) of the
    members sent even at their zero value; tags: the message has tags_present; every_field:
    every proto field of the message is an AWS member (no filtering needed)."""
    if every_field and not always and not tags and all(c is None for _, c in fields.values()):
        names = {fd: name for fd, (name, _) in fields.items()}

        def emit_flat(msg: Message) -> dict[str, Any]:  # Tag, Filter, ...: a leaf structure
            return {names[fd]: value for fd, value in msg.ListFields()}

        return emit_flat

    def emit(msg: Message) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for fd, value in msg.ListFields():
            entry = fields.get(fd)
            if entry is not None:
                name, convert = entry
                out[name] = value if convert is None else convert(value)
        for name, default in always:
            if name not in out:
                out[name] = default
        if tags and "Tags" not in out and getattr(msg, _TAGS_PRESENT):
            out["Tags"] = ()
        return out

    return emit


def _stage_map(value: Any) -> dict[str, list[str]]:
    return {k: list(value[k].stages) for k in value}  # faster than .items() on a proto map


def _messages(emit: Emit) -> Callable[[Any], list[dict[str, Any]]]:
    return lambda seq: [emit(x) for x in seq]


def _field_writer(structure: str, name: str, kind: str, fd: FieldDescriptor) -> Convert:
    if kind == "timestamp":
        return wt.epoch_fragment
    if kind == "blob":
        return wt.base64_text
    if kind.startswith("M:"):
        return _stage_map
    if kind.startswith("S:"):
        return _writer(kind[2:], _message_type(fd))
    if kind.startswith("L:S:"):
        return _messages(_writer(kind[4:], _message_type(fd)))
    if kind.startswith("L:"):
        return list
    if kind in wt.SCALARS:
        return None
    raise TypeError(f"no response conversion for {structure}.{name} ({kind})")


def _writer(structure: str, desc: Descriptor) -> Emit:
    by_json = {f.json_name: f for f in desc.fields}
    fields: dict[FieldDescriptor, tuple[str, Convert]] = {}
    always: list[tuple[str, Any]] = []
    for name, kind, _required in STRUCTURES[structure]:
        fd = by_json.get(name)
        if fd is None:
            continue
        fields[fd] = (name, _field_writer(structure, name, kind, fd))
        if (structure, name) in _ALWAYS_LISTS:
            always.append((name, {} if kind.startswith("M:") else ()))
        elif not fd.is_repeated and not fd.has_presence:
            if fd.type == FieldDescriptor.TYPE_BOOL:
                always.append((name, False))
            elif kind in ("integer", "long"):
                always.append((name, 0))
    every = len(fields) == len(desc.fields)
    return _emitter(fields, tuple(always), _TAGS_PRESENT in desc.fields_by_name, every)


_ENCODERS: dict[str, Emit | None] = {
    op: None if out is None else _writer(out, getattr(pb, out).DESCRIPTOR)
    for op, (_in, out) in MODEL_OPERATIONS.items()
}
_SORTED = orjson.OPT_SORT_KEYS


def encode(operation: str, response: Message) -> bytes:
    """The AWS JSON body of a gRPC response message (see the module docstring)."""
    emit = _ENCODERS[operation]
    if emit is None:
        return b"{}"
    return orjson.dumps(emit(response), option=_SORTED)
