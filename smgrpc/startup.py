"""What a Region checks before it creates or changes any file, and which Region a data dir is.

`smgrpc serve` validates everything first (listen address, cluster secret, the data dir's
Region record, master key and key-check canary), reading files only; the data dir, master key
and database are created after every check passed. Every other command needs an existing data
dir and never creates one.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass

from smgrpc.config import Config, ConfigError
from smgrpc.core.net import is_loopback
from smgrpc.crypto.cluster import ClusterKey
from smgrpc.crypto.master import MasterKeyError, load_master_key, verify_canary
from smgrpc.storage.sqlite import read_meta_readonly, read_region_readonly

KEYCHECK = "keycheck"
REGION_KEY = "region"  # meta record: the Region this data dir belongs to (written once)
# meta record: this data dir's incarnation, new when `smgrpc restore` makes it from a backup
INCARNATION = "incarnation"


@dataclass(frozen=True)
class DataDir:
    region: str  # the Region the data dir belongs to (the configured one for a new dir)
    master: bytes | None  # None: no key file yet, `serve` generates it


def check_listen(address: str) -> None:
    """Probe-bind the address (as grpc binds it) so a busy port fails before anything exists."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    try:
        infos = socket.getaddrinfo(
            host or None, int(port), type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except (socket.gaierror, ValueError) as exc:
        raise ConfigError(f"cannot listen on {address}: unknown host ({exc})") from None
    reason = "no address"
    for family, kind, proto, _, sockaddr in infos:
        with socket.socket(family, kind, proto) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as grpc: TIME_WAIT is ok
            try:
                s.bind(sockaddr)
            except OSError as exc:
                reason = exc.strerror or type(exc).__name__
                continue
        return
    raise ConfigError(
        f"cannot listen on {address}: cannot bind ({reason}); "
        "the address is in use or not available"
    )


def check_plaintext(config: Config) -> None:
    """A listener others can reach must not be plaintext unless the operator said so."""
    if config.tls_cert is None and not config.insecure and not is_loopback(config.listen):
        raise ConfigError(
            f"refusing to serve plaintext on {config.listen}, a non-loopback address: give "
            "--tls-cert and --tls-key (`smgrpc tls init` makes them), listen on 127.0.0.1, "
            "or pass --insecure to allow it"
        )
    aws = config.aws_listen
    if aws is not None and config.tls_cert is None and not config.insecure and not is_loopback(aws):
        raise ConfigError(
            f"refusing to serve the AWS API in plaintext on {aws}, a non-loopback address "
            "(--aws-listen): give --tls-cert and --tls-key, listen on 127.0.0.1, or pass "
            "--insecure to allow it"
        )
    for name, address in config.rotation_functions:
        if config.rotation_ca is None and not config.insecure and not is_loopback(address):
            raise ConfigError(
                f"refusing to call rotation function {name} in plaintext at {address}, a "
                "non-loopback address: give --rotation-ca (its server's CA), or pass --insecure "
                "to allow it"
            )


async def inspect_data_dir(config: Config, *, serve: bool) -> DataDir:
    """Read-only: the data dir's Region and master key, or the reason they can't be used."""
    db = config.db_path
    exists = await asyncio.to_thread(db.exists)
    if not exists and not serve:
        raise ConfigError(
            f"no Region in {config.data_dir} (no {db.name}): only `smgrpc serve` creates a "
            "Region's data dir; check --data-dir"
        )
    recorded = await read_region_readonly(db) if exists else None
    if recorded is not None and recorded != config.region:
        if serve:
            raise ConfigError(
                f"{config.data_dir} belongs to Region {recorded}, not {config.region}: refusing "
                f"to start (nothing was modified; use --region {recorded} or another --data-dir)"
            )
        if "region" in config.explicit:
            raise ConfigError(
                f"{config.data_dir} belongs to Region {recorded}, not {config.region} "
                "(nothing was modified; a kms command takes the Region from the data dir)"
            )
    canary = await read_meta_readonly(db, KEYCHECK) if exists else None
    if await asyncio.to_thread(config.key_path.exists):
        master = load_master_key(config.key_path, create=False)
        if canary is not None:
            verify_canary(master, canary)
        return DataDir(recorded or config.region, master)
    if not serve or not config.generate_key or canary is not None:
        held = " (the data in this dir is encrypted under it)" if canary is not None else ""
        raise MasterKeyError(f"master key file {config.key_path} does not exist{held}")
    return DataDir(recorded or config.region, None)


async def preflight(config: Config) -> DataDir:
    """Every check of `smgrpc serve` that can fail, before any file is created or changed."""
    check_plaintext(config)
    await asyncio.to_thread(check_listen, config.listen)
    if config.mtls_listen is not None:
        await asyncio.to_thread(check_listen, config.mtls_listen)
    if config.aws_listen is not None:
        await asyncio.to_thread(check_listen, config.aws_listen)
    if config.cluster_secret_file is not None:
        await asyncio.to_thread(ClusterKey.from_file, config.cluster_secret_file)
    return await inspect_data_dir(config, serve=True)
