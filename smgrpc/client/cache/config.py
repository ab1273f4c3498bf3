"""SecretCacheConfig: aws-secretsmanager-caching's settings (the ones that apply here)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SecretCacheConfig:
    """`max_cache_size` entries at most (least recently used evicted first); an entry is
    re-read after `secret_refresh_interval` seconds even if no change was pushed (the only
    bound on staleness while the WatchSecrets stream is down); `default_version_stage` is
    read when a call names no stage."""

    max_cache_size: int = 1024
    secret_refresh_interval: float = 3600.0
    default_version_stage: str = "AWSCURRENT"
    # Backoff of the watch between failed connections (the client's RetryPolicy inside).
    watch_max_backoff: float = 5.0

    def __post_init__(self) -> None:
        if self.max_cache_size < 1:
            raise ValueError("max_cache_size must be at least 1")
        if self.secret_refresh_interval <= 0:
            raise ValueError("secret_refresh_interval must be positive")
        if not self.default_version_stage:
            raise ValueError("default_version_stage must not be empty")
