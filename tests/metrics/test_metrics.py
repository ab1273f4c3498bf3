"""/metrics, /healthz and /readyz of a real Region (grpc.aio server and metrics listener on port
0, real HTTP GETs) after known traffic, parsed with prometheus_client's text parser."""

from __future__ import annotations

import asyncio
import json
import shutil
import ssl
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.app import Region
from smgrpc.config import Config, ConfigError
from tests.api.authz_helpers import allow, stub_for, user
from tests.api.rotation_helpers import rotate
from tests.conftest import CANARY, admin_channel, aws_error, make_config, running
from tests.metrics.scrape import Scrape, get, get_now, probe, scrape
from tests.security.pki import make_pki

SM = "SecretsManager"
GET = {"service": SM, "operation": "GetSecretValue"}


def metrics_config(tmp: Path, **kw: object) -> Config:
    return make_config(tmp, metrics_listen="127.0.0.1:0", **kw)


async def test_calls_counted_by_operation_and_status(tmp_path: Path) -> None:
    async with running(metrics_config(tmp_path)) as region, admin_channel(region) as ch:
        stub = pbg.SecretsManagerStub(ch)
        await stub.CreateSecret(pb.CreateSecretRequest(name="app/db", secret_string="x"))
        for _ in range(5):
            await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="app/db"))
        for _ in range(2):
            err = await aws_error(
                stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="app/missing"))
            )
            assert err.aws_code == "ResourceNotFoundException"
        m = await scrape(region.metrics_port)
        assert m.value("smgrpc_calls_total", **GET, code="OK", aws_code="") == 5
        missing = {"code": "NOT_FOUND", "aws_code": "ResourceNotFoundException"}
        assert m.value("smgrpc_calls_total", **GET, **missing) == 2
        assert m.value("smgrpc_calls_total", service=SM, operation="CreateSecret", code="OK") == 1
        assert m.value("smgrpc_call_duration_seconds_count", **GET) == 7
        assert m.value("smgrpc_call_duration_seconds_bucket", **GET, le="+Inf") == 7
        assert 0 < m.value("smgrpc_call_duration_seconds_sum", **GET) < 7 * 5
        buckets = [
            s.value
            for s in m.samples
            if s.name == "smgrpc_call_duration_seconds_bucket"
            and s.labels == {**GET, "le": s.labels["le"]}
        ]
        assert len(buckets) == 16 and buckets == sorted(buckets) and buckets[-1] == 7
        assert m.value("smgrpc_inflight_calls") == 0
        assert m.value("smgrpc_max_inflight_calls") == 1000
        assert m.value("smgrpc_ready") == 1
        assert m.value("smgrpc_region", region="us-east-1") == 1
        assert m.value("smgrpc_database_bytes", file="main") > 0
        assert m.value("smgrpc_audit_write_failures_total") == 0
        assert m.value("process_resident_memory_bytes") > 0
        # A second scrape sees the counts move by exactly the new calls.
        await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="app/db"))
        again = await scrape(region.metrics_port)
        assert again.value("smgrpc_calls_total", **GET, code="OK", aws_code="") == 6


async def test_denials_and_authentication_failures_counted(tmp_path: Path) -> None:
    async with running(metrics_config(tmp_path)) as region, admin_channel(region) as ch:
        await pbg.SecretsManagerStub(ch).CreateSecret(
            pb.CreateSecretRequest(name="app/db", secret_string="x")
        )
        token = await user(region, "reader", allow("secretsmanager:DescribeSecret"))
        uch, ustub = stub_for(region, token)
        nch, nobody = stub_for(region, None)
        async with uch, nch:
            await ustub.DescribeSecret(pb.DescribeSecretRequest(secret_id="app/db"))
            for _ in range(3):
                err = await aws_error(
                    ustub.GetSecretValue(pb.GetSecretValueRequest(secret_id="app/db"))
                )
                assert err.aws_code == "AccessDeniedException"
            err = await aws_error(nobody.ListSecrets(pb.ListSecretsRequest()))
            assert err.aws_code == "UnrecognizedClientException"
        m = await scrape(region.metrics_port)
        assert m.value("smgrpc_authorization_denials_total", **GET) == 3
        assert m.total("smgrpc_authorization_denials_total") == 3
        denied = {"code": "PERMISSION_DENIED", "aws_code": "AccessDeniedException"}
        assert m.value("smgrpc_calls_total", **GET, **denied) == 3
        listing = {"service": SM, "operation": "ListSecrets"}
        assert m.value("smgrpc_authentication_failures_total", **listing) == 1
        assert m.total("smgrpc_authentication_failures_total") == 1
        assert m.value("smgrpc_calls_total", service=SM, operation="DescribeSecret") == 1


