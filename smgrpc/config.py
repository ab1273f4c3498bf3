"""Typed, frozen configuration: the only reader of flags, environment variables and config files.

Every setting is one row of SETTINGS: its Config field (also its TOML key), flag, environment
variable, parser/validator and help text. Flags, SMGRPC_* variables and the TOML file are all
read through that one table, so they accept exactly the same settings and values. Precedence:
flag > environment variable > config file > the Config default.
"""

from __future__ import annotations

import argparse
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from smgrpc.core.arn import DEFAULT_ACCOUNT
from smgrpc.core.rotation import BUILTIN_PASSWORD

DEFAULT_REGION = "us-east-1"
DEFAULT_LISTEN = "127.0.0.1:50051"
# The embedded default's AWS JSON 1.1 listener (LocalStack's port): on when neither --listen
# nor --aws-listen is given.
EMBEDDED_AWS_LISTEN = "127.0.0.1:4566"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")


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
    # Data keys one KMS key material wraps before it is rotated (crypto.materials; not a flag:
    # tests lower it).
    kms_rotate_after: int = 2**30
    shutdown_grace: float = 10.0
    # After SIGTERM: refuse new calls (UNAVAILABLE) and report NOT_SERVING this long before the
    # grpc server stops, so calls already queued are refused rather than CANCELLED by grpc.
    shutdown_drain: float = 0.5
    busy_timeout: float = 5.0  # SQLite busy_timeout (s): how long a write waits for the lock
    log_level: str = "INFO"
    log_format: str = "text"
    uvloop: bool = True
    reflection: bool = True  # the gRPC reflection service (health is always served, open)
    blob_cache_bytes: int = 64 * 1024 * 1024  # bound of the in-memory sealed-value cache
    max_inflight: int = 1000  # admission control: calls running at once, then ThrottlingException
    # WatchSecrets (README "WatchSecrets"): events kept, heartbeat, streams, slow-consumer limits.
    watch_history: int = 100_000
    watch_heartbeat: float = 10.0
    watch_max_streams: int = 1000
    watch_max_streams_per_principal: int = 100
    watch_max_lag: int = 10_000
    watch_write_timeout: float = 10.0
    metrics_listen: str | None = None  # HTTP /metrics, /healthz, /readyz (README "Metrics ...")
    metrics_secret_names: bool = False  # secret names as label values (rotations by secret)
    # The AWS JSON 1.1 + SigV4 listener (README "AWS SDKs and the AWS CLI"); None: off. The
    # embedded default (no --listen, no --aws-listen) turns it on at EMBEDDED_AWS_LISTEN.
    aws_listen: str | None = None
    # TLS (see README "TLS and mTLS"); a non-loopback listener needs TLS unless insecure.
    tls_cert: Path | None = None
    tls_key: Path | None = None
    mtls_listen: str | None = None  # a second port that requires a client certificate
    client_ca: Path | None = None
    peer_ca: Path | None = None
    peer_cert: Path | None = None
    peer_key: Path | None = None
    insecure: bool = False
    iam_region: str | None = None  # the Region holding IAM writes; None: this Region
    admin_token_file: Path | None = None  # None: <data_dir>/admin.token
    # Rotation (README "Rotation"): registered functions NAME -> HOST:PORT, their TLS, limits.
    rotation_functions: tuple[tuple[str, str], ...] = ()
    rotation_ca: Path | None = None
    rotation_cert: Path | None = None
    rotation_key: Path | None = None
    rotation_step_timeout: float = 30.0
    rotation_max_attempts: int = 3
    rotation_concurrency: int = 4  # 0 (not as a flag): runs are recorded, none is run
    rotation_poll_interval: float = 60.0  # longest scheduler sleep (not a flag; tests lower it)
    # Audit trail (README "Audit trail"): None = off.
    audit_log: Path | None = None
    audit_max_bytes: int = 64 * 1024 * 1024  # rotate the active file past this size
    audit_sync: str = "fsync"  # fsync: fdatasync per group commit; write: to the OS only
    # Names of the settings given by a flag, variable or file (not defaulted): `smgrpc kms`
    # takes the Region from the data dir unless one was given explicitly.
    explicit: frozenset[str] = frozenset()

    @property
    def db_path(self) -> Path:
        return self.data_dir / "secrets.db"

    @property
    def key_path(self) -> Path:
        return self.master_key_file or self.data_dir / "master.key"

    @property
    def iam_holder(self) -> str:
        """The Region that accepts IAM writes (and bootstraps the admin user)."""
        return self.iam_region or self.region

    @property
    def admin_token_path(self) -> Path:
        return self.admin_token_file or self.data_dir / "admin.token"

    @property
    def aws_embedded(self) -> bool:
        """The AWS listener is the embedded default's (it writes the AWS profile files)."""
        return self.aws_listen is not None and "aws_listen" not in self.explicit

    @property
    def generate_key(self) -> bool:
        """Only the embedded default generates a key; an explicit file must exist."""
        return self.master_key_file is None


