"""A Region always stops cleanly: as an async context manager, after a background task failed,
and under SIGTERM while another process holds the database lock (issue 6, item 6)."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time
from pathlib import Path

import grpc
import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from tests.conftest import FakeClock, admin_channel, make_config, pb, running, start_region
from tests.harness import Servers, channel_stub


async def test_a_region_is_an_async_context_manager(tmp_path: Path) -> None:
    async with running(make_config(tmp_path), clock=FakeClock()) as region:
        async with admin_channel(region) as ch:
            stub = pbg.SecretsManagerStub(ch)
            await stub.CreateSecret(pb.CreateSecretRequest(name="cm", secret_string="v"))
        port = region.port
    with pytest.raises(ValueError):  # storage is closed
        await region.raw_store.kms_keys()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await pbg.SecretsManagerStub(ch).DescribeSecret(
                pb.DescribeSecretRequest(secret_id="cm"), timeout=2
            )
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    await region.stop()  # a second stop is a no-op


async def test_a_failing_background_task_is_restarted_and_stop_still_completes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The purge job hits SQLITE_BUSY (another connection holds the lock): the supervisor logs
    the type, retries with backoff, the purge happens once the lock is gone, stop completes."""
    clock = FakeClock()
    cfg = make_config(tmp_path, busy_timeout=0.05)
    async with running(cfg, clock=clock) as region:
        async with admin_channel(region) as ch:
            stub = pbg.SecretsManagerStub(ch)
            await stub.CreateSecret(pb.CreateSecretRequest(name="due", secret_string="v"))
            await stub.DeleteSecret(
                pb.DeleteSecretRequest(secret_id="due", recovery_window_in_days=7)
            )
            locker = sqlite3.connect(cfg.db_path, isolation_level=None)
            locker.execute("BEGIN IMMEDIATE")
            try:
                clock.advance(8 * 86400)
                deadline = time.monotonic() + 10
                while region.tasks.states["purge"].failures < 2:
                    assert time.monotonic() < deadline, "the purge never hit the lock"
                    await asyncio.sleep(0.02)
                assert region.tasks.states["purge"].last_error == "OperationalError SQLITE_BUSY"
                assert region.store.find("due") is not None
            finally:
                locker.execute("ROLLBACK")
                locker.close()
            deadline = time.monotonic() + 20
            while region.store.find("due") is not None:
                assert time.monotonic() < deadline, "the purge did not resume"
                await asyncio.sleep(0.05)
    assert "background task purge failed (OperationalError SQLITE_BUSY)" in caplog.text


@pytest.mark.slow
async def test_sigterm_completes_while_another_process_holds_the_database(
    servers: Servers,
) -> None:
    """Shutdown's last write (the pending LastAccessedDate notes) fails on the lock: logged,
    storage still closed, exit 0 — the process never hangs (review D3)."""
    proc = await servers.start(None, "--busy-timeout", "0.2")
    ch, stub = await channel_stub(proc)
    try:
        await stub.CreateSecret(pb.CreateSecretRequest(name="t", secret_string="v"))
        await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="t"))  # a pending note
    finally:
        await ch.close()
    locker = sqlite3.connect(proc.data_dir / "secrets.db", isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    try:
        assert proc.proc is not None
        proc.proc.send_signal(signal.SIGTERM)
        code = await proc.wait(20)
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert code == 0
    assert b"Traceback" not in proc.stderr()


async def test_a_cancelled_stop_still_finishes_and_closes_storage(tmp_path: Path) -> None:
    region = await start_region(make_config(tmp_path), clock=FakeClock())
    stopping = asyncio.create_task(region.stop(0.5))
    await asyncio.sleep(0)  # stop() is at its first await
    assert not stopping.done()
    stopping.cancel()
    stopping.cancel()  # however many times
    with pytest.raises(asyncio.CancelledError):
        await stopping
    assert region.raw_store is not None
    with pytest.raises(ValueError):  # closed before the cancellation went on
        await region.raw_store.kms_keys()
    assert all(t.done() for t in asyncio.all_tasks() if t.get_name() in region.tasks.states)
