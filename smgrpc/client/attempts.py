"""One unary call's attempts under its deadline and retry policy: what the sync and the asyncio
client share (each only adds how it waits: time.sleep or asyncio.sleep).

Invariant: a call is retried only on UNAVAILABLE or RESOURCE_EXHAUSTED, only while attempts and
deadline remain, and never when the operation is a write without a ClientRequestToken."""

from __future__ import annotations

import logging
import random
import time

import grpc
from google.protobuf.message import Message

from smgrpc.client.errors import DeadlineExceededError, ParamValidationError, from_rpc_error
from smgrpc.client.operations import Operation, operation
from smgrpc.client.retry import RETRYABLE, RetryPolicy

log = logging.getLogger("smgrpc.client")


def unary(name: str) -> Operation:
    op = operation(name)
    if op.streaming:
        raise ParamValidationError(f"{name} is a stream: use watch_secrets()")
    return op


def retry_delay(
    policy: RetryPolicy,
    op: Operation,
    request: Message,
    exc: grpc.RpcError,
    err: Exception,
    attempt: int,
    rng: random.Random,
) -> float | None:
    """Seconds before the next attempt, or None: do not retry."""
    if exc.code() not in RETRYABLE or attempt + 1 >= policy.max_attempts:
        return None
    if not op.retryable(request):
        return None
    return policy.delay(attempt, getattr(err, "retry_delay", None), rng)


class Attempts:
    """The attempts of one call of `operation` with `request`, within `timeout` seconds."""

    def __init__(
        self,
        operation: str,
        request: Message,
        timeout: float,
        policy: RetryPolicy,
        rng: random.Random,
    ) -> None:
        self.op = unary(operation)
        if not isinstance(request, self.op.request):
            raise ParamValidationError(
                f"{operation} takes a {self.op.request.DESCRIPTOR.name}, "
                f"got {type(request).__name__}"
            )
        self.operation, self.request = operation, request
        self.policy, self.rng = policy, rng
        self.deadline = time.monotonic() + timeout
        self.attempt = 0

    def remaining(self) -> float:
        """The next attempt's gRPC timeout; DeadlineExceededError once none is left."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise DeadlineExceededError(
                f"The {self.operation} call's deadline expired",
                status=grpc.StatusCode.DEADLINE_EXCEEDED,
            )
        return left

    def failed(self, exc: grpc.RpcError) -> float:
        """How long to wait before trying again; raises the decoded error if not retried."""
        err = from_rpc_error(exc, self.operation)
        delay = retry_delay(self.policy, self.op, self.request, exc, err, self.attempt, self.rng)
        if delay is None or time.monotonic() + delay >= self.deadline:
            raise err from None
        log.info("%s: retrying after %s in %.3f s", self.operation, exc.code().name, delay)
        self.attempt += 1
        return delay
