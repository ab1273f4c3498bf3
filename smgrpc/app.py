"""Composition root: builds one Region and owns its start-up and shutdown order."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc

from smgrpc.api.access import LOGGER as ACCESS_LOGGER
from smgrpc.api.access import AccessLog
from smgrpc.api.audit import Auditor
from smgrpc.api.audit_events import (
    Apply,
    AuditedTransitions,
    audited_apply,
    purged,
    rotation_requested,
)
from smgrpc.api.authz import SecretsAuthz
from smgrpc.api.guard import Guard, ServiceGuard
from smgrpc.api.handlers import CallGuard, Gate
from smgrpc.api.iam_authz import IamGuard
from smgrpc.api.iam_servicer import SERVICE as IAM_SERVICE
from smgrpc.api.iam_servicer import IamServicer, iam_service
from smgrpc.api.server import (
    SERVICE,
    build_server,
    public_service,
    server_credentials,
    set_serving,
)
from smgrpc.api.servicer import SecretsManagerServicer
from smgrpc.api.services import wrapped_methods
from smgrpc.api.watch import Watch, WatchLimits
from smgrpc.audit.writer import HEAD_FILE, AuditError, AuditWriter
from smgrpc.auth.aws_profile import write_aws_profile
from smgrpc.auth.mtls import Trust
from smgrpc.auth.sigv4 import SignedRequest, SigV4Verifier
from smgrpc.auth.token_file import TokenFileError, write_admin_token
from smgrpc.awswire import dispatch
from smgrpc.awswire.server import MAX_BODY as AWS_MAX_BODY
from smgrpc.awswire.server import AwsListener, tls_context
from smgrpc.awswire.server import ListenError as AwsListenError
from smgrpc.config import Config, ConfigError
from smgrpc.core.access import AccessRecorder
from smgrpc.core.aio import settle
from smgrpc.core.errors import Unauthenticated, error_kind
from smgrpc.core.iam.model import IamState
from smgrpc.core.iam.usecases import IamUseCases
from smgrpc.core.model import DEFAULT_KMS_ALIAS
from smgrpc.core.paging import Tokens
from smgrpc.core.policies import PolicyUseCases
from smgrpc.core.ports import Clock, IssuedKey, RegionStore, SystemClock
from smgrpc.core.replicas import ReplicaUseCases
from smgrpc.core.rotation import RotationUseCases
from smgrpc.core.secrets import SecretUseCases
from smgrpc.core.values import ValueUseCases
from smgrpc.crypto.access_keys import NewAccessKey, VaultMinter
from smgrpc.crypto.audit_key import AuditKeyError, load_signer
from smgrpc.crypto.cluster import ClusterKey
from smgrpc.crypto.keyring import Keyring, new_key_record
from smgrpc.crypto.master import load_master_key, make_canary, verify_canary
from smgrpc.crypto.tls import TlsFileError, TlsMaterial, load_tls
from smgrpc.crypto.usage import kms_upkeep
from smgrpc.metrics.calls import Calls
from smgrpc.metrics.collector import Sources
from smgrpc.metrics.http import ListenError, MetricsServer
from smgrpc.metrics.serve import metrics_server
from smgrpc.replication.applier import Applier
from smgrpc.replication.feed import Feed
from smgrpc.replication.iam_receiver import IamReceiver
from smgrpc.replication.iam_shipper import IamShipper
from smgrpc.replication.messages import Batch, Reply
from smgrpc.replication.shipper import Shipper
from smgrpc.replication.transport import SERVICE as REPL_SERVICE
from smgrpc.replication.transport import WIRE, PeerClient, PeerTls, ReplicationServicer
from smgrpc.rotation import engine as rotation_engine
from smgrpc.rotation.invokers import FunctionTls, Registry
from smgrpc.rotation.scheduler import Scheduler
from smgrpc.startup import (
    INCARNATION,
    KEYCHECK,
    REGION_KEY,
    check_plaintext,
    inspect_data_dir,
    preflight,
)
from smgrpc.storage import stats as db_stats
from smgrpc.storage.rekey import DataDirBusy, lock
from smgrpc.storage.sqlite import SqliteStore
from smgrpc.supervisor import Supervisor

log = logging.getLogger("smgrpc")
ACCESS_LOG_EVERY = 0.2  # seconds between two writes of the buffered access log


def paging_tokens(keyring: Keyring) -> Tokens:
    """NextToken authenticator keyed by the Region's derived token key (see Keyring)."""
    return Tokens(keyring.token_key)


