"""The aws-cli machinery shared by `smgrpc iam` and `smgrpc secretsmanager`.

Command and parameter names (kebab-case of the AWS names), `file://` / `fileb://` parameter
files, structures as shorthand or JSON filled into protobuf requests by their descriptors, the
aws-cli shape of a response (AWS member names, timestamps, blobs as base64), error lines and
exit codes: 0 success; 252 bad command line (an argument that is not UTF-8, a file:// that
cannot be read included); 254 the server answered with an error (printed as
`An error occurred (<AWS code>) when calling the <Op> operation: <message>`); 255 anything else
on this side (server unreachable, no credential).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import re
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from smgrpc.cli import shorthand
from smgrpc.client import ClientError, ClientSettings, ServiceError, settings
from smgrpc.client.errors import DeadlineExceededError, EndpointConnectionError
from smgrpc.client.settings import DEFAULT_TOKEN_FILE

# A field descriptor: google.protobuf.descriptor.FieldDescriptor or its upb twin (the stubs
# type the two apart).
Field = Any

USAGE_ERROR = 252
SERVICE_ERROR = 254
CLIENT_ERROR = 255

_TIMESTAMP = Timestamp.DESCRIPTOR.full_name
_INTS = frozenset(
    {
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_SINT32,
        FieldDescriptor.TYPE_SINT64,
    }
)


class Failure(Exception):
    """A failure to report: the line(s) for stderr (never a credential) and the exit code."""

    def __init__(self, message: str, code: int = CLIENT_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class Parser(argparse.ArgumentParser):
    """argparse that exits 252 on a bad command line, as aws-cli."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message}\n")


def kebab(name: str) -> str:
    """botocore's xform_name with dashes: RotationLambdaARN -> rotation-lambda-arn."""
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1-\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", s).lower()


def error_line(code: str, operation: str, message: str) -> str:
    return f"\nAn error occurred ({code}) when calling the {operation} operation: {message}"


def usage(flag: str, why: str) -> Failure:
    return Failure(f"\nError parsing parameter '{flag}': {why}", USAGE_ERROR)


# ---- parameter values ----


