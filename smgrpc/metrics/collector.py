"""The Region's metric families, built from plain counters when /metrics is scraped.

Runs in the scrape thread, never on the event loop: it only copies in-memory counters (C-level
copies, atomic under the GIL) and calls the blocking readers it was given (file sizes, one
read-only SQLite count per peer), which touch neither the loop nor the store's connections.
Label values are operation, status, peer Region and result names: never a secret's name unless
`secret_names` (--metrics-secret-names) is on.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from smgrpc.metrics.calls import BUCKETS, Calls

# (gRPC status name, AWS code) of the refusals api.handlers.wrap answers before a call starts.
REFUSALS = {
    ("RESOURCE_EXHAUSTED", "ThrottlingException"): "throttled",
    ("UNAVAILABLE", "ServiceUnavailable"): "shutting_down",
    ("DEADLINE_EXCEEDED", ""): "deadline_expired",
}
DENIED = "AccessDeniedException"
LINK_STATES = ("up", "down", "unknown")
RESULTS = ("succeeded", "failed", "stopped")  # rotation.runner's


class GateView(Protocol):
    inflight: int
    max_inflight: int


class PeerView(Protocol):
    """What /metrics reads of a replication.shipper.Shipper."""

    acked: int
    failures: int
    behind_since: float | None
    pushed_at: float | None

    @property
    def link_up(self) -> bool | None: ...


class RotationView(Protocol):
    results: Counter[tuple[str, str]]


class AuditView(Protocol):
    """What /metrics reads of audit.writer.AuditWriter."""

    failures: int  # batches that could not be written (their calls were refused)
    broken: bool  # the last write failed: calls are refused until one succeeds


@dataclass(frozen=True)
class Sources:
    """Everything the collector reads, given once at start-up (app.py wires it)."""

    calls: Calls
    gate: GateView
    peers: Callable[[], Mapping[str, PeerView]] = dict  # the shippers, by peer Region
    # {peer: acked position} -> {peer: outbox rows after it} (blocking; storage.stats)
    pending: Callable[[Mapping[str, int]], Mapping[str, int]] | None = None
    rotation: Callable[[], RotationView | None] = lambda: None  # the rotation runner
    audit: Callable[[], AuditView | None] = lambda: None  # --audit-log's writer
    database_bytes: Callable[[], Mapping[str, int]] | None = None
    ready: Callable[[], Sequence[str]] | None = None  # reasons not ready (empty: ready)
    secret_names: bool = False  # --metrics-secret-names


def _name_of(arn: str) -> str:
    """A secret's name from its ARN (the name, without the 6-character random suffix)."""
    resource = arn.split(":secret:", 1)[-1]
    return resource[:-7] if len(resource) > 7 and resource[-7] == "-" else resource


