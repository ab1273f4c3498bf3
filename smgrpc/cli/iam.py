"""`smgrpc iam <operation>`: the IAM administration calls of a running server, aws-cli style.

Parameters carry the aws-cli names (`--user-name`, `--policy-document file://p.json`); output
is the JSON aws-cli prints (`{"User": {...}}`; nothing for the Delete/Put/Tag/Update calls);
list operations follow every page unless `--max-items` caps them (then `NextToken` says where
to go on with `--starting-token`). The credential (`<AccessKeyId>:<SecretAccessKey>`, as in
admin.token) is read from `--token-file`, else $SMGRPC_TOKEN_FILE, else the embedded default
Region's `smgrpc-data/us-east-1/admin.token`, and sent as `authorization: Bearer ...`.

Exit codes, as aws-cli: 0 success; 252 bad command line; 254 the server answered with an
error (printed as `An error occurred (<AWS code>) when calling the <Op> operation: <message>`);
255 anything else on this side (no credential file, server unreachable, unreadable file://).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import grpc
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from smgrpc._pb.iam.v1 import iam_pb2 as pb
from smgrpc._pb.iam.v1 import iam_pb2_grpc as pbg
from smgrpc.cli.iam_ops import OPERATIONS, Operation, Param
from smgrpc.config import DEFAULT_LISTEN, Config

USAGE_ERROR = 252
SERVICE_ERROR = 254
CLIENT_ERROR = 255
_DOCUMENTS = frozenset({"PolicyDocument", "AssumeRolePolicyDocument"})
_SHORTHAND = re.compile(r"Key=(?P<k>[^,]*),Value=(?P<v>.*)|Value=(?P<v2>[^,]*),Key=(?P<k2>.*)")


class Failure(Exception):
    """A client-side failure: message for stderr (never a credential) and exit code."""

    def __init__(self, message: str, code: int = CLIENT_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message}\n")


def default_token_file() -> Path:
    """The embedded default Region's admin credential (relative to the working directory)."""
    return Config().admin_token_path


