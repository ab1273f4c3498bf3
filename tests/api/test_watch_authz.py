"""WatchSecrets authorization: authenticated as every call, events only for secrets the caller
may DescribeSecret (identity policies + the secret's resource policy, explicit Deny wins),
a SecretIds entry it may not describe refused at once, credentials re-checked mid-stream."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.app import Region
from tests.api.authz_helpers import (
    allow,
    deny,
    resource_statement,
    set_resource_policy,
    user,
    user_arn,
)
from tests.api.helpers import create, put
from tests.api.watch_helpers import kinds, open_stream, watching
from tests.authn import altered, policy
from tests.conftest import FakeClock, admin_channel, make_config, start_region

DESCRIBE = "secretsmanager:DescribeSecret"
DENIED = grpc.StatusCode.PERMISSION_DENIED
UNAUTH = grpc.StatusCode.UNAUTHENTICATED


@pytest.fixture
async def region(tmp_path: Path, clock: FakeClock) -> Any:
    r = await start_region(make_config(tmp_path, watch_heartbeat=0.3), clock)
    yield r
    await r.stop(0.5)


async def test_no_credential_and_bad_credential(region: Region, stub: Any) -> None:
    err = await open_stream(stub, None).error()
    assert (err.code, err.aws_code) == (UNAUTH, "UnrecognizedClientException")
    token = await user(region, "u", allow())
    err = await open_stream(stub, altered(token)).error()
    assert (err.code, err.aws_code) == (UNAUTH, "UnrecognizedClientException")
    assert token.split(":")[1] not in err.message


async def test_allowed_caller_sees_the_events(region: Region, stub: Any) -> None:
    token = await user(region, "u", allow(DESCRIBE, "arn:aws:secretsmanager:*:*:secret:app/*"))
    async with watching(region, token) as w:
        await create(stub, "app/a")
        await create(stub, "other/b")  # not describable: not delivered
        await put(stub, "app/a", "2")
        assert kinds(await w.events(2)) == [("Created", "app/a"), ("VersionAdded", "app/a")]
        assert await w.quiet(0.2) == []


async def test_no_describe_permission_sees_heartbeats_only(region: Region, stub: Any) -> None:
    token = await user(region, "u", allow("secretsmanager:GetSecretValue"))
    async with watching(region, token) as w:
        await create(stub, "a")
        assert await w.quiet(0.4) == []
        assert (await w.next()).type == "Heartbeat"


async def test_secret_ids_the_caller_may_not_describe_fail_at_once(
    region: Region, stub: Any
) -> None:
    await create(stub, "app/a")
    await create(stub, "secret/b")
    token = await user(region, "u", allow(DESCRIBE, "arn:aws:secretsmanager:*:*:secret:app/*"))
    for ids in (["secret/b"], ["app/a", "secret/b"], ["secret/not-yet"]):
        err = await open_stream(stub, token, secret_ids=ids).error()
        assert (err.code, err.aws_code) == (DENIED, "AccessDeniedException"), ids
        assert f"User: {user_arn('u')} is not authorized to perform: {DESCRIBE}" in err.message
    async with watching(region, token, secret_ids=["app/a", "app/not-yet"]) as w:
        await create(stub, "app/not-yet")
        assert kinds(await w.events(1)) == [("Created", "app/not-yet")]


async def test_denied_by_resource_policy(region: Region, stub: Any) -> None:
    await create(stub, "a")
    await create(stub, "b")
    token = await user(region, "u", allow(DESCRIBE))
    await set_resource_policy(region, "b", policy(resource_statement("Deny", user_arn("u"))))
    err = await open_stream(stub, token, secret_ids=["b"]).error()
    assert (err.code, err.aws_code) == (DENIED, "AccessDeniedException")
    async with watching(region, token) as w:
        await put(stub, "b", "2")
        await put(stub, "a", "2")
        assert kinds(await w.events(1)) == [("VersionAdded", "a")]


async def test_allowed_by_resource_policy_alone(region: Region, stub: Any) -> None:
    await create(stub, "shared")
    token = await user(region, "u")  # no identity policy at all
    await set_resource_policy(
        region, "shared", policy(resource_statement("Allow", user_arn("u"), DESCRIBE))
    )
    async with watching(region, token, secret_ids=["shared"]) as w:
        await put(stub, "shared", "2")
        assert kinds(await w.events(1)) == [("VersionAdded", "shared")]


async def test_explicit_deny_wins(region: Region, stub: Any) -> None:
    token = await user(
        region, "u", allow(), deny(DESCRIBE, "arn:aws:secretsmanager:*:*:secret:hidden/*")
    )
    async with watching(region, token) as w:
        await create(stub, "hidden/x")
        await create(stub, "open/y")
        assert kinds(await w.events(1)) == [("Created", "open/y")]
    err = await open_stream(stub, token, secret_ids=["hidden/x"]).error()
    assert (err.code, err.aws_code) == (DENIED, "AccessDeniedException")


async def test_policy_and_credential_changes_apply_to_an_open_stream(
    region: Region, stub: Any
) -> None:
    token = await user(region, "u", allow(DESCRIBE))
    async with watching(region, token) as w:
        await create(stub, "a")
        assert kinds(await w.events(1)) == [("Created", "a")]
        await region.iam.put_user_policy("u", "p", policy(deny(DESCRIBE)))
        await create(stub, "b")
        assert await w.quiet(0.3) == []
        key_id = token.split(":")[0]
        await region.iam.delete_access_key("u", key_id)
        await create(stub, "c")
        err = await w.error()
    assert (err.code, err.aws_code) == (UNAUTH, "UnrecognizedClientException")


async def test_a_revoked_credential_ends_an_idle_stream(region: Region, stub: Any) -> None:
    token = await user(region, "u", allow(DESCRIBE))
    async with watching(region, token) as w:
        await region.iam.delete_access_key("u", token.split(":")[0])
        err = await w.error()
    assert (err.code, err.aws_code) == (UNAUTH, "UnrecognizedClientException")


async def test_current_time_is_evaluated_per_event_not_at_open(
    region: Region, stub: Any, clock: FakeClock
) -> None:
    """aws:CurrentTime is the time of each event's check: a stream opened while a dated
    allow held stops delivering once the clock passes its end (the stream is not re-opened)."""
    until = clock.now() + 100
    stamp = datetime.fromtimestamp(until, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    token = await user(region, "u", allow(DESCRIBE, DateLessThan={"aws:CurrentTime": stamp}))
    async with watching(region, token) as w:
        await create(stub, "before")
        assert kinds(await w.events(1)) == [("Created", "before")]
        clock.advance(200)
        await create(stub, "after")
        assert await w.quiet(0.4) == []


async def _force_delete(stub: Any, name: str) -> None:
    await stub.DeleteSecret(
        pb.DeleteSecretRequest(secret_id=name, force_delete_without_recovery=True)
    )


async def test_purged_secrets_keep_their_resource_policy_protection(
    region: Region, stub: Any
) -> None:
    """A purged secret's events are judged by its last state (its resource policy and tags),
    live and when replayed from history; a caller its policy denied never sees them."""
    token = await user(region, "u", allow(DESCRIBE))
    await create(stub, "open")
    await create(stub, "guarded")
    await set_resource_policy(region, "guarded", policy(resource_statement("Deny", user_arn("u"))))
    async with watching(region, token) as w:
        await _force_delete(stub, "guarded")
        await _force_delete(stub, "open")
        assert kinds(await w.events(1)) == [("Deleted", "open")]
        assert await w.quiet(0.2) == []
    async with watching(region, token, after_sequence=0) as w:  # the history, all gone now
        got = kinds(await w.events(2))
        assert got == [("Created", "open"), ("Deleted", "open")]
        assert await w.quiet(0.2) == []


async def test_purged_before_a_restart_is_not_replayed(tmp_path: Path, clock: FakeClock) -> None:
    """The last state of a secret purged before this process started is not known: its
    events are not delivered (fail closed: its resource policy may have denied the caller)."""
    cfg = make_config(tmp_path / "r", watch_heartbeat=0.3)
    region = await start_region(cfg, clock)
    try:
        token = await user(region, "u", allow(DESCRIBE))
        async with admin_channel(region) as ch:
            stub = pbg.SecretsManagerStub(ch)
            await create(stub, "purged")
            await _force_delete(stub, "purged")
            await create(stub, "kept")
    finally:
        await region.stop(0.5)
    region = await start_region(cfg, clock)
    try:
        async with watching(region, token, after_sequence=0) as w:
            assert kinds(await w.events(1)) == [("Created", "kept")]
            assert await w.quiet(0.2) == []
    finally:
        await region.stop(0.5)
