"""`smgrpc iam-region status|move`: where a cluster's IAM is written, and moving it (fenced).

Both are calls to a running Region, signed with the cluster secret (`--cluster-secret-file`)
like Region-to-Region replication: whoever holds that secret can already sign any push, so
the move gives it no new power, and it works when the old IAM Region is gone and without any
IAM credential (the thing a disaster may have taken). `move` makes the Region at `--endpoint`
(whose name `--to` must give) the IAM Region at an epoch above every epoch it has seen (and
above `--min-epoch`); it pushes that state to every peer, and a Region receiving the higher
epoch, the old IAM Region included, stops accepting IAM writes. IAM writes the old IAM Region
accepted while cut off (and so never shipped) are superseded and logged there.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from smgrpc.crypto.cluster import ClusterKey
from smgrpc.replication.iam_operator import MoveRefused, iam_status, move_iam_region
from smgrpc.replication.iam_wire import IamAck

HELP = (
    "Show or move the cluster's IAM Region (the one Region that accepts IAM writes). "
    "Calls a running Region, signed with the cluster secret."
)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("iam-region", help="show or move the cluster's IAM Region", description=HELP)
    isub = p.add_subparsers(dest="iam_region_command", required=True)
    for name, text in (
        ("status", "the IAM Region, epoch and generation a Region has"),
        ("move", "make the Region at --endpoint the IAM Region (fences the old one)"),
    ):
        c = isub.add_parser(name, help=text, description=f"{text}. {__doc__}")
        c.add_argument("--endpoint", required=True, metavar="HOST:PORT", help="the Region")
        c.add_argument(
            "--region" if name == "status" else "--to",
            dest="target",
            required=True,
            metavar="REGION",
            help="the name of the Region at --endpoint",
        )
        c.add_argument("--cluster-secret-file", required=True, type=Path, metavar="FILE")
        c.add_argument(
            "--ca-file",
            type=Path,
            metavar="FILE",
            help="TLS: the CA of the Region's --tls-cert (e.g. certs/client-ca.pem)",
        )
        if name == "move":
            c.add_argument(
                "--min-epoch",
                type=int,
                default=0,
                metavar="N",
                help="the new epoch is above N too (the highest epoch any Region reports)",
            )


def _show(ack: IamAck) -> None:
    print(
        json.dumps(
            {
                "IamRegion": ack.holder,
                "Epoch": ack.epoch,
                "Generation": ack.generation,
                "Changed": ack.applied,
            }
        )
    )


async def _run(args: argparse.Namespace) -> int:
    key = ClusterKey.from_file(args.cluster_secret_file)
    ca = args.ca_file.read_bytes() if args.ca_file is not None else None
    try:
        if args.iam_region_command == "move":
            ack = await move_iam_region(args.endpoint, args.target, key, args.min_epoch, ca=ca)
        else:
            ack = await iam_status(args.endpoint, args.target, key, ca=ca)
    except MoveRefused as exc:
        print(
            f"smgrpc: {args.endpoint} refused or was unreachable ({exc}); check that it is "
            f"Region {args.target}, running, and uses this cluster secret",
            file=sys.stderr,
        )
        return 1
    _show(ack)
    return 0


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
