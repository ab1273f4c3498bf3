"""Replication under process faults: real `smgrpc serve` processes, FaultProxies on every link.

Acknowledged writes are recorded client-side and are the source of truth: every write the
client saw succeed must be on the primary (with the value it was sent under that VersionId),
and after convergence every Region shows the primary's labeled versions, labels, metadata and
value digests. A write that failed at the transport level (the server was killed under it) may
or may not exist, but never twice and never with another write's value.

Timings (scenario duration, catch-up after heal/restart) are printed with a `[timing]` prefix;
run with `-s` to see them.
"""

from __future__ import annotations

import asyncio
import hashlib
import signal
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import grpc
import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from tests.cluster.conftest import eventually, snapshot
from tests.cluster.procs import ProcCluster, converged_p
from tests.conftest import aws_error

pytestmark = pytest.mark.slow

US, EU = "us-east-1", "eu-west-1"
CATCH_UP = 40.0  # generous: the machine is shared; waits end as soon as the condition holds
T = TypeVar("T")
UNKNOWN_CODES = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.CANCELLED,
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.INTERNAL,
}


@pytest.fixture
async def procs2(tmp_path: Path) -> AsyncIterator[ProcCluster]:
    """us-east-1 and eu-west-1 as processes; every link through a FaultProxy; all killed after."""
    c = ProcCluster(tmp_path, (US, EU))
    try:
        await c.start()
        yield c
    finally:
        await c.close()


def timing(what: str, seconds: float) -> None:
    print(f"[timing] {what}: {seconds:.2f}s")


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# ---- client-side history ----


@dataclass
class Write:
    secret: str
    token: str
    value: str
    acked: bool | None  # True: success seen; None: transport failure (outcome unknown)
    latency: float
    at: float


@dataclass
class History:
    initial: dict[str, tuple[str, str]] = field(default_factory=dict)  # secret -> (vid, value)
    writes: list[Write] = field(default_factory=list)

    def of(self, secret: str) -> list[Write]:
        return [w for w in self.writes if w.secret == secret]

    def acked(self, secret: str | None = None) -> list[Write]:
        return [w for w in self.writes if w.acked and (secret is None or w.secret == secret)]

    def latencies(self, since: float, until: float) -> list[float]:
        return [w.latency for w in self.writes if w.acked and since <= w.at < until]


class Load:
    """One sequential PutSecretValue writer per secret (so the last ack is AWSCURRENT)."""

    def __init__(
        self,
        c: ProcCluster,
        region: str,
        secrets: Iterable[str],
        history: History,
        pad: int = 0,
        pause: float = 0.0,
    ) -> None:
        self.c, self.region, self.history = c, region, history
        self.secrets, self.pad, self.pause = list(secrets), pad, pause
        self.stopping = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self.failed: list[str] = []

    def start(self) -> Load:
        self.tasks = [asyncio.create_task(self._writer(s)) for s in self.secrets]
        return self

    async def stop(self) -> None:
        self.stopping.set()
        await asyncio.gather(*self.tasks)

    async def _writer(self, secret: str) -> None:
        i = 0
        while not self.stopping.is_set():
            i += 1
            token = str(uuid.uuid4())
            value = f"{secret}#{i}#{token}#" + "x" * self.pad
            t0 = time.monotonic()
            try:
                await self.c.stubs[self.region].PutSecretValue(
                    pb.PutSecretValueRequest(
                        secret_id=secret, client_request_token=token, secret_string=value
                    ),
                    timeout=10,
                )
                acked: bool | None = True
            except grpc.aio.AioRpcError as exc:
                if exc.code() not in UNKNOWN_CODES:
                    self.failed.append(f"{secret}: {exc.code().name} {exc.details()}")
                    return
                acked = None
            self.history.writes.append(
                Write(secret, token, value, acked, time.monotonic() - t0, t0)
            )
            if acked is None:
                return  # the primary went away under this writer: its outcome is unknown
            if self.pause:
                await asyncio.sleep(self.pause)


# ---- reads and checks ----


