"""Channels and call metadata from ClientSettings (TLS, mTLS, the Bearer credential)."""

from __future__ import annotations

from pathlib import Path

import grpc

from smgrpc.client.errors import ClientError
from smgrpc.client.settings import ClientSettings

Metadata = tuple[tuple[str, str], ...]
# Large enough for a 64 KiB SecretBinary in every entry of a BatchGetSecretValue page.
OPTIONS: list[tuple[str, int | str]] = [
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.keepalive_time_ms", 30_000),
    # Reconnect soon after a failure, so a retry after a short backoff can find the server.
    ("grpc.initial_reconnect_backoff_ms", 100),
    # Not grpc.min_reconnect_backoff_ms: grpc also takes it as the minimum *connect timeout*
    # (ParseArgsForBackoffValues; default 20 s), so 100 there failed connects on a loaded host.
    ("grpc.max_reconnect_backoff_ms", 5_000),
]


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ClientError(f"cannot read {what} {path}: {exc.strerror}") from None


def credentials(s: ClientSettings) -> grpc.ChannelCredentials:
    assert s.ca_file is not None
    return grpc.ssl_channel_credentials(
        root_certificates=_read(s.ca_file, "CA file"),
        private_key=_read(s.key_file, "client key file") if s.key_file else None,
        certificate_chain=_read(s.cert_file, "client certificate file") if s.cert_file else None,
    )


def options(s: ClientSettings) -> list[tuple[str, int | str]]:
    if s.server_name:
        return [*OPTIONS, ("grpc.ssl_target_name_override", s.server_name)]
    return list(OPTIONS)


def metadata(s: ClientSettings) -> Metadata:
    """`authorization: Bearer <AccessKeyId>:<SecretAccessKey>` (nothing without a credential)."""
    token = s.credential()
    return (("authorization", f"Bearer {token}"),) if token else ()


def sync_channel(s: ClientSettings) -> grpc.Channel:
    if s.tls:
        return grpc.secure_channel(s.endpoint, credentials(s), options=options(s))
    return grpc.insecure_channel(s.endpoint, options=options(s))


def aio_channel(s: ClientSettings) -> grpc.aio.Channel:
    if s.tls:
        return grpc.aio.secure_channel(s.endpoint, credentials(s), options=options(s))
    return grpc.aio.insecure_channel(s.endpoint, options=options(s))
