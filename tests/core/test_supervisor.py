"""The supervisor restarts failed tasks with backoff, logs type only, and always stops."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

import pytest

from smgrpc.supervisor import Supervisor

SECRET_TEXT = "canary-in-an-exception-message"


async def test_a_failing_task_is_restarted_and_its_failure_recorded(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs = 0
    healthy = asyncio.Event()

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs <= 3:
            err = sqlite3.OperationalError(f"database is locked {SECRET_TEXT}")
            err.sqlite_errorname = "SQLITE_BUSY"  # type: ignore[attr-defined]
            raise err
        healthy.set()
        await asyncio.Event().wait()  # runs until cancelled

    sup = Supervisor(base_backoff=0.001, max_backoff=0.01)
    with caplog.at_level(logging.ERROR, logger="smgrpc.tasks"):
        sup.run("ship-eu-west-1", flaky)
        await asyncio.wait_for(healthy.wait(), 5)
        state = sup.states["ship-eu-west-1"]
        assert (state.failures, state.restarts) == (3, 3)
        assert state.last_error == "OperationalError SQLITE_BUSY"
        await sup.stop()
    assert "ship-eu-west-1 failed (OperationalError SQLITE_BUSY)" in caplog.text
    assert SECRET_TEXT not in caplog.text


async def test_periodic_job_survives_failures() -> None:
    calls = 0
    done = asyncio.Event()

    async def job() -> None:
        nonlocal calls
        calls += 1
        if calls % 2:
            raise RuntimeError("odd")
        if calls >= 6:
            done.set()

    async with Supervisor(base_backoff=0.001, max_backoff=0.002) as sup:
        sup.every("purge", 0.001, job)
        await asyncio.wait_for(done.wait(), 5)
    assert sup.states["purge"].failures >= 3


async def test_a_task_that_returns_is_restarted() -> None:
    runs = 0
    again = asyncio.Event()

    async def short() -> None:
        nonlocal runs
        runs += 1
        if runs == 2:
            again.set()

    async with Supervisor(base_backoff=0.001) as sup:
        sup.run("short", short)
        await asyncio.wait_for(again.wait(), 5)
    assert sup.states["short"].restarts >= 1


async def test_stop_cancels_everything_and_never_raises() -> None:
    started = asyncio.Event()
    cleaned = []

    async def forever() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            cleaned.append(True)

    async def broken() -> None:
        raise ValueError("always")

    sup = Supervisor(base_backoff=0.001)
    sup.run("forever", forever)
    sup.run("broken", broken)
    await asyncio.wait_for(started.wait(), 5)
    await asyncio.sleep(0.01)
    await asyncio.wait_for(sup.stop(), 5)
    assert cleaned == [True]
    with pytest.raises(RuntimeError):
        sup.run("late", forever)


async def test_a_stray_cancelled_error_is_a_failure_not_a_silent_end() -> None:
    """A CancelledError raised by a library (nobody stopped us) restarts the job."""
    runs = 0
    again = asyncio.Event()

    async def job() -> None:
        nonlocal runs
        runs += 1
        if runs == 1:
            raise asyncio.CancelledError  # e.g. a grpc.aio call cancelled underneath
        again.set()
        await asyncio.Event().wait()

    async with Supervisor(base_backoff=0.001) as sup:
        sup.run("ship", job)
        await asyncio.wait_for(again.wait(), 5)
        assert sup.states["ship"].last_error == "CancelledError"


async def test_stop_awaits_every_task_even_when_its_caller_is_cancelled() -> None:
    finished = []

    async def slow_to_stop() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0.05)  # cleanup that takes a moment
            finished.append(True)

    sup = Supervisor()
    sup.run("a", slow_to_stop)
    sup.run("b", slow_to_stop)
    await asyncio.sleep(0.01)
    stopping = asyncio.create_task(sup.stop())
    await asyncio.sleep(0.01)
    stopping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopping
    assert finished == [True, True]
