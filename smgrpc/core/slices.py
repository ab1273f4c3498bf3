"""Cooperative time slices and retry backoff: the event loop's manners, in one place.

Invariant: between two pauses of a Slicer at most ~`budget` seconds of work ran on the loop, so
no long loop (a filtered scan, a replication batch, a snapshot page, an access-date flush) holds
other calls up for more than a few milliseconds however large its input. A pause is a short
real sleep, not sleep(0), so the loop also takes in the I/O that arrived meanwhile: a call such
as a health check needs several loop turns, so each slice counts several times for it.
"""

from __future__ import annotations

import asyncio
import random
import time

SLICE = 0.002  # seconds of work between two pauses
PAUSE = 0.0005  # seconds of each pause
CHECK_EVERY = 8  # items between two looks at the clock


class Slicer:
    """Call `await tick()` once per item of a long loop."""

    def __init__(self, budget: float = SLICE, pause: float = PAUSE) -> None:
        self.budget, self.pause = budget, pause
        self._n = 0
        self._deadline = time.perf_counter() + budget

    async def tick(self) -> None:
        self._n += 1
        if self._n % CHECK_EVERY == 0 and time.perf_counter() > self._deadline:
            await asyncio.sleep(self.pause)
            self._deadline = time.perf_counter() + self.budget


def backoff(base: float, cap: float, attempt: int) -> float:
    """Exponential backoff with ±50 % jitter: base · 2^attempt, at most cap (before jitter)."""
    return min(cap, base * 2.0 ** min(attempt, 30)) * random.uniform(0.5, 1.5)
