"""WatchSecrets: a stream of the Region's recorded events (core.events), per caller.

A stream keeps only its position: it pages through the stored history from there (the
store's recent tail is in memory), so nothing is buffered per stream beyond one page. The
first message is a Heartbeat (Sequence = the Region's newest position) as soon as the stream
is live; when it has caught up it waits for the next commit (the store wakes it right after
COMMIT) or the heartbeat interval, whichever comes first, and heartbeats only then (a
heartbeat's Sequence is then also the stream's own position). Each event is delivered only if
the caller may secretsmanager:DescribeSecret the secret (its identity policies and the
secret's current resource policy; once the secret is gone, its last state as the event log
remembers it, else nothing is delivered: fail closed), and it passes the
SecretIds / NamePrefix filters. A stream that falls more than `max_lag` events behind the live
edge (events recorded since it began; catching up on retained history is not falling behind),
or whose client does not take a message within `write_timeout`, ends with SlowConsumerException
(afterSequence: the last position surely taken: the message being written may still arrive, so
resuming from it repeats at most that one); the gate's close ends it with UNAVAILABLE.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc.api import calls
from smgrpc.api.codec import set_ts
from smgrpc.api.streams import Recheck
from smgrpc.core import events
from smgrpc.core import validate as check
from smgrpc.core.arn import name_from_partial_arn
from smgrpc.core.errors import AccessDenied, ExpiredSequence, ServiceUnavailable, SlowConsumer
from smgrpc.core.events import SecretEvent
from smgrpc.core.model import Secret
from smgrpc.core.ports import EventLog
from smgrpc.core.slices import Slicer

MAX_IDS = 100
SHUTDOWN = "The server is shutting down; watch again (AfterSequence) on this or another server."
RESYNC = (
    "AfterSequence {after} cannot be resumed from: this Region keeps events {oldest} to "
    "{newest}. Resync: read again what you cache, then watch without AfterSequence."
)


@dataclass(frozen=True)
class WatchLimits:
    heartbeat: float = 10.0  # seconds between heartbeats of a caught-up stream
    max_lag: int = 10_000  # events a stream may fall behind the newest
    write_timeout: float = 10.0  # seconds the client has to take one message
    page: int = 256  # events read per step


class _Filter:
    """SecretIds / NamePrefix of one stream (ids that resolve to nothing yet are kept)."""

    def __init__(
        self,
        ids: Sequence[str],
        prefix: str | None,
        find: Callable[[str], Secret | None],
        home: tuple[str, str],
    ) -> None:
        self.prefix = prefix
        keys: set[str] = set()
        for sid in ids:
            keys.add(sid)
            name = name_from_partial_arn(sid, *home)
            if name is not None:
                keys.add(name)
            found = find(sid)
            if found is not None:
                keys.add(found.arn)
        self.keys = frozenset(keys) if ids else None

    def wants(self, ev: SecretEvent) -> bool:
        if self.prefix is not None and not ev.name.startswith(self.prefix):
            return False
        return self.keys is None or ev.arn in self.keys or ev.name in self.keys


class Watch:
    """The WatchSecrets behavior (streams.wrap_stream runs it)."""

    def __init__(
        self,
        log: EventLog,
        find: Callable[[str], Secret | None],
        region: str,
        account: str,
        limits: WatchLimits | None = None,
        closing: Callable[[], bool] = lambda: False,
    ) -> None:
        """closing: whether the server is shutting down (the gate's `closed`): a stream
        cancelled then ends with UNAVAILABLE and its position."""
        self.log, self.find, self.closing = log, find, closing
        self.region, self.account = region, account
        self.limits = limits or WatchLimits()

    def _filter(self, r: pb.WatchSecretsRequest, auth: calls.Authorized | None) -> _Filter:
        ids = list(r.secret_ids)
        if len(ids) > MAX_IDS:
            raise check.validation(
                "", "secretIds", f"Member must have length less than or equal to {MAX_IDS}"
            )
        for i, sid in enumerate(ids, 1):
            check.secret_id(sid, f"secretIds.{i}.member")
        prefix = r.name_prefix if r.HasField("name_prefix") else None
        if prefix is not None:
            check.length(prefix, "namePrefix", 1, 512)
        denied = auth.denied if auth is not None else None
        if denied is not None:
            for sid in ids:
                found = self.find(sid)
                message = denied("DescribeSecret", found if found is not None else sid)
                if message is not None:
                    raise AccessDenied(message, resource=found.arn if found else None)
        return _Filter(ids, prefix, self.find, (self.region, self.account))

    def _start(self, r: pb.WatchSecretsRequest) -> int:
        oldest, newest = self.log.event_bounds()
        if not r.HasField("after_sequence"):
            return newest
        after = r.after_sequence
        if not events.window(oldest, newest, after):
            raise ExpiredSequence(
                RESYNC.format(after=after, oldest=oldest, newest=newest),
                oldest=oldest,
                newest=newest,
            )
        return after

    def _message(self, ev: SecretEvent) -> pb.SecretEvent:
        out = pb.SecretEvent(
            sequence=ev.sequence, type=ev.type, arn=ev.arn, name=ev.name, region=self.region
        )
        if ev.version_id is not None:
            out.version_id = ev.version_id
        set_ts(out.time, ev.time)
        return out

    def _heartbeat(self, newest: int) -> pb.SecretEvent:
        out = pb.SecretEvent(sequence=newest, type=events.HEARTBEAT, region=self.region)
        set_ts(out.time, time.time())
        return out

    async def _send(self, context: Any, msg: pb.SecretEvent, pos: int) -> None:
        """Write one message; SlowConsumer (resume after `pos`) if not taken in time."""
        try:
            async with asyncio.timeout(self.limits.write_timeout):
                await context.write(msg)
        except TimeoutError:
            raise SlowConsumer(_slow(pos), after_sequence=pos) from None

    def _visible(self, ev: SecretEvent, auth: calls.Authorized | None) -> bool:
        """Whether the caller may DescribeSecret the event's secret (as it is now, at the time
        of asking: `auth.denied` makes a Caller per ask, so aws:CurrentTime is now)."""
        denied = auth.denied if auth is not None else None
        if denied is None:
            return True
        secret = self.find(ev.arn)
        if secret is None or secret.arn != ev.arn:
            # Gone: judged by its last state (its resource policy may deny the caller); if that
            # is not known (deleted before this process started, or long ago), not delivered.
            secret = self.log.gone(ev.arn)
            if secret is None:
                return False
        return denied("DescribeSecret", secret) is None

    async def serve(self, r: pb.WatchSecretsRequest, context: Any, recheck: Recheck) -> None:
        """The stream of one WatchSecrets call (see the module docstring)."""
        cursor = _Cursor()
        try:
            wanted = self._filter(r, recheck())
            cursor.pos = self._start(r)
            cursor.start = self.log.event_bounds()[1]
            await self._send(context, self._heartbeat(self.log.event_bounds()[1]), cursor.pos)
            while True:
                if not await self._page(context, wanted, recheck, cursor):
                    await self._idle(context, recheck, cursor)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if self.closing() and task is not None and task.uncancel() == 0:
                raise ServiceUnavailable(SHUTDOWN, after_sequence=cursor.pos) from None
            raise

    async def _page(self, context: Any, wanted: _Filter, recheck: Recheck, cursor: _Cursor) -> bool:
        """Deliver the next page after the cursor; False when there was none (caught up)."""
        page = await self.log.events_after(cursor.pos, self.limits.page)
        if not page:
            return False
        if page[0].sequence != cursor.pos + 1:  # pruned under a stream that fell behind
            oldest, newest = self.log.event_bounds()
            raise ExpiredSequence(
                RESYNC.format(after=cursor.pos, oldest=oldest, newest=newest),
                oldest=oldest,
                newest=newest,
            )
        auth = recheck()  # the credential and policies as they are now
        for ev in page:
            if wanted.wants(ev) and self._visible(ev, auth):
                await self._send(context, self._message(ev), cursor.pos)
            else:
                # Filtered or denied events never await: pause now and then (a page read from
                # the in-memory tail does not either), so thousands of policy checks in a row
                # do not hold the loop.
                await cursor.slicer.tick()
            cursor.pos = ev.sequence
            # Behind the live edge: events recorded since the stream began that it has not
            # passed yet (catching up on retained history alone is not falling behind).
            if self.log.event_bounds()[1] - max(cursor.pos, cursor.start) > self.limits.max_lag:
                raise SlowConsumer(_slow(cursor.pos), after_sequence=cursor.pos)
        return True

    async def _idle(self, context: Any, recheck: Recheck, cursor: _Cursor) -> None:
        """Caught up: wait for the next commit; heartbeat if none comes in the interval (a
        revoked credential ends an idle stream too)."""
        try:
            async with asyncio.timeout(self.limits.heartbeat):
                await self.log.wait_event(cursor.pos)
        except TimeoutError:
            recheck()
            await self._send(context, self._heartbeat(cursor.pos), cursor.pos)


class _Cursor:
    """A stream's position: the last Sequence it delivered or passed over (filtered)."""

    __slots__ = ("pos", "start", "slicer")

    def __init__(self) -> None:
        self.pos = 0
        self.start = 0  # the Region's newest position when the stream began
        self.slicer = Slicer()  # the loop's manners while passing over events


def _slow(pos: int) -> str:
    return (
        "The stream fell too far behind or stopped taking messages; watch again with "
        f"AfterSequence={pos}."
    )
