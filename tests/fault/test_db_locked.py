"""Database locked by another process (§D row 13): writes fail cleanly, reads go on.

Runs with --busy-timeout 1 (a real knob, default 5 s) so the test stays short.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
import uuid
from pathlib import Path

import grpc

from tests.conftest import CANARY, aws_error, pb
from tests.harness import Servers, channel_stub

BUSY = 1.0


def _lock(db: Path) -> sqlite3.Connection:
    """A second connection holding the write lock (BEGIN IMMEDIATE) until rolled back."""
    conn = sqlite3.connect(db, isolation_level=None, timeout=5)
    conn.execute("BEGIN IMMEDIATE")
    return conn


async def test_locked_database_fails_writes_cleanly_and_keeps_serving_reads(
    servers: Servers,
) -> None:
    server = await servers.start(None, "--busy-timeout", str(BUSY))
    ch, stub = await channel_stub(server)
    try:
        v1 = (
            await stub.CreateSecret(pb.CreateSecretRequest(name="lock/s", secret_string="one"))
        ).version_id
        v2 = (
            await stub.PutSecretValue(
                pb.PutSecretValueRequest(secret_id="lock/s", secret_string="two")
            )
        ).version_id
        for vid in (v1, v2):  # read once first: today's LastAccessedDate is then recorded
            await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="lock/s", version_id=vid))
        token = str(uuid.uuid4())
        put = pb.PutSecretValueRequest(
            secret_id="lock/s", client_request_token=token, secret_string=CANARY
        )

        lock = _lock(server.data_dir / "secrets.db")
        try:
            t0 = time.monotonic()
            write = asyncio.create_task(aws_error(stub.PutSecretValue(put)))
            await asyncio.sleep(0.05)
            # Reads keep working while the write waits for the lock (and after it failed).
            t_read = time.monotonic()
            got = await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="lock/s"))
            read_latency = time.monotonic() - t_read
            assert got.secret_string == "two"
            assert (
                await stub.DescribeSecret(pb.DescribeSecretRequest(secret_id="lock/s"))
            ).name == "lock/s"
            assert [
                s.name for s in (await stub.ListSecrets(pb.ListSecretsRequest())).secret_list
            ] == ["lock/s"]
            err = await asyncio.wait_for(write, BUSY + 10)
            elapsed = time.monotonic() - t0
            got = await stub.GetSecretValue(
                pb.GetSecretValueRequest(secret_id="lock/s", version_id=v1)
            )
            assert got.secret_string == "one"
        finally:
            lock.execute("ROLLBACK")
            lock.close()

        assert err.code in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNAVAILABLE), err
        assert err.code != grpc.StatusCode.UNKNOWN
        match = re.fullmatch(r"InternalServiceError \(request id ([0-9a-f-]{36})\)", err.message)
        assert match, err.message
        assert err.aws_code == "InternalServiceError"
        assert BUSY * 0.8 < elapsed < BUSY + 3, f"the write took {elapsed:.2f}s"
        assert read_latency < 0.5, f"a read waited {read_latency:.2f}s behind the locked write"

        # After the lock is released the same request succeeds; nothing half-written remains.
        done = await stub.PutSecretValue(put)
        assert done.version_id == token
        listed = await stub.ListSecretVersionIds(
            pb.ListSecretVersionIdsRequest(secret_id="lock/s", include_deprecated=True)
        )
        stages = {v.version_id: sorted(v.version_stages) for v in listed.versions}
        assert stages == {v1: [], token: ["AWSCURRENT"], v2: ["AWSPREVIOUS"]} or stages == {
            token: ["AWSCURRENT"],
            v2: ["AWSPREVIOUS"],
            v1: [],
        }, stages
        got = await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="lock/s"))
        assert (got.version_id, got.secret_string) == (token, CANARY)
    finally:
        await ch.close()
    assert await server.terminate() == 0
    log = server.output()
    # The real unexpected path: logged with its type and request id, never with the value.
    assert b"OperationalError" in log and match.group(1).encode() in log
    assert CANARY.encode() not in log
    assert CANARY not in err.message


async def test_reads_from_disk_do_not_queue_behind_a_locked_write(servers: Servers) -> None:
    """After a restart no value is cached: reads go to SQLite while a write waits for the lock."""
    server = await servers.start(None, "--busy-timeout", str(BUSY))
    ch, stub = await channel_stub(server)
    try:
        vids = []
        for i in range(5):
            resp = await stub.CreateSecret(
                pb.CreateSecretRequest(name=f"lock/r{i}", secret_string=f"value-{i}")
            )
            vids.append(resp.version_id)
            await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id=f"lock/r{i}"))
    finally:
        await ch.close()
    assert await server.terminate() == 0
    server = await servers.start(server.data_dir, "--busy-timeout", str(BUSY))
    ch, stub = await channel_stub(server)
    try:
        lock = _lock(server.data_dir / "secrets.db")
        try:
            write = asyncio.create_task(
                aws_error(
                    stub.PutSecretValue(
                        pb.PutSecretValueRequest(secret_id="lock/r0", secret_string="blocked")
                    )
                )
            )
            await asyncio.sleep(0.05)
            worst = 0.0
            for i in range(5):
                t = time.monotonic()
                got = await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id=f"lock/r{i}"))
                worst = max(worst, time.monotonic() - t)
                assert got.secret_string == f"value-{i}"
            err = await asyncio.wait_for(write, BUSY + 10)
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        assert err.code == grpc.StatusCode.INTERNAL
        assert worst < 0.5, f"a read from disk waited {worst:.2f}s behind the locked write"
    finally:
        await ch.close()


async def test_first_read_of_the_day_works_while_database_is_locked(servers: Servers) -> None:
    server = await servers.start(None, "--busy-timeout", str(BUSY))
    ch, stub = await channel_stub(server)
    try:
        await stub.CreateSecret(pb.CreateSecretRequest(name="lock/t", secret_string="one"))
        lock = _lock(server.data_dir / "secrets.db")
        try:
            got = await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="lock/t"))
            assert got.secret_string == "one"
        finally:
            lock.execute("ROLLBACK")
            lock.close()
    finally:
        await ch.close()
