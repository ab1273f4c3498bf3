"""The start-up load: versions in creation order whatever order their rows were written in,
and repeated tags / empty rotation settings shared between the secrets loaded."""

from __future__ import annotations

from pathlib import Path

from smgrpc.core.model import Secret, Version
from smgrpc.storage.sqlite import SqliteStore

PREFIX = "arn:aws:secretsmanager:us-east-1:123456789012:secret:"


def secret(name: str, versions: tuple[Version, ...] = ()) -> Secret:
    return Secret(
        arn=f"{PREFIX}{name}-AbCdEf",
        name=name,
        created_at=1.0,
        last_changed_at=1.0,
        tags=(("env", "prod"), ("app", name)),
        versions=versions,
    )


async def test_reload_orders_versions_by_creation_then_write_order(tmp_path: Path) -> None:
    def v(vid: str, t: float) -> Version:
        return Version(vid, t, (), "k")

    store = await SqliteStore.open(tmp_path / "s.db")
    try:
        async with store.transaction() as tx:
            # Rows written late / out of time order (e.g. a replica applying a snapshot).
            await tx.save(secret("a", (v("late", 30.0), v("early", 10.0), v("tie1", 20.0))))
            await tx.save(secret("b", (v("b1", 5.0),)))
        async with store.transaction() as tx:
            a = tx.find("a")
            assert a is not None
            await tx.save(a.evolve(versions=(*a.versions, v("tie2", 20.0), v("first", 1.0))))
    finally:
        await store.close()
    again = await SqliteStore.open(tmp_path / "s.db")
    try:
        a = again.find("a")
        assert a is not None
        assert [x.version_id for x in a.versions] == ["first", "early", "tie1", "tie2", "late"]
        b = again.find("b")
        assert b is not None and [x.version_id for x in b.versions] == ["b1"]
        # Shared after a load: the same (key, value) pair, the same key, one empty rotation.
        assert a.tags is not None and b.tags is not None
        assert a.tags[0] is b.tags[0] and a.tags[1][0] is b.tags[1][0]
        assert a.tags == (("env", "prod"), ("app", "a")) and a.rotation is b.rotation
        assert a == secret("a", a.versions)
    finally:
        await again.close()
