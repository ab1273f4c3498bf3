"""asyncio helpers with stated invariants (stdlib only)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def settle(step: Awaitable[T]) -> T:
    """Await a connection step to its end, however many cancellations arrive meanwhile.

    Invariant: when this returns or raises, the step has finished (committed or rolled back),
    so the caller's lock is never released while a commit is still running and memory is
    published exactly when the database changed. Cancellations are re-raised afterwards.
    """
    task = asyncio.ensure_future(step)
    cancelled = False
    while not task.done():
        try:
            await asyncio.wait([task])
        except asyncio.CancelledError:
            cancelled = True  # a second, third ... cancel lands here too: keep waiting
    if cancelled:
        if not task.cancelled():
            task.exception()  # mark retrieved: the caller is gone; a failed step rolled back
        raise asyncio.CancelledError
    return task.result()
