"""WatchSecrets through a real server and channel: which write gives which event, resume,
expired positions, filters, heartbeats, slow consumers, shutdown, restart, limits."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import grpc
import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.app import Region
from tests.api.authz_helpers import allow, resource_statement, user, user_arn
from tests.api.helpers import DAY, create, put
from tests.api.rotation_helpers import rotate
from tests.api.watch_helpers import kinds, open_stream, stream_error, watching
from tests.authn import policy
from tests.conftest import (
    CANARY,
    FakeClock,
    admin_channel,
    admin_token,
    make_config,
    pb,
    running,
    start_region,
)

OUT_OF_RANGE = grpc.StatusCode.OUT_OF_RANGE
EXPIRED = "ExpiredSequenceException"


def config(tmp: Path, **kw: Any) -> Any:
    kw.setdefault("watch_heartbeat", 0.3)
    return make_config(tmp, **kw)


@pytest.fixture
async def region(tmp_path: Path, clock: FakeClock) -> Any:
    r = await start_region(config(tmp_path), clock)
    yield r
    await r.stop(0.5)


# ---- which write gives which event ----


async def test_create_put_and_stage_moves(region: Region, stub: Any) -> None:
    async with watching(region) as w:
        made = await create(stub, "app/db", "v1")
        second = await put(stub, "app/db", "v2")
        await stub.UpdateSecretVersionStage(
            pb.UpdateSecretVersionStageRequest(
                secret_id="app/db",
                version_stage="AWSCURRENT",
                move_to_version_id=made.version_id,
                remove_from_version_id=second.version_id,
            )
        )
        got = await w.events(3)
    assert [(e.type, e.version_id) for e in got] == [
        ("Created", made.version_id),
        ("VersionAdded", second.version_id),
        ("StagesChanged", made.version_id),
    ]
    assert all((e.arn, e.name, e.region) == (made.arn, "app/db", "us-east-1") for e in got)
    assert [e.sequence for e in got] == [got[0].sequence, got[0].sequence + 1, got[0].sequence + 2]
    assert got[0].time.seconds == 1_790_000_000  # the Region's clock


async def test_metadata_changes(region: Region, stub: Any) -> None:
    await create(stub, "s")
    async with watching(region) as w:
        await stub.UpdateSecret(pb.UpdateSecretRequest(secret_id="s", description="d"))
        await stub.TagResource(
            pb.TagResourceRequest(secret_id="s", tags=[pb.Tag(key="k", value="v")])
        )
        await stub.UntagResource(pb.UntagResourceRequest(secret_id="s", tag_keys=["k"]))
        doc = policy(resource_statement("Deny", user_arn("x")))
        await stub.PutResourcePolicy(
            pb.PutResourcePolicyRequest(secret_id="s", resource_policy=doc)
        )
        await stub.DeleteResourcePolicy(pb.DeleteResourcePolicyRequest(secret_id="s"))
        got = await w.events(5)
        assert kinds(got) == [("MetadataChanged", "s")] * 5
        # A read changes nothing a watcher sees (access dates are not events).
        await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="s"))
        await stub.DescribeSecret(pb.DescribeSecretRequest(secret_id="s"))
        assert await w.quiet() == []


async def test_update_secret_with_a_value_is_one_version_added(region: Region, stub: Any) -> None:
    await create(stub, "s")
    async with watching(region) as w:
        out = await stub.UpdateSecret(pb.UpdateSecretRequest(secret_id="s", secret_string="v2"))
        got = await w.event()
        assert (got.type, got.version_id) == ("VersionAdded", out.version_id)
        assert await w.quiet() == []


async def test_delete_restore_purge_and_force_delete(
    region: Region, stub: Any, clock: FakeClock
) -> None:
    await create(stub, "a")
    await create(stub, "b")
    async with watching(region) as w:
        await stub.DeleteSecret(pb.DeleteSecretRequest(secret_id="a", recovery_window_in_days=7))
        await stub.RestoreSecret(pb.RestoreSecretRequest(secret_id="a"))
        await stub.DeleteSecret(pb.DeleteSecretRequest(secret_id="a", recovery_window_in_days=7))
        await stub.DeleteSecret(
            pb.DeleteSecretRequest(secret_id="b", force_delete_without_recovery=True)
        )
        assert kinds(await w.events(4)) == [
            ("ScheduledForDeletion", "a"),
            ("Restored", "a"),
            ("ScheduledForDeletion", "a"),
            ("Deleted", "b"),
        ]
        clock.advance(8 * DAY)  # the purge task (every 0.05 s) removes it
        got = await w.event()
        assert (got.type, got.name, got.HasField("version_id")) == ("Deleted", "a", False)


async def test_rotation_with_the_built_in_rotator(region: Region, stub: Any) -> None:
    made = await create(stub, "r", "v1")
    async with watching(region) as w:
        out = await rotate(stub, "r")
        got = await w.events(5)
    assert [(e.type, e.version_id) for e in got] == [
        ("RotationStarted", out.version_id),
        ("MetadataChanged", ""),  # rotation settings stored by RotateSecret
        ("VersionAdded", out.version_id),  # createSecret's PutSecretValue fills it in
        ("StagesChanged", out.version_id),  # finishSecret moves AWSCURRENT
        ("RotationSucceeded", out.version_id),
    ]
    assert made.version_id != out.version_id


async def test_rotation_test_only_run_succeeds(region: Region, stub: Any) -> None:
    await create(stub, "r", "v1")
    async with watching(region) as w:
        out = await rotate(stub, "r", rotate_immediately=False)
        got = await w.events(5)
    assert [(e.type, e.version_id) for e in got] == [
        ("VersionAdded", out.version_id),  # the copy of the current value, AWSPENDING
        ("RotationStarted", out.version_id),
        ("MetadataChanged", ""),
        ("StagesChanged", out.version_id),  # testSecret done: AWSPENDING comes off it
        ("RotationSucceeded", out.version_id),
    ]


async def test_an_abandoned_rotation_failed(tmp_path: Path, clock: FakeClock) -> None:
    async with running(config(tmp_path, rotation_concurrency=0), clock) as region:
        async with admin_channel(region) as ch:
            stub = pbg.SecretsManagerStub(ch)
            made = await create(stub, "r", "v1")
            async with watching(region) as w:
                out = await rotate(stub, "r")
                await region.rotation.abandon(made.arn, out.version_id)
                got = await w.events(4)
    assert [(e.type, e.version_id) for e in got] == [
        ("RotationStarted", out.version_id),
        ("MetadataChanged", ""),
        ("StagesChanged", out.version_id),  # AWSPENDING comes off the run's version
        ("RotationFailed", out.version_id),
    ]


# ---- resume, expired positions ----


async def test_resume_after_n_delivers_the_rest_then_live(region: Region, stub: Any) -> None:
    for i in range(5):
        await create(stub, f"s{i}")
    first, newest = region.raw_store.event_bounds()  # type: ignore[union-attr]
    assert newest - first == 4
    async with watching(region, after_sequence=first + 1) as w:
        got = await w.events(3)
        assert [e.name for e in got] == ["s2", "s3", "s4"]
        await create(stub, "live")
        assert (await w.event()).name == "live"


async def test_live_only_stream_starts_at_the_newest(region: Region, stub: Any) -> None:
    await create(stub, "old")
    async with watching(region) as w:
        await create(stub, "new")
        got = await w.event()
        assert got.name == "new"
        assert got.sequence == region.raw_store.event_bounds()[1]  # type: ignore[union-attr]


async def test_first_message_is_a_heartbeat_with_the_newest_position(
    region: Region, stub: Any
) -> None:
    await create(stub, "a")
    await create(stub, "b")
    async with admin_channel(region) as ch:
        s = open_stream(pbg.SecretsManagerStub(ch), admin_token(region), after_sequence=0)
        hb = await s.next()
        assert (hb.type, hb.sequence, hb.arn, hb.name, hb.HasField("version_id")) == (
            "Heartbeat",
            2,
            "",
            "",
            False,
        )
        assert [e.name for e in await s.events(2)] == ["a", "b"]
        # Caught up and idle: heartbeats every --watch-heartbeat (0.3 s) at the position.
        started = time.monotonic()
        beat = await s.next()
        assert (beat.type, beat.sequence) == ("Heartbeat", 2)
        assert time.monotonic() - started < 1.0
        s.close()


async def test_expired_and_future_positions(tmp_path: Path, clock: FakeClock) -> None:
    async with running(config(tmp_path, watch_history=10), clock) as region:
        async with admin_channel(region) as ch:
            stub = pbg.SecretsManagerStub(ch)
            for i in range(30):
                await create(stub, f"s{i}")
            oldest, newest = region.raw_store.event_bounds()  # type: ignore[union-attr]
            assert newest == 30 and 10 <= newest - oldest + 1 <= 11  # retention + slack
            for after in (0, oldest - 2, newest + 1):
                err = await open_stream(stub, admin_token(region), after_sequence=after).error()
                assert (err.code, err.aws_code) == (OUT_OF_RANGE, EXPIRED)
                assert err.info == {"oldestSequence": str(oldest), "newestSequence": str(newest)}
                assert "Resync" in err.message
            async with watching(region, after_sequence=oldest - 1) as w:
                assert (await w.event()).sequence == oldest
            async with watching(region, after_sequence=newest) as w:
                assert await w.quiet(0.2) == []


async def test_restart_keeps_history_and_sequence(tmp_path: Path, clock: FakeClock) -> None:
    cfg = config(tmp_path)
    async with running(cfg, clock) as region:
        async with admin_channel(region) as ch:
            for i in range(3):
                await create(pbg.SecretsManagerStub(ch), f"s{i}")
        before = region.raw_store.event_bounds()  # type: ignore[union-attr]
    async with running(cfg, clock) as region:
        assert region.raw_store.event_bounds() == before  # type: ignore[union-attr]
        async with watching(region, after_sequence=0) as w:
            assert [e.name for e in await w.events(3)] == ["s0", "s1", "s2"]
            async with admin_channel(region) as ch:
                await create(pbg.SecretsManagerStub(ch), "after-restart")
            got = await w.event()
            assert (got.name, got.sequence) == ("after-restart", before[1] + 1)


async def test_sequence_is_never_reused_after_pruning(tmp_path: Path, clock: FakeClock) -> None:
    cfg = config(tmp_path, watch_history=1)
    async with running(cfg, clock) as region:
        async with admin_channel(region) as ch:
            for i in range(5):
                await create(pbg.SecretsManagerStub(ch), f"s{i}")
    async with running(cfg, clock) as region:
        oldest, newest = region.raw_store.event_bounds()  # type: ignore[union-attr]
        assert newest == 5 and oldest >= 4
        async with watching(region) as w:
            async with admin_channel(region) as ch:
                await create(pbg.SecretsManagerStub(ch), "next")
            assert (await w.event()).sequence == 6


# ---- filters ----


async def test_secret_ids_and_name_prefix(region: Region, stub: Any) -> None:
    a = await create(stub, "app/a")
    async with (
        watching(region, secret_ids=["app/a", "later"]) as by_id,
        watching(region, secret_ids=[a.arn]) as by_arn,
        watching(region, name_prefix="team/") as by_prefix,
    ):
        await put(stub, "app/a", "2")
        await create(stub, "app/b")
        await create(stub, "team/x")
        await create(stub, "later")  # did not exist when the stream began: still watched
        assert kinds(await by_id.events(2)) == [("VersionAdded", "app/a"), ("Created", "later")]
        assert kinds(await by_arn.events(1)) == [("VersionAdded", "app/a")]
        assert kinds(await by_prefix.events(1)) == [("Created", "team/x")]
        for w in (by_id, by_arn, by_prefix):
            assert await w.quiet(0.2) == []


async def test_bad_filters_are_validation_errors(region: Region, stub: Any) -> None:
    token = admin_token(region)
    err = await open_stream(stub, token, secret_ids=["bad name!"]).error()
    assert (err.code, err.aws_code) == (grpc.StatusCode.INVALID_ARGUMENT, "ValidationException")
    err = await open_stream(stub, token, secret_ids=[f"s{i}" for i in range(101)]).error()
    assert err.aws_code == "ValidationException"
    err = await open_stream(stub, token, name_prefix="").error()
    assert err.aws_code == "ValidationException"


# ---- never a value ----


async def test_no_value_in_any_event(region: Region, stub: Any) -> None:
    big = "x" * 65536  # the largest SecretString
    async with watching(region, after_sequence=0) as w:
        await create(stub, "c", CANARY)
        await put(stub, "c", big)
        await stub.PutSecretValue(
            pb.PutSecretValueRequest(secret_id="c", secret_binary=b"\x00" * 65536)
        )
        got = await w.events(3)
    assert [e.type for e in got] == ["Created", "VersionAdded", "VersionAdded"]
    for e in got:
        wire = e.SerializeToString()
        assert CANARY.encode() not in wire and b"x" * 64 not in wire and len(wire) < 400


# ---- slow consumers, limits, shutdown ----


async def test_a_reader_that_stops_reading_is_cut_off(tmp_path: Path, clock: FakeClock) -> None:
    cfg = config(tmp_path, watch_write_timeout=0.3, watch_max_lag=100_000)
    async with running(cfg, clock) as region:
        small_window = [("grpc.http2.lookahead_bytes", 1024), ("grpc.http2.bdp_probe", 0)]
        async with admin_channel(region) as ch:
            stub = pbg.SecretsManagerStub(ch)
            async with watching(region, options=small_window, reader=False) as w:
                for i in range(400):  # ~100 bytes each: far beyond a 1 KiB window
                    await create(stub, f"slow/{i:04d}-" + "n" * 60, "v")
                await asyncio.sleep(1.0)  # the server's write waits, then gives up
                seen: list[int] = []
                try:
                    while True:
                        msg = await w.next()
                        if msg.type != "Heartbeat":
                            seen.append(msg.sequence)
                except grpc.aio.AioRpcError as exc:
                    err = stream_error(exc)
            assert (err.code, err.aws_code) == (
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                "SlowConsumerException",
            )
            assert err.retry_after == 1.0
            resume = int(err.info["afterSequence"])
            # The last position surely taken; the message being written when the stream was cut
            # may still arrive before the status (resuming from the client's own last Sequence
            # is exact; from afterSequence at most repeats that one event).
            assert seen and seen[-1] - 1 <= resume <= seen[-1] < 400
            # Resumable: the rest arrives from there.
            async with watching(region, after_sequence=resume) as again:
                assert (await again.event()).sequence == resume + 1


async def test_a_stream_falling_too_far_behind_is_cut_off(tmp_path: Path, clock: FakeClock) -> None:
    cfg = config(tmp_path, watch_max_lag=20, watch_write_timeout=30.0)
    async with running(cfg, clock) as region:
        small_window = [("grpc.http2.lookahead_bytes", 1024), ("grpc.http2.bdp_probe", 0)]
        async with admin_channel(region) as ch:
            stub = pbg.SecretsManagerStub(ch)
            async with watching(region, options=small_window, reader=False) as w:
                for i in range(100):
                    await create(stub, f"lag/{i:04d}-" + "n" * 60, "v")

                async def slow_reader() -> Any:
                    try:
                        while True:
                            await w.next()
                            await asyncio.sleep(0.01)
                    except grpc.aio.AioRpcError as exc:
                        return stream_error(exc)

                err = await asyncio.wait_for(slow_reader(), 20)
    assert (err.code, err.aws_code) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "SlowConsumerException")
    assert 0 < int(err.info["afterSequence"]) < 100 - 20


async def test_catching_up_on_history_is_not_falling_behind(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running(config(tmp_path, watch_max_lag=5), clock) as region:
        async with admin_channel(region) as ch:
            stub = pbg.SecretsManagerStub(ch)
            for i in range(50):
                await create(stub, f"s{i}")
            async with watching(region, after_sequence=0) as w:
                assert [e.sequence for e in await w.events(50)] == list(range(1, 51))


async def test_the_stream_cap(tmp_path: Path, clock: FakeClock) -> None:
    async with running(config(tmp_path, watch_max_streams=2), clock) as region:
        async with watching(region), watching(region):
            async with admin_channel(region) as ch:
                stub = pbg.SecretsManagerStub(ch)
                err = await open_stream(stub, admin_token(region)).error()
                assert (err.code, err.aws_code) == (
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    "LimitExceededException",
                )
                assert err.retry_after == 1.0 and "at most 2" in err.message
                await create(stub, "unary-calls-are-not-counted")
        async with watching(region):  # closed streams free their place
            pass


async def test_the_per_principal_stream_cap(tmp_path: Path, clock: FakeClock) -> None:
    """One principal cannot hold every stream: beyond its cap LimitExceededException (with a
    RetryInfo), while others still get theirs; a closed stream frees its principal's place."""
    cfg = config(tmp_path, watch_max_streams=10, watch_max_streams_per_principal=2)
    async with running(cfg, clock) as region:
        greedy = await user(region, "greedy", allow("secretsmanager:DescribeSecret"))
        other = await user(region, "other", allow("secretsmanager:DescribeSecret"))
        async with admin_channel(region) as ch:
            stub = pbg.SecretsManagerStub(ch)
            async with watching(region, greedy):
                async with watching(region, greedy):
                    err = await open_stream(stub, greedy).error()
                    assert (err.code, err.aws_code) == (
                        grpc.StatusCode.RESOURCE_EXHAUSTED,
                        "LimitExceededException",
                    )
                    assert err.retry_after == 1.0 and "at most 2" in err.message
                    assert "one principal" in err.message
                    async with watching(region, other), watching(region, other):
                        pass
                async with watching(region, greedy):  # a closed stream freed its place
                    pass


