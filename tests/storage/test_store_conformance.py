"""Store conformance suite: what every implementation of core.ports.Store must do.

Parametrised over the Store implementations (SQLite today; a PostgreSQL store must pass the
same cases unchanged, as Vault's physical backends all pass one suite). Each case talks to the
store only through the port: transactions, visibility, rollback, cancellation, durability,
blobs, outbox ordering, cursors, applied positions, replay marks, keyset scans and the
deletion index. `reopen` simulates a restart (a new process opening the same database).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from smgrpc.core.model import KmsKeyRecord, RotationConfig, RotationRun, Sealed, Secret, Version
from smgrpc.storage.sqlite import SqliteStore

PREFIX = "arn:aws:secretsmanager:us-east-1:123456789012:secret:"


@dataclass
class Backend:
    """Opens (and re-opens) one store of one implementation."""

    open: Callable[[], Awaitable[Any]]


async def _sqlite(tmp: Path) -> Backend:
    path = tmp / "secrets.db"
    return Backend(lambda: SqliteStore.open(path))


BACKENDS = {"sqlite": _sqlite}


@pytest.fixture(params=sorted(BACKENDS))
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return await BACKENDS[request.param](tmp_path)


class Opened:
    """The store under test; `reopen()` closes it and opens the same database again."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.store: Any = None

    async def reopen(self) -> Any:
        if self.store is not None:
            await self.store.close()
        self.store = await self.backend.open()
        return self.store


@pytest.fixture
async def opened(backend: Backend) -> AsyncIterator[Opened]:
    o = Opened(backend)
    await o.reopen()
    yield o
    await o.store.close()


@pytest.fixture
def store(opened: Opened) -> Any:
    return opened.store


def secret(name: str, *, at: float = 1.0, versions: tuple[Version, ...] = (), **kw: Any) -> Secret:
    return Secret(
        arn=f"{PREFIX}{name}-abcdef",
        name=name,
        created_at=at,
        last_changed_at=at,
        versions=versions,
        **kw,
    )


def version(vid: str, *stages: str, at: float = 1.0) -> Version:
    return Version(vid, at, tuple(stages), "key-1")


def blob(n: int) -> Sealed:
    return Sealed("key-1", bytes([n]) * 40, bytes([n]) * 100)


# ---- transactions and visibility ----


async def test_a_transaction_sees_its_own_writes_and_others_see_them_after_commit(
    opened: Opened, store: Any
) -> None:
    s = secret("a", versions=(version("v1", "AWSCURRENT"),))
    async with store.transaction() as tx:
        await tx.save(s, {"v1": blob(1)})
        assert tx.find("a") is not None and tx.find_arn(s.arn) is not None
        assert await tx.sealed(s.arn, "v1") == blob(1)
        assert store.find("a") is None  # not committed yet
    assert store.find("a") == s and store.find(s.arn) == s
    assert await store.sealed(s.arn, "v1") == blob(1)
    store = await opened.reopen()
    assert store.find("a") == s
    assert await store.sealed(s.arn, "v1") == blob(1)


async def test_a_body_that_raises_writes_nothing(opened: Opened, store: Any) -> None:
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await tx.save(secret("doomed"), {})
            raise RuntimeError("abort")
    assert store.find("doomed") is None
    async with store.transaction() as tx:
        assert tx.find("doomed") is None  # the next transaction starts clean
    other = await opened.reopen()
    assert other.find("doomed") is None


async def test_writers_are_serialized(store: Any) -> None:
    """Read-modify-write in concurrent transactions never loses an update."""
    async with store.transaction() as tx:
        await tx.save(secret("counter", description="0"))

    async def bump() -> None:
        async with store.transaction() as tx:
            cur = tx.find("counter")
            await asyncio.sleep(0)  # give the other writers a chance to interleave
            await tx.save(cur.evolve(description=str(int(cur.description) + 1)))

    await asyncio.gather(*(bump() for _ in range(25)))
    assert store.find("counter").description == "25"