async def create_replicated(
    c: ProcCluster, names: Iterable[str], history: History, pad: int = 0
) -> None:
    for name in names:
        value = f"{name}#0#" + "x" * pad
        out = await c.stubs[US].CreateSecret(
            pb.CreateSecretRequest(
                name=name,
                secret_string=value,
                client_request_token=str(uuid.uuid4()),
                add_replica_regions=[pb.ReplicaRegionType(region=EU)],
            )
        )
        history.initial[name] = (out.version_id, value)


async def statuses(stub: pbg.SecretsManagerStub, name: str) -> dict[str, tuple[str, str]]:
    d = await stub.DescribeSecret(pb.DescribeSecretRequest(secret_id=name))
    return {r.region: (r.status, r.status_message) for r in d.replication_status}


async def in_sync(c: ProcCluster, names: Iterable[str]) -> bool:
    for name in names:
        if {s for s, _ in (await statuses(c.stubs[US], name)).values()} != {"InSync"}:
            return False
    return True


async def all_converged(c: ProcCluster, names: Iterable[str]) -> bool:
    for name in names:
        if not await converged_p(c, name, (US, EU)):
            return False
    return True


async def explain(c: ProcCluster, names: Iterable[str]) -> str:
    """What differs (for a failure message)."""
    out = []
    for name in names:
        snaps: dict[str, object] = {}
        for r in (US, EU):
            try:
                snaps[r] = await snapshot(c.stubs[r], name)
            except grpc.aio.AioRpcError as exc:
                snaps[r] = f"{exc.code().name}: {exc.details()}"
        st: object
        try:
            st = await statuses(c.stubs[US], name)
        except grpc.aio.AioRpcError as exc:
            st = exc.code().name
        if (
            snaps[US] != snaps[EU]
            or not isinstance(st, dict)
            or {s for s, _ in st.values()} != {"InSync"}
        ):
            a, b = snaps[US], snaps[EU]
            if isinstance(a, dict) and isinstance(b, dict):
                diff = {k: (a[k], b.get(k)) for k in a if a[k] != b.get(k)}
            else:
                diff = {"us": a, "eu": b}
            out.append(f"{name}: status {st}; differs {diff}")
    return "\n".join(out) or "(now equal)"


async def wait_caught_up(c: ProcCluster, names: list[str], what: str, since: float) -> float:
    try:
        await eventually(lambda: all_converged(c, names), what=f"{what}: convergence")
        await eventually(lambda: in_sync(c, names), what=f"{what}: InSync")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{await explain(c, names)}") from None
    took = time.monotonic() - since
    timing(f"{what} catch-up", took)
    return took


async def version_ids(
    stub: pbg.SecretsManagerStub, name: str, deprecated: bool = True
) -> list[str]:
    out: list[str] = []
    token: str | None = None
    while True:
        req = pb.ListSecretVersionIdsRequest(
            secret_id=name, max_results=100, include_deprecated=deprecated
        )
        if token:
            req.next_token = token
        page = await stub.ListSecretVersionIds(req)
        out += [v.version_id for v in page.versions]
        if not page.HasField("next_token") or not page.next_token:
            return out
        token = page.next_token


async def value_of(stub: pbg.SecretsManagerStub, name: str, **kw: Any) -> str:
    got = await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id=name, **kw))
    return str(got.secret_string)


async def check_primary_history(c: ProcCluster, history: History, name: str) -> None:
    """Every acked write is on the primary under its token with its value; nothing else is."""
    stub = c.stubs[US]
    ids = await version_ids(stub, name)
    assert len(ids) == len(set(ids)), f"{name}: a VersionId is listed twice"
    sent = {w.token: w for w in history.of(name)}
    initial_vid, initial_value = history.initial[name]
    for w in history.acked(name):
        assert w.token in ids, f"{name}: acknowledged write {w.token} lost"
    for vid in ids:
        assert vid == initial_vid or vid in sent, f"{name}: version {vid} nobody wrote"
        want = initial_value if vid == initial_vid else sent[vid].value
        assert await value_of(stub, name, version_id=vid) == want, f"{name}: {vid} wrong value"
    # Per secret the writer is sequential: AWSCURRENT is the last ack, or the one write whose
    # outcome is unknown (it was in flight when the primary died, and may have committed).
    writes = history.of(name)
    acked = history.acked(name)
    current = await value_of(stub, name)
    last = acked[-1].value if acked else initial_value
    unknown = [w.value for w in writes if w.acked is None]
    assert current == last or current in unknown, f"{name}: AWSCURRENT is not the last write"