# ---- parsers: (where the value came from, raw value) -> typed value, or ConfigError ----------

Parser = Callable[[str, object], object]


def _text(where: str, raw: object) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigError(f"{where} must be a non-empty string, got {raw!r}")
    return raw.strip()


def _region(where: str, raw: object) -> str:
    text = _text(where, raw)
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,31}", text):
        raise ConfigError(f"{where} must be a Region name like us-east-1, got {raw!r}")
    return text


def _address(where: str, raw: object) -> str:
    text = _text(where, raw)
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"{where} must look like HOST:PORT, got {raw!r}")
    return text


def _address_or_off(where: str, raw: object) -> str | None:
    """HOST:PORT, or off (no listener: turns the embedded default's off)."""
    if isinstance(raw, str) and raw.strip().lower() == "off":
        return None
    return _address(where, raw)


def _path(where: str, raw: object) -> Path:
    return Path(_text(where, raw))


def _number(
    cast: Callable[[str], float], noun: str, low: float, high: float, unit: str = ""
) -> Callable[[str, object], float]:
    """A parser of numbers (flag/env text or a TOML number) within [low, high]."""
    types = str | int | float if cast is float else str | int

    def parse(where: str, raw: object) -> float:
        if isinstance(raw, bool) or not isinstance(raw, types):
            raise ConfigError(f"{where} must be {noun}, got {raw!r}")
        try:
            value = cast(raw)
        except ValueError:
            raise ConfigError(f"{where} must be {noun}, got {raw!r}") from None
        if not low <= value <= high:
            raise ConfigError(f"{where} must be between {low:g} and {high:g}{unit}, got {raw!r}")
        return value

    return parse


_seconds = _number(float, "a number of seconds", 0, 3600, " seconds")
_count = _number(int, "a whole number", 1, 1_000_000)
_bytes = _number(int, "a number of bytes", 0, 1 << 40, " bytes")


def _log_level(where: str, raw: object) -> str:
    text = _text(where, raw).upper()
    if text not in LOG_LEVELS:
        raise ConfigError(f"{where} must be one of {', '.join(LOG_LEVELS)}, got {raw!r}")
    return text


def _log_format(where: str, raw: object) -> str:
    text = _text(where, raw).lower()
    if text not in LOG_FORMATS:
        raise ConfigError(f"{where} must be one of {', '.join(LOG_FORMATS)}, got {raw!r}")
    return text


def _audit_sync(where: str, raw: object) -> str:
    text = _text(where, raw).lower()
    if text not in ("fsync", "write"):
        raise ConfigError(f"{where} must be fsync or write, got {raw!r}")
    return text