async def test_cancelled_transactions_leave_memory_equal_to_the_database(
    opened: Opened, store: Any
) -> None:
    async def write(i: int) -> None:
        async with store.transaction() as tx:
            await tx.save(secret(f"c{i}"), {})

    tasks = [asyncio.create_task(write(i)) for i in range(40)]
    for i, t in enumerate(tasks):
        if i % 3 == 0:
            t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    seen = {s.name for s in store.all()}
    other = await opened.reopen()
    assert {s.name for s in other.all()} == seen


async def test_delete_removes_the_secret_its_versions_and_its_name(store: Any) -> None:
    s = secret("gone", versions=(version("v1", "AWSCURRENT"),))
    async with store.transaction() as tx:
        await tx.save(s, {"v1": blob(2)})
    async with store.transaction() as tx:
        await tx.delete(tx.find("gone"))
        assert tx.find("gone") is None
    assert store.find("gone") is None and await store.sealed(s.arn, "v1") is None
    again = secret("gone").evolve(arn=f"{PREFIX}gone-zzzzzz")
    async with store.transaction() as tx:
        await tx.save(again)
    assert store.find("gone").arn == again.arn


async def test_versions_change_in_place_and_values_replace(store: Any) -> None:
    v1, v2 = version("v1", "AWSCURRENT"), version("v2", at=2.0)
    s = secret("ver", versions=(v1,))
    async with store.transaction() as tx:
        await tx.save(s, {"v1": blob(1)})
    moved = s.evolve(versions=(version("v1", "AWSPREVIOUS"), version("v2", "AWSCURRENT", at=2.0)))
    async with store.transaction() as tx:
        await tx.save(moved, {"v2": blob(2)})
    got = store.find("ver")
    assert [(v.version_id, v.stages) for v in got.versions] == [
        ("v1", ("AWSPREVIOUS",)),
        ("v2", ("AWSCURRENT",)),
    ]
    assert await store.sealed(s.arn, "v1") == blob(1)
    assert await store.sealed(s.arn, "v2") == blob(2)
    assert v2.version_id in {v.version_id for v in got.versions}
    dropped = got.evolve(versions=(got.versions[1],))
    async with store.transaction() as tx:
        await tx.save(dropped)
    assert await store.sealed(s.arn, "v1") is None


# ---- replication bookkeeping ----


async def test_outbox_rows_come_back_in_order_committed_only(opened: Opened, store: Any) -> None:
    s = secret("r", lineage="L1")
    async with store.transaction() as tx:
        await tx.save(s)
        await tx.enqueue(s, [("eu-west-1", "state"), ("ap-southeast-2", "state")])
    async with store.transaction() as tx:
        await tx.enqueue(s, [("eu-west-1", "remove")])
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await tx.enqueue(s, [("eu-west-1", "state")])
            raise RuntimeError("rolled back")
    rows = await store.outbox("eu-west-1", 0, 100)
    assert [(arn, lineage, kind) for _, arn, lineage, kind in rows] == [
        (s.arn, "L1", "state"),
        (s.arn, "L1", "remove"),
    ]
    seqs = [seq for seq, *_ in rows]
    assert seqs == sorted(seqs) and len(set(seqs)) == 2
    assert [r[3] for r in await store.outbox("eu-west-1", seqs[0], 100)] == ["remove"]
    assert len(await store.outbox("eu-west-1", 0, 1)) == 1
    assert len(await store.outbox("ap-southeast-2", 0, 100)) == 1

    async with store.transaction() as tx:
        await tx.ack("eu-west-1", seqs[0])
    assert await store.cursor("eu-west-1") == seqs[0]
    assert [r[0] for r in await store.outbox("eu-west-1", 0, 100)] == [seqs[1]]
    async with store.transaction() as tx:
        await tx.ack("eu-west-1", seqs[0] - 1)  # a cursor never moves back
    assert await store.cursor("eu-west-1") == seqs[0]

    store = await opened.reopen()
    assert await store.cursor("eu-west-1") == seqs[0]
    assert await store.cursor("nowhere") == 0
    async with store.transaction() as tx:
        await tx.requeue("ap-southeast-2", 0, 10**9)
        await tx.forget("eu-west-1", s.arn)
    again = await store.outbox("ap-southeast-2", 0, 100)
    assert len(again) == 2 and again[1][0] > again[0][0]  # appended at the end
    assert await store.outbox("eu-west-1", 0, 100) == []


