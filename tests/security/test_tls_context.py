"""What grpc python's auth context really holds, and what auth/mtls reads from it.

A real grpc.aio server on port 0 with the Region's own credentials (api.server
.server_credentials over the files `smgrpc tls init` made) and a health servicer that records
each call's auth_context().
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from smgrpc.api.server import server_credentials
from smgrpc.app import read_tls
from smgrpc.auth import mtls
from smgrpc.crypto import certs
from tests.conftest import make_config
from tests.security.pki import ALICE, APP, EU, US, Pki, make_pki


class Recording(health.aio.HealthServicer):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.contexts: list[dict[str, list[bytes]]] = []

    async def Check(self, request: Any, context: Any) -> Any:  # noqa: N802
        self.contexts.append(dict(context.auth_context()))
        return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)


@dataclass
class Ports:
    pki: Pki
    trust: mtls.Trust
    seen: Recording
    plain: int = 0
    tls: int = 0
    mutual: int = 0
    servers: list[grpc.aio.Server] = field(default_factory=list)

    async def context(
        self, port: int, creds: grpc.ChannelCredentials | None, **opts: str
    ) -> dict[str, list[bytes]]:
        target = f"localhost:{port}"
        options = [(f"grpc.{k}", v) for k, v in opts.items()]
        ch = (
            grpc.aio.secure_channel(target, creds, options=options)
            if creds is not None
            else grpc.aio.insecure_channel(target)
        )
        async with ch:
            await health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5)
        return self.seen.contexts[-1]


@pytest.fixture
async def ports(tmp_path: Path) -> AsyncIterator[Ports]:
    pki = make_pki(tmp_path / "pki")
    cfg = make_config(tmp_path, US, **pki.region(US))
    material = read_tls(cfg)
    p = Ports(pki, mtls.Trust(material.client_ca, material.peer_ca), Recording())
    server = grpc.aio.server()
    health_pb2_grpc.add_HealthServicer_to_server(p.seen, server)
    p.plain = server.add_insecure_port("127.0.0.1:0")
    p.tls = server.add_secure_port("127.0.0.1:0", server_credentials(material, mutual=False))
    p.mutual = server.add_secure_port("127.0.0.1:0", server_credentials(material, mutual=True))
    await server.start()
    yield p
    await server.stop(0)


async def test_a_client_certificate_from_the_client_ca_yields_its_arn(ports: Ports) -> None:
    ctx = await ports.context(ports.mutual, ports.pki.channel_creds("clients/user_alice"))
    # What grpc really puts there (grpcio 1.85): the SANs flattened, the leaf as PEM.
    assert ctx["transport_security_type"] == [b"ssl"]
    assert ctx["x509_subject_alternative_name"] == [ALICE.encode()]
    assert ctx["x509_pem_cert"][0].startswith(b"-----BEGIN CERTIFICATE-----")
    assert ctx["peer_uri"] == [ALICE.encode()]
    assert mtls.secure(ctx) is True
    assert mtls.identity(ctx) == ALICE
    assert ports.trust.identity(ctx) == ALICE
    assert ports.trust.peer_region(ctx) is None  # a client certificate is never a Region
    role = await ports.context(ports.mutual, ports.pki.channel_creds("clients/role_team_app"))
    assert ports.trust.identity(role) == APP


async def test_a_peer_certificate_names_its_region_and_no_identity(ports: Ports) -> None:
    key, cert = (
        (ports.pki.root / EU / "peer.key").read_bytes(),
        (ports.pki.root / EU / "peer.pem").read_bytes(),
    )
    creds = grpc.ssl_channel_credentials(ports.pki.peer_ca, key, cert)
    # The shipper's view: it asks for the Region's name and gets the peer certificate (SNI).
    ctx = await ports.context(ports.mutual, creds, ssl_target_name_override=certs.region_dns(US))
    assert ctx["ssl_requested_server_name"] == [certs.region_dns(US).encode()]
    assert ports.trust.peer_region(ctx) == EU
    assert ports.trust.identity(ctx) is None


async def test_tls_without_client_auth_carries_no_certificate(ports: Ports) -> None:
    # grpcio's Python API has no "optional client certificate": a port either requires one or
    # never asks, so a certificate offered to the TLS-only port is not even sent.
    ctx = await ports.context(ports.tls, ports.pki.channel_creds("clients/user_alice"))
    assert ctx["transport_security_type"] == [b"ssl"]
    assert "x509_pem_cert" not in ctx
    assert mtls.secure(ctx) is True
    assert mtls.identity(ctx) is None


async def test_plaintext_is_not_secure(ports: Ports) -> None:
    ctx = await ports.context(ports.plain, None)
    assert mtls.secure(ctx) is False
    assert mtls.identity(ctx) is None
    assert ports.trust.identity(ctx) is None


async def test_mutual_port_needs_a_certificate_from_a_trusted_ca(ports: Ports) -> None:
    for creds in (
        ports.pki.channel_creds(),  # none at all
        ports.pki.channel_creds("clients/other_alice"),  # the wrong CA, same ARN
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await ports.context(ports.mutual, creds)
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE  # refused at the handshake
    assert ports.seen.contexts == []


def _ctx(issued: certs.Issued) -> dict[str, list[bytes]]:
    return {"transport_security_type": [b"ssl"], "x509_pem_cert": [issued.cert_pem]}


@pytest.mark.parametrize(
    ("sans", "expected"),
    [
        ([ALICE], ALICE),
        ([ALICE, "spiffe://x/y", "a.example"], ALICE),
        ([ALICE, APP], None),  # two ARNs: ambiguous
        (["arn:aws:iam::123456789012:group/admins"], None),  # not a user or role
        (["arn:aws:iam::12345:user/short"], None),  # not 12 digits
        (["arn:aws:sts::123456789012:assumed-role/r/s"], None),
        (["a.example"], None),
    ],
)
def test_identity_rules(tmp_path: Path, sans: list[str], expected: str | None) -> None:
    ca = certs.make_ca("ca")
    leaf = certs.make_leaf(ca, "x", sans, server=False, client=True)
    assert mtls.identity(_ctx(leaf)) == expected
    assert mtls.identity(_ctx(leaf), ca.cert) == expected
    assert mtls.identity(_ctx(leaf), certs.make_ca("other").cert) is None


def test_identity_needs_tls() -> None:
    ca = certs.make_ca("ca")
    leaf = certs.client_cert(ca, ALICE)
    assert mtls.identity({"x509_pem_cert": [leaf.cert_pem]}) is None
    assert mtls.identity({"transport_security_type": [b"ssl"], "x509_pem_cert": [b"junk"]}) is None


def test_peer_region_rules() -> None:
    peer_ca = certs.make_ca("peer")
    assert mtls.peer_region(_ctx(certs.peer_cert(peer_ca, EU)), peer_ca.cert) == EU
    two = certs.make_leaf(
        peer_ca, "x", [certs.region_dns(EU), certs.region_dns(US)], server=True, client=True
    )
    assert mtls.peer_region(_ctx(two), peer_ca.cert) is None
    assert mtls.peer_region(_ctx(certs.peer_cert(peer_ca, EU)), certs.make_ca("c").cert) is None


def test_issued_repr_hides_the_key() -> None:
    issued = certs.make_ca("ca")
    assert "PRIVATE" not in repr(issued)
    assert b"PRIVATE KEY" in issued.key_pem
