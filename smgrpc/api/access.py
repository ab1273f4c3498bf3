"""The access log: one line per call (time, request id, method, ARN, status, AWS code, ms,
principal ARN, peer).

Written in batches, not through `logging` per call: a LogRecord, its formatter and one write
per line cost ~80 us of a ~400 us call here, a buffered line ~2 us. Lines look like the
process log (same text layout, or the same JSON members with `--log-format json`), and only
these fields are ever written: never a value, a credential or a request body.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

LOGGER = "smgrpc.access"


class Entry(NamedTuple):
    """One call's fields, in the order callers record them (as a plain tuple on the hot path).

    `duration` is in seconds, unrounded: the milliseconds are rounded when the line is written.
    """

    at: float
    request_id: str
    method: str
    status: str
    aws_code: str | None
    arn: str | None
    duration: float
    peer: str
    principal: str | None = None  # the authenticated caller's ARN (never the credential)


# What `AccessLog.record` takes: an Entry or the same fields as a plain tuple (a call builds
# one per call; a tuple display is ~3x cheaper than a NamedTuple's __new__).
Fields = tuple[float, str, str, str, str | None, str | None, float, str, str | None]


@lru_cache(maxsize=4)
def _local_second(second: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))


@lru_cache(maxsize=4)
def _utc_second(second: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))


# A flush writes thousands of lines of the same few seconds: each second is formatted once.
def _iso(at: float) -> str:
    return _utc_second(int(at)) + f".{int(at * 1000) % 1000:03d}+00:00"


def _ms(duration: float) -> float:
    return round(duration * 1000, 3)


# logging's asctime layout (`2026-12-01 08:30:00,123`), then the fields. One %-format of one
# tuple: this runs once per call, and it costs about half of the same line as an f-string.
_TEXT = f"%s,%03d INFO {LOGGER}: %s %s %s %.1fms arn=%s principal=%s peer=%s request_id=%s\n"


def text_line(e: Fields) -> str:
    at, request_id, method, status, aws_code, arn, duration, peer, principal = e
    return _TEXT % (
        _local_second(int(at)),
        int(at * 1000) % 1000,
        method,
        status,
        aws_code or "-",
        duration * 1000,
        arn or "-",
        principal or "-",
        peer,
        request_id,
    )


def json_line(e: Fields) -> str:
    at, request_id, method, status, aws_code, arn, duration, peer, principal = e
    return (
        json.dumps(
            {
                "time": _iso(at),
                "level": "INFO",
                "logger": LOGGER,
                "message": f"{method} {status}",
                "request_id": request_id,
                "method": method,
                "status": status,
                "aws_code": aws_code,
                "arn": arn,
                "duration_ms": _ms(duration),
                "peer": peer,
                "principal": principal,
            },
            separators=(",", ":"),
        )
        + "\n"
    )


class AccessLog:
    """Collects entries; `flush()` writes them in one go (a supervised task calls it often).

    Memory is bounded: past `max_pending` entries a record flushes at once.
    """

    def __init__(
        self,
        write: Callable[[str], object] | None,
        *,
        json_format: bool = False,
        max_pending: int = 5000,
    ) -> None:
        self._write = write
        self._line = json_line if json_format else text_line
        self._max = max_pending
        self._pending: list[Fields] = []
        self.enabled = write is not None

    def record(self, entry: Fields) -> None:
        if not self.enabled:
            return
        self._pending.append(entry)
        if len(self._pending) >= self._max:
            self.flush()

    def flush(self) -> None:
        if not self._pending or self._write is None:
            return
        entries, self._pending = self._pending, []
        self._write("".join(map(self._line, entries)))

    async def flush_async(self) -> None:
        self.flush()
