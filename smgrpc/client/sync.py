"""SecretsManagerClient: the synchronous client (its own grpc channel)."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc.client import errors
from smgrpc.client.attempts import Attempts, unary
from smgrpc.client.channel import metadata, sync_channel
from smgrpc.client.methods import Operations
from smgrpc.client.operations import Operation, build, operation
from smgrpc.client.retry import RetryPolicy
from smgrpc.client.settings import ClientSettings
from smgrpc.client.settings import settings as default_settings
from smgrpc.client.watch import Resumer, StateCallback

log = logging.getLogger("smgrpc.client")
R = TypeVar("R", bound=Message)


class SecretsManagerClient(Operations):
    """`with SecretsManagerClient() as sm: sm.get_secret_value(SecretId="db")`.

    `timeout` is each call's deadline (retries included); `retries` its RetryPolicy."""

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
        self._channel = sync_channel(self.settings)
        self._lock = threading.Lock()
        self._callables: dict[str, Any] = {}
        self._rng = random.Random()

    def __repr__(self) -> str:
        return f"SecretsManagerClient(endpoint={self.settings.endpoint!r})"

    def __enter__(self) -> SecretsManagerClient:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._channel.close()

    def _callable(self, op: Operation) -> Any:
        with self._lock:
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

    def _op(self, response: type[R], operation: str, members: dict[str, Any]) -> R:
        op = unary(operation)
        result = self.call(operation, build(op.request, members))
        assert isinstance(result, response)
        return result

    def call(self, operation: str, request: Message, *, timeout: float | None = None) -> Message:
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
                result: Message = fn(request, timeout=attempts.remaining(), metadata=self._metadata)
                return result
            except grpc.RpcError as exc:
                delay = attempts.failed(exc)
            time.sleep(delay)

    def watch_secrets(
        self,
        SecretIds: Iterable[str] = (),  # noqa: N803 - AWS member names, as every method
        NamePrefix: str | None = None,  # noqa: N803
        AfterSequence: int | None = None,  # noqa: N803
        *,
        retries: RetryPolicy | None = None,
        on_state: StateCallback | None = None,
    ) -> EventStream:
        """An iterator of SecretEvent (Heartbeats included) that resumes itself from the last
        Sequence after UNAVAILABLE and SlowConsumerException; other errors are raised (an
        ExpiredSequenceException means: re-read what you cache, then watch again without
        AfterSequence). `close()` it (or use it as a context manager) to end it."""
        resumer = Resumer(SecretIds, NamePrefix, AfterSequence, retries or self.retries, on_state)
        return EventStream(self._callable(operation("WatchSecrets")), self._metadata, resumer)


class EventStream:
    """The iterator watch_secrets returns; close() may be called from any thread."""

    def __init__(self, fn: Any, md: tuple[tuple[str, str], ...], resumer: Resumer) -> None:
        self._fn = fn
        self._metadata = md
        self._resumer = resumer
        self._call: Any = None
        self._closed = threading.Event()
        self._lock = threading.Lock()

    @property
    def position(self) -> int | None:
        """The Sequence the stream would resume after."""
        return self._resumer.position

    @property
    def resumes(self) -> int:
        return self._resumer.resumes

    def __iter__(self) -> Iterator[pb.SecretEvent]:
        return self

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            if self._call is not None:
                self._call.cancel()

    def __next__(self) -> pb.SecretEvent:
        while not self._closed.is_set():
            with self._lock:
                if self._closed.is_set():  # close() may have run since the loop's check
                    break
                if self._call is None:
                    self._call = self._fn(self._resumer.request(), metadata=self._metadata)
                call = self._call
            try:
                event: pb.SecretEvent = next(call)
                self._resumer.seen(event)
                return event
            except StopIteration:  # the server ended the stream with OK: reconnect (backoff)
                delay = self._resumer.after_end()
            except grpc.RpcError as exc:
                if self._closed.is_set():
                    break
                delay = self._resumer.after_failure(exc)
            with self._lock:
                self._call = None
            self._closed.wait(delay)
        self._resumer.state("closed")
        raise StopIteration