def _bool(where: str, raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{where} must be on or off (1/0, true/false), got {raw!r}")


def _peers(where: str, raw: object) -> tuple[tuple[str, str], ...]:
    """REGION=HOST:PORT strings (flags, comma-separated variable) or a TOML table."""
    if isinstance(raw, dict):
        items = [(str(k), v) for k, v in raw.items()]
    elif isinstance(raw, list | tuple):
        items = []
        for text in raw:
            region, sep, addr = str(text).strip().partition("=")
            if not sep:
                raise ConfigError(f"{where} must look like REGION=HOST:PORT, got {text!r}")
            items.append((region, addr))
    else:
        raise ConfigError(f'{where} must be a table: REGION = "HOST:PORT"')
    return tuple((_region(where, r), _address(where, a)) for r, a in items)


_FUNCTION_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")


def _functions(where: str, raw: object) -> tuple[tuple[str, str], ...]:
    """NAME=HOST:PORT rotation functions (flags, comma-separated variable) or a TOML table."""
    if isinstance(raw, dict):
        items = [(str(k), v) for k, v in raw.items()]
    elif isinstance(raw, list | tuple):
        items = []
        for text in raw:
            name, sep, addr = str(text).strip().partition("=")
            if not sep:
                raise ConfigError(f"{where} must look like NAME=HOST:PORT, got {text!r}")
            items.append((name, addr))
    else:
        raise ConfigError(f'{where} must be a table: NAME = "HOST:PORT"')
    seen: set[str] = set()
    for name, _addr in items:
        if not _FUNCTION_NAME.fullmatch(name):
            raise ConfigError(
                f"{where}: {name!r} is not a Lambda function name (1-64 letters, digits, - or _)"
            )
        if name == BUILTIN_PASSWORD:
            raise ConfigError(f"{where}: {BUILTIN_PASSWORD} is built in and cannot be registered")
        if name in seen:
            raise ConfigError(f"{where}: function {name} is registered twice")
        seen.add(name)
    return tuple((n, _address(where, a)) for n, a in items)


# ---- the settings table ------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    key: str  # the Config field and the TOML key
    parse: Parser
    help: str
    serve_only: bool = False  # not offered by `smgrpc kms ...`
    metavar: str | None = None
    flag_name: str | None = None  # default: --key-with-dashes
    env_name: str | None = None  # default: SMGRPC_KEY
    kms_help: str | None = None  # help text for `smgrpc kms ...`, where it differs
    switch: bool = False  # a bare flag (--insecure) meaning switch_value
    switch_value: str = "on"  # what a bare flag sets: "off" for --no-reflection
    repeat: bool = False  # a repeatable flag (env: comma-separated; file: a table)

    @property
    def flag(self) -> str:
        return self.flag_name or "--" + self.key.replace("_", "-")

    @property
    def env(self) -> str:
        return self.env_name or "SMGRPC_" + self.key.upper()

    @property
    def default(self) -> object:
        return next(f.default for f in fields(Config) if f.name == self.key)


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "region",
        _region,
        "this Region's name",
        metavar="REGION",
        kms_help="the Region the data dir must belong to (default: whatever it belongs to)",
    ),
    Setting("listen", _address, "address to serve on", serve_only=True, metavar="HOST:PORT"),
    Setting(
        "data_dir",
        _path,
        "the Region's data directory (default ./smgrpc-data/<region>); only `serve` creates it",
        metavar="DIR",
    ),
    Setting(
        "peers",
        _peers,
        "a peer Region to replicate with, repeatable (env: comma-separated; "
        'file: a [peers] table, REGION = "HOST:PORT")',
        serve_only=True,
        metavar="REGION=HOST:PORT",
        flag_name="--peer",
        env_name="SMGRPC_PEER",
        repeat=True,
    ),
    Setting(
        "master_key_file",
        _path,
        "0600 file holding the base64 master key (default <data-dir>/master.key, generated "
        "on the first start)",
        metavar="FILE",
    ),
    Setting(
        "cluster_secret_file",
        _path,
        "0600 file with the base64 secret shared by all Regions; authenticates replication "
        "(required with --peer)",
        serve_only=True,
        metavar="FILE",
    ),
    Setting(
        "tls_cert",
        _path,
        "PEM certificate (chain) of the public port: serve TLS (with --tls-key)",
        serve_only=True,
        metavar="FILE",
    ),
    Setting(
        "tls_key",
        _path,
        "0600 PEM private key of --tls-cert",
        serve_only=True,
        metavar="FILE",
    ),
    Setting(
        "mtls_listen",
        _address,
        "a second TLS port that requires a client certificate (from --client-ca: its URI SAN "
        "ARN is the caller; from --peer-ca: replication pushes). grpcio cannot make client "
        "certificates optional on one port, so Bearer-only clients keep --listen",
        serve_only=True,
        metavar="HOST:PORT",
    ),
    Setting(
        "client_ca",
        _path,
        "PEM CA whose client certificates are accepted on --mtls-listen",
        serve_only=True,
        metavar="FILE",
    ),
    Setting(
        "peer_ca",
        _path,
        "PEM CA of the Region-to-Region links (not the client CA): pushes must come with a "
        "peer certificate naming their source Region (with --peer-cert, --peer-key)",
        serve_only=True,
        metavar="FILE",
    ),
    Setting(
        "peer_cert",
        _path,
        "this Region's peer certificate (DNS SAN <region>.region.smgrpc)",
        serve_only=True,
        metavar="FILE",
    ),
    Setting(
        "peer_key",
        _path,
        "0600 PEM private key of --peer-cert",
        serve_only=True,
        metavar="FILE",
    ),
    Setting(
        "insecure",
        _bool,
        "allow plaintext on a non-loopback --listen address (a bare flag)",
        serve_only=True,
        switch=True,
    ),
    Setting(
        "busy_timeout",
        _seconds,
        "how long a write waits for another process's lock on the database before failing",
        metavar="SECONDS",
    ),
    Setting("log_level", _log_level, "log threshold: " + ", ".join(LOG_LEVELS), metavar="LEVEL"),
    Setting(
        "log_format",
        _log_format,
        "text lines, or one JSON object per line (time, level, logger, message, fields)",
        metavar="text|json",
    ),
    Setting(
        "blob_cache_bytes",
        _bytes,
        "memory for cached sealed values (ciphertext only; default 64 MiB); 0 turns it off",
        serve_only=True,
        metavar="BYTES",
    ),
    Setting(
        "max_inflight",
        _count,
        "admission control: calls served at once; beyond it a call is refused at once with "
        "RESOURCE_EXHAUSTED (ThrottlingException) and a RetryInfo",
        serve_only=True,
        metavar="N",
    ),
    Setting(
        "watch_history",
        _number(int, "a whole number", 1, 100_000_000),
        "WatchSecrets events this Region keeps (older ones are pruned; resuming before them "
        "answers ExpiredSequenceException)",
        serve_only=True,
        metavar="N",
    ),
    Setting(
        "watch_heartbeat",
        _number(float, "a number of seconds", 0.05, 3600, " seconds"),
        "seconds between two Heartbeat messages of an idle WatchSecrets stream",
        serve_only=True,
        metavar="SECONDS",
    ),
    Setting(
        "watch_max_streams",
        _count,
        "WatchSecrets streams open at once; beyond it a new one is refused with "
        "RESOURCE_EXHAUSTED (LimitExceededException) and a RetryInfo",
        serve_only=True,
        metavar="N",
    ),
    Setting(
        "watch_max_streams_per_principal",
        _count,
        "WatchSecrets streams one principal (user or role) may hold open at once; beyond it a "
        "new one is refused with RESOURCE_EXHAUSTED (LimitExceededException) and a RetryInfo",
        serve_only=True,
        metavar="N",
    ),
    Setting(
        "watch_max_lag",
        _count,
        "events a WatchSecrets stream may fall behind the Region's newest before it is cut off "
        "(SlowConsumerException, resumable)",
        serve_only=True,
        metavar="N",
    ),
    Setting(
        "watch_write_timeout",
        _number(float, "a number of seconds", 0.01, 3600, " seconds"),
        "how long a WatchSecrets stream waits for its client to take one message before it is "
        "cut off (SlowConsumerException, resumable)",
        serve_only=True,
        metavar="SECONDS",
    ),
    Setting(
        "metrics_listen",
        _address,
        "serve Prometheus /metrics and the /healthz, /readyz probes over HTTP here (not "
        "IAM-protected: keep it on loopback, or give --tls-cert/--tls-key or --insecure)",
        serve_only=True,
        metavar="HOST:PORT",
    ),
    Setting(
        "aws_listen",
        _address_or_off,
        "serve the AWS JSON 1.1 protocol (boto3, the AWS CLI, AWS SDKs; SigV4-signed) here: "
        "port 0 picks one; TLS with --tls-cert/--tls-key; a non-loopback address needs TLS "
        f"or --insecure; off: none (default: off, but {EMBEDDED_AWS_LISTEN} when --listen is "
        "not given either)",
        serve_only=True,
        metavar="HOST:PORT|off",
    ),
    Setting(
        "metrics_secret_names",
        _bool,
        "allow secret names as /metrics label values (rotations by secret; off: none ever)",
        serve_only=True,
        switch=True,
    ),
    Setting(
        "iam_region",
        _region,
        "the Region that holds IAM (users, roles, access keys) and accepts IAM writes; the "
        "same in every Region of a cluster (default: this Region)",
        serve_only=True,
        metavar="REGION",
    ),
    Setting(
        "admin_token_file",
        _path,
        "where the first start of the IAM Region writes the bootstrap admin credential "
        "(0600; default <data-dir>/admin.token)",
        serve_only=True,
        metavar="FILE",
    ),
    Setting(
        "rotation_functions",
        _functions,
        "a rotation function (gRPC smgrpc.rotation.v1.RotationFunction) that RotateSecret may "
        "name as arn:aws:lambda:<region>:<account>:function:NAME, repeatable (env: "
        'comma-separated; file: a [rotation_functions] table, NAME = "HOST:PORT"); '
        f"{BUILTIN_PASSWORD} is always available",
        serve_only=True,
        metavar="NAME=HOST:PORT",
        flag_name="--rotation-function",
        env_name="SMGRPC_ROTATION_FUNCTION",
        repeat=True,
    ),
    Setting(
        "rotation_ca",
        _path,
        "PEM CA that rotation functions' server certificates must chain to: call them over TLS "
        "(plaintext is only allowed to loopback addresses, or with --insecure)",
        serve_only=True,
        metavar="FILE",
    ),
    Setting(
        "rotation_cert",
        _path,
        "client certificate presented to rotation functions (with --rotation-key, --rotation-ca)",
        serve_only=True,
        metavar="FILE",
    ),
    Setting(
        "rotation_key",
        _path,
        "0600 PEM private key of --rotation-cert",
        serve_only=True,
        metavar="FILE",
    ),
    Setting(
        "rotation_step_timeout",
        _number(float, "a number of seconds", 0.1, 3600, " seconds"),
        "deadline of one invocation of a rotation step",
        serve_only=True,
        metavar="SECONDS",
    ),
    Setting(
        "rotation_max_attempts",
        _number(int, "a whole number", 1, 100),
        "invocations of a step failing with a transient code (UNAVAILABLE, DEADLINE_EXCEEDED, "
        "RESOURCE_EXHAUSTED, ABORTED) before the rotation is abandoned until its next window",
        serve_only=True,
        metavar="N",
    ),
    Setting(
        "rotation_concurrency",
        _number(int, "a whole number", 1, 1000),
        "rotations run at once by this Region (at most one per secret)",
        serve_only=True,
        metavar="N",
    ),
    Setting(
        "audit_log",
        _path,
        "write the audit trail (one CloudTrail-shaped JSON record per call, hash-chained, "
        "fail-closed) to this file",
        serve_only=True,
        metavar="PATH",
    ),
    Setting(
        "audit_max_bytes",
        _number(int, "a number of bytes", 4096, 1 << 40),
        "rotate the audit log to PATH.<n> once it is this large (a signed checkpoint ends it)",
        serve_only=True,
        metavar="BYTES",
    ),
    Setting(
        "audit_sync",
        _audit_sync,
        "fsync: a call waits for its record to be fdatasync'ed (group commit); write: only "
        "for it to be written to the OS (survives a crash of smgrpc, not of the machine)",
        serve_only=True,
        metavar="fsync|write",
    ),
    Setting(
        "reflection",
        _bool,
        "do not serve the gRPC reflection service (grpcurl list/describe); health stays "
        "open (a bare flag; env/file: off/false)",
        serve_only=True,
        flag_name="--no-reflection",
        switch=True,
        switch_value="off",
    ),
    Setting(
        "uvloop",
        _bool,
        "run on uvloop (off: the stock asyncio loop)",
        serve_only=True,
        metavar="on|off",
    ),
)
_BY_KEY = {s.key: s for s in SETTINGS}
_NO_SHOWN_DEFAULT = {"data_dir", "peers", "master_key_file", "cluster_secret_file"} | {
    "tls_cert",
    "tls_key",
    "mtls_listen",
    "client_ca",
    "peer_ca",
    "peer_cert",
    "peer_key",
    "iam_region",
    "admin_token_file",
    "rotation_functions",
    "rotation_ca",
    "rotation_cert",
    "rotation_key",
    "audit_log",
    "aws_listen",
}