async def test_admission_refusals_counted_while_draining(tmp_path: Path) -> None:
    async with running(metrics_config(tmp_path)) as region, admin_channel(region) as ch:
        stub = pbg.SecretsManagerStub(ch)
        assert (await probe(region.metrics_port, "/readyz"))[0] == 200
        region.gate.close()  # what SIGTERM does first (serve_until_signal)
        for _ in range(2):
            err = await aws_error(stub.ListSecrets(pb.ListSecretsRequest()))
            assert err.aws_code == "ServiceUnavailable"
        status, body = await probe(region.metrics_port, "/readyz")
        assert status == 503 and body["reasons"] == ["draining: the Region is shutting down"]
        assert await probe(region.metrics_port, "/healthz") == (
            200,
            {"status": "ok", "loopLagSeconds": pytest.approx(0, abs=0.5)},
        )
        m = await scrape(region.metrics_port)
        assert m.value("smgrpc_admission_refusals_total", reason="shutting_down") == 2
        assert m.value("smgrpc_admission_refusals_total", reason="throttled") == 0
        assert m.value("smgrpc_ready") == 0


async def test_throttled_calls_are_admission_refusals(tmp_path: Path) -> None:
    async with running(metrics_config(tmp_path, max_inflight=4)) as region:
        async with admin_channel(region) as ch:
            stub = pbg.SecretsManagerStub(ch)
            await stub.CreateSecret(pb.CreateSecretRequest(name="hot", secret_string="0"))
            calls = [
                stub.PutSecretValue(pb.PutSecretValueRequest(secret_id="hot", secret_string=str(i)))
                for i in range(100)
            ]
            results = await asyncio.gather(*calls, return_exceptions=True)
        refused = sum(isinstance(r, Exception) for r in results)
        assert refused > 0 and refused == region.gate.refused
        m = await scrape(region.metrics_port)
        throttled = {"code": "RESOURCE_EXHAUSTED", "aws_code": "ThrottlingException"}
        put = {"service": SM, "operation": "PutSecretValue"}
        assert m.value("smgrpc_calls_total", **put, **throttled) == refused
        assert m.value("smgrpc_admission_refusals_total", reason="throttled") == refused
        assert m.value("smgrpc_calls_total", **put, code="OK") == 100 - refused


async def test_readyz_503_until_started_and_listener_gone_after_stop(tmp_path: Path) -> None:
    cfg = metrics_config(tmp_path)
    region = Region(cfg)
    await region._start_metrics(cfg)  # the first step of start(): before the store opens
    try:
        status, body = await probe(region.metrics_port, "/readyz")
        assert status == 503 and body["reasons"] == ["starting: the store is not open yet"]
        assert (await probe(region.metrics_port, "/healthz"))[0] == 200
    finally:
        await region.stop()
    with pytest.raises(OSError):
        await get(region.metrics_port, "/healthz")


async def test_healthz_503_while_the_event_loop_is_blocked(tmp_path: Path) -> None:
    async with running(metrics_config(tmp_path)) as region:
        got: list[tuple[int, bytes]] = []

        def ask() -> None:
            time.sleep(0.2)  # the loop is blocked by then
            got.append(get_now(region.metrics_port, "/healthz"))

        asker = threading.Thread(target=ask)
        asker.start()
        time.sleep(1.6)  # noqa: ASYNC251 - blocking the loop on purpose: what /healthz detects
        await asyncio.to_thread(asker.join)
        status, body = got[0]
        assert status == 503 and json.loads(body)["reason"] == "the event loop does not respond"
        assert (await probe(region.metrics_port, "/healthz"))[0] == 200


async def test_unknown_path_404(tmp_path: Path) -> None:
    async with running(metrics_config(tmp_path)) as region:
        assert (await get(region.metrics_port, "/"))[0] == 404


async def test_no_secret_name_in_any_label_by_default(tmp_path: Path) -> None:
    async with running(metrics_config(tmp_path)) as region:
        m = await _canary_traffic(region)
        assert CANARY not in m.text
        assert not any(CANARY in v for v in m.label_values())
        assert m.value("smgrpc_rotations_total", result="succeeded") == 1
        assert m.value("smgrpc_rotations_total", result="failed") == 0


