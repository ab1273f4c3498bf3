"""A real `smgrpc serve` process with its AWS JSON 1.1 listener on, for the real AWS tools.

One server per test module (`aws` fixture, `--aws-listen 127.0.0.1:0`): the bound port is read
from the log line `AWS JSON 1.1 listener on http://HOST:0 (port N)`, the bootstrap admin's
access key from `<data-dir>/admin.token`. `aws.client()` is a boto3 secretsmanager client
signed with that key (or another one), `aws.user(name, policy)` makes an IAM user with an inline
policy and an access key through the IAM gRPC API, as the admin. The process is SIGKILLed and
reaped when the module is done; its logs stay in the module's tmp dir.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import grpc
import pytest
from botocore.config import Config
from grpc_health.v1 import health_pb2, health_pb2_grpc

from smgrpc._pb.iam.v1 import iam_pb2 as ipb
from smgrpc._pb.iam.v1 import iam_pb2_grpc as ipbg
from tests.harness import START_TIMEOUT, ServerProcess

REGION = "us-east-1"
ACCOUNT = "123456789012"
LISTENER_LINE = re.compile(rb"AWS JSON 1\.1 listener on (https?)://(\S+):(\d+) \(port (\d+)\)")
# No retries: a test sees exactly the one answer the server gave (botocore's default retries
# a throttled or 5xx call, which would hide what we assert on).
NO_RETRY = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30)


@dataclass(frozen=True, slots=True, repr=False)
class Key:
    """An access key (the repr shows the id only)."""

    key_id: str
    secret: str

    def __repr__(self) -> str:
        return f"Key({self.key_id})"


class AwsRegion:
    """A started server: its gRPC address, AWS endpoint, admin key and client factories."""

    def __init__(
        self, server: ServerProcess, endpoint: str, admin: Key, region: str = REGION
    ) -> None:
        self.server = server
        self.endpoint = endpoint
        self.admin = admin
        self.region = region
        self._session = boto3.session.Session()

    @property
    def port(self) -> int:
        return int(self.endpoint.rsplit(":", 1)[1])

    def client(self, key: Key | None = None, config: Config | None = None, **kw: Any) -> Any:
        """A boto3 secretsmanager client on the listener, signed with key (default: admin)."""
        key = key or self.admin
        return self._session.client(
            "secretsmanager",
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=key.key_id,
            aws_secret_access_key=key.secret,
            config=NO_RETRY.merge(config) if config else NO_RETRY,
            **kw,
        )

    def user(self, name: str, policy: str) -> Key:
        """A new IAM user with one inline policy and an access key (IAM gRPC API, as admin)."""
        md = (("authorization", f"Bearer {self.admin.key_id}:{self.admin.secret}"),)
        with grpc.insecure_channel(self.server.addr) as ch:
            iam = ipbg.IAMStub(ch)  # type: ignore[no-untyped-call]
            iam.CreateUser(ipb.CreateUserRequest(user_name=name), metadata=md, timeout=10)
            iam.PutUserPolicy(
                ipb.PutUserPolicyRequest(user_name=name, policy_name="p", policy_document=policy),
                metadata=md,
                timeout=10,
            )
            made = iam.CreateAccessKey(
                ipb.CreateAccessKeyRequest(user_name=name), metadata=md, timeout=10
            )
        return Key(made.access_key.access_key_id, made.access_key.secret_access_key)


def _serving(addr: str) -> bool:
    with grpc.insecure_channel(addr) as ch:
        try:
            got = health_pb2_grpc.HealthStub(ch).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=0.5
            )
        except grpc.RpcError:
            return False
        return bool(got.status == health_pb2.HealthCheckResponse.SERVING)


def start_region(
    home: Path,
    *args: str,
    region: str = REGION,
    port: int | None = None,
    admin: Key | None = None,
) -> AwsRegion:
    """Start `smgrpc serve --region REGION --aws-listen 127.0.0.1:0 ARGS` in home (gRPC on
    `port` if given); wait until both the gRPC health service and the AWS listener are up
    (synchronously: boto3 is synchronous). The admin key is read from admin.token unless
    given (a Region that is not the IAM Region writes none)."""
    argv = ["--aws-listen", "127.0.0.1:0", *args]
    if region != REGION:
        argv += ["--region", region]  # the last --region wins over the harness's us-east-1
    server = ServerProcess(home / "data", argv, home, 0)
    for _attempt in range(3):
        proc = server.spawn(port)
        deadline = time.monotonic() + START_TIMEOUT
        while proc.poll() is None and time.monotonic() < deadline:
            found = LISTENER_LINE.search(server.output())
            if found and _serving(server.addr):
                if admin is None:
                    token = server.admin_token()
                    assert token is not None, "no admin.token"
                    admin = Key(*token.split(":", 1))
                scheme, host, _, bound = (g.decode() for g in found.groups())
                return AwsRegion(server, f"{scheme}://{host}:{bound}", admin, region)
            time.sleep(0.05)
        server.kill()
        if b"bind" not in server.stderr().lower():  # only a lost race for a port is retried
            break
    raise AssertionError(
        "server did not start its AWS listener:\n"
        + server.output().decode(errors="replace")[-4000:]
    )


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsRegion]:
    region = start_region(tmp_path_factory.mktemp("aws"))
    try:
        yield region
    finally:
        region.server.kill()
