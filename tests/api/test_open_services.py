"""Health and reflection are open (no credential); `--no-reflection` closes reflection only."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.app import Region
from smgrpc.cli.main import _parser
from smgrpc.config import from_args
from tests.conftest import FakeClock, aws_error, make_config, pb, running

SERVICES = ("smgrpc.secretsmanager.v1.SecretsManager", "smgrpc.iam.v1.IAM")


async def _health(ch: grpc.aio.Channel, service: str = "") -> int:
    got = await health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service=service))
    return int(got.status)


async def _list_services(ch: grpc.aio.Channel) -> list[str]:
    stub = reflection_pb2_grpc.ServerReflectionStub(ch)
    names: list[str] = []
    async for resp in stub.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    ):
        names += [s.name for s in resp.list_services_response.service]
    return names


async def test_health_and_reflection_need_no_credential(region: Region) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{region.port}") as ch:
        for service in ("", *SERVICES):
            assert await _health(ch, service) == health_pb2.HealthCheckResponse.SERVING
        names = await _list_services(ch)
        assert {*SERVICES, "grpc.health.v1.Health"} <= set(names), names
        # ...while the API itself does need one.
        stub = pbg.SecretsManagerStub(ch)
        err = await aws_error(stub.ListSecrets(pb.ListSecretsRequest()))
        assert (err.code, err.aws_code) == (
            grpc.StatusCode.UNAUTHENTICATED,
            "UnrecognizedClientException",
        )


async def test_no_reflection_answers_unimplemented_and_health_stays_open(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running(make_config(tmp_path, reflection=False), clock) as region:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{region.port}") as ch:
            assert await _health(ch) == health_pb2.HealthCheckResponse.SERVING
            assert await _health(ch, SERVICES[0]) == health_pb2.HealthCheckResponse.SERVING
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await _list_services(ch)
            assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED


@pytest.mark.parametrize(
    ("argv", "env", "text", "expected"),
    [
        ([], {}, "", True),
        (["--no-reflection"], {}, "", False),
        ([], {"SMGRPC_REFLECTION": "off"}, "", False),
        ([], {}, "reflection = false\n", False),
        ([], {"SMGRPC_REFLECTION": "on"}, "reflection = false\n", True),
    ],
)
def test_reflection_setting(
    tmp_path: Path, argv: list[str], env: dict[str, str], text: str, expected: bool
) -> None:
    path = tmp_path / "r.toml"
    path.write_text(text)
    args = _parser().parse_args(["serve", "--config", str(path), *argv])
    assert from_args(args, env=env).reflection is expected
