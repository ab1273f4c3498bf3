"""A real Region served from its own event-loop thread, so synchronous clients (which block
the calling thread) can be tested from plain test functions."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from smgrpc.app import Region
from smgrpc.client import ClientSettings, SecretsManagerClient, settings
from smgrpc.client.retry import RetryPolicy
from tests.conftest import admin_token, make_config, start_region

T = TypeVar("T")


class LoopThread:
    """An asyncio loop in a daemon thread; run() executes a coroutine there and waits."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        fut: Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return fut.result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@dataclass
class Served:
    """One running Region and how to reach it."""

    region: Region
    loop: LoopThread
    token: str

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.region.port}"

    def settings(self, **kw: Any) -> ClientSettings:
        kw.setdefault("endpoint", self.endpoint)
        kw.setdefault("token", self.token)
        return settings(env={}, **kw)

    def client(self, **kw: Any) -> SecretsManagerClient:
        return SecretsManagerClient(self.settings(), **kw)


def serve(tmp: Path, **config: Any) -> Iterator[Served]:
    loop = LoopThread()
    region = loop.run(start_region(make_config(tmp, **config)))
    try:
        yield Served(region, loop, admin_token(region))
    finally:
        loop.run(region.stop(0.5))
        loop.stop()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    yield from serve(tmp_path)


@pytest.fixture
def client(served: Served) -> Iterator[SecretsManagerClient]:
    with served.client(timeout=10.0, retries=RetryPolicy(max_attempts=3)) as c:
        yield c


def until(check: Callable[[], bool], within: float = 5.0) -> bool:
    """Poll check() until it is true (True) or the time is up (False)."""
    import time

    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.005)
    return check()
