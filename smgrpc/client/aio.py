"""AsyncSecretsManagerClient: the asyncio client (grpc.aio, its own channel)."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Iterable
from types import TracebackType
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc.client import errors
from smgrpc.client.attempts import Attempts, unary
from smgrpc.client.channel import aio_channel, metadata
from smgrpc.client.methods import AsyncOperations
from smgrpc.client.operations import Operation, build, operation
from smgrpc.client.retry import RetryPolicy
from smgrpc.client.settings import ClientSettings
from smgrpc.client.settings import settings as default_settings
from smgrpc.client.watch import Resumer, StateCallback

log = logging.getLogger("smgrpc.client")
R = TypeVar("R", bound=Message)


class AsyncSecretsManagerClient(AsyncOperations):
    """`async with AsyncSecretsManagerClient() as sm: await sm.get_secret_value(SecretId="db")`.

    Create it inside the event loop that uses it (its grpc.aio channel belongs to that loop)."""

    exceptions = errors

    def __init__(
        self,
        settings: ClientSettings | None = None,
        *,
        timeout: float = 10.0,
        retries: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, so shared safely
    ) -> None:
        self.settings = settings if settings is not None else default_settings()
        self.timeout = timeout
        self.retries = retries
        self._metadata = metadata(self.settings)
        self._channel = aio_channel(self.settings)
        self._callables: dict[str, Any] = {}
        self._rng = random.Random()

    def __repr__(self) -> str:
        return f"AsyncSecretsManagerClient(endpoint={self.settings.endpoint!r})"

    async def __aenter__(self) -> AsyncSecretsManagerClient:
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self._channel.close()

    def _callable(self, op: Operation) -> Any:
        fn = self._callables.get(op.name)
        if fn is None:
            factory = self._channel.unary_stream if op.streaming else self._channel.unary_unary
            fn = factory(
                op.path,
                request_serializer=op.request.SerializeToString,
                response_deserializer=op.response.FromString,
            )
            self._callables[op.name] = fn
        return fn

    async def _op(self, response: type[R], operation: str, members: dict[str, Any]) -> R:
        op = unary(operation)
        result = await self.call(operation, build(op.request, members))
        assert isinstance(result, response)
        return result

    async def call(
        self,
        operation: str,
        request: Message,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - the gRPC deadline the server sees
    ) -> Message:
        """Run one unary operation by its AWS name with a request message; retried per policy."""
        attempts = Attempts(
            operation,
            request,
            self.timeout if timeout is None else timeout,
            self.retries,
            self._rng,
        )
        fn = self._callable(attempts.op)
        while True:
            try:
                result: Message = await fn(
                    request, timeout=attempts.remaining(), metadata=self._metadata
                )
                return result
            except grpc.RpcError as exc:
                delay = attempts.failed(exc)
            await asyncio.sleep(delay)

    def watch_secrets(
        self,
        SecretIds: Iterable[str] = (),  # noqa: N803 - AWS member names, as every method
        NamePrefix: str | None = None,  # noqa: N803
        AfterSequence: int | None = None,  # noqa: N803
        *,
        retries: RetryPolicy | None = None,
        on_state: StateCallback | None = None,
    ) -> AsyncIterator[pb.SecretEvent]:
        """An async iterator of SecretEvent (Heartbeats included) that resumes itself from the
        last Sequence after UNAVAILABLE and SlowConsumerException; other errors are raised.
        Stop it with `aclose()` or by cancelling the task iterating it."""
        resumer = Resumer(SecretIds, NamePrefix, AfterSequence, retries or self.retries, on_state)
        return _events(self._callable(operation("WatchSecrets")), self._metadata, resumer)


async def _events(fn: Any, md: Any, resumer: Resumer) -> AsyncIterator[pb.SecretEvent]:
    try:
        while True:
            call = fn(resumer.request(), metadata=md)
            try:
                async for event in call:
                    resumer.seen(event)
                    yield event
                delay = resumer.after_end()  # ended with OK: reconnect (with the backoff)
            except grpc.RpcError as exc:
                delay = resumer.after_failure(exc)
            finally:
                call.cancel()
            await asyncio.sleep(delay)
    finally:
        resumer.state("closed")
