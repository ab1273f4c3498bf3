"""Making the certificates of a cluster: a client CA, a separate peer CA, and their leaves.

The client CA signs each Region's public server certificate (clients verify servers with it)
and the client certificates, whose URI SAN is an IAM user or role ARN. The peer CA signs only
the Region-to-Region certificates; the Region's name is their one DNS SAN
`<region>.region.smgrpc` (the server name a shipper expects and the identity it pushes with).
Keys are ECDSA P-256, written 0600 and never overwritten.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

REGION_DOMAIN = "region.smgrpc"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
_SKEW = datetime.timedelta(minutes=5)  # not-before in the past: small clock differences pass


def region_dns(region: str) -> str:
    """The DNS SAN naming a Region in its peer certificate (and the shipper's server name)."""
    return f"{region}.{REGION_DOMAIN}"


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key (PEM). The key never appears in a repr."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def __repr__(self) -> str:
        return f"Issued(subject={self.cert.subject.rfc4514_string()!r})"

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _builder(subject: str, public: ec.EllipticCurvePublicKey, days: int) -> x509.CertificateBuilder:
    now = _now()
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _SKEW)
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )


def make_ca(name: str, days: int = 3650) -> Issued:
    """A self-signed CA that may sign leaves only (path length 0)."""
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        _builder(name, key.public_key(), days)
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    return Issued(builder.sign(key, hashes.SHA256()), key)


def _san(name: str) -> x509.GeneralName:
    if ":" in name and not _is_ip(name):
        return x509.UniformResourceIdentifier(name)
    if _is_ip(name):
        return x509.IPAddress(ipaddress.ip_address(name))
    return x509.DNSName(name)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def make_leaf(
    ca: Issued,
    subject: str,
    sans: Sequence[str],
    *,
    server: bool,
    client: bool,
    days: int = 365,
) -> Issued:
    """A leaf signed by ca: SANs are DNS names, IP addresses or URIs (anything with a colon)."""
    key = ec.generate_private_key(ec.SECP256R1())
    usages = [ExtendedKeyUsageOID.SERVER_AUTH] * server + [ExtendedKeyUsageOID.CLIENT_AUTH] * client
    builder = (
        _builder(subject, key.public_key(), days)
        .issuer_name(ca.cert.subject)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([_san(s) for s in sans]), critical=False)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
    )
    return Issued(builder.sign(ca.key, hashes.SHA256()), key)


def server_cert(ca: Issued, region: str, hosts: Iterable[str] = (), days: int = 365) -> Issued:
    """A Region's public-port certificate: loopback names, the Region name, and hosts."""
    sans = list(dict.fromkeys([*LOOPBACK_NAMES, region, *hosts]))
    return make_leaf(ca, f"smgrpc {region}", sans, server=True, client=False, days=days)


def peer_cert(peer_ca: Issued, region: str, days: int = 365) -> Issued:
    """A Region's replication certificate: served to shippers (SNI) and presented when pushing."""
    return make_leaf(
        peer_ca, f"smgrpc peer {region}", [region_dns(region)], server=True, client=True, days=days
    )


def client_cert(ca: Issued, arn: str, days: int = 365) -> Issued:
    """A client certificate whose URI SAN is an IAM user or role ARN."""
    return make_leaf(ca, arn.rsplit(":", 1)[-1][:64], [arn], server=False, client=True, days=days)


# ---- files -------------------------------------------------------------------------------


def write_private(path: Path, data: bytes) -> None:
    """Create path 0600 with data; an existing file is an error (keys are never replaced)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def write_public(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def save(issued: Issued, cert_path: Path, key_path: Path) -> None:
    """Write the key (0600) then the certificate; neither may exist yet."""
    write_private(key_path, issued.key_pem)
    write_public(cert_path, issued.cert_pem)


def load(cert_path: Path, key_path: Path) -> Issued:
    """Read back a pair written by save (a CA reused by a later `tls init`)."""
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{key_path} is not an EC private key")
    return Issued(cert, key)
