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
    non-heartbeat, `error()` the status it ends with."""

    def __init__(self, call: Any) -> None:
        self.call = call

    async def next(self, timeout: float = 5.0) -> pb.SecretEvent:
        msg = await asyncio.wait_for(self.call.read(), timeout)
        assert msg is not grpc.aio.EOF, "the stream ended"
        return msg  # type: ignore[no-any-return]

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
        try:
            while True:
                msg = await self.next(seconds)
                if msg.type != "Heartbeat":
                    got.append(msg)
        except TimeoutError:
            return got

    async def error(self, timeout: float = 5.0) -> StreamError:
        try:
            while True:
                msg = await asyncio.wait_for(self.call.read(), timeout)
                assert msg is not grpc.aio.EOF, "the stream ended OK"
        except grpc.aio.AioRpcError as exc:
            return stream_error(exc)


def open_stream(stub: pbg.SecretsManagerStub, token: str | None, **request: Any) -> Stream:
    md = metadata(token) if token is not None else None
    return Stream(stub.WatchSecrets(pb.WatchSecretsRequest(**request), metadata=md))


@asynccontextmanager
async def watching(
    region: Region,
    token: str | None = None,
    options: list[tuple[str, Any]] | None = None,
    **request: Any,
) -> AsyncIterator[Stream]:
    """A stream on its own channel (admin credential by default), its first heartbeat read."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{region.port}", options=options) as ch:
        s = open_stream(pbg.SecretsManagerStub(ch), token or admin_token(region), **request)
        first = await s.next()
        assert first.type == "Heartbeat"
        yield s
        s.call.cancel()


def kinds(events: list[pb.SecretEvent]) -> list[tuple[str, str]]:
    return [(e.type, e.name) for e in events]
