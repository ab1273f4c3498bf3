"""MethodStats.snapshot() is read by the scrape thread while the loop's thread counts calls: a
snapshot's call count (ok + errors) always equals its histogram count (sum of the buckets)."""

from __future__ import annotations

import sys
import threading
import time

import grpc

from smgrpc.metrics.calls import MethodStats


def test_a_snapshot_is_consistent_while_calls_are_counted() -> None:
    stats = MethodStats("SecretsManager", "GetSecretValue", grpc.StatusCode.OK)
    stop = threading.Event()

    def count() -> None:
        started = time.perf_counter()
        n = 0
        while not stop.is_set():
            n += 1
            if n % 3:
                stats.ended(grpc.StatusCode.OK, "", started)
            else:
                stats.ended(grpc.StatusCode.NOT_FOUND, "ResourceNotFoundException", started)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    worker = threading.Thread(target=count)
    worker.start()
    torn = 0
    try:
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            ok, errors, buckets, _seconds = stats.snapshot()
            torn += ok + sum(errors.values()) != sum(buckets)
    finally:
        stop.set()
        worker.join()
        sys.setswitchinterval(old)
    assert torn == 0
