"""Where a client finds its server and credential: argument > SMGRPC_* variable > default."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from smgrpc.client.errors import ClientError

DEFAULT_ENDPOINT = "127.0.0.1:50051"
DEFAULT_TOKEN_FILE = Path("smgrpc-data") / "us-east-1" / "admin.token"


@dataclass(frozen=True)
class ClientSettings:
    """Endpoint, credential and TLS files of a client (the credential never shows in repr)."""

    endpoint: str = DEFAULT_ENDPOINT
    token: str | None = field(default=None, repr=False)
    token_file: Path | None = None
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure: bool = False  # allow plaintext to a non-loopback endpoint
    server_name: str | None = None  # TLS name to verify instead of the endpoint's host

    @property
    def tls(self) -> bool:
        return self.ca_file is not None

    def credential(self) -> str | None:
        """`<AccessKeyId>:<SecretAccessKey>`: the token, else the token file's content."""
        if self.token:
            return self.token
        if self.token_file is None:
            return None
        try:
            text = self.token_file.read_text().strip()
        except OSError as exc:
            raise ClientError(f"cannot read token file {self.token_file}: {exc.strerror}") from None
        if not text:
            raise ClientError(f"token file {self.token_file} is empty")
        return text


def _pick(arg: str | Path | None, env: Mapping[str, str], name: str) -> str | None:
    if arg is not None and str(arg).strip():
        return str(arg).strip()
    value = env.get(name, "").strip()
    return value or None


def _path(text: str | None) -> Path | None:
    return Path(text) if text else None


def settings(
    endpoint: str | None = None,
    token: str | None = None,
    token_file: str | Path | None = None,
    ca_file: str | Path | None = None,
    cert_file: str | Path | None = None,
    key_file: str | Path | None = None,
    env: Mapping[str, str] = os.environ,
    *,
    insecure: bool = False,
    server_name: str | None = None,
) -> ClientSettings:
    """Each setting from its argument, else `SMGRPC_ENDPOINT` / `SMGRPC_TOKEN` /
    `SMGRPC_TOKEN_FILE` / `SMGRPC_CA_FILE` / `SMGRPC_CERT_FILE` / `SMGRPC_KEY_FILE`, else the
    default (`127.0.0.1:50051`, `smgrpc-data/us-east-1/admin.token` if that file exists).
    An explicit token wins over any token file. Raises ClientError for settings that cannot work.
    """
    address = _pick(endpoint, env, "SMGRPC_ENDPOINT") or DEFAULT_ENDPOINT
    tok = _pick(token, env, "SMGRPC_TOKEN")
    tok_file = _path(_pick(token_file, env, "SMGRPC_TOKEN_FILE"))
    if tok is None and tok_file is None and DEFAULT_TOKEN_FILE.exists():
        tok_file = DEFAULT_TOKEN_FILE
    out = ClientSettings(
        endpoint=address,
        token=tok,
        token_file=None if tok else tok_file,
        ca_file=_path(_pick(ca_file, env, "SMGRPC_CA_FILE")),
        cert_file=_path(_pick(cert_file, env, "SMGRPC_CERT_FILE")),
        key_file=_path(_pick(key_file, env, "SMGRPC_KEY_FILE")),
        insecure=insecure,
        server_name=server_name,
    )
    check(out)
    return out


def check(s: ClientSettings) -> None:
    """The combinations that cannot work (ClientError), checked before any connection."""
    host, sep, port = s.endpoint.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ClientError(f"endpoint must look like HOST:PORT, got {s.endpoint!r}")
    if bool(s.cert_file) != bool(s.key_file):
        raise ClientError("a client certificate needs its key (cert_file and key_file together)")
    if s.cert_file and not s.ca_file:
        raise ClientError("a client certificate needs TLS: give ca_file (SMGRPC_CA_FILE) too")
    if not s.tls and not s.insecure and not is_loopback(host):
        raise ClientError(
            f"refusing plaintext to {s.endpoint}: credentials would cross the network in the "
            "clear; give a CA file (SMGRPC_CA_FILE) for TLS, or insecure=True"
        )


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