async def test_shutdown_ends_streams_with_unavailable_at_once(
    tmp_path: Path, clock: FakeClock
) -> None:
    region = await start_region(replace(config(tmp_path), shutdown_grace=30.0), clock)
    async with admin_channel(region) as ch:
        stub = pbg.SecretsManagerStub(ch)
        await create(stub, "s")
        streams = [open_stream(stub, admin_token(region), after_sequence=0) for _ in range(3)]
        for s in streams:
            assert (await s.next()).type == "Heartbeat"
        started = time.monotonic()
        await region.stop()
        assert time.monotonic() - started < 2.0  # the drain did not wait for the streams
        for s in streams:
            err = await s.error()
            assert (err.code, err.aws_code) == (grpc.StatusCode.UNAVAILABLE, "ServiceUnavailable")
            assert int(err.info["afterSequence"]) in (0, 1)


async def test_access_log_has_one_entry_per_stream(
    tmp_path: Path, clock: FakeClock, capfd: pytest.CaptureFixture[str]
) -> None:
    import logging

    logging.getLogger("smgrpc.access").setLevel(logging.INFO)
    try:
        async with running(config(tmp_path), clock) as region:
            async with watching(region, after_sequence=0):
                pass
            async with admin_channel(region) as ch:
                await open_stream(pbg.SecretsManagerStub(ch), None).error()
            await asyncio.sleep(0.5)
    finally:
        logging.getLogger("smgrpc.access").setLevel(logging.NOTSET)
    lines = [ln for ln in capfd.readouterr().err.splitlines() if "WatchSecrets" in ln]
    assert any("CANCELLED" in ln and "principal=arn:aws:iam::" in ln for ln in lines), lines
    assert any("UNAUTHENTICATED UnrecognizedClientException" in ln for ln in lines), lines


