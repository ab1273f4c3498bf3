"""Typed, frozen configuration: the only reader of flags and environment variables."""

from __future__ import annotations

import argparse
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from smgrpc.core.arn import DEFAULT_ACCOUNT

DEFAULT_REGION = "us-east-1"
DEFAULT_LISTEN = "127.0.0.1:50051"


class ConfigError(Exception):
    """A flag, environment variable or config value is invalid."""


@dataclass(frozen=True)
class Config:
    region: str = DEFAULT_REGION
    listen: str = DEFAULT_LISTEN
    data_dir: Path = Path("smgrpc-data") / DEFAULT_REGION
    peers: tuple[tuple[str, str], ...] = ()
    master_key_file: Path | None = None  # None: <data_dir>/master.key, generated on first start
    cluster_secret_file: Path | None = None  # shared by the Regions; required with peers
    replication_max_backoff: float = 1.0  # a returning Region is noticed within ~1.5 s
    account: str = DEFAULT_ACCOUNT
    purge_interval: float = 5.0
    key_refresh_interval: float = 2.0
    shutdown_grace: float = 10.0
    # After SIGTERM: refuse new calls (UNAVAILABLE) and report NOT_SERVING this long before the
    # grpc server stops, so calls already queued are refused rather than CANCELLED by grpc.
    shutdown_drain: float = 0.5
    busy_timeout: float = 5.0  # SQLite busy_timeout (s): how long a write waits for the lock
    blob_cache_bytes: int = 64 * 1024 * 1024  # bound of the in-memory sealed-value cache

    @property
    def db_path(self) -> Path:
        return self.data_dir / "secrets.db"

    @property
    def key_path(self) -> Path:
        return self.master_key_file or self.data_dir / "master.key"

    @property
    def generate_key(self) -> bool:
        """Only the embedded default generates a key; an explicit file must exist."""
        return self.master_key_file is None


def _peer(text: str) -> tuple[str, str]:
    region, sep, addr = text.partition("=")
    if not sep or not region or ":" not in addr:
        raise ConfigError(f"--peer must look like REGION=HOST:PORT, got {text!r}")
    return region, addr


def add_serve_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--region", help=f"this server's Region (env SMGRPC_REGION; default {DEFAULT_REGION})"
    )
    p.add_argument("--listen", help=f"HOST:PORT (env SMGRPC_LISTEN; default {DEFAULT_LISTEN})")
    p.add_argument(
        "--data-dir", help="data directory (env SMGRPC_DATA_DIR; default ./smgrpc-data/<region>)"
    )
    p.add_argument(
        "--peer",
        action="append",
        default=None,
        help="REGION=HOST:PORT of a peer Region, repeatable (env SMGRPC_PEER, comma-separated)",
    )
    p.add_argument(
        "--master-key-file",
        help="0600 file holding the base64 master key (env SMGRPC_MASTER_KEY_FILE)",
    )
    p.add_argument(
        "--cluster-secret-file",
        help="0600 file with the base64 secret shared by all Regions; authenticates "
        "replication (env SMGRPC_CLUSTER_SECRET_FILE; required with --peer)",
    )
    p.add_argument(
        "--busy-timeout",
        metavar="SECONDS",
        help="how long a write waits for another process's lock on the database "
        "before failing (env SMGRPC_BUSY_TIMEOUT; default 5)",
    )
    p.add_argument(
        "--config",
        help="TOML file with the same settings (flags and env win); "
        'peers as a table: [peers] eu-west-1 = "host:port" '
        "(env SMGRPC_CONFIG)",
    )


def from_args(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> Config:
    """Flags win over SMGRPC_* environment variables, which win over defaults."""
    env = os.environ if env is None else env
    file_cfg = _read_file(getattr(args, "config", None) or env.get("SMGRPC_CONFIG"))

    def pick(flag: str) -> str | None:
        value = getattr(args, flag.replace("-", "_"), None)
        if value is None:
            value = env.get("SMGRPC_" + flag.upper().replace("-", "_"))
        if value is None:
            raw = file_cfg.get(flag.replace("-", "_"))
            value = None if raw is None else str(raw)
        return value

    region = pick("region") or DEFAULT_REGION
    data_dir = pick("data-dir")
    peers_raw: Sequence[str] = (
        args.peer
        if getattr(args, "peer", None)
        else [p for p in env.get("SMGRPC_PEER", "").split(",") if p.strip()]
        or [f"{r}={a}" for r, a in _table(file_cfg.get("peers")).items()]
    )
    key = pick("master-key-file")
    cluster = pick("cluster-secret-file")
    peers = tuple(_peer(p.strip()) for p in peers_raw)
    if any(r == region for r, _ in peers):
        raise ConfigError(f"--peer lists this server's own Region {region}")
    if peers and not cluster:
        raise ConfigError(
            "--peer needs --cluster-secret-file: replication calls are authenticated "
            "with the cluster secret (scripts/cluster creates one)"
        )
    return Config(
        region=region,
        listen=pick("listen") or DEFAULT_LISTEN,
        data_dir=Path(data_dir) if data_dir else Path("smgrpc-data") / region,
        peers=peers,
        master_key_file=Path(key) if key else None,
        cluster_secret_file=Path(cluster) if cluster else None,
        busy_timeout=_seconds("--busy-timeout", pick("busy-timeout"), Config.busy_timeout),
    )


def _seconds(flag: str, text: str | None, default: float) -> float:
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{flag} must be a number of seconds, got {text!r}") from None
    if not 0 <= value <= 3600:
        raise ConfigError(f"{flag} must be between 0 and 3600 seconds, got {text!r}")
    return value


def _table(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError('peers must be a table: REGION = "HOST:PORT"')
    return {str(k): str(v) for k, v in value.items()}


def _read_file(path: str | None) -> dict[str, object]:
    if not path:
        return {}
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    known = {"region", "listen", "data_dir", "master_key_file", "cluster_secret_file", "peers"}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"unknown keys in {path}: {', '.join(sorted(unknown))}")
    return data
