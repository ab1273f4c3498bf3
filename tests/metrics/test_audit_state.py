"""What /metrics and /readyz say about the audit log: a call refused because its record could not
be written is counted as the access log and the client see it (UNAVAILABLE,
InternalServiceError), and a broken audit log makes the Region not ready."""

from __future__ import annotations

import shutil
from pathlib import Path

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from tests.conftest import admin_channel, aws_error, make_config, running
from tests.metrics.scrape import probe, scrape

SM = "SecretsManager"


async def test_audit_refusal_counted_with_its_aws_code(tmp_path: Path) -> None:
    audit_dir = tmp_path / "audit"
    audit_dir.mkdir()
    cfg = make_config(tmp_path, metrics_listen="127.0.0.1:0", audit_log=audit_dir / "audit.log")
    async with running(cfg) as region, admin_channel(region) as ch:
        stub = pbg.SecretsManagerStub(ch)
        await stub.CreateSecret(pb.CreateSecretRequest(name="app/db", secret_string="x"))
        shutil.rmtree(audit_dir)  # the audit log cannot be written any more
        for op, call in (
            ("PutSecretValue", stub.PutSecretValue(
                pb.PutSecretValueRequest(secret_id="app/db", secret_string="y"))),
            ("GetSecretValue", stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="app/db"))),
        ):  # fmt: skip
            err = await aws_error(call)
            assert (err.code.name, err.aws_code) == ("UNAVAILABLE", "InternalServiceError"), op
        m = await scrape(region.metrics_port)
        for op in ("PutSecretValue", "GetSecretValue"):
            labels = {"service": SM, "operation": op, "code": "UNAVAILABLE"}
            assert m.value("smgrpc_calls_total", **labels, aws_code="InternalServiceError") == 1
            assert m.value("smgrpc_calls_total", **labels, aws_code="") == 0


async def test_readyz_503_while_the_audit_log_cannot_be_written(tmp_path: Path) -> None:
    audit_dir = tmp_path / "audit"
    audit_dir.mkdir()
    cfg = make_config(tmp_path, metrics_listen="127.0.0.1:0", audit_log=audit_dir / "audit.log")
    async with running(cfg) as region, admin_channel(region) as ch:
        stub = pbg.SecretsManagerStub(ch)
        await stub.CreateSecret(pb.CreateSecretRequest(name="app/db", secret_string="x"))
        assert (await probe(region.metrics_port, "/readyz"))[0] == 200
        shutil.rmtree(audit_dir)
        await aws_error(stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="app/db")))
        status, body = await probe(region.metrics_port, "/readyz")
        assert status == 503
        assert body["reasons"] == ["audit log: it cannot be written, so audited calls are refused"]
        m = await scrape(region.metrics_port)
        assert m.value("smgrpc_ready") == 0
        audit_dir.mkdir()  # writable again: the next call succeeds and the Region is ready
        await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="app/db"))
        assert (await probe(region.metrics_port, "/readyz"))[0] == 200