def _stderr(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


async def open_keyring(
    config: Config,
    clock: Clock,
    *,
    serve: bool = True,
    hold: Callable[[Path], Awaitable[None]] | None = None,
) -> tuple[SqliteStore, Keyring]:
    """Check everything first (startup.preflight), then open the database and load the keys.

    serve=True (`smgrpc serve`): creates a new Region's data dir, master key, Region record and
    default key; a failed check leaves the data directory byte-identical. serve=False (`smgrpc
    kms`): the data dir must exist; its Region comes from the data dir. hold(data_dir): takes
    the data dir's lock (storage.rekey), after the checks and before the canary and the key
    rows are read, so a master key rotation can't change them between that read and a write
    made with this keyring.
    """
    found = await (preflight(config) if serve else inspect_data_dir(config, serve=False))
    master = found.master or load_master_key(config.key_path, create=True)
    if hold is not None:
        await hold(config.data_dir)
    store = await SqliteStore.open(
        config.db_path,
        busy_timeout=config.busy_timeout,
        blob_cache_bytes=config.blob_cache_bytes,
        home=(config.region, config.account),
        load_secrets=serve,  # `smgrpc kms` needs the key rows only
        event_retention=config.watch_history,
    )
    try:
        # The pre-checks are best effort (they read nothing if they cannot): check again through
        # the store; the canary and the Region record are written once, never replaced.
        canary = (
            await store.add_meta(KEYCHECK, make_canary(master))
            if serve
            else await store.get_meta(KEYCHECK)
        )
        if canary is not None:
            verify_canary(master, canary)
        if serve:
            recorded = (await store.add_meta(REGION_KEY, found.region.encode())).decode()
            if recorded != found.region:
                raise ConfigError(f"{config.data_dir} belongs to Region {recorded}")
            await store.add_meta(INCARNATION, uuid.uuid4().hex.encode())
        records = await store.kms_keys()
        if serve and not any(r.alias == DEFAULT_KMS_ALIAS for r in records):
            rec = new_key_record(
                master,
                found.region,
                config.account,
                alias=DEFAULT_KMS_ALIAS,
                description="Default key that protects my Secrets Manager data",
                now=clock.now(),
            )
            await store.add_kms_key(rec, canary)  # False: another process made it; read it back
            records = await store.kms_keys()
        keyring = Keyring(
            master,
            found.region,
            config.account,
            records,
            materials=await store.kms_materials(),
            rotate_after=config.kms_rotate_after,
            canary=canary,
        )
        return store, keyring
    except BaseException:
        await store.close()
        raise


def read_tls(config: Config) -> TlsMaterial:
    """Read and check the configured TLS files (blocking); errors as ConfigError (exit 2)."""
    try:
        return load_tls(
            tls_cert=config.tls_cert,
            tls_key=config.tls_key,
            client_ca=config.client_ca,
            peer_ca=config.peer_ca,
            peer_cert=config.peer_cert,
            peer_key=config.peer_key,
        )
    except TlsFileError as exc:
        raise ConfigError(str(exc)) from None


def _peer_tls(tls: TlsMaterial) -> PeerTls | None:
    if tls.peer is None or tls.peer_ca_pem is None:
        return None
    return PeerTls(tls.peer_ca_pem, tls.peer.cert_pem, tls.peer.key_pem)


async def _refuse(batch: Batch, accepted_at: float) -> Reply:
    raise Unauthenticated("This Region has no cluster secret: it accepts no replication.")


def _add_port(server: grpc.aio.Server, address: str, tls: TlsMaterial, *, mutual: bool) -> int:
    try:
        if tls.server is None:
            return int(server.add_insecure_port(address))
        return int(server.add_secure_port(address, server_credentials(tls, mutual=mutual)))
    except RuntimeError:
        raise ConfigError(
            f"cannot listen on {address}: the address is in use or not available"
        ) from None


class Region:
    """One Region: storage, keyring, use cases, gRPC server and supervised background tasks.

    An async context manager: `async with Region(config) as region:` starts it and, however
    the block ends, stops it; `stop()` always completes and closes storage, even after a
    failed start or a background task that failed.
    """

    def __init__(self, config: Config, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.port = 0
        self.mtls_port = 0  # --mtls-listen's port once started (0: none)
        self.tls = TlsMaterial()
        self.trust = Trust()  # the guard's client-certificate identity: trust.identity
        self.tasks = Supervisor()
        self.gate = Gate(
            max_inflight=config.max_inflight,
            max_streams=config.watch_max_streams,
            max_streams_per_principal=config.watch_max_streams_per_principal,
        )
        self.access_log = AccessLog(
            _stderr if logging.getLogger(ACCESS_LOGGER).isEnabledFor(logging.INFO) else None,
            json_format=config.log_format == "json",
        )
        self.shippers: dict[str, Shipper] = {}
        self.iam_shippers: dict[str, IamShipper] = {}
        self.server: grpc.aio.Server | None = None
        self.raw_store: RegionStore | None = None
        self.access: AccessRecorder | None = None
        self.replication: ReplicationServicer | None = None
        self.function_tls: FunctionTls | None = None
        self.functions: Registry | None = None  # rotation functions (built-ins included)
        self.scheduler: Scheduler | None = None  # runs rotations (a supervised task)
        self._stopping = asyncio.Event()
        self._closed = False
        self._kms_version: int | None = None
        self.incarnation = ""  # this data dir's (README "Backup and restore"), set by start
        self._dir_lock: int | None = None  # fd holding the data dir's shared lock
        self.auditor: Auditor | None = None  # --audit-log (README "Audit trail")
        self.calls = Calls(grpc.StatusCode.OK)  # per-call counts for /metrics (handlers.wrap)
        self.metrics: MetricsServer | None = None  # --metrics-listen
        self.metrics_port = 0
        self.aws: AwsListener | None = None  # --aws-listen
        self.aws_port = 0
        self._serving = False

    async def __aenter__(self) -> Region:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> int:
        """Open the data dir, build the Region, serve, start the background tasks."""
        check_plaintext(self.config)
        self.tls = await asyncio.to_thread(read_tls, self.config)
        await self._start_metrics(self.config)  # first: /readyz says 503 while starting
        self.function_tls = await asyncio.to_thread(rotation_engine.function_tls, self.config)
        self.trust = Trust(self.tls.client_ca, self.tls.peer_ca)
        try:
            raw, self.keyring = await open_keyring(self.config, self.clock, hold=self._hold)
            self.raw_store = raw
            self.incarnation = ((await raw.get_meta(INCARNATION)) or b"").decode()
            self.auditor = await self._open_audit(self.config)
            self.iam = await self._open_iam(self.config, raw)
            server, access = self._build(self.config, raw, paging_tokens(self.keyring))
            await self._serve(self.config, server, raw, access)
        except DataDirBusy as exc:
            await self.stop(0)
            raise ConfigError(str(exc)) from None
        except BaseException:
            # Leave nothing running: an open database connection would keep a failed
            # `smgrpc serve` process alive forever instead of letting it exit.
            await self.stop(0)
            raise
        return self.port

    async def _open_audit(self, cfg: Config) -> Auditor | None:
        """Open the audit log (its signing key in the data dir) before anything is served."""
        if cfg.audit_log is None:
            return None
        path = cfg.audit_log

        def make() -> AuditWriter:
            writer = AuditWriter(
                path,
                load_signer(cfg.data_dir),
                cfg.region,
                max_bytes=cfg.audit_max_bytes,
                sync=cfg.audit_sync,
                head=cfg.data_dir / HEAD_FILE,
            )
            writer.open()
            return writer

        try:
            writer = await asyncio.to_thread(make)
        except (AuditError, AuditKeyError) as exc:
            raise ConfigError(str(exc)) from None
        writer.start(asyncio.get_running_loop())
        return Auditor(writer, cfg.region, cfg.account)

    async def _hold(self, data_dir: Path) -> None:
        """Shared: `smgrpc kms rotate-master-key` (exclusive) never runs under a server."""
        await asyncio.to_thread(data_dir.mkdir, mode=0o700, parents=True, exist_ok=True)
        self._dir_lock = await asyncio.to_thread(lock, data_dir, exclusive=False)

    @property
    def admin_token_path(self) -> Path:
        """Where the bootstrap admin credential is (written by the IAM Region's first start)."""
        return self.config.admin_token_path

    async def _open_iam(self, cfg: Config, raw: RegionStore) -> IamUseCases:
        """Load the IAM snapshot; the IAM Region's first start creates the admin user."""
        self.iam_minter = VaultMinter(self.keyring.access_keys)
        state = await raw.iam_load(cfg.account, cfg.iam_holder)
        if state.epoch and state.holder != cfg.iam_holder:
            log.info(
                "IAM Region is %s (moved, epoch %d); --iam-region %s only names the first one",
                state.holder,
                state.epoch,
                cfg.iam_holder,
            )
        iam = IamUseCases(
            raw, self.iam_minter, self.clock, cfg.region, state, on_change=self._iam_changed
        )
        path = cfg.admin_token_path
        # A token file but no users: the database was wiped or replaced; the old credential
        # names a key that no longer exists, so the new admin's credential replaces it.
        stale = await asyncio.to_thread(path.exists)

        async def deliver(key: IssuedKey) -> None:
            pair = NewAccessKey(key.access_key_id, key.secret_access_key)
            try:
                await asyncio.to_thread(write_admin_token, path, pair, replace=True)
            except (TokenFileError, OSError) as exc:
                raise ConfigError(f"cannot write the admin token file {path}: {exc}") from None

        if await iam.bootstrap_admin(deliver) is not None:
            if stale:
                log.warning("IAM had no users: replaced the stale admin token file %s", path)
            log.info("IAM: created user admin with full access; its access key is in %s", path)
        elif not iam.state.users and iam.state.holder == cfg.region:
            log.warning(
                "IAM has no users (all were deleted): no admin is made again; callers need a "
                "client certificate naming a role, or a fresh data dir"
            )
        return iam

    def _build(
        self, cfg: Config, raw: RegionStore, tokens: Tokens
    ) -> tuple[grpc.aio.Server, AccessRecorder]:
        # Every write goes through the replication feed (outbox rows, generations).
        self.store = Feed(raw, on_outbox=self._wake, clock=self.clock)
        self.access = access = AccessRecorder(self.store)
        peers = frozenset(r for r, _ in cfg.peers)
        self.values = ValueUseCases(self.store, self.keyring, self.clock, access, tokens=tokens)
        self.secrets = SecretUseCases(
            self.store,
            self.keyring,
            self.clock,
            self.values,
            cfg.region,
            cfg.account,
            tokens=tokens,
            peers=peers,
        )
        self.replicas = ReplicaUseCases(self.store, cfg.region, peers, self._link_view)
        self.functions = rotation_engine.registry(cfg, self.values, self.function_tls)
        self.rotation = RotationUseCases(
            self.store,
            self.clock,
            self.values,
            cfg.region,
            cfg.account,
            functions=self.functions.registered,
            on_start=rotation_requested(self.auditor, self._rotation_started)
            if self.auditor
            else self._rotation_started,
        )
        transitions = AuditedTransitions(self.rotation, self.auditor) if self.auditor else None
        self.scheduler = rotation_engine.scheduler(
            cfg, self.store, transitions or self.rotation, self.functions, self.clock
        )
        key = ClusterKey.from_file(cfg.cluster_secret_file) if cfg.cluster_secret_file else None
        iam_in = None
        if key is not None:
            # One channel per peer, shared by the secrets stream and the IAM snapshots.
            tls, most = _peer_tls(self.tls), cfg.replication_max_backoff
            clients = {t: PeerClient(cfg.region, t, a, key, tls=tls) for t, a in cfg.peers}
            self.shippers = {
                t: Shipper(
                    self.store,
                    self.keyring,
                    key,
                    cfg.region,
                    t,
                    c,
                    max_backoff=most,
                    incarnation=self.incarnation,
                )
                for t, c in clients.items()
            }
            self.iam_shippers = {
                t: IamShipper(
                    lambda: self.iam.state, self.iam_minter, key, cfg.region, t, c, max_backoff=most
                )
                for t, c in clients.items()
            }
            iam_in = IamReceiver(self.store, self.iam, self.iam_minter, key, cfg.region)
        apply: Apply = (
            Applier(self.store, self.keyring, key, cfg.region, self.incarnation).apply
            if key
            else _refuse
        )
        if self.auditor is not None and key is not None:
            apply = audited_apply(apply, self.auditor, cfg.region)
        self.replication = ReplicationServicer(
            cfg.region,
            peers,
            key,
            apply,
            iam=iam_in,
            peer_identity=self.trust.peer_region if self.tls.peer_ca is not None else None,
        )
        self.sm = SecretsManagerServicer(
            self.secrets,
            self.values,
            self.replicas,
            cfg.region,
            policies=PolicyUseCases(self.store),
            rotation=self.rotation,
            watch=Watch(
                raw,
                self.store.find,
                cfg.region,
                cfg.account,
                WatchLimits(
                    heartbeat=cfg.watch_heartbeat,
                    max_lag=cfg.watch_max_lag,
                    write_timeout=cfg.watch_write_timeout,
                ),
                closing=lambda: self.gate.closed,
            ),
        )
        self.server, self.health = build_server(
            [
                public_service(self.sm),
                iam_service(IamServicer(self.iam)),
                (REPL_SERVICE, WIRE, self.replication),
            ],
            self.gate,
            self.access_log,
            self._guards(cfg),
            reflection_on=cfg.reflection,
            audit=self.auditor,
            observer=self.calls,
        )
        return self.server, access

    def _guards(self, cfg: Config) -> dict[str, CallGuard]:
        """Authentication + authorization per IAM-guarded service (replication: peer links)."""
        guard = Guard(
            self._iam_state,
            self.keyring.access_keys,
            self.clock,
            # A client certificate's URI SAN names the caller (mTLS port, --client-ca only).
            identity=self.trust.identity if self.tls.client_ca is not None else None,
        )
        self.authz = sm = SecretsAuthz(
            self.store.find, self.keyring.resolve, cfg.region, cfg.account
        )
        return {
            SERVICE.full_name: ServiceGuard(guard, sm.plan, sm.item, sm.lockout, sm.cache_key),
            IAM_SERVICE.full_name: IamGuard(guard, self._iam_state),
        }

    def _iam_state(self) -> IamState:
        """The current IAM snapshot (swapped by every IAM write or replicated snapshot)."""
        return self.iam.state

    async def _serve(
        self, cfg: Config, server: grpc.aio.Server, raw: RegionStore, access: AccessRecorder
    ) -> None:
        self.port = _add_port(server, cfg.listen, self.tls, mutual=False)
        if cfg.mtls_listen is not None:
            self.mtls_port = _add_port(server, cfg.mtls_listen, self.tls, mutual=True)
        await server.start()
        await self._start_aws(cfg)
        await set_serving(
            self.health, [SERVICE.full_name, IAM_SERVICE.full_name, REPL_SERVICE.full_name]
        )
        self._serving = True
        self.tasks.every("purge", cfg.purge_interval, self._purge_once)
        self.tasks.every("kms-refresh", cfg.key_refresh_interval, lambda: self._refresh_keys(raw))
        self.tasks.every("access-log", ACCESS_LOG_EVERY, self.access_log.flush_async)
        self.tasks.every("access-dates", access.interval, access.flush)
        for target, shipper in self.shippers.items():
            self.tasks.run(f"ship-{target}", shipper.run)
        if self.scheduler is not None:
            self.tasks.run("rotation", self.scheduler.run)
        for target, iam_shipper in self.iam_shippers.items():
            self.tasks.run(f"ship-iam-{target}", iam_shipper.run)
        log.info(
            "Region %s serving on %s (port %d, %s)",
            cfg.region,
            cfg.listen,
            self.port,
            "TLS" if self.tls.server is not None else "plaintext",
        )
        if cfg.mtls_listen is not None:
            log.info(
                "mTLS (client certificate required) on %s (port %d)",
                cfg.mtls_listen,
                self.mtls_port,
            )

    def _wire_guard(self, cfg: Config) -> ServiceGuard:
        """The AWS listener's guard: SigV4 names the caller (verified once per request), then
        the same IAM snapshot, planner and decisions as the gRPC side (README "AWS SDKs")."""
        verifier = SigV4Verifier(cfg.region, self._iam_state, self.keyring.access_keys, self.clock)
        guard = Guard(
            self._iam_state,
            self.keyring.access_keys,
            self.clock,
            identity=dispatch.sigv4_identity(verifier.verify, verifier.recheck),
        )
        sm = self.authz
        return ServiceGuard(guard, sm.plan, sm.item, sm.lockout, sm.cache_key)

    async def _start_aws(self, cfg: Config) -> None:
        """--aws-listen: the AWS JSON 1.1 listener onto the very handlers gRPC runs."""
        if cfg.aws_listen is None:
            return
        served = wrapped_methods(
            *public_service(self.sm),
            self.gate,
            self.access_log,
            self._wire_guard(cfg),
            self.auditor,
            self.calls,
            ids=dispatch.request_id,
        )
        methods = {name: m for name, m in served.items() if not m.streaming}  # no AWS streams
        tls = None
        if cfg.tls_cert is not None and cfg.tls_key is not None:
            tls = await asyncio.to_thread(tls_context, cfg.tls_cert, cfg.tls_key)
        listener = AwsListener(
            cfg.aws_listen,
            methods,
            SignedRequest,
            tls=tls,
            max_body=AWS_MAX_BODY,
            grace=cfg.shutdown_grace,
        )
        try:
            self.aws_port = await listener.start()
        except AwsListenError as exc:
            raise ConfigError(str(exc)) from None
        self.aws = listener
        log.info(
            "AWS JSON 1.1 listener on %s://%s (port %d)",
            listener.scheme,
            cfg.aws_listen,
            self.aws_port,
        )
        if cfg.aws_embedded and await asyncio.to_thread(cfg.admin_token_path.exists):
            host = cfg.aws_listen.rpartition(":")[0]
            endpoint = f"{listener.scheme}://{host}:{self.aws_port}"
            try:
                await asyncio.to_thread(
                    write_aws_profile, cfg.admin_token_path, cfg.region, endpoint
                )
            except (TokenFileError, OSError) as exc:
                raise ConfigError(f"cannot write the AWS profile files: {exc}") from None

    async def _start_metrics(self, cfg: Config) -> None:
        if cfg.metrics_listen is None:
            return
        tls = (cfg.tls_cert, cfg.tls_key) if cfg.tls_cert and cfg.tls_key else None
        sources = Sources(
            self.calls,
            self.gate,
            peers=lambda: self.shippers,
            pending=lambda after: db_stats.outbox_pending(cfg.db_path, after),
            rotation=lambda: self.scheduler.runner if self.scheduler is not None else None,
            audit=lambda: self.auditor.writer if self.auditor is not None else None,
            database_bytes=lambda: db_stats.database_bytes(cfg.db_path),
            ready=self.not_ready,
            secret_names=cfg.metrics_secret_names,
        )
        loop = asyncio.get_running_loop()
        try:
            server = metrics_server(
                cfg.region, cfg.metrics_listen, sources, loop, tls=tls, insecure=cfg.insecure
            )
            self.metrics_port = await asyncio.to_thread(server.start)
        except ListenError as exc:
            raise ConfigError(str(exc)) from None
        self.metrics = server
        scheme = "https" if tls else "http"
        log.info("metrics and health on %s://%s/metrics", scheme, cfg.metrics_listen)

    def not_ready(self) -> list[str]:
        """Why /readyz answers 503 (empty: serving). Read from the metrics thread."""
        if self._closed or self.gate.closed or self._stopping.is_set():  # from the signal on
            return ["draining: the Region is shutting down"]
        if self.raw_store is None:
            return ["starting: the store is not open yet"]
        if not self._serving:
            return ["starting: the keyring and the gRPC listener are not ready yet"]
        if self.auditor is not None and not self.auditor.usable:
            return ["audit log: it cannot be written, so audited calls are refused"]
        return []

    def _iam_changed(self, state: IamState) -> None:
        """Every IAM commit here (a write, a replicated snapshot, a move): ship it."""
        for shipper in self.iam_shippers.values():
            shipper.wake()

    def _wake(self, regions: set[str]) -> None:
        for region in regions:
            shipper = self.shippers.get(region)
            if shipper is not None:
                shipper.wake()

    def _rotation_started(self, arn: str) -> None:
        """RotateSecret committed a run: the scheduler starts it now."""
        if self.scheduler is not None:
            self.scheduler.wake(arn)

    def _link_view(self, region: str, arn: str) -> str | None:
        shipper = self.shippers.get(region)
        return shipper.behind(arn) if shipper is not None else None

    async def _purge_once(self) -> None:
        for arn in await self.secrets.purge_due():
            log.info("purged %s at the end of its recovery window", arn)
            if self.auditor is not None:
                purged(self.auditor, arn)

    async def _refresh_keys(self, raw: RegionStore) -> None:
        rotated = await kms_upkeep(raw, self.keyring, self.clock)
        version = await raw.data_version()
        if version != self._kms_version or rotated:
            self._kms_version = version
            self.keyring.reload(await raw.kms_keys(), await raw.kms_materials())

    async def _kms_upkeep(self, raw: RegionStore) -> None:
        await kms_upkeep(raw, self.keyring, self.clock)

    async def stop(self, grace: float | None = None) -> None:
        """Refuse new calls, NOT_SERVING, drain in-flight calls, stop tasks, close storage.

        Always completes and always closes storage: each step's failure is logged by type and
        does not skip the next, and a cancellation arriving meanwhile is re-raised only after
        storage is closed. Calling it again does nothing.
        """
        if self._closed:
            return
        self._closed = True
        await settle(self._shutdown(grace))

    async def _shutdown(self, grace: float | None) -> None:
        self.gate.close()
        try:
            if self.scheduler is not None:
                # First: a step cut now is invoked again on restart; one left running would
                # see its calls back refused while the server drains, and count a failure.
                await self._step("rotations", self.scheduler.close())
            wait = self.config.shutdown_grace if grace is None else grace
            await asyncio.gather(  # each in-flight call gets the grace, on either listener
                self._step("server", self._stop_server(self.server, wait)),
                self._step("AWS listener", self._stop_aws(wait)),
            )
            if self.replication is not None:
                await self._step("replication applies", self.replication.drain())
            await self._step("tasks", self.tasks.stop())
            self.access_log.flush()
            for target, shipper in self.shippers.items():
                await self._step(f"peer client {target}", shipper.client.close())
            if self.functions is not None:
                await self._step("rotation functions", self.functions.close())
            if self.access is not None:
                await self._step("access dates", self.access.flush())  # the last reads' dates
            if self.raw_store is not None:  # the data keys wrapped since the last record
                await self._step("kms usage", self._kms_upkeep(self.raw_store))
            if self.auditor is not None:  # last: every call and background event recorded
                await self._step("audit log", self.auditor.writer.aclose())
        finally:
            if self.raw_store is not None:
                await self._step("storage", self.raw_store.close())
            if self.metrics is not None:  # last: /readyz answered 503 through the drain
                await self._step("metrics", asyncio.to_thread(self.metrics.close))
            if self._dir_lock is not None:
                os.close(self._dir_lock)

    async def _stop_server(self, server: grpc.aio.Server | None, grace: float) -> None:
        if server is not None:
            await self.health.enter_graceful_shutdown()
            await server.stop(grace)

    async def _stop_aws(self, grace: float) -> None:
        """The AWS listener: stop accepting; requests in flight get `grace` to finish (the
        gate is closed: any new one was answered 503 ServiceUnavailable)."""
        if self.aws is not None:
            await self.aws.close(grace)

    async def _step(self, what: str, step: Awaitable[None]) -> None:
        try:
            await step
        except Exception as exc:  # noqa: BLE001 - shutdown goes on; type only (no secret text)
            log.error("shutdown: %s failed (%s)", what, error_kind(exc))

    async def serve_until_signal(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stopping.set)
        await self._stopping.wait()
        log.info("signal received: draining")
        if self.scheduler is not None:
            await self.scheduler.close()  # before calls back from functions are refused
        # New calls get UNAVAILABLE from now on; give the ones already queued in grpc a moment
        # to reach the gate (rather than be CANCELLED by server.stop), and health checkers a
        # moment to see NOT_SERVING. In-flight calls then get shutdown_grace to finish.
        self.gate.close()
        await self.health.enter_graceful_shutdown()
        await asyncio.sleep(self.config.shutdown_drain)
        await self.stop()