async def test_passing_over_many_events_keeps_the_loop_responsive(
    tmp_path: Path, clock: FakeClock
) -> None:
    """A stream catching up on thousands of events it may not see (each a policy check, from
    the in-memory tail: no I/O to await) pauses now and then: a timer on the server's loop
    stays on time."""
    async with running(config(tmp_path, watch_heartbeat=5.0), clock) as region:
        async with admin_channel(region) as ch:
            stub = pbg.SecretsManagerStub(ch)
            await create(stub, "hidden/x")
            async with region.store.transaction() as tx:  # 4,000 events in one write
                s = tx.find("hidden/x")
                assert s is not None
                for i in range(4000):
                    s = s.evolve(description=f"d{i}")
                    await tx.save(s)
            await create(stub, "open/last")
        token = await user(
            region, "u", allow("secretsmanager:DescribeSecret", "arn:aws:*:*:*:secret:open/*")
        )
        lateness = [0.0]
        done = asyncio.Event()

        async def timer() -> None:
            # The loop thread's CPU time across a 1 ms sleep: how long our code kept the loop
            # from waking the timer (a loaded machine's waits for a core do not count).
            while not done.is_set():
                started = time.thread_time()
                await asyncio.sleep(0.001)
                lateness[0] = max(lateness[0], time.thread_time() - started)

        ticking = asyncio.get_running_loop().create_task(timer())
        try:
            async with watching(region, token, after_sequence=0) as w:
                assert kinds([await w.event(10.0)]) == [("Created", "open/last")]
        finally:
            done.set()
            await ticking
        assert lateness[0] < 0.1, lateness[0]
