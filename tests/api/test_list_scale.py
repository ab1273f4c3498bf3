"""ListSecrets / BatchGetSecretValue never hold the event loop; keyset pages stay exact while
secrets come and go between pages."""

from __future__ import annotations

import asyncio
import time

from smgrpc.app import Region
from smgrpc.core.model import Secret
from tests.api.helpers import ARN_PREFIX, create, flt
from tests.conftest import pb

WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike".split()


async def populate(region: Region, n: int, tags: int, desc_bytes: int) -> None:
    """n secrets (metadata only) written through the store in a few transactions."""
    desc = " ".join(WORDS[i % len(WORDS)] + str(i) for i in range(desc_bytes // 8))[:desc_bytes]
    for start in range(0, n, 250):
        async with region.store.transaction() as tx:
            for i in range(start, min(n, start + 250)):
                name = f"bulk/App{i:05d}-service"
                await tx.save(
                    Secret(
                        arn=f"{ARN_PREFIX}{name}-AbCdEf",
                        name=name,
                        created_at=1_790_000_000.0 + i,
                        last_changed_at=1_790_000_000.0 + i,
                        description=desc,
                        tags=tuple((f"TagKey{j}", f"value-{j}-{i:05d}") for j in range(tags)),
                    )
                )


async def max_stall_during(coro: object) -> tuple[float, float, object]:
    """(longest gap a 5 ms ticker saw, duration, result) while awaiting coro."""
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0.02)
    t0 = time.perf_counter()
    result = await coro  # type: ignore[misc]
    took = time.perf_counter() - t0
    done.set()
    await tick
    return max(gaps), took, result


NOMATCH = [f"zz{i}" for i in range(10)]  # ten words no secret has


async def test_heavy_all_filter_does_not_block_the_loop(region, stub) -> None:
    """1,000 secrets, 50 tags, 2 KB descriptions, an `all` filter of 10 non-matching words:
    ~7 s on the loop before; now the loop keeps ticking and the call is quick."""
    await populate(region, 1000, 50, 2048)
    for _ in range(2):  # first call computes the words, second reuses them
        stall, took, resp = await max_stall_during(
            stub.ListSecrets(pb.ListSecretsRequest(filters=[flt("all", *NOMATCH)]))
        )
        assert len(resp.secret_list) == 0  # type: ignore[attr-defined]
        assert stall < 0.1, f"event loop stalled {stall * 1000:.0f} ms"
        assert took < 3.0, took
    stall, took, resp = await max_stall_during(
        stub.BatchGetSecretValue(pb.BatchGetSecretValueRequest(filters=[flt("all", *NOMATCH)]))
    )
    assert len(resp.secret_values) == 0  # type: ignore[attr-defined]
    assert stall < 0.1, f"event loop stalled {stall * 1000:.0f} ms"
    # Still exact: both words in one tag value of just one secret.
    resp = await stub.ListSecrets(pb.ListSecretsRequest(filters=[flt("all", "00042 value")]))
    assert [e.name for e in resp.secret_list] == ["bulk/App00042-service"]
    resp = await stub.ListSecrets(pb.ListSecretsRequest(filters=[flt("all", "!value")]))
    assert len(resp.secret_list) == 100 and resp.HasField("next_token")


async def pages(stub, between, **kw) -> list[str]:
    seen: list[str] = []
    token = None
    n = 0
    while True:
        req = pb.ListSecretsRequest(max_results=4, **kw)
        if token:
            req.next_token = token
        resp = await stub.ListSecrets(req)
        seen.extend(e.name for e in resp.secret_list)
        if not resp.HasField("next_token"):
            return seen
        token = resp.next_token
        await between(n)
        n += 1


async def test_keyset_pages_by_name_under_inserts_and_deletes(stub, clock) -> None:
    for i in range(20):
        await create(stub, f"k{i:02d}", "v")
        clock.advance(1)

    async def between(n: int) -> None:
        # Each time: drop one secret not listed yet, add one before and one after the position.
        await stub.DeleteSecret(
            pb.DeleteSecretRequest(secret_id=f"k{19 - n:02d}", force_delete_without_recovery=True)
        )
        await create(stub, f"a-new{n}", "v")  # sorts before every k..: never shown
        await create(stub, f"z-new{n}", "v")  # sorts after: shown
        clock.advance(1)

    seen = await pages(stub, between, sort_by="name")
    assert len(seen) == len(set(seen)), seen
    assert not [s for s in seen if s.startswith("a-new")]
    deleted = {f"k{19 - n:02d}" for n in range(10)}
    stable = [f"k{i:02d}" for i in range(20)]
    listed_k = [s for s in seen if s.startswith("k")]
    # Every secret present throughout is listed, once, in order.
    assert [s for s in stable if s not in deleted] == [s for s in listed_k if s not in deleted]
    assert [s for s in seen if s.startswith("z-new")] == sorted(
        s for s in seen if s.startswith("z-new")
    )


async def test_keyset_pages_by_last_changed_desc_while_secrets_change(stub, clock) -> None:
    for i in range(12):
        await create(stub, f"c{i:02d}", "v")
        clock.advance(1)

    async def between(n: int) -> None:
        # A secret already listed changes (moves to the front): not listed again.
        await stub.UpdateSecret(pb.UpdateSecretRequest(secret_id="c11", description=f"d{n}"))
        clock.advance(1)

    seen = await pages(stub, between, sort_by="last-changed-date", sort_order="desc")
    assert seen == [f"c{i:02d}" for i in range(11, -1, -1)]


async def test_purge_uses_deletion_dates(region, stub, clock) -> None:
    for i in range(3):
        await create(stub, f"p{i}", "v")
    await stub.DeleteSecret(pb.DeleteSecretRequest(secret_id="p0", recovery_window_in_days=7))
    await stub.DeleteSecret(pb.DeleteSecretRequest(secret_id="p1", recovery_window_in_days=30))
    assert [s.name for s in await region.store.due_for_deletion(clock.now() + 8 * 86400)] == ["p0"]
    await stub.RestoreSecret(pb.RestoreSecretRequest(secret_id="p0"))
    assert await region.store.due_for_deletion(clock.now() + 8 * 86400) == []
    clock.advance(31 * 86400)
    await region.secrets.purge_due()  # (the background purge may have been first)
    assert await region.store.due_for_deletion(clock.now()) == []
    req = pb.ListSecretsRequest(include_planned_deletion=True)
    assert [e.name for e in (await stub.ListSecrets(req)).secret_list] == ["p0", "p2"]