def add_arguments(p: argparse.ArgumentParser, *, serve: bool = True) -> None:
    """The flags of `smgrpc serve` (serve=True) or of a `smgrpc kms ...` command."""
    for s in SETTINGS:
        if s.serve_only and not serve:
            continue
        hidden = s.key in _NO_SHOWN_DEFAULT or s.default is None
        shown = "" if hidden else f"; default {_show(s.default)}"
        text = s.help if serve or s.kms_help is None else s.kms_help
        if not serve and s.kms_help is not None:
            shown = ""
        if s.switch:
            p.add_argument(
                s.flag,
                dest=s.key,
                action="store_const",
                const=s.switch_value,
                default=None,
                help=f"{text} (env {s.env}={'1' if s.switch_value == 'on' else 'off'})",
            )
            continue
        p.add_argument(
            s.flag,
            dest=s.key,
            metavar=s.metavar,
            action="append" if s.repeat else "store",
            default=None,
            help=f"{text} (env {s.env}{shown})",
        )
    p.add_argument(
        "--config",
        metavar="FILE",
        help="TOML file with the same settings under the names of Config "
        f"({', '.join(s.key for s in SETTINGS if serve or not s.serve_only)}); "
        "flags and env win (env SMGRPC_CONFIG)",
    )


def add_serve_arguments(p: argparse.ArgumentParser) -> None:
    add_arguments(p, serve=True)


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def from_args(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> Config:
    """Flags win over SMGRPC_* environment variables, which win over the file, then defaults.

    For `smgrpc kms ...` (args.command == "kms") the serve-only settings keep their defaults.
    """
    env = os.environ if env is None else env
    serve = getattr(args, "command", "serve") != "kms"
    path = getattr(args, "config", None) or env.get("SMGRPC_CONFIG")
    file_cfg = _read_file(path)
    values: dict[str, object] = {}
    for s in SETTINGS:
        if s.serve_only and not serve:
            continue
        flag_value = getattr(args, s.key, None)
        if flag_value is not None:
            values[s.key] = s.parse(s.flag, flag_value)
        elif env.get(s.env, "").strip():
            raw: object = env[s.env]
            if s.repeat:
                raw = [p for p in str(raw).split(",") if p.strip()]
            values[s.key] = s.parse(s.env, raw)
        elif s.key in file_cfg:
            values[s.key] = s.parse(f"{s.key} in {path}", file_cfg[s.key])
    explicit = frozenset(values)
    if serve and "listen" not in explicit and "aws_listen" not in explicit:
        values["aws_listen"] = EMBEDDED_AWS_LISTEN
    region = str(values.get("region", DEFAULT_REGION))
    values.setdefault("data_dir", Path("smgrpc-data") / region)
    peers = values.get("peers", ())
    assert isinstance(peers, tuple)
    if any(r == region for r, _ in peers):
        raise ConfigError(f"--peer lists this server's own Region {region}")
    if peers and not values.get("cluster_secret_file"):
        raise ConfigError(
            "--peer needs --cluster-secret-file: replication calls are authenticated "
            "with the cluster secret (scripts/cluster creates one)"
        )
    _check_tls(values)
    _check_iam_region(region, peers, values.get("iam_region"))
    return Config(**values, explicit=explicit)  # type: ignore[arg-type]


def _check_tls(values: Mapping[str, object]) -> None:
    """The TLS flags that only make sense together (the files are read at start)."""
    pairs = ("tls_cert", "tls_key"), ("peer_cert", "peer_key"), ("rotation_cert", "rotation_key")
    for a, b in pairs:
        if bool(values.get(a)) != bool(values.get(b)):
            raise ConfigError(f"{_flag(a)} and {_flag(b)} must be given together")
    peer = [k for k in ("peer_ca", "peer_cert", "peer_key") if values.get(k)]
    if peer and len(peer) != 3:
        raise ConfigError("--peer-ca, --peer-cert and --peer-key must be given together")
    if values.get("mtls_listen") and not values.get("tls_cert"):
        raise ConfigError("--mtls-listen needs --tls-cert and --tls-key")
    if values.get("mtls_listen") and not (values.get("client_ca") or peer):
        raise ConfigError("--mtls-listen needs --client-ca or --peer-ca (the CAs it accepts)")
    for k in ("client_ca", "peer_ca"):
        if values.get(k) and not values.get("mtls_listen"):
            raise ConfigError(
                f"{_flag(k)} needs --mtls-listen: client certificates are accepted on that port"
            )
    if values.get("rotation_cert") and not values.get("rotation_ca"):
        raise ConfigError("--rotation-cert needs --rotation-ca (client certificates need TLS)")
    if _clash(values.get("mtls_listen"), values.get("listen")):
        raise ConfigError("--mtls-listen must differ from --listen")
    aws = values.get("aws_listen")
    if _clash(aws, values.get("listen", DEFAULT_LISTEN), values.get("mtls_listen")):
        raise ConfigError("--aws-listen must differ from --listen and --mtls-listen")


def _clash(address: object, *others: object) -> bool:
    """`address` is also one of `others` and names a fixed port (port 0: each listener gets
    its own free port, so two of them may say HOST:0)."""
    if not isinstance(address, str) or not address or address.endswith(":0"):
        return False
    return address in others


def _flag(key: str) -> str:
    return _BY_KEY[key].flag


def _check_iam_region(region: str, peers: tuple[tuple[str, str], ...], iam: object) -> None:
    """IAM is global: in a cluster every Region must be told which one holds it."""
    if peers and not iam:
        raise ConfigError(
            "--peer needs --iam-region: name the one Region of the cluster that holds IAM "
            "(users, roles, access keys), the same in every Region's configuration"
        )
    known = {region, *(r for r, _ in peers)}
    if iam and iam not in known:
        raise ConfigError(
            f"--iam-region {iam} is neither this Region ({region}) nor one of its --peer "
            "Regions: it could never receive IAM from it"
        )


def _read_file(path: str | None) -> dict[str, object]:
    if not path:
        return {}
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    unknown = set(data) - set(_BY_KEY)
    if unknown:
        raise ConfigError(
            f"unknown keys in {path}: {', '.join(sorted(unknown))} (known: {', '.join(_BY_KEY)})"
        )
    return data


MAX_TEST_PAUSE = 300.0


def rekey_pause_at(env: Mapping[str, str] | None = None) -> tuple[str, float] | None:
    """A test hook (tests kill -9 `smgrpc kms rotate-master-key` at a step, cli/kms_rotate.py):
    SMGRPC_TEST_REKEY_PAUSE_AT=<step> pauses the command there for
    SMGRPC_TEST_REKEY_PAUSE_SECONDS (default 60, at most 300), then it goes on. Honoured only
    with SMGRPC_TEST_HOOKS=1 as well; set without it, the command refuses to run (ConfigError)
    rather than ignore or obey a stray test setting."""
    env = os.environ if env is None else env
    step = env.get("SMGRPC_TEST_REKEY_PAUSE_AT") or None
    if step is None:
        return None
    if env.get("SMGRPC_TEST_HOOKS") != "1":
        raise ConfigError(
            "SMGRPC_TEST_REKEY_PAUSE_AT is a test hook (it pauses the rotation while it holds "
            "the data dir's lock): unset it, or set SMGRPC_TEST_HOOKS=1 too in a test"
        )
    try:
        seconds = float(env.get("SMGRPC_TEST_REKEY_PAUSE_SECONDS") or "60")
    except ValueError:
        raise ConfigError("SMGRPC_TEST_REKEY_PAUSE_SECONDS must be a number") from None
    return step, min(max(seconds, 0.0), MAX_TEST_PAUSE)
