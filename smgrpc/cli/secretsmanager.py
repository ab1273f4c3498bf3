"""`smgrpc secretsmanager <command>`: the AWS Secrets Manager operations of a running server,
with aws-cli's command and parameter names (see sm_commands), output and exit codes.

Global options (before or after the command, as aws-cli): --output json|text|table, --query
JMESPATH, --endpoint-url [http[s]://]HOST:PORT, --no-paginate, --ca-bundle FILE, --token-file
FILE, --cli-read-timeout SECONDS. Endpoint, credential and TLS otherwise come as for the Python
client: $SMGRPC_ENDPOINT, $SMGRPC_TOKEN / $SMGRPC_TOKEN_FILE, $SMGRPC_CA_FILE, else
127.0.0.1:50051 and ./smgrpc-data/us-east-1/admin.token.

List operations follow every page unless --max-items caps them; then NextToken says where to
go on with --starting-token (--page-size: items per call). `watch` prints the WatchSecrets
stream, one JSON object per line. Exit codes: 0, 252 usage, 254 the service's error, 255 other.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from google.protobuf.message import Message
from jmespath.parser import ParsedResult

from smgrpc.cli.awscli import (
    USAGE_ERROR,
    Failure,
    Parser,
    client_failure,
    client_settings,
    iso_local,
    not_utf8,
    print_failure,
    run_main,
    to_json,
)
from smgrpc.cli.output import FORMATS, compile_query, emit, search
from smgrpc.cli.sm_commands import COMMANDS, Command, add_params, build_request
from smgrpc.client import ClientError, SecretsManagerClient, ServiceError

WATCH_HELP = (
    "print the WatchSecrets stream (beyond AWS), one JSON object per line, until Ctrl-C: "
    "a Heartbeat first, then the events of the secrets you may DescribeSecret"
)


def _globals(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("global options")
    g.add_argument("--output", choices=FORMATS, default=None, help="output format (json)")
    g.add_argument("--query", default=None, help="JMESPath expression applied to the response")
    g.add_argument("--endpoint-url", default=None, help="[http[s]://]HOST:PORT of the server")
    g.add_argument("--no-paginate", action="store_true", default=None, help="one call only")
    g.add_argument("--ca-bundle", type=Path, default=None, help="CA bundle (PEM): use TLS")
    g.add_argument("--token-file", type=Path, default=None, help="AccessKeyId:SecretAccessKey")
    g.add_argument("--cli-read-timeout", type=float, default=None, help="seconds (default 60)")


def global_parser() -> argparse.ArgumentParser:
    p = Parser(prog="smgrpc secretsmanager", add_help=False, allow_abbrev=False)
    _globals(p)
    return p


def parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="smgrpc secretsmanager",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser, metavar="<command>")
    for name, cmd in COMMANDS.items():
        c = sub.add_parser(name, help=cmd.op.name, allow_abbrev=False)
        add_params(c, cmd)
        if cmd.paging is not None:
            c.add_argument("--starting-token", help="NextToken of an earlier --max-items call")
            c.add_argument("--page-size", type=int, help="items per call (MaxResults)")
            c.add_argument("--max-items", type=int, help="at most this many items in all")
        _globals(c)
    w = sub.add_parser("watch", help=WATCH_HELP, description=WATCH_HELP, allow_abbrev=False)
    w.add_argument("--secret-ids", nargs="+", metavar="<value>", help="names or ARNs (all)")
    w.add_argument("--name-prefix", metavar="<value>", help="only secrets named so")
    w.add_argument("--after-sequence", type=int, metavar="<value>", help="resume after it")
    _globals(w)
    return p


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """Global options anywhere (aws-cli parses them first), then the command and its own."""
    known, rest = global_parser().parse_known_args(argv)
    args = parser().parse_args(rest)
    for key, value in vars(known).items():
        if value is not None:
            setattr(args, key, value)
    return args


# ---- endpoint ----


def _endpoint(url: str | None) -> tuple[str | None, bool]:
    """--endpoint-url as HOST:PORT and whether it asks for TLS (https://)."""
    if url is None:
        return None, False
    for scheme, tls in (("http://", False), ("https://", True)):
        if url.startswith(scheme):
            return url[len(scheme) :].rstrip("/"), tls
    return url.rstrip("/"), False


def connect(args: argparse.Namespace, timeout: float) -> tuple[SecretsManagerClient, str]:
    endpoint, tls = _endpoint(args.endpoint_url)
    s = client_settings(endpoint, args.token_file, args.ca_bundle)
    if tls and not s.tls:
        raise Failure("an https:// endpoint needs a CA bundle: --ca-bundle or SMGRPC_CA_FILE")
    url = args.endpoint_url or f"{'https' if s.tls else 'http'}://{s.endpoint}"
    try:
        return SecretsManagerClient(s, timeout=timeout), url
    except ClientError as exc:
        raise Failure(exc.message) from None


# ---- pagination (botocore's: a resume token is base64 JSON, truncating inside a page) ----


def encode_token(token: str | None, truncate: int | None = None) -> str:
    data: dict[str, Any] = {"NextToken": token}
    if truncate is not None:
        data["boto_truncate_amount"] = truncate
    return base64.b64encode(json.dumps(data).encode()).decode()


def decode_token(text: str) -> tuple[str | None, int]:
    """(service NextToken, items of that page already shown); a raw NextToken works too."""
    try:
        data = json.loads(base64.b64decode(text, validate=True))
        if isinstance(data, dict) and set(data) <= {"NextToken", "boto_truncate_amount"}:
            return data.get("NextToken"), int(data.get("boto_truncate_amount", 0))
    except (ValueError, TypeError, binascii.Error):
        pass
    return text, 0


def pages(
    client: SecretsManagerClient, cmd: Command, request: Message, args: argparse.Namespace
) -> tuple[list[dict[str, Any]], str | None]:
    """Every page (its result lists; the first also the other members) and the resume token."""
    assert cmd.paging is not None
    keys = cmd.paging.result_keys
    token, skip = decode_token(args.starting_token) if args.starting_token else (None, 0)
    out: list[dict[str, Any]] = []
    total = 0
    while True:
        req = type(request)()
        req.CopyFrom(request)
        if token:
            req.next_token = token  # type: ignore[attr-defined]
        if args.page_size:
            req.max_results = args.page_size  # type: ignore[attr-defined]
        response = client.call(cmd.op.name, req)
        page = to_json(response, iso_local)
        nxt = page.pop("NextToken", None)
        if out:
            page = {k: v for k, v in page.items() if k in keys}
        for k in keys:
            page.setdefault(k, [])
        if skip:
            page[keys[0]] = page[keys[0]][skip:]
        out.append(page)
        n = len(page[keys[0]])
        if args.max_items is not None and total + n > args.max_items:
            keep = args.max_items - total
            page[keys[0]] = page[keys[0]][:keep]
            return out, encode_token(token, keep + skip)
        total += n
        if not nxt:
            return out, None
        if args.max_items is not None and total == args.max_items:
            return out, encode_token(nxt)
        token, skip = nxt, 0


def merged(cmd: Command, parts: list[dict[str, Any]], resume: str | None) -> dict[str, Any]:
    """botocore's build_full_result: the result lists, NextToken, then the other members."""
    assert cmd.paging is not None
    result: dict[str, Any] = {
        k: [x for p in parts for x in p.get(k, [])] for k in cmd.paging.result_keys
    }
    if resume is not None:
        result["NextToken"] = resume
    for k, v in parts[0].items():
        result.setdefault(k, v)
    return result


# ---- run ----


def run(args: argparse.Namespace) -> int:
    query = compile_query(args.query)
    fmt = args.output or "json"
    if args.command == "watch":
        return watch(args, query)
    cmd = COMMANDS[args.command]
    request = build_request(cmd, args)
    paginate = cmd.paging is not None and not args.no_paginate
    if paginate and (args.next_token is not None or args.max_results is not None):
        paginate = False  # aws-cli: an explicit NextToken / MaxResults turns paging off
    client, url = connect(args, args.cli_read_timeout or 60.0)
    with client:
        try:
            if paginate:
                parts, resume = pages(client, cmd, request, args)
            else:
                data = to_json(client.call(cmd.op.name, request), iso_local)
        except (ServiceError, ClientError) as exc:
            raise client_failure(exc, url) from None
    if not paginate:
        emit(cmd.op.name, data, fmt, query, sys.stdout)
    elif fmt == "text":  # aws-cli: each page on its own, then the NextToken
        for part in parts:
            emit(cmd.op.name, part, fmt, query, sys.stdout)
        if resume is not None:
            emit(cmd.op.name, {"NextToken": {"NextToken": resume}}, fmt, query, sys.stdout)
    else:
        emit(cmd.op.name, merged(cmd, parts, resume), fmt, query, sys.stdout)
    return 0


def watch(args: argparse.Namespace, query: ParsedResult | None) -> int:
    client, url = connect(args, args.cli_read_timeout or 60.0)
    with client:
        stream = client.watch_secrets(args.secret_ids or (), args.name_prefix, args.after_sequence)
        with stream:
            try:
                for event in stream:
                    line = search(query, to_json(event, iso_local))
                    print(json.dumps(line, ensure_ascii=False, separators=(",", ":")), flush=True)
            except (ServiceError, ClientError) as exc:
                raise client_failure(exc, url) from None
    return 0


def main(argv: Sequence[str]) -> int:
    bad = not_utf8(argv)
    if bad is not None:
        return print_failure(bad)
    try:
        args = parse(argv)
    except Failure as exc:
        print(exc.message, file=sys.stderr)
        return USAGE_ERROR
    return run_main(lambda: run(args))
