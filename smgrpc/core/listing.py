"""Listing order and filtered keyset pages over the store's sorted scan (ListSecrets, BatchGet).

A position is (sort value, ARN): the ARN breaks ties, so every secret has exactly one place in
each order and a page resumes strictly after (before, descending) the last secret it returned.
Inserts and deletes between pages therefore never duplicate or skip a secret that stayed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import aclosing
from operator import attrgetter

from smgrpc.core.model import Secret
from smgrpc.core.ports import Store

SORT_KEYS = ("created-date", "last-accessed-date", "last-changed-date", "name")
Position = tuple[str | float, str]
# The element types of each order's position (for NextToken shape checks).
SHAPES: dict[str, tuple[type, type]] = {
    "created-date": (float, str),
    "last-changed-date": (float, str),
    "last-accessed-date": (str, str),
    "name": (str, str),
}
# A long filtered scan gives the event loop back after this long (seconds), for this long: a
# short real sleep, not sleep(0), so the loop also takes in the I/O that arrived meanwhile. A
# call such as a health check needs several loop turns, so each slice counts several times.
SLICE = 0.002
PAUSE = 0.0005
_CHECK_EVERY = 8


def _accessed(s: Secret) -> str:
    return s.last_accessed_day or ""


# The sort value alone (the position without the ARN), per order.
SORT_VALUE: dict[str, Callable[[Secret], str | float]] = {
    "created-date": attrgetter("created_at"),
    "last-changed-date": attrgetter("last_changed_at"),
    "last-accessed-date": _accessed,
    "name": attrgetter("name"),
}


def sort_key(s: Secret, by: str) -> Position:
    """A secret's position in one listing order (the store keeps an index per order)."""
    if by == "created-date":
        return (s.created_at, s.arn)
    if by == "last-changed-date":
        return (s.last_changed_at, s.arn)
    if by == "last-accessed-date":
        return (s.last_accessed_day or "", s.arn)
    if by == "name":
        return (s.name, s.arn)
    raise ValueError(f"unknown sort key {by!r}")


async def collect(
    store: Store,
    keep: Callable[[Secret], bool],
    *,
    by: str,
    descending: bool,
    after: Position | None,
    size: int,
) -> tuple[list[Secret], Position | None]:
    """Up to size secrets that keep() accepts, in order after a position; and the position to
    resume from if there is at least one more (as today: never an empty last page).

    Yields to the event loop every few milliseconds, so a scan over many secrets that match
    nothing never holds other calls up.
    """
    out: list[Secret] = []
    n = 0
    deadline = time.perf_counter() + SLICE
    async with aclosing(store.scan(by, descending, after)) as items:
        async for s in items:
            if keep(s):
                out.append(s)
                if len(out) > size:
                    break
            n += 1
            if n % _CHECK_EVERY == 0 and time.perf_counter() > deadline:
                await asyncio.sleep(PAUSE)
                deadline = time.perf_counter() + SLICE
    if len(out) > size:
        del out[size:]
        return out, sort_key(out[-1], by)
    return out, None
