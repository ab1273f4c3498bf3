"""SqliteStore: the sealed-value cache is bounded in bytes; listing indexes and the deletion
index follow every commit and are rebuilt at start."""

from __future__ import annotations

import os
from pathlib import Path

from smgrpc.core.listing import sort_key
from smgrpc.core.model import Sealed, Secret, Version
from smgrpc.storage.migrate import _scripts
from smgrpc.storage.sqlite import SqliteStore

PREFIX = "arn:aws:secretsmanager:us-east-1:123456789012:secret:"


def secret(name: str, t: float, **kw: object) -> Secret:
    return Secret(arn=f"{PREFIX}{name}-AbCdEf", name=name, created_at=t, last_changed_at=t, **kw)  # type: ignore[arg-type]


async def scan(store: SqliteStore, by: str, desc: bool = False, after=None) -> list[str]:
    return [s.name async for s in store.scan(by, desc, after)]


async def test_blob_cache_is_bounded_in_bytes(tmp_path: Path) -> None:
    limit = 1024 * 1024
    store = await SqliteStore.open(tmp_path / "s.db", blob_cache_bytes=limit)
    try:
        blobs = {}
        for i in range(40):  # 40 values of 64 KiB: 2.5 MiB, over twice the bound
            s = secret(f"big{i}", float(i))
            v = Version(f"v{i}".ljust(32, "0"), float(i), ("AWSCURRENT",), "k")
            sealed = Sealed("k", os.urandom(60), os.urandom(65_536))
            blobs[(s.arn, v.version_id)] = sealed
            async with store.transaction() as tx:
                await tx.save(s.evolve(versions=(v,)), {v.version_id: sealed})
            assert store.blob_cache_bytes <= limit
        for (arn, vid), sealed in blobs.items():  # all still readable (from the database)
            assert await store.sealed(arn, vid) == sealed
            assert store.blob_cache_bytes <= limit
        assert store.blob_cache_bytes > limit // 2  # and the cache is in use
        async with store.transaction() as tx:
            for i in range(40):
                await tx.delete(store._by_arn[f"{PREFIX}big{i}-AbCdEf"])
        assert store.blob_cache_bytes == 0
    finally:
        await store.close()


async def test_indexes_follow_commits_and_reload(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "s.db")
    try:
        async with store.transaction() as tx:
            for i, name in enumerate(["m", "b", "x", "a"]):
                await tx.save(secret(name, 10.0 + i))
        assert await scan(store, "created-date") == ["m", "b", "x", "a"]
        assert await scan(store, "name") == ["a", "b", "m", "x"]
        assert await scan(store, "name", True) == ["x", "m", "b", "a"]
        b = store.find("b")
        assert b is not None
        assert await scan(store, "name", after=sort_key(b, "name")) == ["m", "x"]
        assert await scan(store, "name", True, sort_key(b, "name")) == ["a"]
        async with store.transaction() as tx:
            await tx.save(b.evolve(last_changed_at=99.0, deleted_date=500.0))
            m = tx.find("m")
            assert m is not None
            await tx.save(m.evolve(deleted_date=400.0))
            x = tx.find("x")
            assert x is not None
            await tx.delete(x)
        assert await scan(store, "last-changed-date") == ["m", "a", "b"]
        assert [s.name for s in await store.due_for_deletion(450.0)] == ["m"]
        assert [s.name for s in await store.due_for_deletion(500.0)] == ["m", "b"]
    finally:
        await store.close()
    again = await SqliteStore.open(tmp_path / "s.db")
    try:
        assert await scan(again, "last-changed-date") == ["m", "a", "b"]
        assert await scan(again, "name", True) == ["m", "b", "a"]
        assert [s.name for s in await again.due_for_deletion(1e9)] == ["m", "b"]
    finally:
        await again.close()


def test_migrations_are_numbered_without_gaps() -> None:
    assert [n for n, _ in _scripts()] == list(range(1, len(_scripts()) + 1))
