"""`smgrpc iam <operation>`: the IAM administration calls of a running server, aws-cli style.

Parameters carry the aws-cli names (`--user-name`, `--policy-document file://p.json`); output
is the JSON aws-cli prints (`{"User": {...}}`; nothing for the Delete/Put/Tag/Update calls);
list operations follow every page unless `--max-items` caps them (then `NextToken` says where
to go on with `--starting-token`). Endpoint, credential and TLS come as for the Python client
(smgrpc.client.settings): `--endpoint` (or aws-cli's `--endpoint-url`), else $SMGRPC_ENDPOINT,
else 127.0.0.1:50051; the credential (`<AccessKeyId>:<SecretAccessKey>`, as in admin.token)
from `--token-file`, else $SMGRPC_TOKEN, else $SMGRPC_TOKEN_FILE, else the embedded default
Region's `smgrpc-data/us-east-1/admin.token`, sent as `authorization: Bearer ...`; `--ca-file`
(or `--ca-bundle`; else $SMGRPC_CA_FILE) for TLS. The aws-cli machinery is shared with
`smgrpc secretsmanager` (smgrpc.cli.awscli).

Exit codes, as aws-cli: 0 success; 252 bad command line; 254 the server answered with an
error (printed as `An error occurred (<AWS code>) when calling the <Op> operation: <message>`);
255 anything else on this side (no credential file, server unreachable, unreadable file://).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.message import Message

from smgrpc._pb.iam.v1 import iam_pb2 as pb
from smgrpc._pb.iam.v1 import iam_pb2_grpc as pbg
from smgrpc.cli.awscli import (
    CLIENT_ERROR,
    SERVICE_ERROR,
    USAGE_ERROR,
    Failure,
    Parser,
    client_failure,
    client_settings,
    fill,
    iso_utc,
    not_utf8,
    print_failure,
    run_main,
    structure,
    text_param,
)
from smgrpc.cli.awscli import to_json as _to_json
from smgrpc.cli.iam_ops import OPERATIONS, Operation, Param
from smgrpc.client.channel import metadata, sync_channel
from smgrpc.client.errors import ClientError, from_rpc_error
from smgrpc.client.settings import DEFAULT_ENDPOINT, DEFAULT_TOKEN_FILE

__all__ = ["CLIENT_ERROR", "SERVICE_ERROR", "USAGE_ERROR", "Failure", "main", "parser"]
_DOCUMENTS = frozenset({"PolicyDocument", "AssumeRolePolicyDocument"})


def _common(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("connection")
    g.add_argument(
        "--endpoint",
        "--endpoint-url",
        dest="endpoint",
        help=f"HOST:PORT of the server (default $SMGRPC_ENDPOINT, else {DEFAULT_ENDPOINT})",
    )
    g.add_argument(
        "--token-file",
        type=Path,
        default=None,
        help="file holding AccessKeyId:SecretAccessKey (default $SMGRPC_TOKEN_FILE, else "
        f"{DEFAULT_TOKEN_FILE})",
    )
    g.add_argument(
        "--ca-file", "--ca-bundle", dest="ca_file", type=Path, help="CA bundle (PEM): use TLS"
    )
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
    p = Parser(
        prog="smgrpc iam", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = p.add_subparsers(dest="operation", required=True, parser_class=Parser)
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


def build_request(op: Operation, args: argparse.Namespace) -> Message:
    request: Message = getattr(pb, f"{op.method}Request")()
    for prm in op.params:
        value = getattr(args, prm.field)
        if value is None:
            continue
        if prm.kind == "tags":
            tags = [structure(prm.flag, v) for v in value]
            flat = [t for v in tags for t in (v if isinstance(v, list) else [v])]
            fill(request, {"Tags": flat}, prm.flag, "")
        elif prm.kind == "doc":
            setattr(request, prm.field, text_param(prm.flag, value))
        else:
            try:
                setattr(request, prm.field, value)
            except ValueError:  # an integer beyond int32
                raise Failure(
                    f"Invalid value for parameter {prm.flag}: {value}", USAGE_ERROR
                ) from None
    return request


# ---- output ----


def to_json(msg: Message) -> dict[str, Any]:
    """The aws-cli shape of a response: AWS member names, ISO 8601 dates, documents as JSON."""
    return _to_json(msg, iso_utc, _DOCUMENTS)


# ---- the call ----


@dataclass(frozen=True)
class _Conn:
    stub: Any
    metadata: tuple[tuple[str, str], ...]
    timeout: float
    url: str  # named in "Could not connect to the endpoint URL" lines


def _call(conn: _Conn, op: Operation, request: Message) -> Message:
    try:
        fn = getattr(conn.stub, op.method)
        return fn(request, metadata=conn.metadata, timeout=conn.timeout)  # type: ignore[no-any-return]
    except grpc.RpcError as exc:
        raise client_failure(from_rpc_error(exc, op.method), conn.url) from None


def _pages(conn: _Conn, op: Operation, args: argparse.Namespace) -> dict[str, Any]:
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
        response = _call(conn, op, request)
        items.extend(getattr(response, op.items))
        marker = response.marker if response.is_truncated else None  # type: ignore[attr-defined]
        if marker is None or (args.max_items and len(items) >= args.max_items):
            break
    field = response.DESCRIPTOR.fields_by_name[op.items]
    listed = [to_json(v) if field.message_type is not None else v for v in items]
    out: dict[str, Any] = {field.json_name: listed}
    if marker is not None:
        out["NextToken"] = marker
    return out


def _endpoint(url: str | None) -> str | None:
    """--endpoint HOST:PORT, or --endpoint-url as aws-cli gives it (http:// or https://)."""
    for scheme in ("http://", "https://"):
        if url is not None and url.startswith(scheme):
            return url[len(scheme) :].rstrip("/")
    return url


def run(args: argparse.Namespace) -> int:
    op = OPERATIONS[args.operation]
    s = client_settings(
        _endpoint(args.endpoint), args.token_file, args.ca_file, args.client_cert, args.client_key
    )
    url = f"{'https' if s.tls else 'http'}://{s.endpoint}"
    try:
        opened = sync_channel(s)
    except ClientError as exc:  # an unreadable CA bundle or client certificate
        raise Failure(exc.message) from None
    with opened as channel:
        stub = pbg.IAMStub(channel)  # type: ignore[no-untyped-call]
        conn = _Conn(stub, metadata(s), args.timeout, url)
        out = (
            _pages(conn, op, args)
            if op.items
            else to_json(_call(conn, op, build_request(op, args)))
        )
    if out:
        print(json.dumps(out, indent=4))
    return 0


def main(argv: Sequence[str]) -> int:
    bad = not_utf8(argv)
    if bad is not None:
        return print_failure(bad)
    args = parser().parse_args(argv)
    return run_main(lambda: run(args))
