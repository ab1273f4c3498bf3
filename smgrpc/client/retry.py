"""Retries: UNAVAILABLE and RESOURCE_EXHAUSTED, jittered exponential backoff, RetryInfo honoured."""

from __future__ import annotations

import random
from dataclasses import dataclass

import grpc

RETRYABLE = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED})


@dataclass(frozen=True)
class RetryPolicy:
    """`max_attempts` calls at most (1 = no retry). Attempt n waits a random time in
    [0, min(max_delay, base_delay * 2**n)] (full jitter), but never less than the server's
    RetryInfo delay (which is itself jittered upwards by up to 20%, so refused clients do not
    come back together). The call's deadline bounds the whole sequence."""

    max_attempts: int = 4
    base_delay: float = 0.05
    max_delay: float = 2.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("retry delays must not be negative")

    def delay(self, attempt: int, retry_info: float | None, rng: random.Random) -> float:
        """Seconds to wait before attempt `attempt + 1` (attempt counts from 0)."""
        backoff = rng.uniform(0, min(self.max_delay, self.base_delay * (2**attempt)))
        if retry_info is None:
            return backoff
        return max(backoff, retry_info * rng.uniform(1.0, 1.2))


NO_RETRY = RetryPolicy(max_attempts=1)
