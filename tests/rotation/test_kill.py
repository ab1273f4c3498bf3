"""kill -9 of a real `smgrpc serve` process in the middle of a rotation: on restart the run
resumes from its recorded step and completes (no half-moved label, no value in the logs)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from tests.conftest import CANARY
from tests.harness import ServerProcess, Servers, channel_stub, free_port
from tests.rotation.conftest import (
    FUNCTION,
    FunctionProcess,
    describe,
    eventually,
    finished,
    holder,
    lambda_arn,
    rotator_token,
    value,
)


async def restart_told(server: ServerProcess, function: FunctionProcess, token: str) -> None:
    """Start the server again on a new port the function is told first: the restarted server
    resumes the run at once, and a function told after calls the old, dead address (or a port
    another test's server took meanwhile) until the run's 3 attempts are spent (seen on a
    loaded machine: the run was abandoned)."""
    for _attempt in range(3):
        port = free_port()
        function.connect(f"127.0.0.1:{port}", token)
        server.spawn(port)
        if await server.wait_ready():
            return
        server.kill()
        if b"bind" not in server.stderr().lower():  # only a lost race for the port is retried
            break
    raise AssertionError(server.stderr().decode(errors="replace")[-4000:])


@pytest.mark.slow
async def test_kill_9_mid_rotation_then_restart_resumes_and_completes(
    servers: Servers, function: FunctionProcess, tmp_path: Path
) -> None:
    server = servers.new(tmp_path / "data", "--rotation-function", f"{FUNCTION}={function.addr}")
    await server.start()
    ch, stub = await channel_stub(server)
    async with ch:
        token = await rotator_token(ch)
        function.connect(server.addr, token)
        await stub.CreateSecret(pb.CreateSecretRequest(name="k", secret_string=CANARY))
        old = holder(await describe(stub, "k"), "AWSCURRENT")
        function.control({"die": ["setSecret"]})
        out = await stub.RotateSecret(
            pb.RotateSecretRequest(
                secret_id="k",
                client_request_token=str(uuid.uuid4()),
                rotation_lambda_arn=lambda_arn(),
                rotation_rules=pb.RotationRulesType(automatically_after_days=30),
            )
        )
        await eventually(lambda: describe(stub, "k"), lambda _d: "setSecret" in function.steps())
    server.kill()
    function.control({})
    await restart_told(server, function, token)
    ch, stub = await channel_stub(server)
    async with ch:
        d = await eventually(
            lambda: describe(stub, "k"),
            lambda x: finished(x) and holder(x, "AWSCURRENT") == out.version_id,
        )
        assert holder(d, "AWSPREVIOUS") == old
        assert (await value(stub, "k")).startswith("rotated-")
        assert await value(stub, "k", "AWSPREVIOUS") == CANARY
    # Resumed from the recorded step: createSecret ran once, setSecret again (once or more).
    steps = [s for s, v in function.journal() if v == out.version_id]
    again = steps.count("setSecret")
    assert again >= 2
    assert steps == ["createSecret", *["setSecret"] * again, "testSecret", "finishSecret"]
    assert CANARY.encode() not in server.output()
