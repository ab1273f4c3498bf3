"""Certificates for the TLS tests: made by `smgrpc tls init` (plus a few hostile ones)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import grpc

from smgrpc.cli import tls as tls_cli
from smgrpc.crypto import certs

US, EU, AP = "us-east-1", "eu-west-1", "ap-southeast-2"
ALICE = "arn:aws:iam::123456789012:user/alice"
APP = "arn:aws:iam::123456789012:role/team/app"


@dataclass(frozen=True)
class Pki:
    root: Path

    def region(self, name: str) -> dict[str, Path]:
        d = self.root / name
        return {
            "tls_cert": d / "server.pem",
            "tls_key": d / "server.key",
            "peer_cert": d / "peer.pem",
            "peer_key": d / "peer.key",
            "peer_ca": self.root / "peer-ca.pem",
            "client_ca": self.root / "client-ca.pem",
        }

    @property
    def client_ca(self) -> bytes:
        return (self.root / "client-ca.pem").read_bytes()

    @property
    def peer_ca(self) -> bytes:
        return (self.root / "peer-ca.pem").read_bytes()

    def pair(self, stem: str) -> tuple[bytes, bytes]:
        """(key PEM, cert PEM) of root/<stem>.pem|key."""
        return (self.root / f"{stem}.key").read_bytes(), (self.root / f"{stem}.pem").read_bytes()

    def issuer(self, stem: str) -> certs.Issued:
        return certs.load(self.root / f"{stem}.pem", self.root / f"{stem}.key")

    def add(self, stem: str, issued: certs.Issued) -> None:
        certs.save(issued, self.root / f"{stem}.pem", self.root / f"{stem}.key")

    def channel_creds(self, client: str | None = None) -> grpc.ChannelCredentials:
        """Trusts the client CA (it signs the servers); optionally presents root/<client>."""
        if client is None:
            return grpc.ssl_channel_credentials(self.client_ca)
        key, cert = self.pair(client)
        return grpc.ssl_channel_credentials(self.client_ca, key, cert)


def make_pki(root: Path) -> Pki:
    args = argparse.Namespace(
        out=root, regions=f"{US},{EU},{AP}", host=[], client=[ALICE, APP], days=2
    )
    assert tls_cli.run(args, out=lambda _line: None) == 0
    pki = Pki(root)
    # A CA nobody trusts, with a client certificate carrying a real-looking ARN.
    other = certs.make_ca("some other CA")
    pki.add("other-ca", other)
    pki.add("clients/other_alice", certs.client_cert(other, ALICE, 2))
    # A certificate from the *client* CA that claims to be a Region's peer certificate.
    pki.add("clients/fake_peer_eu", certs.peer_cert(pki.issuer("client-ca"), EU, 2))
    return pki