def read_file(flag: str, value: str) -> str | bytes | None:
    """file:// -> the file's text, fileb:// -> its bytes, anything else None (as given). A file
    that cannot be read is aws-cli's usage error, naming the parameter."""
    for prefix in ("file://", "fileb://"):
        if value.startswith(prefix):
            path = Path(value[len(prefix) :]).expanduser()
            try:
                data = path.read_bytes()
                return data if prefix == "fileb://" else data.decode("utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise usage(flag, f"Unable to load paramfile {value}: {exc}") from None
    return None


def text_param(flag: str, value: str) -> str:
    """A string parameter: as given, or a file://'s text (fileb:// is for blob parameters:
    its bytes are not text, and aws-cli refuses bytes for a string member too)."""
    data = read_file(flag, value)
    if data is None:
        return value
    if isinstance(data, bytes):
        raise usage(flag, "fileb:// gives bytes, and this parameter takes text: use file://")
    return data


def not_utf8(argv: Sequence[str]) -> Failure | None:
    """The usage error for a command-line argument that is not valid UTF-8 (Python holds such
    bytes as lone surrogates, which no request can carry): names the parameter, never the
    value."""
    flag: str | None = None
    for arg in argv:
        name = arg.split("=", 1)[0] if arg.startswith("--") else None
        if not _utf8(arg):
            name = name if name is not None and "=" in arg else flag
            if name is None or not _utf8(name):
                return Failure("\nA command-line argument is not valid UTF-8", USAGE_ERROR)
            return usage(name, "the value is not valid UTF-8 (binary data: fileb://PATH)")
        flag = name or flag
    return None


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def blob_param(flag: str, value: str) -> bytes:
    """aws-cli v2 blobs: fileb:// the raw bytes; inline (or file://) text is base64."""
    data = read_file(flag, value)
    if isinstance(data, bytes):
        return data
    text = value if data is None else data
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise usage(flag, "Invalid base64 (give raw bytes as fileb://PATH)") from None


def structure(flag: str, value: str) -> Any:
    """A structure or list parameter: JSON when it looks like JSON, else shorthand."""
    text = text_param(flag, value).strip()
    if text[:1] in ("{", "["):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise usage(flag, f"Invalid JSON: {exc}") from None
    try:
        return shorthand.parse(text)
    except shorthand.ShorthandError as exc:
        raise usage(flag, f"Expected: key=value[,key=value...] or JSON, {exc}") from None


def fill(msg: Message, data: Mapping[str, Any], flag: str, path: str) -> None:
    """Set msg's fields from a dict keyed by AWS member names (json_name), checking types."""
    if not isinstance(data, Mapping):
        raise usage(flag, f"{path} must be a structure, got {_kind(data)}")
    fields = {f.json_name: f for f in msg.DESCRIPTOR.fields}
    for key, value in data.items():
        field = fields.get(key)
        if field is None:
            raise usage(
                flag, f'Unknown parameter in {path}: "{key}", must be one of: {", ".join(fields)}'
            )
        where = f"{path}.{key}" if path else key
        if field.is_repeated:
            items = value if isinstance(value, list) else [value]
            target = getattr(msg, field.name)
            for n, item in enumerate(items):
                if field.message_type is not None:
                    fill(target.add(), item, flag, f"{where}[{n}]")
                else:
                    target.append(scalar(field, item, flag, f"{where}[{n}]"))
        elif field.message_type is not None:
            fill(getattr(msg, field.name), value, flag, where)
        else:
            setattr(msg, field.name, scalar(field, value, flag, where))


def scalar(field: Field, value: Any, flag: str, where: str) -> Any:
    """A shorthand string or JSON value as the field's Python type."""
    if isinstance(value, (dict, list)):
        raise usage(flag, f"{where} must be a single value, got {_kind(value)}")
    t = field.type
    try:
        if t == FieldDescriptor.TYPE_BOOL:
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "false"):
                return str(value).lower() == "true"
            raise ValueError
        if t in _INTS:
            if isinstance(value, bool) or isinstance(value, float):
                raise ValueError
            number = int(value)
            _check_range(field, number)
            return number
        if t == FieldDescriptor.TYPE_BYTES:
            if isinstance(value, bytes):
                return value
            return base64.b64decode(str(value), validate=True)
    except (ValueError, TypeError, binascii.Error):
        raise usage(flag, f"Invalid value for {where}: {value!r}") from None
    return str(value)


def integer(field: Field, flag: str, value: str) -> int:
    try:
        number = int(value)
        _check_range(field, number)
    except ValueError:
        raise usage(flag, f"expected an integer, got {value!r}") from None
    return number


def _check_range(field: Field, n: int) -> None:
    bits = 32 if field.type in _INT32 else 64
    unsigned = field.type in (FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_UINT64)
    lo, hi = (0, 2**bits - 1) if unsigned else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    if not lo <= n <= hi:
        raise ValueError(n)


_INT32 = frozenset(
    {FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_SINT32}
)


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a structure"
    return "a list" if isinstance(value, list) else type(value).__name__


# ---- responses ----

Stamp = Callable[[Timestamp], str]


def iso_utc(ts: Timestamp) -> str:
    return datetime.fromtimestamp(ts.seconds + ts.nanos / 1e9, UTC).isoformat()


