"""SecretCache's state (cache/sync.py; there is no asyncio cache): an LRU of GetSecretValue
responses, the invalidation bookkeeping and the counters, behind one lock (the watch thread
and the application's threads share it).

No stale value after an event: every WatchSecrets event bumps `epoch` and records it under the
secret's ARN and name. A fetch remembers the epoch it started at; its response is stored only if
no event for that secret (and no resync) came in meanwhile, else the caller fetches again.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc.client.cache.config import SecretCacheConfig

Key = tuple[str, str]  # (secret id as given, version stage)
HEARTBEAT = "Heartbeat"


@dataclass(frozen=True)
class CacheStats:
    hits: int
    misses: int
    refreshes: int  # re-reads of an entry older than secret_refresh_interval
    evictions: int  # entries dropped because the stream reported a change
    lru_evictions: int  # entries dropped for max_cache_size
    size: int
    watch: str  # off | connecting | live | down | closed
    ttl_only: bool  # True unless the stream is live: staleness bounded by the TTL only
    position: int | None  # last Sequence seen on the stream
    # Entries the stream can never report on (the credential may read the secret but not
    # DescribeSecret it, so WatchSecrets delivers none of its events): TTL only, live or not.
    ttl_only_entries: int = 0


@dataclass
class _Entry:
    value: pb.GetSecretValueResponse
    expires: float
    ttl_only: bool = False  # not watchable: refreshed by its TTL alone


class Store:
    def __init__(
        self, config: SecretCacheConfig, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[Key, _Entry] = OrderedDict()
        self._by_secret: dict[str, set[Key]] = {}  # ARN and name -> keys
        self._epoch = 0
        self._floor = 0  # fetches started before it must not be stored (a resync)
        self._changed: dict[str, int] = {}  # ARN/name -> epoch of its last event
        self._watchable: dict[str, tuple[bool, float]] = {}  # ARN -> (probe answer, until)
        self._inflight = 0
        self._hits = self._misses = self._refreshes = 0
        self._evictions = self._lru = 0
        self.watch = "off"
        self.position: int | None = None
        self.fresh_stream = False  # the current stream started without a position

    # ---- reads ---------------------------------------------------------------------------

    def get(self, key: Key) -> pb.GetSecretValueResponse | None:
        """The cached response, or None (a miss, counted; the caller fetches)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                if entry.expires > self._clock():
                    self._entries.move_to_end(key)
                    self._hits += 1
                    return entry.value
                self._refreshes += 1
            else:
                self._misses += 1
            return None

    def begin(self) -> int:
        """A fetch starts: the epoch to hand to finish()."""
        with self._lock:
            self._inflight += 1
            return self._epoch

    def watchable(self, arn: str) -> bool | None:
        """The remembered answer of a watchability probe of `arn` (None: probe it)."""
        with self._lock:
            got = self._watchable.get(arn)
            if got is None or got[1] <= self._clock():
                return None
            return got[0]

    def note_watchable(self, arn: str, watchable: bool) -> None:
        """Remember a probe's answer for one refresh interval (permissions may change)."""
        with self._lock:
            if len(self._watchable) >= 2 * self.config.max_cache_size + 16:
                self._watchable.clear()
            self._watchable[arn] = (watchable, self._clock() + self.config.secret_refresh_interval)

    def finish(
        self,
        key: Key,
        started: int,
        value: pb.GetSecretValueResponse | None,
        ttl_only: bool = False,
    ) -> bool:
        """A fetch ended; store its value unless a change may have overtaken it (False).
        ttl_only: the stream will never report on this secret (see CacheStats)."""
        with self._lock:
            self._inflight -= 1
            fresh = value is not None and started >= self._floor
            if value is not None and fresh:
                last = max(self._changed.get(value.arn, 0), self._changed.get(value.name, 0))
                fresh = last <= started
            if fresh and value is not None:
                self._put(key, value, ttl_only)
            if self._inflight == 0:
                self._changed.clear()
            return fresh

    def _put(self, key: Key, value: pb.GetSecretValueResponse, ttl_only: bool) -> None:
        self._drop(key)
        expires = self._clock() + self.config.secret_refresh_interval
        self._entries[key] = _Entry(value, expires, ttl_only)
        for ident in (value.arn, value.name):
            self._by_secret.setdefault(ident, set()).add(key)
        while len(self._entries) > self.config.max_cache_size:
            oldest = next(iter(self._entries))
            self._drop(oldest)
            self._lru += 1

    def _drop(self, key: Key) -> bool:
        entry = self._entries.pop(key, None)
        if entry is None:
            return False
        for ident in (entry.value.arn, entry.value.name):
            keys = self._by_secret.get(ident)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_secret[ident]
        return True

    # ---- the stream ----------------------------------------------------------------------

    def event(self, event: pb.SecretEvent) -> None:
        """A WatchSecrets event: any change of a secret evicts its entries at once."""
        with self._lock:
            if event.type != HEARTBEAT or self.position is None:
                self.position = event.sequence
            if event.type == HEARTBEAT:
                return
            self._epoch += 1
            for ident in (event.arn, event.name):
                if not ident:
                    continue
                if self._inflight:
                    self._changed[ident] = self._epoch
                for key in list(self._by_secret.get(ident, ())):
                    if self._drop(key):
                        self._evictions += 1

    def state(self, name: str) -> None:
        """The stream's state; the first `live` of a stream that started without a position
        drops every entry read before it (changes before the subscription were not seen)."""
        with self._lock:
            if name == "live" and self.fresh_stream:
                self.fresh_stream = False
                self._resync()
            self.watch = name

    def resync(self) -> None:
        """The history needed to resume is gone: forget everything, watch afresh."""
        with self._lock:
            self.position = None
            self._resync()

    def _resync(self) -> None:
        self._epoch += 1
        self._floor = self._epoch
        self._entries.clear()
        self._by_secret.clear()
        self._watchable.clear()

    def clear(self) -> None:
        with self._lock:
            self._resync()

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(
                hits=self._hits,
                misses=self._misses,
                refreshes=self._refreshes,
                evictions=self._evictions,
                lru_evictions=self._lru,
                size=len(self._entries),
                watch=self.watch,
                ttl_only=self.watch != "live",
                position=self.position,
                ttl_only_entries=sum(1 for e in self._entries.values() if e.ttl_only),
            )
