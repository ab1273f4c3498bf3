"""WatchSecrets test helpers: open a stream with a credential, read its events, decode errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.app import Region
from tests.authn import metadata
from tests.conftest import admin_token


@dataclass
class StreamError:
    code: grpc.StatusCode
    aws_code: str
    message: str
    info: dict[str, str]
    retry_after: float | None


def stream_error(exc: grpc.aio.AioRpcError) -> StreamError:
    status = rpc_status.from_call(exc)  # type: ignore[arg-type]
    info = error_details_pb2.ErrorInfo()
    retry: float | None = None
    if status is not None:
        for d in status.details:
            if d.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                d.Unpack(info)
            if d.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
                r = error_details_pb2.RetryInfo()
                d.Unpack(r)
                retry = r.retry_delay.ToTimedelta().total_seconds()
    md = dict(info.metadata)
    return StreamError(exc.code(), md.pop("awsErrorCode", ""), exc.details() or "", md, retry)


class Stream:
    """One WatchSecrets call: `next()` the next message (heartbeats too), `event()` the next
    non-heartbeat, `error()` the status it ends with. A reader task takes the messages (a
    timed-out read of a grpc.aio call would cancel the call itself)."""

    def __init__(self, call: Any, reader: bool = True) -> None:
        """reader=False: nothing reads until `next()` is awaited (a client that stops
        reading); `next()` then waits without a timeout."""
        self.call = call
        self._queue: asyncio.Queue[pb.SecretEvent | BaseException | None] = asyncio.Queue()
        self._reader = asyncio.get_running_loop().create_task(self._read()) if reader else None

    async def _read(self) -> None:
        try:
            async for msg in self.call:
                await self._queue.put(msg)
            await self._queue.put(None)
        except grpc.aio.AioRpcError as exc:
            await self._queue.put(exc)
        except asyncio.CancelledError:
            await self._queue.put(None)

    def close(self) -> None:
        self.call.cancel()
        if self._reader is not None:
            self._reader.cancel()

    async def next(self, timeout: float = 5.0) -> pb.SecretEvent:
        if self._reader is None:
            msg = await self.call.read()
            assert msg is not grpc.aio.EOF, "the stream ended"
            return msg  # type: ignore[no-any-return]
        got = await asyncio.wait_for(self._queue.get(), timeout)
        if isinstance(got, BaseException):
            raise got
        assert got is not None, "the stream ended"
        return got

    async def event(self, timeout: float = 5.0) -> pb.SecretEvent:
        while True:
            msg = await self.next(timeout)
            if msg.type != "Heartbeat":
                return msg

    async def events(self, n: int, timeout: float = 5.0) -> list[pb.SecretEvent]:
        return [await self.event(timeout) for _ in range(n)]

    async def quiet(self, seconds: float = 0.3) -> list[pb.SecretEvent]:
        """Events (not heartbeats) that arrive within `seconds` (expected: none)."""
        got: list[pb.SecretEvent] = []
        deadline = asyncio.get_running_loop().time() + seconds
        try:
            while (left := deadline - asyncio.get_running_loop().time()) > 0:
                msg = await self.next(left)
                if msg.type != "Heartbeat":
                    got.append(msg)
        except TimeoutError:
            pass
        return got

    async def error(self, timeout: float = 5.0) -> StreamError:
        try:
            while True:
                await self.next(timeout)
        except grpc.aio.AioRpcError as exc:
            return stream_error(exc)


def open_stream(
    stub: pbg.SecretsManagerStub, token: str | None, *, reader: bool = True, **request: Any
) -> Stream:
    md = metadata(token) if token is not None else None
    return Stream(stub.WatchSecrets(pb.WatchSecretsRequest(**request), metadata=md), reader)


@asynccontextmanager
async def watching(
    region: Region,
    token: str | None = None,
    options: list[tuple[str, Any]] | None = None,
    *,
    reader: bool = True,
    **request: Any,
) -> AsyncIterator[Stream]:
    """A stream on its own channel (admin credential by default), its first heartbeat read."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{region.port}", options=options) as ch:
        stub = pbg.SecretsManagerStub(ch)
        s = open_stream(stub, token or admin_token(region), reader=reader, **request)
        first = await s.next()
        assert first.type == "Heartbeat"
        try:
            yield s
        finally:
            s.close()


def kinds(events: list[pb.SecretEvent]) -> list[tuple[str, str]]:
    return [(e.type, e.name) for e in events]
