"""The guard's steady state (ServiceGuard.fast): an identical Bearer call whose allow was cached
is admitted after one lookup, and only while everything it rests on is the same object.

Through a real server built from the Region's own pieces with a guard the test holds, so it can
check that the steady state is engaged (otherwise the "dropped" tests would pass vacuously).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.api.authz import SecretsAuthz
from smgrpc.api.guard import Guard, ServiceGuard
from smgrpc.api.server import SERVICE, build_server, public_service
from smgrpc.app import Region
from tests.api.authz_helpers import (
    ACCOUNT,
    allow,
    resource_statement,
    set_resource_policy,
    user,
    user_arn,
)
from tests.api.helpers import create, servicer_of
from tests.authn import channel, metadata, policy
from tests.conftest import FakeClock, aws_error, pb

DENIED = grpc.StatusCode.PERMISSION_DENIED
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED


@dataclass
class Guarded:
    port: int
    guard: ServiceGuard

    def stub(
        self, token: str | None, own_connection: bool = False
    ) -> tuple[grpc.aio.Channel, pbg.SecretsManagerStub]:
        ch = channel(f"127.0.0.1:{self.port}", token, own_connection=own_connection)
        return ch, pbg.SecretsManagerStub(ch)


@pytest.fixture
async def guarded(region: Region) -> AsyncIterator[Guarded]:
    guard = Guard(lambda: region.iam.state, region.keyring.access_keys, region.clock)
    authz = SecretsAuthz(region.store.find, region.keyring.resolve, "us-east-1", ACCOUNT)
    sg = ServiceGuard(guard, authz.plan, authz.item, authz.lockout, authz.cache_key)
    servicer = servicer_of(region)
    server, _ = build_server([public_service(servicer)], guards={SERVICE.full_name: sg})
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield Guarded(port, sg)
    finally:
        await server.stop(0)


def get(name: str = "s") -> pb.GetSecretValueRequest:
    return pb.GetSecretValueRequest(secret_id=name)


async def test_identical_calls_are_admitted_by_the_steady_state(
    guarded: Guarded, region: Region, stub: Any
) -> None:
    await create(stub, "s", "v1")
    token = await user(region, "u1", allow("secretsmanager:GetSecretValue"))
    ch, s = guarded.stub(token)
    async with ch:
        for _ in range(3):
            assert (await s.GetSecretValue(get())).secret_string == "v1"
    assert len(guarded.guard._steady) == 1


async def test_every_connection_of_a_caller_reaches_the_steady_state(
    guarded: Guarded, region: Region, stub: Any
) -> None:
    """A second connection of the same caller (same source IP: its first call is decided from
    the cached allow) is admitted by the steady state too: a load balancer's or a client's
    pool of connections each get their entry (before, only the first connection did, and the
    others paid authentication and authorization on every call)."""
    await create(stub, "s", "v1")
    token = await user(region, "u1", allow("secretsmanager:GetSecretValue"))
    channels = [guarded.stub(token, own_connection=True) for _ in range(3)]
    for _ch, s in channels:
        for _ in range(3):
            assert (await s.GetSecretValue(get())).secret_string == "v1"
    for ch, _ in channels:
        await ch.close()
    peers = {key[1] for key in guarded.guard._steady}
    assert len(peers) == 3
    assert len(guarded.guard._steady) == 3


async def test_steady_allow_is_dropped_when_the_iam_snapshot_changes(
    guarded: Guarded, region: Region, stub: Any
) -> None:
    """Revocation and policy changes take effect on the next call, also after steady hits."""
    await create(stub, "s")
    token = await user(region, "u2", allow("secretsmanager:GetSecretValue"))
    kid = token.split(":")[0]
    ch, s = guarded.stub(token)
    async with ch:
        for _ in range(2):
            await s.GetSecretValue(get())
        assert guarded.guard._steady
        await region.iam.put_user_policy("u2", "p", policy(allow("secretsmanager:List*")))
        assert (await aws_error(s.GetSecretValue(get()))).code == DENIED
        await region.iam.put_user_policy("u2", "p", policy(allow("secretsmanager:Get*")))
        for _ in range(2):
            await s.GetSecretValue(get())
        await region.iam.update_access_key("u2", kid, "Inactive")
        assert (await aws_error(s.GetSecretValue(get()))).code == UNAUTHENTICATED
        await region.iam.update_access_key("u2", kid, "Active")
        for _ in range(2):
            await s.GetSecretValue(get())
        await region.iam.delete_access_key("u2", kid)
        assert (await aws_error(s.GetSecretValue(get()))).code == UNAUTHENTICATED


async def test_steady_allow_is_dropped_when_the_secret_policy_or_tags_change(
    guarded: Guarded, region: Region, stub: Any
) -> None:
    await create(stub, "s", tags=[pb.Tag(key="team", value="a")])
    token = await user(region, "u3", allow(StringEquals={"aws:ResourceTag/team": "a"}))
    ch, s = guarded.stub(token)
    async with ch:
        for _ in range(2):
            await s.GetSecretValue(get())
        assert guarded.guard._steady
        await set_resource_policy(region, "s", policy(resource_statement("Deny", user_arn("u3"))))
        assert (await aws_error(s.GetSecretValue(get()))).code == DENIED
        await set_resource_policy(region, "s", None)
        for _ in range(2):
            await s.GetSecretValue(get())
        await stub.TagResource(
            pb.TagResourceRequest(secret_id="s", tags=[pb.Tag(key="team", value="b")])
        )
        assert (await aws_error(s.GetSecretValue(get()))).code == DENIED


async def test_a_clock_dependent_policy_is_never_admitted_by_the_steady_state(
    guarded: Guarded, region: Region, stub: Any, clock: FakeClock
) -> None:
    await create(stub, "s")
    until = datetime.fromtimestamp(clock.now() + 3600, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    token = await user(region, "u4", allow(DateLessThan={"aws:CurrentTime": until}))
    ch, s = guarded.stub(token)
    async with ch:
        for _ in range(3):
            await s.GetSecretValue(get())
        assert not guarded.guard._steady
        clock.advance(7200)
        assert (await aws_error(s.GetSecretValue(get()))).code == DENIED


async def test_the_credential_of_each_call_decides_on_a_shared_connection(
    guarded: Guarded, region: Region, stub: Any
) -> None:
    """Per-call metadata: concurrent calls on one connection with different credentials (one
    allowed, one denied, one wrong) each get their own answer, before and after steady hits."""
    await create(stub, "s", "v")
    good = await user(region, "u5", allow("secretsmanager:GetSecretValue"))
    other = await user(region, "u6", allow("secretsmanager:List*"))
    wrong = good.split(":")[0] + ":" + "x" * 40
    want = {good: grpc.StatusCode.OK, other: DENIED, wrong: UNAUTHENTICATED}
    async with channel(f"127.0.0.1:{guarded.port}", None) as ch:
        s = pbg.SecretsManagerStub(ch)

        async def outcome(token: str) -> grpc.StatusCode:
            try:
                await s.GetSecretValue(get(), metadata=metadata(token))
            except grpc.aio.AioRpcError as exc:
                return exc.code()
            return grpc.StatusCode.OK

        tokens = [good, other, wrong] * 30
        got = await asyncio.gather(*(outcome(t) for t in tokens))
        assert got == [want[t] for t in tokens]
        assert len(guarded.guard._steady) == 1


async def test_two_authorization_values_are_refused_after_steady_hits(
    guarded: Guarded, region: Region, stub: Any
) -> None:
    await create(stub, "s")
    token = await user(region, "u7", allow())
    async with channel(f"127.0.0.1:{guarded.port}", None) as ch:
        s = pbg.SecretsManagerStub(ch)
        for _ in range(2):
            await s.GetSecretValue(get(), metadata=metadata(token))
        err = await aws_error(s.GetSecretValue(get(), metadata=metadata(token) * 2))
        assert err.code == UNAUTHENTICATED


async def test_listings_filter_per_secret_when_admitted_by_the_steady_state(
    guarded: Guarded, region: Region, stub: Any
) -> None:
    for name in ("app/one", "other/two"):
        await create(stub, name)
    arn = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:app/*"
    token = await user(
        region,
        "u8",
        allow("secretsmanager:ListSecrets"),
        allow("secretsmanager:DescribeSecret", arn),
    )
    ch, s = guarded.stub(token)
    async with ch:
        for _ in range(3):
            names = [e.name for e in (await s.ListSecrets(pb.ListSecretsRequest())).secret_list]
            assert names == ["app/one"]
    assert guarded.guard._steady
