"""Recording data-key usage (crypto/usage.py) when the key upkeep is cancelled mid-write."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from dataclasses import replace
from pathlib import Path

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.crypto.usage import kms_upkeep
from tests.conftest import admin_channel, make_config, running


def _recorded(db: Path) -> dict[tuple[str, int], int]:
    with closing(sqlite3.connect(db)) as conn:
        rows = conn.execute("SELECT key_id, term, sealed FROM kms_usage").fetchall()
    return {(k, t): n for k, t, n in rows}


async def test_a_cancelled_upkeep_write_is_not_counted_twice(tmp_path: Path) -> None:
    """Region.stop cancels the upkeep while aiosqlite's thread goes on with its write: the
    counts it took must not also be handed back and recorded again by the final upkeep
    (they were: 2 instead of 1 in test_key_rotation under load)."""
    cfg = replace(make_config(tmp_path), key_refresh_interval=3600.0)  # no periodic upkeep
    async with running(cfg) as region, admin_channel(region) as ch:
        stub = pbg.SecretsManagerStub(ch)
        for i in range(3):
            await stub.CreateSecret(pb.CreateSecretRequest(name=f"s{i}", secret_string="v"))
        store, keyring = region.raw_store, region.keyring
        assert store is not None
        before = sum(_recorded(cfg.db_path).values())
        task = asyncio.create_task(kms_upkeep(store, keyring, region.clock))
        await asyncio.sleep(0)  # the write is handed to aiosqlite's thread
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        await asyncio.sleep(0.2)  # the write ends in its thread
        await kms_upkeep(store, keyring, region.clock)  # what the shutdown does last
        assert sum(_recorded(cfg.db_path).values()) - before == 3
