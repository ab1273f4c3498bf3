"""Fixtures for the rotation-function tests: a real PostgreSQL cluster (session), a real
Region (tests/conftest.py's `region`), and a rotation function served in-process on port 0
with its own least-privilege IAM user as the callback credential."""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from smgrpc._pb.rotation.v1 import rotation_pb2 as rpb
from smgrpc._pb.rotation.v1 import rotation_pb2_grpc as rpbg
from smgrpc.app import Region
from smgrpc.auth.token_file import write_admin_token
from smgrpc.core import labels
from smgrpc.core.model import Version
from smgrpc.crypto.access_keys import NewAccessKey
from smgrpc.rotators.function import FunctionServer, Handler, SecretsApi, connect
from tests.api.authz_helpers import allow, user
from tests.conftest import FakeClock
from tests.rotators import pg

# What a rotation function needs, and nothing more.
FUNCTION_ACTIONS = [
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecretVersionStage",
    "secretsmanager:GetRandomPassword",
]
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


@pytest.fixture(scope="session")
def postgres() -> Iterator[pg.Cluster]:
    bindir = pg.binaries()
    if bindir is None:
        pytest.skip(
            "PostgreSQL server binaries (initdb, pg_ctl) are not installed here: "
            "apt-get install postgresql (scripts/test installs it when run as root)"
        )
    cluster = pg.start_cluster(bindir, secrets.token_urlsafe(18))
    yield cluster
    pg.remove(cluster)


def credentials_file(path: Path, token: str) -> Path:
    """`AccessKeyId:SecretAccessKey` written as the admin token file is (0600, atomic)."""
    akid, secret = token.split(":", 1)
    write_admin_token(path, NewAccessKey(akid, secret))
    return path


async def function_credential(region: Region, tmp_path: Path, name: str = "rotator") -> Path:
    token = await user(region, name, allow(FUNCTION_ACTIONS, "*"))  # type: ignore[arg-type]
    return credentials_file(tmp_path / f"{name}.token", token)


async def begin_rotation(region: Region, clock: FakeClock, secret_id: str) -> rpb.RotationEvent:
    """What RotateSecret does before the first Invoke (labels.add_pending: a new value-less
    AWSPENDING version), without recording a run: these tests invoke the function themselves
    instead of a Region's rotation engine."""
    token = str(uuid.uuid4())
    async with region.store.transaction() as tx:
        s = tx.find(secret_id)
        assert s is not None
        current = s.version_with_stage("AWSCURRENT")
        assert current is not None
        new = Version(token, clock.now(), (), current.kms_key_id, has_value=False)
        await tx.save(s.evolve(versions=labels.add_pending(s.versions, new)))
    return event("createSecret", s.arn, token)


def event(step: str, arn: str, token: str, rotation_token: str | None = None) -> rpb.RotationEvent:
    return rpb.RotationEvent(
        step=step,
        secret_id=arn,
        client_request_token=token,
        rotation_token=rotation_token or str(uuid.uuid4()),
    )


@dataclass
class Function:
    server: FunctionServer
    channel: grpc.aio.Channel
    stub: rpbg.RotationFunctionStub

    async def invoke(self, ev: rpb.RotationEvent, step: str | None = None) -> None:
        if step is not None:
            ev = rpb.RotationEvent(
                step=step,
                secret_id=ev.secret_id,
                client_request_token=ev.client_request_token,
                rotation_token=ev.rotation_token,
            )
        await self.stub.Invoke(ev, timeout=30)

    async def rotate(self, ev: rpb.RotationEvent) -> None:
        for step in STEPS:
            await self.invoke(ev, step)


@pytest.fixture
async def serve_function() -> AsyncIterator[Callable[..., object]]:
    """serve_function(make_handler, region, credentials) -> Function (stopped at teardown)."""
    started: list[Function] = []

    async def start(
        make: Callable[[SecretsApi], Handler], region: Region, credentials: Path
    ) -> Function:
        api = connect(f"127.0.0.1:{region.port}", credentials)
        server = FunctionServer(make(api), api, "127.0.0.1:0", grace=0.5)
        port = await server.start()
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        f = Function(server, channel, rpbg.RotationFunctionStub(channel))  # type: ignore[no-untyped-call]
        started.append(f)
        return f

    yield start
    for f in started:
        await f.channel.close()
        await f.server.stop(0.5)


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every log record of every logger, DEBUG and up (to look for leaked values)."""
    caplog.set_level(logging.DEBUG)
    return caplog
