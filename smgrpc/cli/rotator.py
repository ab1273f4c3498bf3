"""`smgrpc rotator postgresql|template`: serve a rotation function until SIGTERM.

A rotation function is a gRPC server (smgrpc.rotation.v1.RotationFunction) that a Region
invokes once per rotation step; it calls the Region's public API back at --endpoint with its
own credential (--credentials-file, `AccessKeyId:SecretAccessKey`, mode 0600). Register it with
`smgrpc serve --rotation-function NAME=HOST:PORT`.
"""

from __future__ import annotations

import argparse
import sys

from smgrpc.rotators import options, template

HELP = {
    "postgresql": "rotate a PostgreSQL user's password (AWS's single-user and alternating-users "
    "strategies; the secret JSON decides: `masterarn` present = alternating)",
    "template": "the minimal Python template (smgrpc/rotators/template.py): a random password "
    "kept only in the secret",
}

_SERVES = (
    "Serves until SIGTERM; register it with `smgrpc serve --rotation-function NAME=HOST:PORT`. "
    "Plaintext only on loopback addresses unless --insecure."
)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("rotator", help="serve a rotation function", description=__doc__)
    rsub = p.add_subparsers(dest="rotator", required=True)
    for name, text in HELP.items():
        c = rsub.add_parser(name, help=text, description=f"{text}. {_SERVES}")
        options.add_arguments(c)
        if name == "postgresql":
            c.add_argument(
                "--connect-timeout", type=int, default=5, help="seconds per database login"
            )


def run(args: argparse.Namespace) -> int:
    if args.rotator == "template":
        return options.run(args, template.make_handler)
    try:
        from smgrpc.rotators import postgresql
    except ImportError:
        print(
            "smgrpc: the PostgreSQL rotator needs psycopg: pip install 'smgrpc[postgresql]'",
            file=sys.stderr,
        )
        return 2
    return options.run(args, postgresql.make_handler)
