"""The command line every rotation function shares (`smgrpc rotator ...`, the template's main).

--listen HOST:PORT           where the function serves Invoke (plaintext: loopback only
                             unless --insecure; --tls-cert/--tls-key serve TLS, and
                             --tls-client-ca also requires the Region's client certificate)
--endpoint HOST:PORT         the smgrpc Region the function calls back
--credentials-file FILE      the function's own AccessKeyId:SecretAccessKey (0600)
--ca-file FILE               call the endpoint over TLS, trusting this CA
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from smgrpc import logs
from smgrpc.auth.token_file import TokenFileError
from smgrpc.core.net import is_loopback
from smgrpc.rotators.function import (
    FunctionConfigError,
    FunctionServer,
    Handler,
    SecretsApi,
    ServerTls,
    connect,
)

MakeHandler = Callable[[SecretsApi, argparse.Namespace], Handler]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--listen", required=True, metavar="HOST:PORT", help="serve Invoke here")
    p.add_argument(
        "--endpoint", required=True, metavar="HOST:PORT", help="the smgrpc Region to call back"
    )
    p.add_argument(
        "--credentials-file",
        required=True,
        type=Path,
        metavar="FILE",
        help="the function's AccessKeyId:SecretAccessKey, one line, mode 0600",
    )
    p.add_argument("--ca-file", type=Path, metavar="FILE", help="TLS to --endpoint with this CA")
    p.add_argument("--tls-cert", type=Path, metavar="FILE", help="serve TLS with this chain")
    p.add_argument("--tls-key", type=Path, metavar="FILE", help="the key of --tls-cert")
    p.add_argument(
        "--tls-client-ca", type=Path, metavar="FILE", help="require client certs from this CA"
    )
    p.add_argument(
        "--insecure",
        action="store_true",
        help="allow plaintext to and from non-loopback addresses (credentials in clear text)",
    )
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per callback call")
    p.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    p.add_argument("--log-format", default="text", choices=("text", "json"))


def _read(path: Path | None, flag: str) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as exc:
        raise FunctionConfigError(f"cannot read {flag} {path}: {exc.strerror}") from None


def server_tls(args: argparse.Namespace) -> ServerTls | None:
    cert, key = _read(args.tls_cert, "--tls-cert"), _read(args.tls_key, "--tls-key")
    client_ca = _read(args.tls_client_ca, "--tls-client-ca")
    if (cert is None) != (key is None):
        raise FunctionConfigError("--tls-cert and --tls-key go together")
    if cert is None or key is None:
        if client_ca is not None:
            raise FunctionConfigError("--tls-client-ca needs --tls-cert and --tls-key")
        if not (args.insecure or is_loopback(args.listen)):
            raise FunctionConfigError(
                f"--listen {args.listen} is not a loopback address: serve TLS (--tls-cert, "
                "--tls-key) or give --insecure"
            )
        return None
    return ServerTls(cert, key, client_ca)


async def serve(args: argparse.Namespace, make_handler: MakeHandler) -> int:
    tls = server_tls(args)
    api = connect(
        args.endpoint,
        args.credentials_file,
        args.ca_file,
        insecure=args.insecure,
        timeout=args.timeout,
    )
    server = FunctionServer(make_handler(api, args), api, args.listen, tls=tls)
    await server.start()
    await server.serve_until_signal()
    return 0


def run(args: argparse.Namespace, make_handler: MakeHandler) -> int:
    """Serve until SIGTERM; 2 (with a message on stderr) if the settings are unusable."""
    logs.setup(args.log_level, args.log_format)
    try:
        return asyncio.run(serve(args, make_handler))
    except (FunctionConfigError, TokenFileError) as exc:
        print(f"smgrpc: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:  # grpc: the --listen address could not be bound
        print(f"smgrpc: cannot serve on {args.listen}: {exc}", file=sys.stderr)
        return 2


def main(make_handler: MakeHandler, prog: str, argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__)
    add_arguments(p)
    return run(p.parse_args(argv), make_handler)