def _common(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("connection")
    g.add_argument(
        "--endpoint",
        default=os.environ.get("SMGRPC_ENDPOINT", DEFAULT_LISTEN),
        help=f"HOST:PORT of the server (default $SMGRPC_ENDPOINT or {DEFAULT_LISTEN})",
    )
    g.add_argument(
        "--token-file",
        type=Path,
        default=None,
        help="file holding AccessKeyId:SecretAccessKey (default $SMGRPC_TOKEN_FILE, else "
        f"{default_token_file()})",
    )
    g.add_argument("--ca-file", type=Path, help="CA bundle (PEM): connect with TLS")
    g.add_argument("--client-cert", type=Path, help="client certificate (PEM) for mTLS")
    g.add_argument("--client-key", type=Path, help="client private key (PEM) for mTLS")
    g.add_argument("--timeout", type=float, default=30.0, help="seconds per call (default 30)")


def _add_param(p: argparse.ArgumentParser, prm: Param) -> None:
    kw: dict[str, Any] = {"dest": prm.field, "required": prm.required, "help": prm.help}
    kw["metavar"] = "<value>"
    if prm.kind == "int":
        kw["type"] = int
    if prm.kind == "tags":
        kw["nargs"] = "+"
    p.add_argument(prm.flag, **kw)


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="smgrpc iam", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = p.add_subparsers(dest="operation", required=True, parser_class=_Parser)
    for name, op in OPERATIONS.items():
        c = sub.add_parser(name, help=op.help, description=f"{op.method}: {op.help}.")
        for prm in op.params:
            _add_param(c, prm)
        if op.items:
            c.add_argument("--max-items", type=int, help="at most this many items in all")
            c.add_argument("--page-size", type=int, help="items per call (MaxItems)")
            c.add_argument("--starting-token", "--marker", dest="marker", help="go on from here")
        _common(c)
    return p


# ---- request building ----


def _read(value: str) -> str:
    """aws-cli's file:// and fileb:// prefixes: the file's text; anything else as given."""
    for prefix in ("file://", "fileb://"):
        if value.startswith(prefix):
            path = Path(value[len(prefix) :]).expanduser()
            try:
                return path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise Failure(f"Error parsing parameter: unable to read {path}: {exc}") from None
    return value


def _tags(values: Sequence[str]) -> list[pb.Tag]:
    out: list[pb.Tag] = []
    for raw in values:
        text = _read(raw).strip()
        if text.startswith("["):
            try:
                items = json.loads(text)
                out.extend(pb.Tag(key=str(t["Key"]), value=str(t["Value"])) for t in items)
            except (ValueError, KeyError, TypeError):
                raise Failure(
                    'Error parsing parameter \'--tags\': expected [{"Key": ..., "Value": ...}]',
                    USAGE_ERROR,
                ) from None
            continue
        m = _SHORTHAND.fullmatch(text)
        if m is None:
            raise Failure(
                f"Error parsing parameter '--tags': expected Key=k,Value=v, got {text!r}",
                USAGE_ERROR,
            )
        out.append(pb.Tag(key=m["k"] or m["k2"] or "", value=m["v"] or m["v2"] or ""))
    return out


def build_request(op: Operation, args: argparse.Namespace) -> Message:
    request: Message = getattr(pb, f"{op.method}Request")()
    for prm in op.params:
        value = getattr(args, prm.field)
        if value is None:
            continue
        if prm.kind == "tags":
            getattr(request, prm.field).extend(_tags(value))
        elif prm.kind == "doc":
            setattr(request, prm.field, _read(value))
        else:
            try:
                setattr(request, prm.field, value)
            except ValueError:  # an integer beyond int32
                raise Failure(
                    f"Invalid value for parameter {prm.flag}: {value}", USAGE_ERROR
                ) from None
    return request


# ---- output ----


def _stamp(ts: Timestamp) -> str:
    return datetime.fromtimestamp(ts.seconds + ts.nanos / 1e9, UTC).isoformat()


def _value(field: Any, value: Any) -> Any:
    if field.message_type is not None:
        if field.message_type.full_name == Timestamp.DESCRIPTOR.full_name:
            return _stamp(value)
        return to_json(value)
    if field.json_name in _DOCUMENTS:
        try:  # aws-cli prints policy documents as JSON objects
            return json.loads(value)
        except ValueError:
            return value
    return value


def to_json(msg: Message) -> dict[str, Any]:
    """The aws-cli shape of a response: AWS member names, ISO 8601 dates, documents as JSON."""
    out: dict[str, Any] = {}
    for field, value in msg.ListFields():
        if field.is_repeated:
            out[field.json_name] = [_value(field, v) for v in value]
        else:
            out[field.json_name] = _value(field, value)
    return out


# ---- the call ----


def _credential(args: argparse.Namespace) -> str:
    env = os.environ.get("SMGRPC_TOKEN_FILE")
    path = args.token_file or (Path(env) if env else default_token_file())
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise Failure(
            f"cannot read the credential file {path}: {reason} "
            "(give --token-file or set SMGRPC_TOKEN_FILE)"
        ) from None
    if not token or any(c.isspace() for c in token):
        raise Failure(f"the credential file {path} does not hold one AccessKeyId:SecretAccessKey")
    return token


def _channel(args: argparse.Namespace) -> grpc.Channel:
    if args.ca_file is None and args.client_cert is None:
        return grpc.insecure_channel(args.endpoint)
    try:
        creds = grpc.ssl_channel_credentials(
            root_certificates=args.ca_file.read_bytes() if args.ca_file else None,
            private_key=args.client_key.read_bytes() if args.client_key else None,
            certificate_chain=args.client_cert.read_bytes() if args.client_cert else None,
        )
    except OSError as exc:
        raise Failure(f"cannot read a TLS file: {exc.filename}: {exc.strerror}") from None
    return grpc.secure_channel(args.endpoint, creds)


def _service_error(method: str, exc: Any) -> Failure:
    """exc: the grpc.RpcError of a call (also a grpc.Call: code, details, trailers)."""
    status = rpc_status.from_call(exc)
    info = error_details_pb2.ErrorInfo()
    for detail in status.details if status is not None else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            detail.Unpack(info)
    code = info.metadata.get("awsErrorCode")
    message = exc.details() or ""
    if code:
        return Failure(
            f"\nAn error occurred ({code}) when calling the {method} operation: {message}",
            SERVICE_ERROR,
        )
    status_code = exc.code()
    if status_code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return Failure(f'Could not connect to the endpoint: "{status_code.name}: {message}"')
    return Failure(
        f"\nAn error occurred ({status_code.name}) when calling the {method} operation: {message}"
    )


def _call(stub: Any, op: Operation, request: Message, meta: Any, timeout: float) -> Message:
    try:
        return getattr(stub, op.method)(request, metadata=meta, timeout=timeout)  # type: ignore[no-any-return]
    except grpc.RpcError as exc:
        raise _service_error(op.method, exc) from None


def _pages(stub: Any, op: Operation, args: argparse.Namespace, meta: Any) -> dict[str, Any]:
    """Follow Marker until the end or --max-items; NextToken when capped with more left."""
    assert op.items is not None
    request = build_request(op, args)
    items: list[Any] = []
    marker: str | None = args.marker
    while True:
        want = [n for n in (args.page_size, args.max_items and args.max_items - len(items)) if n]
        request.ClearField("marker")
        request.ClearField("max_items")
        if marker is not None:
            request.marker = marker  # type: ignore[attr-defined]
        if want:
            request.max_items = min(want)  # type: ignore[attr-defined]
        response = _call(stub, op, request, meta, args.timeout)
        items.extend(getattr(response, op.items))
        marker = response.marker if response.is_truncated else None  # type: ignore[attr-defined]
        if marker is None or (args.max_items and len(items) >= args.max_items):
            break
    field = response.DESCRIPTOR.fields_by_name[op.items]
    out: dict[str, Any] = {field.json_name: [_value(field, v) for v in items]}
    if marker is not None:
        out["NextToken"] = marker
    return out


def run(args: argparse.Namespace) -> int:
    op = OPERATIONS[args.operation]
    meta = (("authorization", f"Bearer {_credential(args)}"),)
    with _channel(args) as channel:
        stub = pbg.IAMStub(channel)  # type: ignore[no-untyped-call]
        if op.items:
            out = _pages(stub, op, args, meta)
        else:
            out = to_json(_call(stub, op, build_request(op, args), meta, args.timeout))
    if out:
        print(json.dumps(out, indent=4))
    return 0


def main(argv: Sequence[str]) -> int:
    args = parser().parse_args(argv)
    try:
        return run(args)
    except Failure as exc:
        print(exc.message, file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
