"""/metrics of a real Region (grpc.aio server and metrics listener on port 0, real HTTP GETs)
after known traffic, parsed with prometheus_client's text parser."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc.app import Region
from smgrpc.config import ConfigError
from tests.api.authz_helpers import allow, stub_for, user
from tests.conftest import CANARY, FakeClock, admin_channel, aws_error, make_config, running
from tests.metrics.scrape import probe, scrape

SM = "SecretsManager"


def metrics_config(tmp: Path, **kw: object):  # type: ignore[no-untyped-def]
    return make_config(tmp, metrics_listen="127.0.0.1:0", **kw)


async def test_calls_counted_by_operation_and_status(tmp_path: Path) -> None:
    async with running(metrics_config(tmp_path)) as region, admin_channel(region) as ch:
        stub = pb_stub(ch)
        await stub.CreateSecret(pb.CreateSecretRequest(name="app/db", secret_string="x"))
        for _ in range(5):
            await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="app/db"))
        for _ in range(2):
            err = await aws_error(
                stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="app/missing"))
            )
            assert err.aws_code == "ResourceNotFoundException"
        m = await scrape(region.metrics_port)
        get = {"service": SM, "operation": "GetSecretValue"}
        assert m.value("smgrpc_calls_total", **get, code="OK", aws_code="") == 5
        assert (
            m.value(
                "smgrpc_calls_total",
                **get,
                code="NOT_FOUND",
                aws_code="ResourceNotFoundException",
            )
            == 2
        )
        assert m.value("smgrpc_calls_total", service=SM, operation="CreateSecret", code="OK") == 1
        assert m.value("smgrpc_call_duration_seconds_count", **get) == 7
        assert m.value("smgrpc_call_duration_seconds_bucket", **get, le="+Inf") == 7
        assert 0 < m.value("smgrpc_call_duration_seconds_sum", **get) < 7 * 5
        # Buckets are cumulative and end at the count.
        buckets = [
            s.value
            for s in m.samples
            if s.name == "smgrpc_call_duration_seconds_bucket"
            and s.labels["operation"] == "GetSecretValue"
        ]
        assert buckets == sorted(buckets) and buckets[-1] == 7
        assert m.value("smgrpc_inflight_calls") == 0
        assert m.value("smgrpc_max_inflight_calls") == 1000
        assert m.value("smgrpc_ready") == 1
        assert m.value("smgrpc_region", region="us-east-1") == 1
        assert m.value("smgrpc_database_bytes", file="main") > 0
        assert m.value("smgrpc_audit_write_failures_total") == 0
        assert m.value("process_resident_memory_bytes") > 0


def pb_stub(ch: grpc.aio.Channel):  # type: ignore[no-untyped-def]
    from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg

    return pbg.SecretsManagerStub(ch)
