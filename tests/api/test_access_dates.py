"""LastAccessedDate through the API: reads never wait on its write (issue 6, defect 10)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.app import Region
from tests.api.helpers import DAY, create, describe, get, poll, tok
from tests.conftest import FakeClock, admin_channel, make_config, pb, start_region

BUSY = 2.0  # busy_timeout of the Region under test: a write waits this long for the lock


@asynccontextmanager
async def serving(
    tmp: Path, clock: FakeClock
) -> AsyncIterator[tuple[Region, pbg.SecretsManagerStub]]:
    region = await start_region(make_config(tmp, busy_timeout=BUSY), clock=clock)
    try:
        async with admin_channel(region) as ch:
            yield region, pbg.SecretsManagerStub(ch)
    finally:
        await region.stop(0.5)


@asynccontextmanager
async def locked(db: Path) -> AsyncIterator[None]:
    """Another connection (as another process would) holds the database's write lock."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def stored_days(db: Path) -> dict[str, str | None]:
    """version id -> last_access as the database file holds it."""
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("SELECT version_id, last_access FROM versions").fetchall())
    finally:
        conn.close()


async def test_first_read_of_the_day_does_not_wait_on_a_locked_database(
    tmp_path: Path, clock: FakeClock
) -> None:
    """Regression: the first read of a day awaited the date's write (busy_timeout) first."""
    async with serving(tmp_path, clock) as (region, stub):
        await create(stub, "s", "one", client_request_token=tok(1))
        await create(stub, "b", "two", client_request_token=tok(2))
        midnight = int(clock.now()) // DAY * DAY
        async with locked(region.config.db_path):
            t0 = time.monotonic()
            got = await get(stub, "s")
            batch = await stub.BatchGetSecretValue(
                pb.BatchGetSecretValueRequest(secret_id_list=["b"])
            )
            took = time.monotonic() - t0
            assert got.secret_string == "one"
            assert [v.secret_string for v in batch.secret_values] == ["two"]
            assert took < 0.5, f"two first reads of the day took {took:.2f}s (lock held)"
            # Shown at once, although not stored yet: DescribeSecret, ListSecrets, versions.
            assert (await describe(stub, "s")).last_accessed_date.seconds == midnight
            assert (await describe(stub, "b")).last_accessed_date.seconds == midnight
            listed = await stub.ListSecrets(pb.ListSecretsRequest(sort_by="last-accessed-date"))
            assert {e.name: e.last_accessed_date.seconds for e in listed.secret_list} == {
                "s": midnight,
                "b": midnight,
            }
            vs = await stub.ListSecretVersionIds(pb.ListSecretVersionIdsRequest(secret_id="s"))
            assert [v.last_accessed_date.seconds for v in vs.versions] == [midnight]
            assert stored_days(region.config.db_path) == {tok(1): None, tok(2): None}
        # Lock released: the periodic flush stores both within seconds, in one go.
        day = time.strftime("%Y-%m-%d", time.gmtime(clock.now()))

        async def stored() -> bool | None:
            # Committed rows show before the flush task resumes and forgets its notes.
            done = stored_days(region.config.db_path) == {tok(1): day, tok(2): day}
            return (done and region.access.pending == 0) or None

        await poll(stored, within=BUSY + 5)


async def test_dates_noted_before_shutdown_are_stored(tmp_path: Path, clock: FakeClock) -> None:
    async with serving(tmp_path, clock) as (region, stub):
        await create(stub, "s", "one", client_request_token=tok(1))
        await get(stub, "s")
        clock.advance(3 * DAY)
        await get(stub, "s")  # a later day: the note moves forward
    midnight = int(clock.now()) // DAY * DAY
    async with serving(tmp_path, clock) as (region, stub):
        assert region.access.pending == 0
        assert (await describe(stub, "s")).last_accessed_date.seconds == midnight
        vs = await stub.ListSecretVersionIds(pb.ListSecretVersionIdsRequest(secret_id="s"))
        assert [v.last_accessed_date.seconds for v in vs.versions] == [midnight]
