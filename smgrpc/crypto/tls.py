"""Reading the TLS files of a Region: certificates, CAs and 0600 private keys, checked at start.

Every error names the file and what is wrong with it, never any of its content.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization


class TlsFileError(Exception):
    """A certificate or key file is missing, unreadable, too open, malformed or mismatched."""


@dataclass(frozen=True)
class KeyPair:
    """A certificate chain and its private key (PEM bytes; the key is never in the repr)."""

    cert_pem: bytes
    key_pem: bytes = field(repr=False)


@dataclass(frozen=True)
class TlsMaterial:
    server: KeyPair | None = None  # --tls-cert/--tls-key: the public port
    client_ca: x509.Certificate | None = None  # --client-ca
    peer_ca: x509.Certificate | None = None  # --peer-ca
    peer: KeyPair | None = None  # --peer-cert/--peer-key: Region-to-Region links

    @property
    def client_ca_pem(self) -> bytes | None:
        return _pem(self.client_ca)

    @property
    def peer_ca_pem(self) -> bytes | None:
        return _pem(self.peer_ca)


def _pem(cert: x509.Certificate | None) -> bytes | None:
    return None if cert is None else cert.public_bytes(serialization.Encoding.PEM)


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise TlsFileError(f"{what} file {path} does not exist") from None
    except OSError as exc:
        raise TlsFileError(f"{what} file {path} cannot be read ({exc.strerror})") from None


def read_certs(path: Path, what: str) -> tuple[bytes, list[x509.Certificate]]:
    """A PEM file of one or more certificates (a leaf first, then its chain)."""
    data = _read(path, what)
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise TlsFileError(f"{what} file {path} is not a PEM certificate") from None
    return data, certs


def read_ca(path: Path, what: str) -> x509.Certificate:
    _, certs = read_certs(path, what)
    if len(certs) != 1:
        raise TlsFileError(f"{what} file {path} must hold exactly one CA certificate")
    try:
        basic = certs[0].extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        basic = None
    if basic is None or not basic.ca:
        raise TlsFileError(f"{what} file {path} is not a CA certificate (no CA:TRUE)")
    return certs[0]


def read_key(path: Path, what: str) -> bytes:
    """A PEM private key in a file readable by its owner only (like the master key)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        raise TlsFileError(f"{what} file {path} does not exist") from None
    except OSError as exc:
        raise TlsFileError(f"{what} file {path} cannot be read ({exc.strerror})") from None
    if mode & 0o077:
        raise TlsFileError(
            f"{what} file {path} has mode {mode:04o}; it must be readable by its owner only "
            f"(chmod 600 {path})"
        )
    data = _read(path, what)
    try:
        serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise TlsFileError(f"{what} file {path} is not an unencrypted PEM private key") from None
    return data


def read_pair(cert_path: Path, key_path: Path, what: str) -> KeyPair:
    """A certificate and its key; the key must belong to the certificate."""
    cert_pem, certs = read_certs(cert_path, f"{what} certificate")
    key_pem = read_key(key_path, f"{what} key")
    key = serialization.load_pem_private_key(key_pem, password=None)
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*spki) != certs[0].public_key().public_bytes(*spki):
        raise TlsFileError(f"{what} key file {key_path} does not belong to {cert_path}")
    return KeyPair(cert_pem, key_pem)


def load_tls(
    *,
    tls_cert: Path | None,
    tls_key: Path | None,
    client_ca: Path | None,
    peer_ca: Path | None,
    peer_cert: Path | None,
    peer_key: Path | None,
) -> TlsMaterial:
    """Read and check every configured file (blocking: call it off the event loop)."""
    server = (
        read_pair(tls_cert, tls_key, "--tls-cert/--tls-key")
        if tls_cert is not None and tls_key is not None
        else None
    )
    peer = (
        read_pair(peer_cert, peer_key, "--peer-cert/--peer-key")
        if peer_cert is not None and peer_key is not None
        else None
    )
    clients = read_ca(client_ca, "--client-ca") if client_ca is not None else None
    peers = read_ca(peer_ca, "--peer-ca") if peer_ca is not None else None
    if clients is not None and peers is not None and _same_key(clients, peers):
        # One CA for both would let a client certificate naming <region>.region.smgrpc push
        # replication, and a peer certificate carry an IAM identity.
        raise TlsFileError(
            f"--client-ca {client_ca} and --peer-ca {peer_ca} are the same CA (same key): "
            "Region-to-Region links need a CA of their own (smgrpc tls init makes two)"
        )
    return TlsMaterial(server=server, client_ca=clients, peer_ca=peers, peer=peer)


def _same_key(a: x509.Certificate, b: x509.Certificate) -> bool:
    der = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return a.public_key().public_bytes(*der) == b.public_key().public_bytes(*der)
