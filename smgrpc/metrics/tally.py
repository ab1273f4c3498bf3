"""A plain event counter any layer may increment (no prometheus_client import): the audit
trail's write failures, and the like. /metrics reads `value` when scraped."""

from __future__ import annotations


class Tally:
    """A monotonically increasing count (one int; the GIL makes `inc` safe enough here: it is
    only ever called on the event loop, and read from the scrape thread)."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0

    def inc(self, n: int = 1) -> None:
        self.value += n
