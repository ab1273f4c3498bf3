"""RotateSecret end to end with the PostgreSQL rotator: a real Region whose rotation engine
invokes the rotator over gRPC (`--rotation-function postgresql=HOST:PORT`), the rotator calling
the Region back with its own IAM user, and a real PostgreSQL whose user's password changes.
This is the README walkthrough, as a test."""

from __future__ import annotations

import dataclasses
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.rotators.postgresql import PostgresRotator
from tests.conftest import CANARY, FakeClock, admin_channel, make_config, start_region
from tests.rotation.conftest import describe, eventually, finished, holder
from tests.rotators import pg
from tests.rotators.conftest import function_credential
from tests.rotators.test_postgresql import can_login, db_json, leaked, role

ARN = "arn:aws:lambda:us-east-1:123456789012:function:postgresql"


async def test_rotate_secret_changes_a_real_postgresql_users_password(
    tmp_path: Path,
    clock: FakeClock,
    postgres: pg.Cluster,
    serve_function: Any,
    all_logs: pytest.LogCaptureFixture,
) -> None:
    # The Region first runs without the function, to make the rotator's IAM user (as an
    # operator does); then it restarts on the same port with --rotation-function.
    first = await start_region(make_config(tmp_path), clock)
    port = first.port
    creds = await function_credential(first, tmp_path)
    fn = await serve_function(PostgresRotator, first, creds)  # calls 127.0.0.1:<port> back
    await first.stop(0.5)
    cfg = dataclasses.replace(
        make_config(
            tmp_path,
            rotation_functions=(("postgresql", f"127.0.0.1:{fn.server.port}"),),
            rotation_poll_interval=0.05,
        ),
        listen=f"127.0.0.1:{port}",
    )
    region = await start_region(cfg, clock)
    try:
        old = f"{CANARY}-e2e"
        name = role(postgres, old)
        async with admin_channel(region) as ch:
            stub = pbg.SecretsManagerStub(ch)
            made = await stub.CreateSecret(
                pb.CreateSecretRequest(
                    name=f"prod/{name}", secret_string=db_json(postgres, name, old)
                )
            )
            got = await stub.RotateSecret(
                pb.RotateSecretRequest(
                    secret_id=made.arn,
                    client_request_token=str(uuid.uuid4()),
                    rotation_lambda_arn=ARN,
                    rotation_rules=pb.RotationRulesType(automatically_after_days=30),
                )
            )

            async def probe() -> pb.DescribeSecretResponse:
                return await describe(stub, made.arn)

            d = await eventually(
                probe, lambda d: finished(d) and holder(d, "AWSCURRENT") == got.version_id
            )
            assert holder(d, "AWSPREVIOUS") == made.version_id
            assert d.rotation_enabled and d.rotation_lambda_arn == ARN
            assert d.rotation_rules.automatically_after_days == 30
            new = json.loads(
                (
                    await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id=made.arn))
                ).secret_string
            )
        assert new["username"] == name and new["password"] != old
        assert await can_login(postgres, name, new["password"])
        assert not await can_login(postgres, name, old)
        assert leaked(all_logs, old, new["password"]) == []
    finally:
        await region.stop(0.5)
