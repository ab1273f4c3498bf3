"""Listing order and filtered keyset pages over the store's sorted scan (ListSecrets, BatchGet).

A position is (sort value, ARN): the ARN breaks ties, so every secret has exactly one place in
each order and a page resumes strictly after (before, descending) the last secret it returned.
Inserts and deletes between pages therefore never duplicate or skip a secret that stayed.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import aclosing
from operator import attrgetter

from smgrpc.core.model import Secret
from smgrpc.core.ports import Store
from smgrpc.core.slices import Slicer

SORT_KEYS = ("created-date", "last-accessed-date", "last-changed-date", "name")
Position = tuple[str | float, str]
# The element types of each order's position (for NextToken shape checks).
SHAPES: dict[str, tuple[type, type]] = {
    "created-date": (float, str),
    "last-changed-date": (float, str),
    "last-accessed-date": (str, str),
    "name": (str, str),
}


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
    value = SORT_VALUE.get(by)
    if value is None:
        raise ValueError(f"unknown sort key {by!r}")
    return (value(s), s.arn)


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
    slicer = Slicer()
    async with aclosing(store.scan(by, descending, after)) as items:
        async for s in items:
            if keep(s):
                out.append(s)
                if len(out) > size:
                    break
            await slicer.tick()
    if len(out) > size:
        del out[size:]
        return out, sort_key(out[-1], by)
    return out, None
