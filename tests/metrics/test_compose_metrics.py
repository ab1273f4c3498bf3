"""compose/: a metrics port per Region, healthchecks on /readyz, the audit log on a volume
(checked without a Docker engine; `docker compose config` too when one is installed)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from smgrpc.metrics.http import check_bind
from tests.cluster.docker_engine import compose_command
from tests.cluster.test_compose import (
    COMPOSE,
    _dockerfile_instructions,
    _mounts,
    _published,
    _regions,
    _serve_config,
    _volume_of,
    compose,
)
from tests.conftest import make_config, running

__all__ = ["compose"]  # the fixture
METRICS_PORT = 9100


def _metrics_port(svc: dict[str, Any]) -> int:
    cfg = _serve_config(svc)
    assert cfg.metrics_listen is not None
    host, _, port = cfg.metrics_listen.rpartition(":")
    assert host == "0.0.0.0", "reachable from the network (Prometheus), published on loopback"
    check_bind(cfg.metrics_listen, cfg.tls_cert is not None, cfg.insecure)  # --insecure given
    return int(port)


def test_every_region_serves_metrics_on_a_published_port_of_its_own(
    compose: dict[str, Any],
) -> None:
    host_ports = {}
    for name, svc in _regions(compose).items():
        port = _metrics_port(svc)
        assert port == METRICS_PORT
        (published,) = [p for p in _published(svc) if p[1] == port]
        host_ports[name] = published[0]
        for spec in svc["ports"]:
            assert str(spec).startswith("127.0.0.1:"), "the host gets loopback ports only"
    assert host_ports == {"us-east-1": 9101, "eu-west-1": 9102, "ap-southeast-2": 9103}
    exposed = " ".join(_dockerfile_instructions("EXPOSE")).split()
    assert str(METRICS_PORT) in exposed


def test_healthcheck_asks_readyz_on_the_metrics_port(compose: dict[str, Any]) -> None:
    shared = {}
    for svc in _regions(compose).values():
        test = svc["healthcheck"]["test"]
        assert test[:3] == ["CMD", "python", "-c"]
        assert f"http://127.0.0.1:{_metrics_port(svc)}/readyz" in test[3]
        shared[test[3]] = svc["healthcheck"]
    assert len(shared) == 1  # one check (the shared x-smgrpc anchor)


async def test_the_healthcheck_passes_when_ready_and_fails_while_draining(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    """The compose healthcheck's own code, run against a real Region's metrics port."""
    code = next(iter(_regions(compose).values()))["healthcheck"]["test"][3]
    async with running(make_config(tmp_path, metrics_listen="127.0.0.1:0")) as region:
        mine = code.replace(f":{METRICS_PORT}/", f":{region.metrics_port}/")

        def check() -> int:
            run = [sys.executable, "-c", mine]
            return subprocess.run(run, capture_output=True, timeout=30, check=False).returncode

        assert await asyncio.to_thread(check) == 0
        region.gate.close()  # draining
        assert await asyncio.to_thread(check) != 0


def test_audit_log_on_a_writable_volume_of_its_own(compose: dict[str, Any]) -> None:
    volumes = set()
    for name, svc in _regions(compose).items():
        cfg = _serve_config(svc)
        assert cfg.audit_log == Path("/data/audit/audit.log")
        mounts = _mounts(svc, compose)
        target, volume, read_only = _volume_of(cfg.audit_log, mounts)
        assert target == "/data/audit" and not read_only, name
        _, data_volume, _ = _volume_of(cfg.data_dir, mounts)
        assert volume != data_volume, f"{name}: the audit trail has a volume of its own"
        volumes.add(volume)
    assert len(volumes) == 3
    # A fresh named volume takes the image directory's owner: the image's user must own it.
    runs = " ".join(_dockerfile_instructions("RUN"))
    assert "/data/audit" in runs and "chown smgrpc:smgrpc /data /data/audit" in runs
    assert PurePosixPath("/data/audit") in {PurePosixPath(t) for t in mounts}


@pytest.mark.skipif(
    compose_command() is None,
    reason="neither docker compose nor docker-compose is installed (the YAML checks still run)",
)
def test_docker_compose_config_accepts_the_file() -> None:
    cli = compose_command()
    assert cli is not None
    done = subprocess.run(
        [*cli, "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
