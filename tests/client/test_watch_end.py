"""A server that ends WatchSecrets with OK (a stream never ends by itself; a proxy or an older
server might) is called again with the backoff, not in a hot loop, by both clients."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc.client import AsyncSecretsManagerClient, RetryPolicy, SecretsManagerClient, settings
from tests.client.conftest import LoopThread

POLICY = RetryPolicy(max_attempts=100, base_delay=0.05, max_delay=0.4)
WINDOW = 1.0
# Backoff 0.05, then up to 0.1, 0.2, 0.4 (full jitter, floor 0.05): at most ~20 calls in
# WINDOW; a hot loop makes hundreds.
MAX_CALLS = 21


class EndingServer:
    """A real grpc.aio server whose WatchSecrets sends one Heartbeat, then ends with OK."""

    def __init__(self) -> None:
        self.calls = 0
        self.server: Any = None
        self.port = 0

    async def _watch(self, request: Any, context: Any) -> AsyncIterator[pb.SecretEvent]:
        self.calls += 1
        yield pb.SecretEvent(sequence=7, type="Heartbeat", region="us-east-1")

    async def start(self) -> None:
        watch = grpc.unary_stream_rpc_method_handler(
            self._watch,
            pb.WatchSecretsRequest.FromString,
            pb.SecretEvent.SerializeToString,
        )
        handler = grpc.method_handlers_generic_handler(
            "smgrpc.secretsmanager.v1.SecretsManager", {"WatchSecrets": watch}
        )
        self.server = grpc.aio.server()
        self.server.add_generic_rpc_handlers((handler,))
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        await self.server.start()

    def settings(self) -> Any:
        return settings(endpoint=f"127.0.0.1:{self.port}", token="AKIAX:" + "s" * 40, env={})


@pytest.fixture
async def ending() -> AsyncIterator[EndingServer]:
    s = EndingServer()
    await s.start()
    yield s
    await s.server.stop(0)


async def test_async_client_backs_off_after_an_ok_end(ending: EndingServer) -> None:
    states: list[str] = []
    async with AsyncSecretsManagerClient(ending.settings()) as c:
        events = c.watch_secrets(retries=POLICY, on_state=states.append)

        async def read() -> None:
            async for _ in events:
                pass

        task = asyncio.get_running_loop().create_task(read())
        await asyncio.sleep(WINDOW)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert 2 <= ending.calls <= MAX_CALLS, ending.calls
    assert "down" in states


@pytest.fixture
def ending_thread() -> Iterator[EndingServer]:
    loop = LoopThread()
    s = EndingServer()
    loop.run(s.start())
    yield s
    loop.run(s.server.stop(0))
    loop.stop()


def test_sync_client_backs_off_after_an_ok_end(ending_thread: EndingServer) -> None:
    with SecretsManagerClient(ending_thread.settings()) as c:
        stream = c.watch_secrets(retries=POLICY)
        deadline = time.monotonic() + WINDOW
        seen = 0
        for event in stream:
            assert event.sequence == 7
            seen += 1
            if time.monotonic() > deadline:
                break
        stream.close()
    assert 2 <= ending_thread.calls <= MAX_CALLS, ending_thread.calls
    assert seen == ending_thread.calls
