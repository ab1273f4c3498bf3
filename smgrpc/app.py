"""Composition root: builds one Region and owns its start-up and shutdown order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc.api.access import LOGGER as ACCESS_LOGGER
from smgrpc.api.access import AccessLog
from smgrpc.api.handlers import Gate
from smgrpc.api.server import SERVICE, build_server, set_serving
from smgrpc.api.servicer import SecretsManagerServicer
from smgrpc.config import Config, ConfigError
from smgrpc.core.access import AccessRecorder
from smgrpc.core.errors import Unauthenticated
from smgrpc.core.model import DEFAULT_KMS_ALIAS
from smgrpc.core.paging import Tokens
from smgrpc.core.paging import new_key as new_token_key
from smgrpc.core.ports import Clock, SystemClock
from smgrpc.core.replicas import ReplicaUseCases
from smgrpc.core.secrets import SecretUseCases
from smgrpc.core.values import ValueUseCases
from smgrpc.crypto.cluster import ClusterKey
from smgrpc.crypto.keyring import Keyring, new_key_record
from smgrpc.crypto.master import load_master_key, make_canary, verify_canary
from smgrpc.replication.applier import Applier
from smgrpc.replication.feed import Feed
from smgrpc.replication.messages import Batch, Reply
from smgrpc.replication.shipper import Shipper
from smgrpc.replication.transport import SERVICE as REPL_SERVICE
from smgrpc.replication.transport import WIRE, PeerClient, ReplicationServicer
from smgrpc.startup import KEYCHECK, REGION_KEY, inspect_data_dir, preflight
from smgrpc.storage.sqlite import SqliteStore

log = logging.getLogger("smgrpc")
PAGING_KEY = "paging-key"


async def paging_tokens(store: SqliteStore) -> Tokens:
    """NextToken authenticator, keyed once per Region and kept with its data (tokens survive
    restarts; another Region's tokens fail). Written once, never replaced."""
    return Tokens(await store.add_meta(PAGING_KEY, new_token_key()))


def _stderr(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


async def open_keyring(
    config: Config, clock: Clock, *, serve: bool = True
) -> tuple[SqliteStore, Keyring]:
    """Check everything first (startup.preflight), then open the database and load the keys.

    serve=True (`smgrpc serve`): creates a new Region's data dir, master key, Region record and
    default key; a failed check leaves the data directory byte-identical. serve=False (`smgrpc
    kms`): the data dir must exist; its Region comes from the data dir.
    """
    found = await (preflight(config) if serve else inspect_data_dir(config, serve=False))
    master = found.master or load_master_key(config.key_path, create=True)
    store = await SqliteStore.open(
        config.db_path,
        busy_timeout=config.busy_timeout,
        blob_cache_bytes=config.blob_cache_bytes,
        home=(config.region, config.account),
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
            await store.add_kms_key(rec)  # False: another process made it; read it back
            records = await store.kms_keys()
        return store, Keyring(master, found.region, config.account, records)
    except BaseException:
        await store.close()
        raise


async def _refuse(batch: Batch, accepted_at: float) -> Reply:
    raise Unauthenticated("This Region has no cluster secret: it accepts no replication.")


class Region:
    """One Region: storage, keyring, use cases, gRPC server and background tasks."""

    def __init__(self, config: Config, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.port = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self.gate = Gate(max_inflight=config.max_inflight)
        self.access_log = AccessLog(
            _stderr if logging.getLogger(ACCESS_LOGGER).isEnabledFor(logging.INFO) else None,
            json_format=config.log_format == "json",
        )

    async def start(self) -> int:
        cfg = self.config
        self.raw_store, self.keyring = await open_keyring(cfg, self.clock)
        raw = self.raw_store
        # Every write goes through the replication feed (outbox rows, generations).
        self.store = Feed(raw, on_outbox=self._wake)
        try:
            return await self._start_serving(cfg)
        except BaseException:
            # Leave nothing running: an open database connection would keep a failed
            # `smgrpc serve` process alive forever instead of letting it exit.
            await self._abort_start()
            raise

    async def _abort_start(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task
        self._tasks.clear()
        server = getattr(self, "server", None)
        if server is not None:
            await server.stop(None)
        for shipper in getattr(self, "shippers", {}).values():
            with contextlib.suppress(Exception):
                await shipper.client.close()
        await self.store.close()

    async def _start_serving(self, cfg: Config) -> int:
        self.access = AccessRecorder(self.store)
        tokens = await paging_tokens(self.raw_store)
        self.values = ValueUseCases(
            self.store, self.keyring, self.clock, self.access, tokens=tokens
        )
        self.secrets = SecretUseCases(
            self.store,
            self.keyring,
            self.clock,
            self.values,
            cfg.region,
            cfg.account,
            tokens=tokens,
        )
        peers = {r for r, _ in cfg.peers}
        self.secrets.peers = peers
        self.cluster_key = (
            ClusterKey.from_file(cfg.cluster_secret_file) if cfg.cluster_secret_file else None
        )
        self.shippers: dict[str, Shipper] = {}
        if self.cluster_key is not None:
            for target, address in cfg.peers:
                client = PeerClient(cfg.region, target, address, self.cluster_key)
                self.shippers[target] = Shipper(
                    self.store,
                    self.keyring,
                    self.cluster_key,
                    cfg.region,
                    target,
                    client,
                    max_backoff=cfg.replication_max_backoff,
                )
        self.replicas = ReplicaUseCases(self.store, cfg.region, peers, self._link_view)
        servicer = SecretsManagerServicer(self.secrets, self.values, self.replicas, cfg.region)
        applier = (
            Applier(self.store, self.keyring, self.cluster_key, cfg.region)
            if self.cluster_key
            else None
        )
        repl_servicer = ReplicationServicer(
            cfg.region, peers, self.cluster_key, applier.apply if applier else _refuse
        )
        self.server, self.health = build_server(
            [(SERVICE, pb, servicer), (REPL_SERVICE, WIRE, repl_servicer)],
            self.gate,
            self.access_log,
        )
        try:
            self.port = self.server.add_insecure_port(cfg.listen)
        except RuntimeError:
            raise ConfigError(
                f"cannot listen on {cfg.listen}: the address is in use or not available"
            ) from None
        await self.server.start()
        await set_serving(self.health, [SERVICE.full_name, REPL_SERVICE.full_name])
        self._spawn("purge", self.config.purge_interval, self._purge_once)
        self._spawn("kms-refresh", self.config.key_refresh_interval, self._refresh_keys)
        self._spawn("access-log", 0.2, self.access_log.flush_async)
        self._spawn("access-dates", self.access.interval, self.access.flush)
        for target, shipper in self.shippers.items():
            self._tasks.append(asyncio.create_task(shipper.run(), name=f"ship-{target}"))
        log.info("Region %s serving on %s (port %d)", cfg.region, cfg.listen, self.port)
        return self.port

    def _spawn(self, name: str, every: float, job: Callable[[], Awaitable[None]]) -> None:
        async def loop() -> None:
            while True:
                try:
                    await job()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - keep the loop alive; log type only
                    log.error("background task %s failed: %s", name, type(exc).__name__)
                await asyncio.sleep(every)

        self._tasks.append(asyncio.create_task(loop(), name=name))

    def _wake(self, regions: set[str]) -> None:
        for region in regions:
            shipper = self.shippers.get(region)
            if shipper is not None:
                shipper.wake()

    def _link_view(self, region: str, arn: str) -> str | None:
        shipper = self.shippers.get(region)
        return shipper.behind(arn) if shipper is not None else None

    async def _purge_once(self) -> None:
        for arn in await self.secrets.purge_due():
            log.info("purged %s at the end of its recovery window", arn)

    async def _refresh_keys(self) -> None:
        version = await self.store.data_version()
        if version != getattr(self, "_kms_version", None):
            self._kms_version = version
            self.keyring.reload(await self.store.kms_keys())

    async def stop(self, grace: float | None = None) -> None:
        """Refuse new calls, NOT_SERVING, drain in-flight calls, stop tasks, close storage."""
        self.gate.close()
        await self.health.enter_graceful_shutdown()
        await self.server.stop(self.config.shutdown_grace if grace is None else grace)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self.access_log.flush()
        for shipper in self.shippers.values():
            await shipper.client.close()
        await self.access.flush()  # the last reads' LastAccessedDate (logs, never raises)
        await self.store.close()

    async def serve_until_signal(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stopping.set)
        await self._stopping.wait()
        log.info("signal received: draining")
        # New calls get UNAVAILABLE from now on; give the ones already queued in grpc a moment
        # to reach the gate (rather than be CANCELLED by server.stop), and health checkers a
        # moment to see NOT_SERVING. In-flight calls then get shutdown_grace to finish.
        self.gate.close()
        await self.health.enter_graceful_shutdown()
        await asyncio.sleep(self.config.shutdown_drain)
        await self.stop()
