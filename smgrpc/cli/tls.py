"""`smgrpc tls init`: the certificates of a cluster (two CAs, per-Region and client leaves).

    smgrpc tls init --out DIR --regions us-east-1,eu-west-1 [--host NAME]... [--client ARN]...

DIR/client-ca.pem (+ .key)   signs the Regions' server certificates and the client
                             certificates; servers take it as --client-ca, clients as their root
DIR/peer-ca.pem (+ .key)     signs only the Region-to-Region certificates (--peer-ca)
DIR/<region>/server.pem|key  --tls-cert/--tls-key (SANs: localhost, 127.0.0.1, ::1, the Region
                             name, every --host)
DIR/<region>/peer.pem|key    --peer-cert/--peer-key (DNS SAN <region>.region.smgrpc)
DIR/clients/<kind>_<name>.pem|key   a client certificate per --client ARN (URI SAN = the ARN)

Keys are 0600. Existing files are kept (never overwritten): run it again to add Regions or
clients under the same CAs.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from functools import partial
from pathlib import Path

from smgrpc.auth.mtls import IAM_ARN_RE
from smgrpc.config import ConfigError
from smgrpc.crypto import certs

_REGION_RE = re.compile(r"[a-z][a-z0-9-]{0,31}")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    tls = sub.add_parser("tls", help="make TLS certificates for a cluster", description=__doc__)
    tsub = tls.add_subparsers(dest="tls_command", required=True)
    init = tsub.add_parser(
        "init",
        help="make the CAs and certificates of a cluster",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    init.add_argument("--out", required=True, type=Path, metavar="DIR")
    init.add_argument("--regions", required=True, metavar="R1,R2,...")
    init.add_argument(
        "--host",
        action="append",
        default=[],
        metavar="NAME|IP",
        help="another name or address of the servers (repeatable; every server certificate)",
    )
    init.add_argument(
        "--client",
        action="append",
        default=[],
        metavar="ARN",
        help="an IAM user or role ARN to make a client certificate for (repeatable)",
    )
    init.add_argument("--days", type=int, default=365, help="leaf validity (default 365)")


def _regions(text: str) -> list[str]:
    regions = [r.strip() for r in text.split(",") if r.strip()]
    bad = [r for r in regions if not _REGION_RE.fullmatch(r)]
    if not regions or bad:
        raise ConfigError(f"--regions must list Region names like us-east-1, got {text!r}")
    return regions


def client_name(arn: str) -> str:
    """clients/<file stem> of an ARN: role/team/app -> role_team_app."""
    return arn.split(":", 5)[5].replace("/", "_")


def run(args: argparse.Namespace, out: Callable[[str], None] = print) -> int:
    regions = _regions(args.regions)
    for arn in args.client:
        if not IAM_ARN_RE.fullmatch(arn):
            raise ConfigError(
                f"--client must be an IAM user or role ARN "
                f"(arn:aws:iam::123456789012:user/NAME), got {arn!r}"
            )
    if args.days < 1:
        raise ConfigError("--days must be at least 1")
    root: Path = args.out

    def ca(stem: str, name: str) -> certs.Issued:
        cert, key = root / f"{stem}.pem", root / f"{stem}.key"
        if cert.exists() and key.exists():
            out(f"kept {cert}")
            return certs.load(cert, key)
        issued = certs.make_ca(name)
        certs.save(issued, cert, key)
        out(f"created {cert}")
        return issued

    def leaf(cert: Path, make: Callable[[], certs.Issued]) -> None:
        key = cert.with_suffix(".key")
        if cert.exists() or key.exists():
            out(f"kept {cert}")
            return
        certs.save(make(), cert, key)
        out(f"created {cert}")

    client_ca = ca("client-ca", "smgrpc client CA")
    peer_ca = ca("peer-ca", "smgrpc peer CA")
    for region in regions:
        leaf(
            root / region / "server.pem",
            partial(certs.server_cert, client_ca, region, args.host, args.days),
        )
        leaf(root / region / "peer.pem", partial(certs.peer_cert, peer_ca, region, args.days))
    for arn in args.client:
        leaf(
            root / "clients" / f"{client_name(arn)}.pem",
            partial(certs.client_cert, client_ca, arn, args.days),
        )
    return 0