class RegionCollector(Collector):
    def __init__(self, region: str, sources: Sources) -> None:
        self.region = region
        self.src = sources

    def collect(self) -> Iterator[Metric]:
        yield from self._calls()
        yield from self._admission()
        yield from self._replication()
        yield from self._rotation()
        yield from self._storage()

    def _calls(self) -> Iterator[Metric]:
        calls = CounterMetricFamily(
            "smgrpc_calls",
            "Calls answered, by service, operation, gRPC status and AWS error code.",
            labels=["service", "operation", "code", "aws_code"],
        )
        latency = HistogramMetricFamily(
            "smgrpc_call_duration_seconds",
            "Time from a call's arrival to its answer, by service and operation.",
            labels=["service", "operation"],
        )
        denied = CounterMetricFamily(
            "smgrpc_authorization_denials",
            "Calls refused by IAM authorization (AccessDeniedException).",
            labels=["service", "operation"],
        )
        unauthenticated = CounterMetricFamily(
            "smgrpc_authentication_failures",
            "Calls refused for missing, unknown or bad credentials (UNAUTHENTICATED).",
            labels=["service", "operation"],
        )
        for m in self.src.calls.methods:
            ok, errors, buckets, seconds = m.snapshot()
            if not ok and not errors:
                continue
            calls.add_metric([m.service, m.name, "OK", ""], ok)
            deny = unauth = 0
            for (code, aws), n in errors.items():
                calls.add_metric([m.service, m.name, code.name, aws], n)
                deny += n if aws == DENIED else 0
                unauth += n if code.name == "UNAUTHENTICATED" else 0
            denied.add_metric([m.service, m.name], deny)
            unauthenticated.add_metric([m.service, m.name], unauth)
            cumulative, running = [], 0
            for bound, n in zip((*BUCKETS, float("inf")), buckets, strict=True):
                running += n
                cumulative.append((_le(bound), running))
            latency.add_metric([m.service, m.name], cumulative, seconds)
        yield from (calls, latency, denied, unauthenticated)

    def _admission(self) -> Iterator[Metric]:
        gate = self.src.gate
        yield GaugeMetricFamily("smgrpc_inflight_calls", "Calls running now.", gate.inflight)
        yield GaugeMetricFamily(
            "smgrpc_max_inflight_calls", "Admission limit (--max-inflight).", gate.max_inflight
        )
        refused = CounterMetricFamily(
            "smgrpc_admission_refusals",
            "Calls refused before they started: throttled (at --max-inflight), "
            "shutting_down (draining), deadline_expired (queued past their deadline).",
            labels=["reason"],
        )
        counts = dict.fromkeys(REFUSALS.values(), 0)
        for m in self.src.calls.methods:
            for (code, aws), n in m.errors.copy().items():
                reason = REFUSALS.get((code.name, aws))
                if reason is not None:
                    counts[reason] += n
        for reason, n in counts.items():
            refused.add_metric([reason], n)
        yield refused
        reasons = self.src.ready() if self.src.ready is not None else ()
        yield GaugeMetricFamily(
            "smgrpc_ready", "1 when /readyz answers 200 (serving, not draining).", not reasons
        )
        info = GaugeMetricFamily("smgrpc_region", "This process's Region.", labels=["region"])
        info.add_metric([self.region], 1)
        yield info

    def _replication(self) -> Iterator[Metric]:
        peers = dict(self.src.peers())
        pending = GaugeMetricFamily(
            "smgrpc_replication_pending_changes",
            "Outbox changes not yet acknowledged by the peer Region.",
            labels=["peer"],
        )
        behind = GaugeMetricFamily(
            "smgrpc_replication_seconds_behind",
            "Age of the oldest change not yet acknowledged by the peer (0: caught up).",
            labels=["peer"],
        )
        pushed = GaugeMetricFamily(
            "smgrpc_replication_last_push_timestamp_seconds",
            "Unix time of the last push the peer acknowledged (0: none since start).",
            labels=["peer"],
        )
        link = GaugeMetricFamily(
            "smgrpc_replication_link_state",
            "1 for the link's state: up (last push reached the peer), down, unknown (none yet).",
            labels=["peer", "state"],
        )
        failures = GaugeMetricFamily(
            "smgrpc_replication_consecutive_failures",
            "Push attempts failed since the last success.",
            labels=["peer"],
        )
        counts: Mapping[str, int] = {}
        if self.src.pending is not None and peers:
            counts = self.src.pending({p: s.acked for p, s in peers.items()})
        now = time.monotonic()
        for peer, s in sorted(peers.items()):
            since = s.behind_since
            if peer in counts:
                pending.add_metric([peer], counts[peer])
            behind.add_metric([peer], max(0.0, now - since) if since is not None else 0.0)
            pushed.add_metric([peer], s.pushed_at or 0.0)
            up = s.link_up
            state = "unknown" if up is None else "up" if up else "down"
            for name in LINK_STATES:
                link.add_metric([peer, name], 1 if name == state else 0)
            failures.add_metric([peer], s.failures)
        yield from (pending, behind, pushed, link, failures)

    def _rotation(self) -> Iterator[Metric]:
        labels = ["result", "secret"] if self.src.secret_names else ["result"]
        rotations = CounterMetricFamily(
            "smgrpc_rotations",
            "Rotation runs ended: succeeded, failed (abandoned: AWSCURRENT unchanged), stopped "
            "(cancelled, deleted or demoted meanwhile).",
            labels=labels,
        )
        runner = self.src.rotation()
        results = runner.results.copy() if runner is not None else {}
        by: Counter[tuple[str, ...]] = Counter()
        if not self.src.secret_names:
            by.update(dict.fromkeys([(r,) for r in RESULTS], 0))
        for (arn, result), n in results.items():
            by[(result, _name_of(arn)) if self.src.secret_names else (result,)] += n
        for key, n in sorted(by.items()):
            rotations.add_metric(list(key), n)
        yield rotations
        audit = self.src.audit()
        yield CounterMetricFamily(
            "smgrpc_audit_write_failures",
            "Audit log writes (group commits) that failed; the calls waiting on them were refused.",
            audit.failures if audit is not None else 0,
        )
        if audit is not None:
            yield GaugeMetricFamily(
                "smgrpc_audit_log_writable",
                "1 while the audit log is written (0: it cannot be: audited calls are refused).",
                0 if audit.broken else 1,
            )

    def _storage(self) -> Iterator[Metric]:
        size = GaugeMetricFamily(
            "smgrpc_database_bytes",
            "Size of the Region's SQLite files: main database and write-ahead log.",
            labels=["file"],
        )
        if self.src.database_bytes is not None:
            for name, n in sorted(self.src.database_bytes().items()):
                size.add_metric([name], n)
        yield size


def _le(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(bound)
