"""Rotation fixtures: a rotation function in its own process, its IAM user, polling helpers."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import grpc
import pytest

from smgrpc._pb.iam.v1 import iam_pb2 as ipb
from smgrpc._pb.iam.v1 import iam_pb2_grpc as ipbg
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from tests.authn import policy
from tests.harness import servers

ROOT = Path(__file__).resolve().parents[2]
FUNCTION = "testfn"
ACCOUNT = "123456789012"
T = TypeVar("T")

# What a rotation function needs, and nothing more (as a Lambda's execution role).
ROTATOR_POLICY = policy(
    {
        "Effect": "Allow",
        "Action": [
            "secretsmanager:DescribeSecret",
            "secretsmanager:GetSecretValue",
            "secretsmanager:PutSecretValue",
            "secretsmanager:UpdateSecretVersionStage",
        ],
        "Resource": "*",
    }
)


def lambda_arn(name: str = FUNCTION, region: str = "us-east-1") -> str:
    return f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}"


class FunctionProcess:
    """tests/rotation/function_server.py in a child process (killed in teardown)."""

    def __init__(self, home: Path) -> None:
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"

    def spawn(self) -> subprocess.Popen[bytes]:
        with open(self.home / "stderr", "ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.rotation.function_server", "--dir", str(self.home)],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        return self.proc

    async def start(self) -> FunctionProcess:
        proc = self.spawn()
        port_file = self.home / "port"
        deadline = time.monotonic() + 20
        while not port_file.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError((self.home / "stderr").read_text())
            await asyncio.sleep(0.05)
        self.port = int(port_file.read_text())
        self.control({})
        return self

    def connect(self, endpoint: str, token: str) -> None:
        (self.home / "endpoint").write_text(endpoint)
        (self.home / "token").write_text(token)

    def control(self, settings: dict[str, Any]) -> None:
        tmp = self.home / "control.tmp"
        tmp.write_text(json.dumps(settings))
        tmp.rename(self.home / "control")

    def journal(self) -> list[tuple[str, str]]:
        path = self.home / "journal"
        lines = path.read_text().splitlines() if path.exists() else []
        return [(a, b) for a, b in (line.split(" ", 1) for line in lines)]

    def steps(self) -> list[str]:
        return [step for step, _ in self.journal()]

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait(10)


@pytest.fixture
async def function(tmp_path: Path) -> AsyncIterator[FunctionProcess]:
    fn = await FunctionProcess(tmp_path / "function").start()
    try:
        yield fn
    finally:
        fn.kill()


async def rotator_token(channel: grpc.aio.Channel, user: str = "rotator") -> str:
    """A new IAM user allowed what a rotation function does; its `AKID:SECRET`."""
    iam = ipbg.IAMStub(channel)
    await iam.CreateUser(ipb.CreateUserRequest(user_name=user))
    await iam.PutUserPolicy(
        ipb.PutUserPolicyRequest(
            user_name=user, policy_name="rotate", policy_document=ROTATOR_POLICY
        )
    )
    key = (await iam.CreateAccessKey(ipb.CreateAccessKeyRequest(user_name=user))).access_key
    return f"{key.access_key_id}:{key.secret_access_key}"


async def eventually(
    probe: Callable[[], Awaitable[T]], ok: Callable[[T], bool], within: float = 20.0
) -> T:
    """Poll `probe` until `ok(value)`; the last value (AssertionError if it never held)."""
    deadline = time.monotonic() + within
    while True:
        value = await probe()
        if ok(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s; last: {value!r}")
        await asyncio.sleep(0.05)


def stages(desc: pb.DescribeSecretResponse) -> dict[str, list[str]]:
    return {v: sorted(s.stages) for v, s in desc.version_ids_to_stages.items()}


def holder(desc: pb.DescribeSecretResponse, stage: str) -> str | None:
    return next((v for v, s in desc.version_ids_to_stages.items() if stage in s.stages), None)


async def describe(stub: pbg.SecretsManagerStub, sid: str) -> pb.DescribeSecretResponse:
    return await stub.DescribeSecret(pb.DescribeSecretRequest(secret_id=sid))


async def value(stub: pbg.SecretsManagerStub, sid: str, stage: str = "AWSCURRENT") -> str:
    got = await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id=sid, version_stage=stage))
    return str(got.secret_string)


def finished(desc: pb.DescribeSecretResponse) -> bool:
    """No rotation in progress: AWSPENDING absent or on the AWSCURRENT version."""
    pending = holder(desc, "AWSPENDING")
    return pending is None or pending == holder(desc, "AWSCURRENT")


__all__ = ["servers"]