async def test_secret_names_only_with_the_flag(tmp_path: Path) -> None:
    async with running(metrics_config(tmp_path, metrics_secret_names=True)) as region:
        m = await _canary_traffic(region)
        assert m.value("smgrpc_rotations_total", result="succeeded", secret=CANARY) == 1


async def _canary_traffic(region: Region) -> Scrape:
    """Calls naming the canary secret (reads, a failure, a denial, a rotation); the scrape
    once its rotation has ended."""
    async with admin_channel(region) as ch:
        stub = pbg.SecretsManagerStub(ch)
        await stub.CreateSecret(pb.CreateSecretRequest(name=CANARY, secret_string=CANARY))
        await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id=CANARY))
        await aws_error(
            stub.GetSecretValue(pb.GetSecretValueRequest(secret_id=CANARY, version_stage="nope"))
        )
        await rotate(stub, CANARY)
    token = await user(region, "nobody")
    uch, ustub = stub_for(region, token)
    async with uch:
        await aws_error(ustub.GetSecretValue(pb.GetSecretValueRequest(secret_id=CANARY)))
    deadline = time.monotonic() + 20
    while True:
        m = await scrape(region.metrics_port)
        if m.total("smgrpc_rotations_total") >= 1 or time.monotonic() > deadline:
            return m
        await asyncio.sleep(0.05)


async def test_plaintext_non_loopback_refused_without_insecure(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, metrics_listen="0.0.0.0:0")
    with pytest.raises(ConfigError, match="refusing to serve plaintext metrics on 0.0.0.0:0"):
        async with running(cfg):
            pass
    assert not (tmp_path / "us-east-1" / "secrets.db").exists()  # refused before anything
    async with running(make_config(tmp_path, metrics_listen="0.0.0.0:0", insecure=True)) as r:
        assert (await probe(r.metrics_port, "/readyz"))[0] == 200


async def test_metrics_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    async with running(metrics_config(tmp_path)) as first:
        cfg = make_config(
            tmp_path, region="eu-west-1", metrics_listen=f"127.0.0.1:{first.metrics_port}"
        )
        with pytest.raises(ConfigError, match="cannot listen on 127.0.0.1:.*--metrics-listen"):
            async with running(cfg):
                pass


async def test_audit_write_failures_counted(tmp_path: Path) -> None:
    audit_dir = tmp_path / "audit"
    audit_dir.mkdir()
    cfg = metrics_config(tmp_path, audit_log=audit_dir / "audit.log")
    async with running(cfg) as region, admin_channel(region) as ch:
        stub = pbg.SecretsManagerStub(ch)
        await stub.CreateSecret(pb.CreateSecretRequest(name="app/db", secret_string="x"))
        m = await scrape(region.metrics_port)
        assert m.value("smgrpc_audit_write_failures_total") == 0
        assert m.value("smgrpc_audit_log_writable") == 1
        shutil.rmtree(audit_dir)  # the audit log's directory is gone: it cannot be written
        err = await aws_error(
            stub.PutSecretValue(pb.PutSecretValueRequest(secret_id="app/db", secret_string="y"))
        )
        assert err.code.name == "UNAVAILABLE"
        m = await scrape(region.metrics_port)
        assert m.value("smgrpc_audit_write_failures_total") >= 1
        assert m.value("smgrpc_audit_log_writable") == 0


async def test_non_loopback_metrics_served_over_https_with_the_server_certificate(
    tmp_path: Path,
) -> None:
    pki = make_pki(tmp_path / "pki")
    files = pki.region("us-east-1")
    cfg = make_config(
        tmp_path,
        metrics_listen="0.0.0.0:0",
        tls_cert=files["tls_cert"],
        tls_key=files["tls_key"],
    )
    async with running(cfg) as region:
        trust = ssl.create_default_context(cafile=str(tmp_path / "pki" / "client-ca.pem"))

        def fetch(path: str) -> tuple[int, bytes]:
            url = f"https://localhost:{region.metrics_port}{path}"
            with urllib.request.urlopen(url, timeout=5, context=trust) as resp:
                return int(resp.status), resp.read()

        status, body = await asyncio.to_thread(fetch, "/metrics")
        assert status == 200 and b"smgrpc_inflight_calls 0.0" in body
        assert (await asyncio.to_thread(fetch, "/readyz"))[0] == 200
        with pytest.raises(OSError):  # plaintext HTTP is not answered on a TLS port
            await get(region.metrics_port, "/readyz")
