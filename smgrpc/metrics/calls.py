"""Per-call counts and latencies, updated by api.handlers.wrap at the end of every call.

The hot path is a few plain int updates on objects bound to one method at start-up (no
prometheus_client call, no label lookup, no lock): an OK call costs one `perf_counter()`, one
`bisect` over 15 bucket bounds and three additions. The scrape thread copies them (each copy is
one C-level call, atomic under the GIL) and builds metric families from the copies.
"""

from __future__ import annotations

import bisect
import time
from typing import Any

# Upper bounds (seconds) of the latency histogram's buckets (a local call is ~0.2-1 ms).
BUCKETS = (
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
_TRIES, _SPINS = 2000, 20  # torn copies in a row: then sleeps between tries; then gives up
_sleep = time.sleep
_now, _bucket = time.perf_counter, bisect.bisect_left  # one global lookup each per call


class MethodStats:
    """One RPC method's counts: `ok`, `errors[(grpc code, AWS code)]`, latency buckets."""

    __slots__ = ("service", "name", "ok", "ok_code", "errors", "buckets", "seconds")

    def __init__(self, service: str, name: str, ok_code: Any) -> None:
        self.service, self.name = service, name
        self.ok = 0
        self.ok_code = ok_code  # grpc.StatusCode.OK (passed in: this package imports no grpc)
        self.errors: dict[tuple[Any, str], int] = {}
        self.buckets = [0] * (len(BUCKETS) + 1)  # the last one is +Inf
        self.seconds = 0.0

    def ended(self, code: Any, aws_code: str, started: float) -> None:
        took = _now() - started
        if code is self.ok_code:
            self.ok += 1
        else:
            key = (code, aws_code)
            self.errors[key] = self.errors.get(key, 0) + 1
        self.buckets[_bucket(BUCKETS, took)] += 1
        self.seconds += took

    def snapshot(self) -> tuple[int, dict[tuple[Any, str], int], list[int], float]:
        """A consistent copy for the scrape thread: its calls (ok + errors) add up to its
        histogram count (the buckets). Each part is copied in one C call, but the loop's thread
        may count a call between two copies: such a torn copy is taken again (the hot path pays
        nothing; at the default switch interval a retry is rare). If the loop's thread stays
        torn (the OS took its CPU in the middle of an update), this thread sleeps a little
        between tries so that it can finish."""
        for attempt in range(_TRIES):
            buckets = self.buckets.copy()
            ok, errors, seconds = self.ok, self.errors.copy(), self.seconds
            if ok + sum(errors.values()) == sum(buckets):
                break
            if attempt >= _SPINS:
                _sleep(0.0001)
        return ok, errors, buckets, seconds


class Calls:
    """The api.handlers.CallObserver of one Region: one MethodStats per served method."""

    def __init__(self, ok_code: Any) -> None:
        self._ok = ok_code
        self.methods: list[MethodStats] = []

    def method(self, service: str, name: str) -> MethodStats:
        """The counts of one method: the same object when asked again (the AWS listener serves
        the gRPC methods: its calls are counted with theirs, one series per method)."""
        for stats in self.methods:
            if stats.service == service and stats.name == name:
                return stats
        stats = MethodStats(service, name, self._ok)
        self.methods.append(stats)
        return stats