async def labels_of(stub: pbg.SecretsManagerStub, name: str) -> dict[str, list[str]]:
    d = await stub.DescribeSecret(pb.DescribeSecretRequest(secret_id=name))
    return {k: sorted(v.stages) for k, v in d.version_ids_to_stages.items()}


async def check_labels(stub: pbg.SecretsManagerStub, name: str) -> dict[str, list[str]]:
    """Staging-label invariants of one Region's copy; every labeled version has a value.

    DescribeSecret is one atomic observation; the value reads after it may race with a newer
    apply that dropped the version, so a missing value only counts if the version is still
    listed (unchanged) afterwards.
    """
    for _attempt in range(20):
        stages = await labels_of(stub, name)
        seen: dict[str, str] = {}
        for vid, labels in stages.items():
            assert labels, f"{name}: {vid} listed without labels"
            for label in labels:
                assert label not in seen, f"{name}: {label} on {seen[label]} and {vid}"
                seen[label] = vid
        assert "AWSCURRENT" in seen, f"{name}: no AWSCURRENT"
        try:
            for vid in stages:
                await value_of(stub, name, version_id=vid)
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:
                raise
            again = await labels_of(stub, name)
            assert again != stages, f"{name}: a labeled version has no value: {stages}"
            continue
        return stages
    raise AssertionError(f"{name}: never observed stable enough to read every value")


async def check_converged_state(c: ProcCluster, history: History, names: list[str]) -> None:
    for name in names:
        await check_primary_history(c, history, name)
        for region in (US, EU):
            await check_labels(c.stubs[region], name)
        primary, replica = (await snapshot(c.stubs[US], name), await snapshot(c.stubs[EU], name))
        assert primary == replica
        # The replica holds exactly the primary's labeled versions, no extra or duplicate one.
        assert sorted(await version_ids(c.stubs[EU], name)) == sorted(
            await version_ids(c.stubs[US], name, deprecated=False)
        )


