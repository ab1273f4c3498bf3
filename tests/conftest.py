"""Shared fixtures: a real Region (grpc.aio server on port 0, SQLite in a tmp dir) and a stub."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.app import Region
from smgrpc.config import Config
from tests.authn import channel as authed_channel

CANARY = "canary-7f3c9e1d-DO-NOT-LEAK-91b2"


class FakeClock:
    """Injectable clock: starts at a fixed instant; tests move it forward."""

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self.t = start

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@dataclass
class AwsError:
    code: grpc.StatusCode
    aws_code: str
    reason: str
    message: str


async def aws_error(call_coro: object) -> AwsError:
    """Await a call that must fail; return its status code, AWS code and message."""
    try:
        await call_coro  # type: ignore[misc]
    except grpc.aio.AioRpcError as exc:
        status = rpc_status.from_call(exc)  # type: ignore[arg-type]
        info = error_details_pb2.ErrorInfo()
        if status is not None:
            for detail in status.details:
                if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                    detail.Unpack(info)
        return AwsError(
            exc.code(), info.metadata.get("awsErrorCode", ""), info.reason, exc.details() or ""
        )
    raise AssertionError("the call succeeded but an error was expected")


def make_config(tmp: Path, region: str = "us-east-1", **kw: object) -> Config:
    return Config(
        region=region,
        listen="127.0.0.1:0",
        data_dir=tmp / region,
        purge_interval=0.05,
        key_refresh_interval=0.1,
        shutdown_grace=1.0,
        **kw,
    )  # type: ignore[arg-type]


# Fixtures that start real processes or several Regions: their tests take seconds each.
_HEAVY_FIXTURES = frozenset({"servers", "cluster", "pair", "function", "postgres"})
# Minutes each on a fresh machine (the compose demo builds its image and installs Docker): first
# of all, so that it runs beside the rest instead of after it.
_LONGEST = ("tests/cluster/test_compose_real.py::test_compose_walkthrough",)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist (scripts/test runs `-n 4`), the multi-second tests (slow-marked or
    on real processes) go first, so that none of them starts last and keeps one worker busy
    while the others idle. A stable sort: the order within each group is unchanged, and a run
    without -n keeps the file order."""
    if not getattr(config.option, "numprocesses", None):
        return

    def rank(item: pytest.Item) -> int:
        if item.nodeid.startswith(_LONGEST):
            return 0
        heavy = item.get_closest_marker("slow") is not None or not _HEAVY_FIXTURES.isdisjoint(
            getattr(item, "fixturenames", ())
        )
        return 1 if heavy else 2

    items.sort(key=rank)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def start_region(config: Config, clock: FakeClock | None = None) -> Region:
    """A started Region (its first start bootstraps the admin user; see admin_token)."""
    r = Region(config, clock=clock)
    await r.start()
    return r


@asynccontextmanager
async def running(config: Config, clock: FakeClock | None = None) -> AsyncIterator[Region]:
    """`async with running(cfg) as region`: start_region, stopped however the block ends."""
    r = await start_region(config, clock)
    try:
        yield r
    finally:
        await r.stop()


def admin_token(region: Region) -> str:
    """The bootstrap admin's `<AccessKeyId>:<SecretAccessKey>` (the Region's admin.token)."""
    return region.admin_token_path.read_text().strip()


def admin_channel(region: Region) -> grpc.aio.Channel:
    """A channel to the Region that sends its admin credential with every call."""
    return authed_channel(f"127.0.0.1:{region.port}", admin_token(region))


@pytest.fixture
async def region(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Region]:
    r = await start_region(make_config(tmp_path), clock)
    yield r
    await r.stop(0.5)


@pytest.fixture
async def stub(region: Region) -> AsyncIterator[pbg.SecretsManagerStub]:
    async with admin_channel(region) as channel:
        yield pbg.SecretsManagerStub(channel)


__all__ = [
    "CANARY",
    "AwsError",
    "FakeClock",
    "admin_channel",
    "admin_token",
    "aws_error",
    "make_config",
    "pb",
    "running",
    "start_region",
]
