"""IAM Region side: one IamShipper per peer pushes the whole IAM snapshot to it.

Woken by every IAM change (IamUseCases' on_change), a shipper pushes the current snapshot
until the peer acknowledges a version at least as high, retrying with backoff while the peer
is down or cut off (so a returning Region catches up within ~max_backoff of reconnecting), and
re-sends every `refresh` seconds even when acknowledged (a peer restored from an old backup
catches up too; a duplicate is a no-op there). A Region that is not the IAM Region ships
nothing. If a peer answers a higher epoch, this Region has been fenced by a move: it logs that
once and stops pushing to it (the new IAM Region's snapshot will supersede this one here).
Like the secrets Shipper, `run()` never returns and stops only when cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

from smgrpc.core.iam.model import AccessKey, IamState
from smgrpc.core.slices import Slicer, backoff
from smgrpc.crypto.cluster import ClusterKey
from smgrpc.replication import iam_wire as iw
from smgrpc.replication.ratelog import Throttled
from smgrpc.replication.shipper import describe, retry_forever
from smgrpc.replication.transport import IamTooLarge, PeerClient, PeerUnavailable

log = logging.getLogger("smgrpc.replication")
REFRESH = 30.0


class Revealer(Protocol):
    def reveal(self, key: AccessKey) -> str: ...


class IamShipper:
    """Keeps one peer's copy of this Region's IAM snapshot current."""

    def __init__(
        self,
        state: Callable[[], IamState],
        minter: Revealer,
        key: ClusterKey,
        source: str,
        target: str,
        client: PeerClient,
        base_backoff: float = 0.05,
        max_backoff: float = 1.0,
        refresh: float = REFRESH,
    ) -> None:
        self.state, self.minter, self.key = state, minter, key
        self.source, self.target, self.client = source, target, client
        self.base_backoff, self.max_backoff, self.refresh = base_backoff, max_backoff, refresh
        self.event = asyncio.Event()
        self.event.set()
        self.acked: iw.Version | None = None  # the peer's version after our last push
        self.failures = 0
        self.last_error: str | None = None
        self._sealed: dict[str, bytes] = {}  # AccessKeyId -> wire-sealed secret for this peer
        self._fenced_by: iw.Version | None = None
        self._errors = Throttled(log, every=30.0)

    def wake(self) -> None:
        self.event.set()

    async def run(self) -> None:
        await retry_forever(self._loop, self._trouble)

    async def _trouble(self, exc: Exception) -> None:
        """Record a failure, log it (type only), back off; run() then retries."""
        self.failures += 1
        self.last_error = describe(exc)
        if isinstance(exc, IamTooLarge):
            self._errors.log(
                logging.ERROR,
                "too large",
                "the IAM snapshot is not replicated to %s: %s (the replication limit); "
                "remove unused users, roles, tags or inline policies",
                self.target,
                exc,
            )
        elif isinstance(exc, PeerUnavailable):
            if self.failures == 1:
                log.warning(
                    "IAM replication %s -> %s failing: %s (retrying)",
                    self.source,
                    self.target,
                    self.last_error,
                )
        else:
            self._errors.log(
                logging.ERROR,
                self.last_error,
                "IAM replication to %s failed: %s; retrying with backoff",
                self.target,
                self.last_error,
            )
        await asyncio.sleep(backoff(self.base_backoff, self.max_backoff, self.failures))

    async def _loop(self) -> None:
        while True:
            self.event.clear()
            st = self.state()
            mine = (st.epoch, st.generation)
            if st.holder != self.source or (self.acked is not None and self.acked >= mine):
                await self._idle(st.holder == self.source)
                if st.holder != self.source or self.event.is_set():
                    continue
                # refresh: re-send what the peer acknowledged (a no-op unless it went back)
            got = await self.client.push_iam(await self._build(st))
            if self.failures:
                log.info("IAM replication %s -> %s up", self.source, self.target)
            self.failures, self.last_error = 0, None
            self.acked = got.version
            if got.version > mine and self._fenced_by != got.version:
                self._fenced_by = got.version
                log.warning(
                    "%s has IAM epoch %d generation %d (IAM Region %s), newer than this "
                    "Region's (%d, %d): this Region has been fenced by a move",
                    self.target,
                    got.epoch,
                    got.generation,
                    got.holder[:64],
                    st.epoch,
                    st.generation,
                )

    async def _idle(self, holder: bool) -> None:
        """Until woken; as the IAM Region, at most `refresh` seconds."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.event.wait(), self.refresh if holder else None)

    async def _build(self, st: IamState) -> iw.IamPush:
        keys = []
        slicer = Slicer()
        sealed = {}
        for k in st.keys.values():
            await slicer.tick()
            wire = self._sealed.get(k.access_key_id)
            if wire is None:
                wire = self.key.seal_access_key(
                    self.minter.reveal(k),
                    source=self.source,
                    target=self.target,
                    access_key_id=k.access_key_id,
                )
            sealed[k.access_key_id] = wire
            keys.append(iw.WireKey(k.access_key_id, k.user_name, k.status, k.created_at, wire))
        self._sealed = sealed  # deleted keys drop out
        return iw.IamPush(
            self.source,
            self.target,
            st.account,
            st.holder,
            st.epoch,
            st.generation,
            tuple(st.users.values()),
            tuple(st.roles.values()),
            tuple(keys),
        )
