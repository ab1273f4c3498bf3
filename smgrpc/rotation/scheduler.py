"""The rotation scheduler: one supervised task that owns every running rotation of a Region.

Each pass (on start, when woken by RotateSecret's on_start, when a run ends, and at least every
`poll_interval` seconds) it
1. runs every rotation recorded as in progress that has no task here: after a restart (or a
   promotion of this Region) runs resume from their recorded step (the runner abandons a run
   whose function is no longer registered);
2. starts the scheduled rotations that are due by the injectable clock (`start_due`);
3. sleeps until the earliest upcoming due time, at most `poll_interval`, or until woken.
At most one task per secret, at most `concurrency` at once; every task is owned here and
cancelled (and awaited) on stop: a step cut short that way is invoked again on restart, which
every rotation function must tolerate (steps are idempotent). Only primaries rotate: the store
lists primaries only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from smgrpc.core.aio import settle
from smgrpc.core.errors import error_kind
from smgrpc.core.model import Secret
from smgrpc.core.ports import Clock
from smgrpc.core.rotation import due_at
from smgrpc.rotation.runner import Runner, Transitions

log = logging.getLogger("smgrpc.rotation")
RETRY_FAILED_RUN = 5.0  # seconds before a run that raised (a storage error) is tried again


class RotationStore(Protocol):
    def find(self, secret_id: str) -> Secret | None: ...
    async def due_for_rotation(self, now: float, limit: int | None = None) -> list[Secret]: ...
    async def rotations_in_progress(self) -> list[Secret]: ...


class Scheduler:
    def __init__(
        self,
        store: RotationStore,
        transitions: Transitions,
        runner: Runner,
        clock: Clock,
        *,
        concurrency: int,
        poll_interval: float = 60.0,
    ) -> None:
        self.store, self.transitions, self.runner, self.clock = store, transitions, runner, clock
        self.concurrency, self.poll_interval = concurrency, poll_interval
        self._runs: dict[str, asyncio.Task[None]] = {}
        self._held: dict[str, float] = {}  # arn -> loop time before which it is not retried
        self._woken = asyncio.Event()
        self._closed = False

    @property
    def running(self) -> frozenset[str]:
        """ARNs of the rotations running now."""
        return frozenset(self._runs)

    def wake(self, arn: str | None = None) -> None:
        """RotateSecret committed a run (RotationUseCases' on_start): look now, not later."""
        self._woken.set()

    async def run(self) -> None:
        """The supervised job (Region.tasks.run): passes until cancelled; owns its run tasks."""
        try:
            while not self._closed:
                self._woken.clear()
                try:
                    delay = await self._pass()
                except Exception as exc:  # noqa: BLE001 - a failed pass keeps the runs going
                    log.error("rotation scheduler pass failed (%s)", error_kind(exc))
                    delay = RETRY_FAILED_RUN
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._woken.wait(), delay)
            await asyncio.Event().wait()  # closed: idle until the supervisor cancels us
        finally:
            await self._cancel_runs()

    async def close(self) -> None:
        """Stop starting rotations and cancel the running ones (the Region is shutting down)."""
        self._closed = True
        self._woken.set()
        await self._cancel_runs()

    async def _pass(self) -> float:
        """Start what should run; the seconds until the next due time (at most poll_interval)."""
        for secret in await self.store.rotations_in_progress():
            if self._closed or self._full():
                break
            if self._free(secret.arn):
                self._spawn(secret.arn)
        now = self.clock.now()
        delay = self.poll_interval
        loop_now = asyncio.get_running_loop().time()
        self._held = {arn: t for arn, t in self._held.items() if t > loop_now}
        # Only as many candidates as could start, plus the held ones they may have to skip:
        # a herd of 100k due secrets costs one slice of the index per pass, not a copy of it.
        limit = self.concurrency - len(self._runs) + len(self._held) + 1
        for secret in await self.store.due_for_rotation(now + self.poll_interval, limit):
            due = due_at(secret.rotation)
            if due is not None and due > now:
                delay = min(delay, due - now)
                break  # earliest first: the rest are later still
            if self._closed or self._full():
                break
            if self._free(secret.arn):
                await self._start(secret.arn)
        return max(delay, 0.0)

    async def _start(self, arn: str) -> None:
        """Begin one due rotation; a failure (a disabled KMS key, a storage error) holds this
        secret back for a poll interval instead of failing the pass, so it can't keep every
        rotation due after it from starting."""
        try:
            started = await self.transitions.start_due(arn)
        except Exception as exc:  # noqa: BLE001 - logged by type (never text); retried later
            log.error(
                "scheduled rotation of %s could not start (%s): retrying in %.0f s",
                arn,
                error_kind(exc),
                self.poll_interval,
            )
            self._hold(arn, self.poll_interval)
            return
        if started is not None and started.rotating is not None:
            log.info("scheduled rotation of %s started", arn)
            self._spawn(arn)
            return
        if started is not None:  # start_due moved it on to its next window instead
            log.warning(
                "scheduled rotation of %s not started (its function is not registered here, "
                "or AWSPENDING is on a version other than AWSCURRENT): moved to its next window",
                arn,
            )
        self._hold(arn, self.poll_interval)

    def _full(self) -> bool:
        return len(self._runs) >= self.concurrency

    def _free(self, arn: str) -> bool:
        if arn in self._runs or self._full():
            return False
        held = self._held.get(arn)
        if held is not None and held > asyncio.get_running_loop().time():
            return False
        self._held.pop(arn, None)
        return True

    def _hold(self, arn: str, seconds: float) -> None:
        self._held[arn] = asyncio.get_running_loop().time() + seconds

    def _spawn(self, arn: str) -> None:
        task = asyncio.create_task(self._one(arn), name=f"rotation {arn}")
        self._runs[arn] = task
        task.add_done_callback(lambda _t: self._ended(arn, task))

    def _ended(self, arn: str, task: asyncio.Task[None]) -> None:
        if self._runs.get(arn) is task:
            del self._runs[arn]
        self._woken.set()  # a slot is free: the next pass may start another

    async def _one(self, arn: str) -> None:
        try:
            await self.runner.run(arn)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - logged by type (never text); retried later
            log.error(
                "rotation of %s failed (%s): retrying in %.0f s",
                arn,
                error_kind(exc),
                RETRY_FAILED_RUN,
            )
            self._hold(arn, RETRY_FAILED_RUN)

    async def _cancel_runs(self) -> None:
        tasks = list(self._runs.values())
        for task in tasks:
            task.cancel()
        await settle(asyncio.gather(*tasks, return_exceptions=True))
