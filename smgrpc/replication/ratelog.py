"""Rate-limited logging: a repeated failure is logged once per interval, with a count."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


class Throttled:
    """Logs a message per key at most once every `every` seconds (counts the ones skipped)."""

    def __init__(
        self,
        logger: logging.Logger,
        every: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger, self.every, self.clock = logger, every, clock
        self._last: dict[str, float] = {}
        self._skipped: dict[str, int] = {}

    def log(self, level: int, key: str, msg: str, *args: object) -> bool:
        """Log unless this key was logged less than `every` seconds ago; True if logged."""
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.every:
            self._skipped[key] = self._skipped.get(key, 0) + 1
            return False
        if len(self._last) > 1000:  # keys come from peers: never grow without bound
            self._last.clear()
        self._last[key] = now
        skipped = self._skipped.pop(key, 0)
        if skipped:
            msg += " (%d more like this since the last report)"
            args = (*args, skipped)
        self.logger.log(level, msg, *args)
        return True
