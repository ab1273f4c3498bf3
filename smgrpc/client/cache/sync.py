"""SecretCache: aws-secretsmanager-caching's SecretCache over smgrpc, with push invalidation
from a WatchSecrets stream read by a background thread the cache owns (stopped by close())."""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc.client.cache.config import SecretCacheConfig
from smgrpc.client.cache.store import CacheStats, Key, Store
from smgrpc.client.errors import ClientError, ExpiredSequenceException, ServiceError
from smgrpc.client.retry import RetryPolicy
from smgrpc.client.sync import EventStream, SecretsManagerClient

log = logging.getLogger("smgrpc.client.cache")
FETCH_ATTEMPTS = 3  # reads overtaken by a change before the value is returned uncached


def watch_policy(config: SecretCacheConfig) -> RetryPolicy:
    """Reconnect for as long as the cache lives (failures only count between messages)."""
    return RetryPolicy(max_attempts=1_000_000, base_delay=0.05, max_delay=config.watch_max_backoff)


class SecretCache:
    """`cache.get_secret_string("db")`: GetSecretValue answers kept for
    `secret_refresh_interval`, dropped at once when the stream reports a change (watch=True).

    Given no client it makes (and closes) its own from settings()/SMGRPC_* variables."""

    def __init__(
        self,
        config: SecretCacheConfig = SecretCacheConfig(),  # noqa: B008 - frozen
        client: SecretsManagerClient | None = None,
        *,
        watch: bool = True,
    ) -> None:
        self.config = config
        self._owns_client = client is None
        self.client = client if client is not None else SecretsManagerClient()
        self._store = Store(config)
        self._closed = threading.Event()
        self._stream: EventStream | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        if watch:
            self._store.state("connecting")
            self._thread = threading.Thread(
                target=self._watch, name="smgrpc-secret-cache-watch", daemon=True
            )
            self._thread.start()

    def __repr__(self) -> str:
        return f"SecretCache(endpoint={self.client.settings.endpoint!r}, size={self.stats().size})"

    def __enter__(self) -> SecretCache:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the watch thread (and close the client if the cache made it)."""
        self._closed.set()
        with self._lock:
            if self._stream is not None:
                self._stream.close()
        if self._thread is not None:
            self._thread.join(10)
        if self._owns_client:
            self.client.close()

    # ---- reads ---------------------------------------------------------------------------

    def get_secret_value(
        self, secret_id: str, version_stage: str | None = None
    ) -> pb.GetSecretValueResponse:
        key: Key = (secret_id, version_stage or self.config.default_version_stage)
        cached = self._store.get(key)
        if cached is not None:
            return cached
        for _ in range(FETCH_ATTEMPTS):
            started = self._store.begin()
            value: pb.GetSecretValueResponse | None = None
            watchable = False
            try:
                value = self.client.get_secret_value(SecretId=key[0], VersionStage=key[1])
                watchable = self._watchable(value.arn)
            finally:
                stored = self._store.finish(key, started, value, ttl_only=not watchable)
            if stored:
                break
        assert value is not None
        return value

    def _watchable(self, arn: str) -> bool:
        """Whether the stream can report on this secret: WatchSecrets delivers a secret's
        events only to a caller that may DescribeSecret it, so ask exactly that (a
        DescribeSecret call, remembered for one refresh interval). Any failure: not known to
        be watchable, so the entry is TTL-only (counted in stats().ttl_only_entries)."""
        if self._thread is None:
            return False  # watch=False: every entry is TTL-only
        known = self._store.watchable(arn)
        if known is not None:
            return known
        try:
            self.client.describe_secret(SecretId=arn)
            watchable = True
        except (ServiceError, ClientError):
            watchable = False
        self._store.note_watchable(arn, watchable)
        return watchable

    def get_secret_string(self, secret_id: str, version_stage: str | None = None) -> str | None:
        """SecretString of the version (None if the secret holds SecretBinary)."""
        value = self.get_secret_value(secret_id, version_stage)
        return value.secret_string if value.HasField("secret_string") else None

    def get_secret_binary(self, secret_id: str, version_stage: str | None = None) -> bytes | None:
        """SecretBinary of the version (None if the secret holds SecretString)."""
        value = self.get_secret_value(secret_id, version_stage)
        return value.secret_binary if value.HasField("secret_binary") else None

    def stats(self) -> CacheStats:
        return self._store.stats()

    def clear(self) -> None:
        self._store.clear()

    # ---- the watch thread ----------------------------------------------------------------

    def _watch(self) -> None:
        policy = watch_policy(self.config)
        while not self._closed.is_set():
            after = self._store.position
            self._store.fresh_stream = after is None
            stream = self.client.watch_secrets(
                AfterSequence=after, retries=policy, on_state=self._store.state
            )
            with self._lock:
                if self._closed.is_set():
                    break
                self._stream = stream
            try:
                for event in stream:
                    self._store.event(event)
            except ExpiredSequenceException:
                log.info("WatchSecrets history expired: cache cleared, watching afresh")
                self._store.resync()
                continue
            except (ServiceError, ClientError) as exc:
                self._store.state("down")
                log.warning(
                    "WatchSecrets failed (%s); serving by TTL only, retrying",
                    getattr(exc, "code", type(exc).__name__),
                )
                self._closed.wait(self.config.watch_max_backoff)
        self._store.state("closed")
