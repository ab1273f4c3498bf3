"""Credentials for cluster tests: the IAM Region's admin token on every call (read at each
call, tests/authn.py's interceptor), and a wait until IAM has replicated (the same credential
then works in every Region)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import grpc

from smgrpc.crypto.cluster import ClusterKey
from smgrpc.replication.iam_operator import MoveRefused, iam_status
from smgrpc.replication.iam_wire import IamAck
from tests import authn


def token_reader(path: Path) -> Callable[[], str | None]:
    def read() -> str | None:
        try:
            return path.read_text().strip() or None
        except OSError:
            return None

    return read


def channel(addr: str, token: Callable[[], str | None]) -> grpc.aio.Channel:
    """A channel sending `authorization: Bearer <token()>` (tests/authn.py) on every call."""
    return authn.channel(addr, token)


async def iam_replicated(
    key: ClusterKey, addrs: Iterable[tuple[str, str]], holder: str, within: float = 20.0
) -> IamAck:
    """Wait until every Region (name, address) has the IAM holder's (epoch, generation)."""
    addrs = list(addrs)
    where = dict(addrs)

    async def same() -> IamAck | None:
        try:
            top = await iam_status(where[holder], holder, key, wait=2.0)
            got_all = [await iam_status(a, n, key, wait=2.0) for n, a in addrs]
        except MoveRefused:
            return None
        for got in got_all:
            if (got.holder, got.epoch, got.generation) != (top.holder, top.epoch, top.generation):
                return None
        return top

    deadline = time.monotonic() + within
    while (top := await same()) is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"IAM did not replicate to every Region in {within}s")
        await asyncio.sleep(0.05)
    return top


def files_holding(root: Path, needle: bytes) -> list[Path]:
    """Every file under root (databases, WAL files, logs, tokens...) whose bytes hold needle."""
    return [f for f in sorted(root.rglob("*")) if f.is_file() and needle in f.read_bytes()]
