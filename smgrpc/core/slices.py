"""Cooperative time slices: long loops give the event loop back every few milliseconds.

Invariant: between two `await tick()` calls that both yield, at most ~`budget` seconds of
work ran on the loop, so no background job (a replication batch, a snapshot page) holds other
calls up for more than a few milliseconds however large its input.
"""

from __future__ import annotations

import asyncio
import time

SLICE = 0.004  # seconds of work between two yields


class Slicer:
    """Call `await tick()` once per item of a long loop."""

    def __init__(self, budget: float = SLICE) -> None:
        self.budget = budget
        self._since = time.perf_counter()

    async def tick(self) -> None:
        now = time.perf_counter()
        if now - self._since >= self.budget:
            await asyncio.sleep(0)
            self._since = time.perf_counter()
