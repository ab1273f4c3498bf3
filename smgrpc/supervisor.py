"""The one owner of a Region's background tasks: restart with backoff, log, cancel on stop.

Invariant: every task started here is either running, sleeping before a restart, or finished
because `stop()` cancelled it; `stop()` always returns (it never re-raises a task's error), so
a Region's shutdown completes and closes its storage whatever its tasks did.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from smgrpc.core.aio import settle
from smgrpc.core.errors import error_kind
from smgrpc.core.slices import backoff

log = logging.getLogger("smgrpc.tasks")

Job = Callable[[], Awaitable[None]]


@dataclass
class TaskState:
    """What an operator (and ReplicationStatus) may learn about one task: never error text."""

    name: str
    restarts: int = 0
    failures: int = 0
    last_error: str | None = None  # exception type (and SQLite code) only
    last_failure_at: float | None = None


class Supervisor:
    """TaskGroup-style owner: `run` restarts a task that ends or fails; `every` repeats a job."""

    def __init__(self, *, base_backoff: float = 0.1, max_backoff: float = 10.0) -> None:
        self.base_backoff, self.max_backoff = base_backoff, max_backoff
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.states: dict[str, TaskState] = {}
        self._stopping = False

    async def __aenter__(self) -> Supervisor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def task(self, name: str) -> asyncio.Task[None]:
        """The asyncio task that runs one supervised job (tests take a job out this way)."""
        return self._tasks[name]

    def run(self, name: str, job: Job) -> None:
        """Run `job` until stop(); if it returns or raises, log and start it again (backoff)."""
        self._start(name, job, every=None)

    def every(self, name: str, interval: float, job: Job) -> None:
        """Run `job` now and then every `interval` seconds; a failure is logged, never fatal."""
        self._start(name, job, every=interval)

    def _start(self, name: str, job: Job, every: float | None) -> None:
        if self._stopping:
            raise RuntimeError("the supervisor is stopping")
        if name in self._tasks:
            raise ValueError(f"a task named {name} is already supervised")
        state = self.states[name] = TaskState(name)
        self._tasks[name] = asyncio.create_task(self._loop(state, job, every), name=name)

    async def _loop(self, state: TaskState, job: Job, every: float | None) -> None:
        streak = 0
        while True:
            try:
                await job()
                streak = 0
                if every is None:
                    log.error("background task %s ended unexpectedly: restarting", state.name)
                    state.restarts += 1
                delay = self.base_backoff if every is None else every
            except asyncio.CancelledError as exc:
                task = asyncio.current_task()
                if task is None or task.cancelling():
                    raise  # stop() (or our owner) cancelled us
                # A CancelledError some library raised without anyone stopping us: a failure
                # like any other, or the job would end silently and never restart.
                streak += 1
                delay = self._failed(state, exc, streak, every)
            except Exception as exc:  # noqa: BLE001 - the supervisor's job: log type, restart
                streak += 1
                delay = self._failed(state, exc, streak, every)
            await asyncio.sleep(delay)

    def _failed(
        self, state: TaskState, exc: BaseException, streak: int, every: float | None
    ) -> float:
        """Record and log one failure (type only); the delay before the next run."""
        state.failures += 1
        state.last_error = error_kind(exc)
        state.last_failure_at = time.time()
        delay = backoff(self.base_backoff, self.max_backoff, streak)
        if every is not None:
            delay = max(delay, every)
        else:
            state.restarts += 1
        log.error(
            "background task %s failed (%s): retrying in %.1f s",
            state.name,
            state.last_error,
            delay,
        )
        return delay

    async def stop(self) -> None:
        """Cancel every task and wait for all of them; never raises a task's error.

        If our caller is cancelled meanwhile, every task is still awaited first (none is left
        running unowned), then the cancellation goes on.
        """
        self._stopping = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        outcomes = await settle(asyncio.gather(*tasks, return_exceptions=True))
        for task, outcome in zip(tasks, outcomes, strict=True):
            if isinstance(outcome, Exception):  # cannot happen (the loop catches): log it
                log.error(
                    "background task %s: %s at shutdown", task.get_name(), error_kind(outcome)
                )
        self._tasks.clear()