def iso_local(ts: Timestamp) -> str:
    """aws-cli v2's default (cli_timestamp_format = iso8601): ISO 8601 in the local zone, with
    microseconds unless they are zero (datetime.isoformat, as botocore's parsed value)."""
    utc = datetime.fromtimestamp(ts.seconds, UTC).replace(microsecond=ts.nanos // 1000)
    return utc.astimezone().isoformat()


def to_json(
    msg: Message, stamp: Stamp = iso_utc, documents: Collection[str] = ()
) -> dict[str, Any]:
    """The aws-cli shape of a response: AWS member names, timestamps by `stamp`, blobs as
    base64, maps as objects; the members named in `documents` (JSON held in a string) parsed.
    A bool or number without presence (PolicyValidationPassed, Sequence) is shown at its
    default (false, 0) too."""
    out: dict[str, Any] = {}
    present = dict(msg.ListFields())
    for field in msg.DESCRIPTOR.fields:
        if field.name == "tags_present":  # not an AWS member: whether an empty Tags is shown
            continue
        if field not in present:
            if field.name == "tags" and getattr(msg, "tags_present", False):
                out[field.json_name] = []  # every tag removed: aws-cli shows "Tags": []
            if not _optional(field) and field.type == FieldDescriptor.TYPE_BOOL:
                out[field.json_name] = False
            elif not _optional(field) and field.type in _INTS:
                out[field.json_name] = 0
            continue
        value = present[field]
        if _is_map(field):
            out[field.json_name] = {k: _map_value(field, v, stamp) for k, v in value.items()}
        elif field.is_repeated:
            out[field.json_name] = [_value(field, v, stamp, documents) for v in value]
        else:
            out[field.json_name] = _value(field, value, stamp, documents)
    return out


def _optional(field: Field) -> bool:
    return bool(field.is_repeated or field.has_presence)


def _is_map(field: Field) -> bool:
    t = field.message_type
    return t is not None and bool(t.GetOptions().map_entry)


def _map_value(field: Field, value: Any, stamp: Stamp) -> Any:
    vfield = field.message_type.fields_by_name["value"] if field.message_type else None
    assert vfield is not None
    if vfield.message_type is None:
        return value
    inner: Descriptor = vfield.message_type
    if len(inner.fields) == 1 and inner.fields[0].is_repeated:
        # A wrapper that only exists because proto maps cannot hold lists (StageList).
        return list(getattr(value, inner.fields[0].name))
    return to_json(value, stamp)


def _value(field: Field, value: Any, stamp: Stamp, documents: Collection[str]) -> Any:
    if field.message_type is not None:
        if field.message_type.full_name == _TIMESTAMP:
            return stamp(value)
        return to_json(value, stamp, documents)
    if field.type == FieldDescriptor.TYPE_BYTES:
        return base64.b64encode(value).decode("ascii")
    if field.json_name in documents:
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def print_failure(exc: Failure) -> int:
    print(exc.message, file=sys.stderr)
    return exc.code


def run_main(run: Callable[[], int]) -> int:
    """Failures as their line and exit code; Ctrl-C as 130, as aws-cli."""
    try:
        return run()
    except Failure as exc:
        return print_failure(exc)
    except KeyboardInterrupt:
        return 130


# ---- connection (smgrpc.client's settings: flag > SMGRPC_* variable > default) ----


def read_credential(path: Path) -> str:
    """`<AccessKeyId>:<SecretAccessKey>` from a token file (the message names only the file)."""
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise Failure(
            f"cannot read the credential file {path}: {reason} "
            "(give --token-file or set SMGRPC_TOKEN_FILE or SMGRPC_TOKEN)"
        ) from None
    if not token or any(c.isspace() for c in token):
        raise Failure(f"the credential file {path} does not hold one AccessKeyId:SecretAccessKey")
    return token


def client_settings(
    endpoint: str | None,
    token_file: Path | None = None,
    ca_file: Path | None = None,
    cert_file: Path | None = None,
    key_file: Path | None = None,
) -> ClientSettings:
    """The client's settings; a --token-file given on the command line wins over $SMGRPC_TOKEN,
    and the credential is read and checked here (a missing or bad file is a clear 255)."""
    token = read_credential(token_file) if token_file is not None else None
    try:
        s = settings(endpoint, token, None, ca_file, cert_file, key_file)
    except ClientError as exc:
        raise Failure(exc.message) from None
    if s.token:
        return s
    return replace(s, token=read_credential(s.token_file or DEFAULT_TOKEN_FILE), token_file=None)


def client_failure(exc: ServiceError | ClientError, url: str) -> Failure:
    """A failed call as aws-cli reports it (254 for the service's answer, else 255)."""
    if isinstance(exc, ServiceError):
        return Failure(f"\n{exc}", SERVICE_ERROR)
    if isinstance(exc, EndpointConnectionError | DeadlineExceededError):
        return Failure(f'\nCould not connect to the endpoint URL: "{url}"')
    return Failure(f"\n{exc.message}")
