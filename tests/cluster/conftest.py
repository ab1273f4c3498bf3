"""Several Regions in one process (one loop), linked through fault-injecting proxies."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import grpc
import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.app import Region
from smgrpc.config import Config
from smgrpc.crypto.cluster import ClusterKey
from tests.cluster.creds import channel as bearer_channel
from tests.cluster.creds import iam_replicated, token_reader
from tests.cluster.proxy import FaultProxy, Links

T = TypeVar("T")
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")


def write_cluster_secret(path: Path) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(base64.b64encode(os.urandom(32)))
    return path


@dataclass
class Cluster(Links):
    regions: dict[str, Region] = field(default_factory=dict)
    stubs: dict[str, pbg.SecretsManagerStub] = field(default_factory=dict)
    # proxies[(src, dst)] sits on the link src -> dst
    proxies: dict[tuple[str, str], FaultProxy] = field(default_factory=dict)
    channels: list[grpc.aio.Channel] = field(default_factory=list)
    configs: dict[str, Config] = field(default_factory=dict)

    async def stop_region(self, name: str) -> None:
        await self.regions[name].stop(0.2)

    async def start_region(self, name: str) -> None:
        r = Region(self.configs[name])
        await r.start()
        self.regions[name] = r
        for (_a, b), p in self.proxies.items():
            if b == name:
                p.target = ("127.0.0.1", r.port)
        # Every call carries the IAM Region's bootstrap admin credential (IAM is global: it
        # works in every Region once IAM has replicated, which start_cluster waits for).
        holder = self.configs[self.configs[name].iam_holder]
        ch = bearer_channel(f"127.0.0.1:{r.port}", token_reader(holder.admin_token_path))
        self.channels.append(ch)
        self.stubs[name] = pbg.SecretsManagerStub(ch)


async def start_cluster(
    tmp: Path, names: tuple[str, ...] = REGIONS, **overrides: object
) -> Cluster:
    """Regions `names` under tmp, fully meshed through proxies; overrides: Config fields."""
    c = Cluster()
    secret = write_cluster_secret(tmp / "cluster.secret")
    for a in names:
        for b in names:
            if a != b:
                p = FaultProxy()
                await p.start()
                c.proxies[(a, b)] = p
    for name in names:
        peers = tuple((b, f"127.0.0.1:{c.proxies[(name, b)].port}") for b in names if b != name)
        # Listen on a fixed free port so a restarted Region comes back at the same address.
        settings: dict[str, object] = {
            "iam_region": names[0],  # IAM is global: the first Region holds it
            "purge_interval": 0.05,
            "key_refresh_interval": 0.1,
            "shutdown_grace": 0.5,
            "replication_max_backoff": 0.3,
            **overrides,
        }
        c.configs[name] = Config(
            region=name,
            listen="127.0.0.1:0",
            data_dir=tmp / name,
            peers=peers,
            cluster_secret_file=secret,
            **settings,  # type: ignore[arg-type]
        )
    for name in names:
        await c.start_region(name)
    if len(names) > 1:
        key = ClusterKey.from_file(secret)
        addrs = [(n, f"127.0.0.1:{c.regions[n].port}") for n in names]
        await iam_replicated(key, addrs, c.configs[names[0]].iam_holder)
    return c


async def stop_cluster(c: Cluster) -> None:
    for ch in c.channels:
        await ch.close()
    for r in c.regions.values():
        with contextlib.suppress(Exception):  # already stopped by the test
            await r.stop(0.2)
    for p in c.proxies.values():
        await p.close()


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    c = await start_cluster(tmp_path)
    yield c
    await stop_cluster(c)


async def snapshot(stub: pbg.SecretsManagerStub, name: str) -> dict[str, object]:
    """What must be equal across Regions: versions, labels, metadata, value digests."""
    d = await stub.DescribeSecret(pb.DescribeSecretRequest(secret_id=name))
    versions = await stub.ListSecretVersionIds(pb.ListSecretVersionIdsRequest(secret_id=name))
    digests = {}
    for v in versions.versions:
        got = await stub.GetSecretValue(
            pb.GetSecretValueRequest(secret_id=name, version_id=v.version_id)
        )
        body = got.secret_string.encode() if got.HasField("secret_string") else got.secret_binary
        digests[v.version_id] = hashlib.sha256(body).hexdigest()
    return {
        "name": d.name,
        "arn_suffix": d.arn.rsplit("-", 1)[1],
        "description": d.description,
        "tags": sorted((t.key, t.value) for t in d.tags),
        "stages": {k: sorted(v.stages) for k, v in d.version_ids_to_stages.items()},
        "created": d.created_date.ToNanoseconds(),
        "changed": d.last_changed_date.ToNanoseconds(),
        "digests": digests,
    }


async def converged(c: Cluster, name: str, regions: tuple[str, ...]) -> bool:
    snaps = []
    for r in regions:
        try:
            snaps.append(await snapshot(c.stubs[r], name))
        except grpc.aio.AioRpcError:
            return False
    return all(s == snaps[0] for s in snaps)


async def eventually(
    check: Callable[[], Awaitable[T]],
    within: float = 40.0,
    every: float = 0.02,
    what: str = "condition",
) -> T:
    """Poll until check() is truthy (gRPC errors count as "not yet"); returns its result."""
    deadline = time.monotonic() + within
    while True:
        try:
            result = await check()
            if result:
                return result
        except grpc.aio.AioRpcError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached in {within}s")
        await asyncio.sleep(every)