def p50(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


# ---- scenarios ----


async def test_replica_killed_during_write_load_catches_up(procs2: ProcCluster) -> None:
    """D#1: a replica process dies under load; the primary does not slow down; catch-up."""
    c, h, t_start = procs2, History(), time.monotonic()
    names = [f"load{i}" for i in range(4)]
    await create_replicated(c, names, h)
    await wait_caught_up(c, names, "initial replication", t_start)

    load = Load(c, US, names, h).start()
    await asyncio.sleep(1.5)
    t_kill = time.monotonic()
    await c.kill(EU)
    await asyncio.sleep(0.3)  # let in-flight pushes fail
    t_down = time.monotonic()

    async def retrying() -> bool:
        st = await statuses(c.stubs[US], names[0])
        return st[EU][0] in ("InProgress", "Failed") and "unreachable" in st[EU][1]

    await eventually(retrying, within=10, what="InProgress while the replica is down")
    await asyncio.sleep(max(0.0, t_down + 2.5 - time.monotonic()))
    t_back = time.monotonic()
    restart = await c.restart(EU)
    timing("replica restart to SERVING", restart)
    await asyncio.sleep(0.5)
    await load.stop()
    assert not load.failed, load.failed

    before = h.latencies(t_kill - 1.5, t_kill)
    during = h.latencies(t_down, t_back)
    print(
        f"[timing] primary PutSecretValue p50 with replica up {p50(before) * 1000:.1f} ms "
        f"({len(before)} writes), down {p50(during) * 1000:.1f} ms ({len(during)} writes)"
    )
    assert len(before) > 20 and len(during) > 20
    assert p50(during) <= 3 * p50(before) + 0.02  # local writes never wait for a dead Region
    assert all(w.acked for w in h.writes)

    await wait_caught_up(c, names, "replica restart", t_back)
    await check_converged_state(c, h, names)
    for name in names:
        assert await value_of(c.stubs[EU], name) == h.acked(name)[-1].value
    timing("scenario 1 (replica down under load)", time.monotonic() - t_start)


async def test_partition_and_heal(procs2: ProcCluster) -> None:
    """D#4: both directions cut while the primary keeps writing; heal; converge, InSync."""
    c, h, t_start = procs2, History(), time.monotonic()
    names = [f"part{i}" for i in range(3)]
    await create_replicated(c, names, h)
    await wait_caught_up(c, names, "initial replication", t_start)

    load = Load(c, US, names, h, pause=0.01).start()
    await asyncio.sleep(0.5)
    c.link(US, EU).cut()
    c.link(EU, US).cut()

    async def retrying() -> bool:
        return (await statuses(c.stubs[US], names[0]))[EU][0] == "InProgress"

    await eventually(retrying, within=10, what="InProgress during the partition")
    await asyncio.sleep(0.3)  # a batch that got through just before the cut finishes applying
    lagging = await value_of(c.stubs[EU], names[0])
    await asyncio.sleep(2.0)
    # The replica still serves (stale) reads and refuses writes during the partition.
    assert await value_of(c.stubs[EU], names[0]) == lagging
    err = await aws_error(
        c.stubs[EU].PutSecretValue(
            pb.PutSecretValueRequest(secret_id=names[0], secret_string="nope")
        )
    )
    assert err.aws_code == "InvalidParameterException"
    t_heal = time.monotonic()
    c.heal()
    await asyncio.sleep(0.5)
    await load.stop()
    assert not load.failed, load.failed
    assert all(w.acked for w in h.writes)
    await wait_caught_up(c, names, "partition heal", t_heal)
    await check_converged_state(c, h, names)
    timing("scenario 2 (partition and heal)", time.monotonic() - t_start)


async def test_primary_sigkill_mid_push(procs2: ProcCluster) -> None:
    """D#2: kill -9 the primary while writes flow and pushes are in flight; restart."""
    c, h, t_start = procs2, History(), time.monotonic()
    names = [f"pk{i}" for i in range(4)]
    await create_replicated(c, names, h)
    await wait_caught_up(c, names, "initial replication", t_start)

    created: list[str] = []
    unknown_creates: list[str] = []

    async def creator() -> None:
        # New replicated secrets too, so a kill may land between a first push and its ack.
        for i in range(1000):
            name = f"pk-new{i}"
            try:
                out = await c.stubs[US].CreateSecret(
                    pb.CreateSecretRequest(
                        name=name,
                        secret_string=f"{name}#0",
                        client_request_token=str(uuid.uuid4()),
                        add_replica_regions=[pb.ReplicaRegionType(region=EU)],
                    ),
                    timeout=10,
                )
            except grpc.aio.AioRpcError as exc:
                assert exc.code() in UNKNOWN_CODES, exc
                unknown_creates.append(name)
                return
            h.initial[name] = (out.version_id, f"{name}#0")
            created.append(name)
            await asyncio.sleep(0.05)

    c.link(US, EU).delay = 0.01  # pushes and their acks spend time on the wire
    load = Load(c, US, names, h).start()
    creating = asyncio.create_task(creator())
    await asyncio.sleep(1.5)
    behind = not await all_converged(c, names)
    await c.kill(US, signal.SIGKILL)
    await load.stop()
    await creating
    assert not load.failed, load.failed
    c.link(US, EU).delay = 0.0
    print(
        f"[timing] at the kill: {len(h.acked())} acked puts, {len(created)} acked creates, "
        f"replica behind: {behind}"
    )
    t_back = time.monotonic()
    timing("primary restart to SERVING", await c.restart(US))

    # A create whose outcome is unknown either exists (then it replicates) or does not.
    for name in unknown_creates:
        try:
            got = await c.stubs[US].GetSecretValue(pb.GetSecretValueRequest(secret_id=name))
            h.initial[name] = (got.version_id, f"{name}#0")
            created.append(name)
        except grpc.aio.AioRpcError as exc:
            assert exc.code() == grpc.StatusCode.NOT_FOUND
    everything = names + created
    await wait_caught_up(c, everything, "primary restart", t_back)
    await check_converged_state(c, h, everything)
    timing("scenario 3 (primary kill -9 mid-push)", time.monotonic() - t_start)


async def test_replica_sigkill_mid_apply(procs2: ProcCluster) -> None:
    """D#3: kill -9 the replica while big batches are being applied; never half-applied."""
    c, h, t_start = procs2, History(), time.monotonic()
    names = [f"ap{i}" for i in range(8)]
    pad = 48_000  # every apply re-seals large values: applies take a while
    await create_replicated(c, names, h, pad=pad)
    await wait_caught_up(c, names, "initial replication", t_start)

    load = Load(c, US, names, h, pad=pad).start()
    t_back = time.monotonic()
    for round_ in range(2):
        await asyncio.sleep(1.0)
        behind = [n for n in names if await value_of(c.stubs[EU], n) != h.acked(n)[-1].value]
        await c.kill(EU, signal.SIGKILL)
        print(f"[timing] kill #{round_ + 1}: replica behind on {len(behind)}/{len(names)} secrets")
        c.link(US, EU).cut()  # look at exactly what the crash left, before any catch-up
        await asyncio.sleep(0.3)
        t_back = time.monotonic()
        timing(f"replica restart #{round_ + 1} to SERVING", await c.restart(EU))
        for name in names:
            await check_labels(c.stubs[EU], name)  # nothing half-applied is visible
        c.link(US, EU).heal()
    await asyncio.sleep(0.5)
    await load.stop()
    assert not load.failed, load.failed
    assert all(w.acked for w in h.writes)  # the primary stayed up: every write succeeded
    print(f"[timing] {len(h.acked())} acked puts of {pad} bytes")
    await wait_caught_up(c, names, "replica kill -9 restart", t_back)
    await check_converged_state(c, h, names)
    timing("scenario 4 (replica kill -9 mid-apply)", time.monotonic() - t_start)


async def test_promotion_while_old_primary_cut_off(procs2: ProcCluster) -> None:
    """D#5: promote the cut-off replica; the old primary keeps writing; heal; fenced, quiet."""
    c, h, t_start = procs2, History(), time.monotonic()
    await create_replicated(c, ["dr", "idle"], h)
    await wait_caught_up(c, ["dr", "idle"], "initial replication", t_start)

    c.isolate(US)
    stop = await c.stubs[EU].StopReplicationToReplica(
        pb.StopReplicationToReplicaRequest(secret_id="dr")
    )
    assert f":{EU}:" in stop.arn
    promoted = await snapshot(c.stubs[EU], "dr")
    promoted_ids = sorted(await version_ids(c.stubs[EU], "dr"))
    load = Load(c, US, ["dr"], h, pause=0.05).start()
    await asyncio.sleep(1.5)
    notices = c.link(EU, US)  # carries the promoted Region's notice to its old primary
    at_heal = notices.forwarded
    t_heal = time.monotonic()
    c.heal()

    async def dropped() -> bool:
        return EU not in await statuses(c.stubs[US], "dr")

    await eventually(dropped, what="old primary drops the promoted Region")
    timing("heal to old primary dropping the Region", time.monotonic() - t_heal)

    # No retry storm. The old primary keeps writing "dr" ("idle" is idle): from now on it
    # sends nothing at all to the promoted Region. The promoted Region's one notice to its old
    # primary (one push, ~1 KB) may still be waiting in its backoff: once that went through,
    # its link is quiet too.
    # A push already in flight lands: the link must then carry nothing for 0.3 s (on a loaded
    # machine the landing can take longer than that; a retry storm never goes quiet, 5 s cap).
    old_primary = c.link(US, EU)
    from_old = (old_primary.accepted, old_primary.forwarded)
    landed_by = time.monotonic() + 5
    while True:
        await asyncio.sleep(0.3)
        now = (old_primary.accepted, old_primary.forwarded)
        if now == from_old:
            break
        assert time.monotonic() < landed_by, f"the old primary never goes quiet: {now}"
        from_old = now
    t_settle = time.monotonic()
    while True:
        before = (notices.accepted, notices.forwarded)
        await asyncio.sleep(1.0)
        if (notices.accepted, notices.forwarded) == before and notices.forwarded - at_heal > 500:
            break
        assert time.monotonic() - t_settle < 15, "the promoted Region never goes quiet"
    quiet = (notices.accepted, notices.forwarded)
    await asyncio.sleep(2.0)
    await load.stop()
    assert not load.failed, load.failed
    sent = (old_primary.accepted - from_old[0], old_primary.forwarded - from_old[1])
    print(
        f"[timing] after the drop: old primary -> promoted over "
        f"{time.monotonic() - t_settle + 0.3:.1f}s: {sent} (conns, bytes); promoted -> old: "
        f"{quiet[1] - at_heal} bytes since the heal, then nothing for 2 s"
    )
    assert sent == (0, 0), "the old primary keeps talking to the promoted Region"
    assert (notices.accepted, notices.forwarded) == quiet
    acked = h.acked("dr")
    assert len(acked) > 10

    # The promoted copy is untouched by the old primary's writes.
    assert await snapshot(c.stubs[EU], "dr") == promoted
    assert sorted(await version_ids(c.stubs[EU], "dr")) == promoted_ids
    d = await c.stubs[EU].DescribeSecret(pb.DescribeSecretRequest(secret_id="dr"))
    assert not d.HasField("primary_region") or d.primary_region == EU
    # The old primary keeps all its writes and its other replica link.
    await check_primary_history(c, h, "dr")
    assert await value_of(c.stubs[US], "dr") == acked[-1].value
    assert await converged_p(c, "idle", (US, EU))
    assert (await statuses(c.stubs[US], "idle"))[EU][0] == "InSync"
    # Both are primaries now: each takes writes, neither replicates to the other.
    await c.stubs[EU].PutSecretValue(
        pb.PutSecretValueRequest(secret_id="dr", secret_string="eu-own")
    )
    await c.stubs[US].PutSecretValue(
        pb.PutSecretValueRequest(secret_id="dr", secret_string="us-own")
    )
    await asyncio.sleep(0.5)
    assert await value_of(c.stubs[EU], "dr") == "eu-own"
    assert await value_of(c.stubs[US], "dr") == "us-own"
    timing("scenario 5 (promotion during partition)", time.monotonic() - t_start)


async def test_remove_region_while_replica_process_down(procs2: ProcCluster) -> None:
    """D#7: RemoveRegionsFromReplication while the replica is down; deleted, never back."""
    c, h, t_start = procs2, History(), time.monotonic()
    await create_replicated(c, ["rm", "keep"], h)
    await wait_caught_up(c, ["rm", "keep"], "initial replication", t_start)
    await c.kill(EU, signal.SIGKILL)
    rem = await c.stubs[US].RemoveRegionsFromReplication(
        pb.RemoveRegionsFromReplicationRequest(secret_id="rm", remove_replica_regions=[EU])
    )
    assert len(rem.replication_status) == 0
    await c.stubs[US].PutSecretValue(
        pb.PutSecretValueRequest(secret_id="rm", secret_string="after-remove")
    )
    put = await c.stubs[US].PutSecretValue(
        pb.PutSecretValueRequest(secret_id="keep", secret_string="k2")
    )
    t_back = time.monotonic()
    await c.restart(EU)

    async def missing(name: str) -> bool:
        try:
            await c.stubs[EU].DescribeSecret(pb.DescribeSecretRequest(secret_id=name))
        except grpc.aio.AioRpcError as exc:
            return exc.code() == grpc.StatusCode.NOT_FOUND
        return False

    await eventually(lambda: missing("rm"), what="replica deleted after restart")
    timing("restart to replica deleted", time.monotonic() - t_back)
    await eventually(lambda: converged_p(c, "keep", (US, EU)), what="other secret converges")
    assert (
        await c.stubs[EU].GetSecretValue(pb.GetSecretValueRequest(secret_id="keep"))
    ).version_id == put.version_id
    await c.stubs[US].DeleteSecret(
        pb.DeleteSecretRequest(secret_id="rm", force_delete_without_recovery=True)
    )
    await c.stubs[US].PutSecretValue(pb.PutSecretValueRequest(secret_id="keep", secret_string="k3"))
    await eventually(lambda: converged_p(c, "keep", (US, EU)), what="later change replicates")
    assert await missing("rm")
    # Restart both (SIGTERM: drain) and look again: nothing brings it back.
    await c.kill(EU, signal.SIGTERM)
    await c.kill(US, signal.SIGTERM)
    await asyncio.gather(c.restart(US), c.restart(EU))
    await asyncio.sleep(1.0)
    assert await missing("rm")
    err = await aws_error(c.stubs[US].DescribeSecret(pb.DescribeSecretRequest(secret_id="rm")))
    assert err.code == grpc.StatusCode.NOT_FOUND
    assert await converged_p(c, "keep", (US, EU))
    timing("scenario 6 (remove while replica down)", time.monotonic() - t_start)


async def test_name_conflict_without_then_with_force(procs2: ProcCluster) -> None:
    """D#10 across processes: Failed without Force (untouched), replaced with Force."""
    c, t_start = procs2, time.monotonic()
    us, eu = c.stubs[US], c.stubs[EU]
    local = await eu.CreateSecret(
        pb.CreateSecretRequest(name="clash", secret_string="local", description="eu's own")
    )
    primary = await us.CreateSecret(
        pb.CreateSecretRequest(
            name="clash",
            secret_string="primary",
            description="us primary",
            add_replica_regions=[pb.ReplicaRegionType(region=EU)],
        )
    )

    async def failed() -> bool:
        st = await statuses(us, "clash")
        return st[EU] == ("Failed", "Secret with this name already exists in this region")

    await eventually(failed, what="Failed with the name-conflict message")
    await us.PutSecretValue(pb.PutSecretValueRequest(secret_id="clash", secret_string="p2"))
    # The Failed status is durable and the conflicting secret stays untouched, across restarts.
    await c.kill(US, signal.SIGKILL)
    await c.restart(US)
    us = c.stubs[US]
    await asyncio.sleep(0.5)
    assert await failed()
    d = await eu.DescribeSecret(pb.DescribeSecretRequest(secret_id="clash"))
    assert (d.arn, d.description) == (local.arn, "eu's own")
    assert not d.HasField("primary_region") or d.primary_region == EU
    assert await version_ids(eu, "clash") == [local.version_id]
    assert await value_of(eu, "clash") == "local"

    t_force = time.monotonic()
    await us.ReplicateSecretToRegions(
        pb.ReplicateSecretToRegionsRequest(
            secret_id="clash",
            add_replica_regions=[pb.ReplicaRegionType(region=EU)],
            force_overwrite_replica_secret=True,
        )
    )
    await eventually(lambda: converged_p(c, "clash", (US, EU)), what="converged after Force")
    await eventually(lambda: in_sync(c, ["clash"]), what="InSync after Force")
    timing("Force to InSync", time.monotonic() - t_force)
    d = await eu.DescribeSecret(pb.DescribeSecretRequest(secret_id="clash"))
    assert d.arn == primary.arn.replace(US, EU) and d.primary_region == US
    assert d.description == "us primary"
    assert await value_of(eu, "clash") == "p2"
    assert local.version_id not in await version_ids(eu, "clash")  # nothing of the old secret
    err = await aws_error(eu.GetSecretValue(pb.GetSecretValueRequest(secret_id=local.arn)))
    assert err.code == grpc.StatusCode.NOT_FOUND
    timing("scenario 7 (name conflict)", time.monotonic() - t_start)


async def test_concurrent_puts_same_and_distinct_tokens(procs2: ProcCluster) -> None:
    """D#22/#23: 50 concurrent puts with one token, then with 50 tokens, replica attached."""
    c, h, t_start = procs2, History(), time.monotonic()
    us, eu = c.stubs[US], c.stubs[EU]
    await create_replicated(c, ["idem"], h)
    await wait_caught_up(c, ["idem"], "initial replication", t_start)
    initial_vid = h.initial["idem"][0]

    token = str(uuid.uuid4())
    outs = await asyncio.gather(
        *(
            us.PutSecretValue(
                pb.PutSecretValueRequest(
                    secret_id="idem", client_request_token=token, secret_string="same"
                )
            )
            for _ in range(50)
        )
    )
    assert {o.version_id for o in outs} == {token}
    await eventually(lambda: converged_p(c, "idem", (US, EU)), what="same-token convergence")
    for stub in (us, eu):
        assert sorted(await version_ids(stub, "idem")) == sorted([initial_vid, token])
        stages = await check_labels(stub, "idem")
        assert stages == {token: ["AWSCURRENT"], initial_vid: ["AWSPREVIOUS"]}

    # Same token, 50 different values: exactly one wins, the others get ResourceExists.
    token2 = str(uuid.uuid4())
    results = await asyncio.gather(
        *(
            us.PutSecretValue(
                pb.PutSecretValueRequest(
                    secret_id="idem", client_request_token=token2, secret_string=f"v{i}"
                )
            )
            for i in range(50)
        ),
        return_exceptions=True,
    )
    wins = [r for r in results if not isinstance(r, BaseException)]
    losses = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(wins) == 1 and len(losses) == 49
    assert {e.code() for e in losses} == {grpc.StatusCode.ALREADY_EXISTS}

    # 50 distinct tokens at once, while the replica is sampled: one label per version always.
    observations = 0
    sampling = True

    async def sample() -> None:
        nonlocal observations
        while sampling:
            with_labels = await labels_of(eu, "idem")  # one atomic observation
            flat = [label for v in with_labels.values() for label in v]
            assert flat.count("AWSCURRENT") == 1 and flat.count("AWSPREVIOUS") <= 1
            assert len(flat) == len(set(flat)) and all(with_labels.values())
            observations += 1
            await asyncio.sleep(0.005)

    sampler = asyncio.create_task(sample())
    tokens = [str(uuid.uuid4()) for _ in range(50)]
    try:
        outs = await asyncio.gather(
            *(
                us.PutSecretValue(
                    pb.PutSecretValueRequest(
                        secret_id="idem", client_request_token=t, secret_string=f"d-{t}"
                    )
                )
                for t in tokens
            )
        )
        assert sorted(o.version_id for o in outs) == sorted(tokens)
        await wait_caught_up(c, ["idem"], "distinct-token burst", time.monotonic())
    finally:
        sampling = False
        await sampler
    print(f"[timing] {observations} replica observations during the distinct-token burst")
    ids = set(await version_ids(us, "idem"))
    assert set(tokens) <= ids and len(ids) == 2 + 1 + 50
    for stub in (us, eu):
        stages = await check_labels(stub, "idem")
        assert sorted(label for v in stages.values() for label in v) == [
            "AWSCURRENT",
            "AWSPREVIOUS",
        ]
        current = next(k for k, v in stages.items() if "AWSCURRENT" in v)
        assert current in tokens
        assert await value_of(stub, "idem") == f"d-{current}"
    assert sorted(await version_ids(eu, "idem")) == sorted(
        await version_ids(us, "idem", deprecated=False)
    )
    await eventually(lambda: in_sync(c, ["idem"]), what="InSync")
    timing("scenario 8 (concurrent puts)", time.monotonic() - t_start)
