"""Storage errors and undecryptable values in a shipper: it survives, reports and retries.

Regressions for "background tasks are unsupervised" (issue 6, item 6, replication half).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from tests.cluster.conftest import Cluster, converged, eventually, start_cluster, stop_cluster

US, EU = "us-east-1", "eu-west-1"


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[Cluster]:
    c = await start_cluster(tmp_path, (US, EU), busy_timeout=0.1)
    yield c
    await stop_cluster(c)


async def status(c: Cluster, name: str) -> tuple[str, str]:
    d = await c.stubs[US].DescribeSecret(pb.DescribeSecretRequest(secret_id=name))
    return next((r.status, r.status_message) for r in d.replication_status if r.region == EU)


async def test_a_locked_database_costs_a_retry_not_the_shipper(
    pair: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    """Another process holds the write lock past busy_timeout while the shipper records an ack
    (SQLITE_BUSY): the status says it is retrying, and replication resumes once it is free."""
    caplog.set_level(logging.INFO, logger="smgrpc.replication")
    us = pair.stubs[US]
    await us.CreateSecret(
        pb.CreateSecretRequest(
            name="a", secret_string="v1", add_replica_regions=[pb.ReplicaRegionType(region=EU)]
        )
    )
    await eventually(lambda: converged(pair, "a", (US, EU)))
    pair.link(US, EU).cut()
    await us.PutSecretValue(pb.PutSecretValueRequest(secret_id="a", secret_string="v2"))
    # A new replica's status must go InProgress -> InSync: recording the push outcome is a
    # write whatever else (access dates, the lazy cursor) happens to need one.
    await us.CreateSecret(
        pb.CreateSecretRequest(
            name="n", secret_string="v", add_replica_regions=[pb.ReplicaRegionType(region=EU)]
        )
    )
    locker = sqlite3.connect(pair.configs[US].db_path, isolation_level=None, timeout=5)
    try:
        locker.execute("BEGIN IMMEDIATE")
        pair.heal()  # the push goes through; recording its outcome hits the lock

        async def retrying() -> str | None:
            st, msg = await status(pair, "n")
            return msg if "SQLITE_BUSY" in msg else None

        msg = await eventually(retrying, within=20)
        assert msg.startswith(f"Replication to {EU} is retrying: an error in this Region")
        await asyncio.sleep(0.5)  # several retries meanwhile
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    await eventually(lambda: status(pair, "a"), what="any status")

    async def in_sync() -> bool:
        return (await status(pair, "n"))[0] == "InSync"

    await eventually(in_sync, within=20)
    await us.CreateSecret(
        pb.CreateSecretRequest(
            name="b", secret_string="later", add_replica_regions=[pb.ReplicaRegionType(region=EU)]
        )
    )
    await eventually(lambda: converged(pair, "b", (US, EU)))
    errors = [r for r in caplog.records if "failed: an error in this Region" in r.getMessage()]
    assert 1 <= len(errors) <= 2, "storage errors are logged rate-limited"
    assert "v2" not in caplog.text and "later" not in caplog.text
    # The link's state is logged once per change, never per retry: the messages alternate and
    # end with "up". (Whether the first "up" falls in this test's call phase or in the fixture's
    # start-up depends on when the idle-link probe first reaches the peer.)
    states = [
        r.getMessage().rsplit(" ", 1)[-1] if r.getMessage().endswith(" up") else "down"
        for r in caplog.records
        if f"{US} -> {EU} " in r.getMessage() and r.getMessage().startswith("replication link")
    ]
    assert "down" in states and states[-1] == "up", states
    assert all(a != b for a, b in zip(states, states[1:], strict=False)), states
    assert states.count("down") <= 3


async def test_an_undecryptable_secret_in_a_snapshot_fails_alone(
    pair: Cluster, tmp_path: Path
) -> None:
    """A wiped replica gets a snapshot; one secret's ciphertext is damaged on the primary: that
    secret is marked Failed, every other secret arrives, and later changes follow."""
    us = pair.stubs[US]
    for name in ("ok1", "bad", "ok2"):
        await us.CreateSecret(
            pb.CreateSecretRequest(
                name=name, secret_string=name, add_replica_regions=[pb.ReplicaRegionType(region=EU)]
            )
        )
    for name in ("ok1", "bad", "ok2"):
        await eventually(lambda name=name: converged(pair, name, (US, EU)))
    await pair.stop_region(EU)
    await pair.stop_region(US)
    db = sqlite3.connect(pair.configs[US].db_path)
    db.execute(
        "UPDATE versions SET ciphertext = zeroblob(length(ciphertext)) WHERE arn IN "
        "(SELECT arn FROM secrets WHERE name = 'bad')"
    )
    db.commit()
    db.close()
    shutil.rmtree(tmp_path / EU)
    await pair.start_region(US)
    await pair.start_region(EU)
    us = pair.stubs[US]
    # The next change finds the replica's history gone (a gap): it gets a snapshot.
    await us.PutSecretValue(pb.PutSecretValueRequest(secret_id="ok1", secret_string="new"))

    async def bad_failed() -> bool:
        return (await status(pair, "bad"))[0] == "Failed"

    await eventually(bad_failed, within=20)
    assert "can't be decrypted" in (await status(pair, "bad"))[1]
    for name in ("ok1", "ok2"):
        await eventually(lambda name=name: converged(pair, name, (US, EU)))
    await us.PutSecretValue(pb.PutSecretValueRequest(secret_id="ok2", secret_string="new"))

    async def followed() -> bool:
        got = await pair.stubs[EU].GetSecretValue(pb.GetSecretValueRequest(secret_id="ok2"))
        return got.secret_string == "new"

    await eventually(followed)


async def test_cancelling_run_is_clean_at_any_point(pair: Cluster) -> None:
    """run() cancelled mid-stream (pushes in flight, backoff, idle) ends with CancelledError and
    leaves the store usable; a new run() picks up where it was."""
    region = pair.regions[US]
    shipper = region.shippers[EU]
    us = pair.stubs[US]
    await us.CreateSecret(
        pb.CreateSecretRequest(
            name="c", secret_string="0", add_replica_regions=[pb.ReplicaRegionType(region=EU)]
        )
    )
    supervised = region.tasks.task(f"ship-{EU}")  # take the shipper out of its supervisor
    supervised.cancel()
    with pytest.raises(asyncio.CancelledError):
        await supervised
    task = asyncio.create_task(shipper.run())
    for delay in (0.0, 0.001, 0.005, 0.02):
        await us.PutSecretValue(pb.PutSecretValueRequest(secret_id="c", secret_string=str(delay)))
        await asyncio.sleep(delay)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        task = asyncio.create_task(shipper.run())
    await us.PutSecretValue(pb.PutSecretValueRequest(secret_id="c", secret_string="last"))

    async def arrived() -> bool:
        got = await pair.stubs[EU].GetSecretValue(pb.GetSecretValueRequest(secret_id="c"))
        return got.secret_string == "last"

    try:
        await eventually(arrived)
        await eventually(lambda: converged(pair, "c", (US, EU)))
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
