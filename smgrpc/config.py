"""Typed, frozen configuration: the only reader of flags and environment variables."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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
    account: str = DEFAULT_ACCOUNT
    purge_interval: float = 60.0
    key_refresh_interval: float = 2.0
    shutdown_grace: float = 10.0
    extra: Mapping[str, str] = field(default_factory=dict)

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
    p.add_argument("--region", help=f"this server's Region (env SMGRPC_REGION; default {DEFAULT_REGION})")
    p.add_argument("--listen", help=f"HOST:PORT (env SMGRPC_LISTEN; default {DEFAULT_LISTEN})")
    p.add_argument("--data-dir", help="data directory (env SMGRPC_DATA_DIR; default ./smgrpc-data/<region>)")
    p.add_argument("--peer", action="append", default=None,
                   help="REGION=HOST:PORT of a peer Region, repeatable (env SMGRPC_PEER, comma-separated)")
    p.add_argument("--master-key-file", help="0600 file holding the base64 master key (env SMGRPC_MASTER_KEY_FILE)")


def from_args(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> Config:
    """Flags win over SMGRPC_* environment variables, which win over defaults."""
    env = os.environ if env is None else env

    def pick(flag: str) -> str | None:
        value = getattr(args, flag.replace("-", "_"), None)
        return value if value is not None else env.get("SMGRPC_" + flag.upper().replace("-", "_"))

    region = pick("region") or DEFAULT_REGION
    data_dir = pick("data-dir")
    peers_raw: Sequence[str] = args.peer if getattr(args, "peer", None) else [
        p for p in env.get("SMGRPC_PEER", "").split(",") if p.strip()
    ]
    key = pick("master-key-file")
    return Config(
        region=region,
        listen=pick("listen") or DEFAULT_LISTEN,
        data_dir=Path(data_dir) if data_dir else Path("smgrpc-data") / region,
        peers=tuple(_peer(p.strip()) for p in peers_raw),
        master_key_file=Path(key) if key else None,
    )
