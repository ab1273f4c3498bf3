"""WatchSecrets resumption, shared by the sync and async streams.

The position to resume from is the last Sequence of a delivered change. A Heartbeat's Sequence
(the Region's newest position) is taken only when no position is known yet (a live-only watch):
on a watch that replays from AfterSequence the first Heartbeat arrives before the replay, so
resuming from it would skip the events not yet replayed.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import grpc

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc.client.errors import ClientError, ServiceError, from_rpc_error
from smgrpc.client.retry import RetryPolicy

log = logging.getLogger("smgrpc.client")
HEARTBEAT = "Heartbeat"
# States reported to on_state: "connecting" (a call is being opened), "live" (its first
# Heartbeat arrived: every change from now on is delivered), "down" (the call failed; a new one
# follows after a backoff), "closed" (the stream ended for good).
StateCallback = Callable[[str], None]
RESUMABLE_CODES = frozenset({"SlowConsumerException"})


def request(
    secret_ids: Iterable[str], name_prefix: str | None, after: int | None
) -> pb.WatchSecretsRequest:
    req = pb.WatchSecretsRequest(secret_ids=list(secret_ids))
    if name_prefix is not None:
        req.name_prefix = name_prefix
    if after is not None:
        req.after_sequence = after
    return req


class Resumer:
    """Position, backoff and the resume-or-raise decision of one logical watch."""

    def __init__(
        self,
        secret_ids: Iterable[str],
        name_prefix: str | None,
        after: int | None,
        retries: RetryPolicy,
        on_state: StateCallback | None,
    ) -> None:
        self.secret_ids = tuple(secret_ids)
        self.name_prefix = name_prefix
        self.position = after
        self.retries = retries
        self.failures = 0  # consecutive failed calls (reset by a delivered message)
        # Consecutive calls the server ended without an error (reset only by a message after
        # a call's first, so a server that heartbeats and hangs up is not re-called hot).
        self.ends = 0
        self._messages = 0  # messages of the current call
        self.resumes = 0
        self.live = False
        self._on_state = on_state
        self._rng = random.Random()

    def state(self, name: str) -> None:
        self.live = name == "live"
        if self._on_state is not None:
            self._on_state(name)

    def request(self) -> pb.WatchSecretsRequest:
        self.state("connecting")
        self._messages = 0
        return request(self.secret_ids, self.name_prefix, self.position)

    def seen(self, event: pb.SecretEvent) -> None:
        self.failures = 0
        self._messages += 1
        if self._messages > 1:
            self.ends = 0
        if event.type != HEARTBEAT:
            self.position = event.sequence
        elif self.position is None:
            self.position = event.sequence
        if not self.live:
            self.state("live")

    def after_end(self) -> float:
        """The backoff before the next call after the server ended one with OK (a stream
        never ends by itself: reconnect, but with the backoff, never at once)."""
        self.ends += 1
        self.resumes += 1
        self.state("down")
        policy = self.retries
        delay = max(policy.base_delay, policy.delay(min(self.ends - 1, 32), None, self._rng))
        log.info(
            "WatchSecrets: the server ended the stream; resuming after Sequence %s in %.2f s",
            self.position,
            delay,
        )
        return delay

    def after_failure(self, exc: grpc.RpcError) -> float:
        """The backoff before the next call, or raises the error if it is not resumable."""
        err = from_rpc_error(exc, "WatchSecrets")
        resumable = _resumable(exc, err)
        self.failures += 1
        if not resumable or self.failures >= self.retries.max_attempts:
            self.state("closed")
            raise err from None
        if self.position is None and isinstance(err, ServiceError):
            self.position = _int(err.metadata, "afterSequence")
        self.resumes += 1
        self.state("down")
        retry = err.retry_delay if isinstance(err, ServiceError) else None
        delay = self.retries.delay(self.failures - 1, retry, self._rng)
        log.info(
            "WatchSecrets: %s; resuming after Sequence %s in %.2f s",
            err.code if isinstance(err, ServiceError) else type(err).__name__,
            self.position,
            delay,
        )
        return delay


def _resumable(exc: grpc.RpcError, err: ServiceError | ClientError) -> bool:
    code: Any = exc.code()
    if isinstance(err, ServiceError) and err.code in RESUMABLE_CODES:
        return True
    return bool(code == grpc.StatusCode.UNAVAILABLE)


def _int(metadata: Mapping[str, str], key: str) -> int | None:
    try:
        return int(metadata[key])
    except (KeyError, ValueError):
        return None