async def test_applied_positions_and_replay_marks_commit_with_the_transaction(
    opened: Opened, store: Any
) -> None:
    async with store.transaction() as tx:
        assert await tx.applied("us-east-1") == 0
        assert await tx.replay_mark("us-east-1") == 0.0
        await tx.set_applied("us-east-1", 42)
        await tx.set_replay_mark("us-east-1", 1234.5)
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await tx.set_applied("us-east-1", 99)
            raise RuntimeError("rolled back")
    store = await opened.reopen()
    async with store.transaction() as tx:
        assert await tx.applied("us-east-1") == 42
        assert await tx.replay_mark("us-east-1") == 1234.5


# ---- listing and purge ----


async def _names(store: Any, by: str, desc: bool, after: Any = None) -> list[str]:
    return [s.name async for s in store.scan(by, desc, after)]


async def test_scan_orders_by_every_sort_key_with_the_arn_as_tie_breaker(store: Any) -> None:
    async with store.transaction() as tx:
        for i, name in enumerate(["b", "a", "d", "c"]):
            await tx.save(secret(name, at=float(i // 2)))  # created-date ties in pairs
    assert await _names(store, "name", False) == ["a", "b", "c", "d"]
    assert await _names(store, "name", True) == ["d", "c", "b", "a"]
    by_created = await _names(store, "created-date", False)
    assert set(by_created[:2]) == {"a", "b"} and set(by_created[2:]) == {"c", "d"}
    # Keyset continuation: strictly after a position (before it, descending).
    a = store.find("a")
    assert await _names(store, "name", False, (a.name, a.arn)) == ["b", "c", "d"]
    c = store.find("c")
    assert await _names(store, "name", True, (c.name, c.arn)) == ["b", "a"]


async def test_scan_sees_a_renamed_or_deleted_secret_at_most_once(store: Any) -> None:
    async with store.transaction() as tx:
        for name in "abcdef":
            await tx.save(secret(name))
    seen = []
    async for s in store.scan("name", False, None):
        seen.append(s.name)
        if s.name == "b":
            async with store.transaction() as tx:
                await tx.delete(tx.find("e"))
                await tx.save(secret("ab"))  # lands behind the cursor: not required to show
    assert seen[:2] == ["a", "b"] and "e" not in seen
    assert len(seen) == len(set(seen))
    assert {"c", "d", "f"} <= set(seen)


async def test_due_for_deletion_uses_the_deletion_date(store: Any) -> None:
    async with store.transaction() as tx:
        await tx.save(secret("keep"))
        await tx.save(secret("late", deleted_date=200.0))
        await tx.save(secret("soon", deleted_date=100.0))
    assert [s.name for s in await store.due_for_deletion(150.0)] == ["soon"]
    assert [s.name for s in await store.due_for_deletion(200.0)] == ["soon", "late"]
    async with store.transaction() as tx:
        await tx.save(tx.find("soon").evolve(deleted_date=None))  # restored
    assert [s.name for s in await store.due_for_deletion(1e12)] == ["late"]


def _rotation(next_rotation: float | None, enabled: bool = True) -> RotationConfig:
    return RotationConfig(enabled=enabled, lambda_arn="arn:f", next_rotation=next_rotation)


def _run(vid: str, started: float) -> RotationRun:
    return RotationRun(vid, "token-" + vid, "arn:f", "setSecret", True, started, 2)


async def test_due_for_rotation_lists_due_primaries_earliest_first(
    opened: Opened, store: Any
) -> None:
    async with store.transaction() as tx:
        await tx.save(secret("late", rotation=_rotation(300.0)))
        await tx.save(secret("soon", rotation=_rotation(100.0)))
        await tx.save(secret("never", rotation=_rotation(None)))
        await tx.save(secret("off", rotation=_rotation(50.0, enabled=False)))
        await tx.save(secret("replica", rotation=_rotation(50.0), primary_region="eu-west-1"))
        await tx.save(secret("deleted", rotation=_rotation(50.0), deleted_date=900.0))
        await tx.save(secret("running", rotation=_rotation(50.0), rotating=_run("v1", 40.0)))
        await tx.save(secret("plain"))
    assert await store.due_for_rotation(99.0) == []
    assert [s.name for s in await store.due_for_rotation(100.0)] == ["soon"]
    assert [s.name for s in await store.due_for_rotation(1e12)] == ["soon", "late"]
    async with store.transaction() as tx:  # every change moves the index
        await tx.save(tx.find("soon").evolve(rotating=_run("v2", 120.0)))
        await tx.save(tx.find("running").evolve(rotating=None))
        await tx.save(tx.find("late").evolve(rotation=_rotation(10.0)))
    assert [s.name for s in await store.due_for_rotation(1e12)] == ["late", "running"]
    store = await opened.reopen()
    assert [s.name for s in await store.due_for_rotation(1e12)] == ["late", "running"]
    async with store.transaction() as tx:
        await tx.delete(tx.find("late"))
    assert [s.name for s in await store.due_for_rotation(1e12)] == ["running"]


async def test_rotations_in_progress_survive_a_reopen(opened: Opened, store: Any) -> None:
    async with store.transaction() as tx:
        await tx.save(secret("b", rotation=_rotation(5.0), rotating=_run("vb", 20.0)))
        await tx.save(secret("a", rotation=_rotation(5.0), rotating=_run("va", 10.0)))
        await tx.save(secret("r", rotating=_run("vr", 1.0), primary_region="eu-west-1"))
        await tx.save(secret("idle", rotation=_rotation(5.0)))
    assert [s.name for s in await store.rotations_in_progress()] == ["a", "b"]
    store = await opened.reopen()
    got = await store.rotations_in_progress()
    assert [s.name for s in got] == ["a", "b"]
    assert got[0].rotating == _run("va", 10.0)
    async with store.transaction() as tx:
        await tx.save(tx.find("a").evolve(rotating=None))
        await tx.save(tx.find("r").evolve(primary_region=None))  # promoted: its run is ours
    assert [s.name for s in await store.rotations_in_progress()] == ["r", "b"]


async def test_a_rolled_back_create_leaves_no_trace(opened: Opened, store: Any) -> None:
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await tx.save(secret("ghost"))
            raise RuntimeError("rolled back")
    async with store.transaction() as tx:
        await tx.save(secret("real"))
    assert [s.name for s in store.all()] == ["real"]
    store = await opened.reopen()
    assert [s.name for s in store.all()] == ["real"]
    async with store.transaction() as tx:
        await tx.save(secret("later"))
    assert [s.name for s in store.all()] == ["real", "later"]  # creation order kept


# ---- key records and meta ----


def key_record(key_id: str, alias: str | None) -> KmsKeyRecord:
    arn = f"arn:aws:kms:us-east-1:123456789012:key/{key_id}"
    return KmsKeyRecord(key_id, arn, alias, "d", True, 1.0, b"wrapped-" + key_id.encode())


async def test_key_records_are_insert_only(opened: Opened, store: Any) -> None:
    assert await store.add_kms_key(key_record("k1", "alias/app")) is True
    assert await store.add_kms_key(key_record("k2", "alias/app")) is False  # alias taken
    assert await store.add_kms_key(key_record("k1", None)) is False  # id taken
    await store.set_kms_key_enabled("k1", False)
    store = await opened.reopen()
    keys = await store.kms_keys()
    assert [(k.key_id, k.alias, k.enabled, k.wrapped_material) for k in keys] == [
        ("k1", "alias/app", False, b"wrapped-k1")
    ]


async def test_meta_is_write_once(opened: Opened, store: Any) -> None:
    assert await store.get_meta("region") is None
    assert await store.add_meta("region", b"eu-west-1") == b"eu-west-1"
    assert await store.add_meta("region", b"us-east-1") == b"eu-west-1"  # never replaced
    store = await opened.reopen()
    assert await store.get_meta("region") == b"eu-west-1"
