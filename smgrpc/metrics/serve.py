"""One Region's metrics listener, assembled: registry, collectors, WSGI app, server."""

from __future__ import annotations

import asyncio
from pathlib import Path

from prometheus_client import ProcessCollector
from prometheus_client.registry import CollectorRegistry

from smgrpc.metrics.collector import RegionCollector, Sources
from smgrpc.metrics.http import Health, MetricsServer, check_bind, make_app


def metrics_server(
    region: str,
    address: str,
    sources: Sources,
    loop: asyncio.AbstractEventLoop,
    *,
    tls: tuple[Path, Path] | None,
    insecure: bool,
) -> MetricsServer:
    """Not started yet (`start()` binds, in a thread). Refuses a plaintext non-loopback bind
    without `insecure` (ListenError)."""
    check_bind(address, tls is not None, insecure)
    # auto_describe off: registering must not collect (the readers touch the database).
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RegionCollector(region, sources))
    ProcessCollector(registry=registry)  # process_cpu_seconds_total, resident memory, fds
    ready = sources.ready or (lambda: ())
    return MetricsServer(address, make_app(registry, Health(loop, ready)), tls)
