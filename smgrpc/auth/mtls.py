"""Who a TLS client certificate says the caller is: an IAM ARN (clients) or a Region (peers).

Reads grpc's per-call auth context (`context.auth_context()`), a mapping of property name to a
list of bytes. Measured with grpcio 1.85 (tests/security/test_tls_context.py):
- always `transport_security_type` ([b"ssl"] over TLS; absent on a plaintext port);
- with a verified client certificate also `x509_pem_cert` (the leaf, PEM), `x509_subject`,
  `x509_common_name`, `x509_subject_alternative_name` (every SAN flattened, DNS names, URIs
  and IPs alike, so a DNS name cannot be told from a URI there), `peer_uri`, `peer_dns`;
- no certificate properties at all when the port did not request one: grpcio's Python API
  either requires a client certificate or does not ask for one (there is no "optional").
The SANs are therefore read from the parsed `x509_pem_cert`. When one port trusts both the
client CA and the peer CA, the issuer is checked here (`verify_directly_issued_by`): a peer
certificate never yields an IAM identity and a client certificate never a Region.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from smgrpc.crypto.certs import REGION_DOMAIN

AuthContext = Mapping[str, Iterable[bytes]]
# arn:aws:iam::<12 digits>:user/<path/>name or role/...; IAM's name and path characters.
IAM_ARN_RE = re.compile(
    r"arn:aws:iam::[0-9]{12}:(?:user|role)/(?:[\x21-\x7e]{0,510}/)?[A-Za-z0-9+=,.@_-]{1,64}"
)
_REGION_RE = re.compile(r"([a-z][a-z0-9-]{0,31})\." + re.escape(REGION_DOMAIN))


def _first(auth_context: AuthContext, name: str) -> bytes | None:
    for value in auth_context.get(name, ()):
        return bytes(value)
    return None


def secure(auth_context: AuthContext) -> bool:
    """True if the call arrived over TLS (aws:SecureTransport)."""
    return _first(auth_context, "transport_security_type") == b"ssl"


@functools.lru_cache(maxsize=4096)
def _parse(pem: bytes) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError:
        return None


@functools.lru_cache(maxsize=4096)
def _issued_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _cert(auth_context: AuthContext, issuer: x509.Certificate | None) -> x509.Certificate | None:
    """The verified client certificate of the call, if it was issued by issuer (when given)."""
    if not secure(auth_context):
        return None
    pem = _first(auth_context, "x509_pem_cert")
    cert = _parse(pem) if pem else None
    if cert is None or (issuer is not None and not _issued_by(cert, issuer)):
        return None
    return cert


def _sans(cert: x509.Certificate, kind: type[x509.GeneralName]) -> list[str]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [str(v) for v in ext.get_values_for_type(kind)]  # type: ignore[arg-type]


def identity(auth_context: AuthContext, client_ca: x509.Certificate | None = None) -> str | None:
    """The IAM user or role ARN in the client certificate's URI SANs: exactly one, else None.

    client_ca: the certificate must be directly issued by it. Pass it whenever the port also
    trusts another CA (the peer CA); None trusts the handshake's own chain check alone.
    """
    if not secure(auth_context):
        return None
    pem = _first(auth_context, "x509_pem_cert")
    return _identity_of(pem, client_ca) if pem else None


@functools.lru_cache(maxsize=4096)
def _identity_of(pem: bytes, client_ca: x509.Certificate | None) -> str | None:
    """Per certificate, once: a connection's calls all carry the same PEM."""
    cert = _parse(pem)
    if cert is None or (client_ca is not None and not _issued_by(cert, client_ca)):
        return None
    arns = [u for u in _sans(cert, x509.UniformResourceIdentifier) if IAM_ARN_RE.fullmatch(u)]
    return arns[0] if len(arns) == 1 else None


def peer_region(auth_context: AuthContext, peer_ca: x509.Certificate) -> str | None:
    """The Region a peer certificate names (its one `<region>.region.smgrpc` DNS SAN), if the
    certificate was directly issued by peer_ca; else None."""
    cert = _cert(auth_context, peer_ca)
    if cert is None:
        return None
    names = [m[1] for d in _sans(cert, x509.DNSName) if (m := _REGION_RE.fullmatch(d))]
    return names[0] if len(names) == 1 else None


@dataclass(frozen=True)
class Trust:
    """The CAs of one Region, bound: what the guard and the replication service call."""

    client_ca: x509.Certificate | None = None
    peer_ca: x509.Certificate | None = None

    def identity(self, auth_context: AuthContext) -> str | None:
        """The caller's ARN from a client-CA certificate; None without --client-ca."""
        if self.client_ca is None:
            return None
        return identity(auth_context, self.client_ca)

    def peer_region(self, auth_context: AuthContext) -> str | None:
        """The pushing Region from a peer-CA certificate; None without --peer-ca."""
        if self.peer_ca is None:
            return None
        return peer_region(auth_context, self.peer_ca)
