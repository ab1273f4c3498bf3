"""NextTokens are authenticated with the Region's own key: forged, truncated, nested, oversized,
foreign and cross-request tokens all answer InvalidNextTokenException; a restart keeps them valid.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.core import paging
from tests.api.helpers import create, expect, flt
from tests.conftest import FakeClock, admin_channel, make_config, pb, start_region

BAD = grpc.StatusCode.INVALID_ARGUMENT
BAD_TOKEN = "The NextToken value is invalid."
FP = paging.fingerprint("list", False, [], "created-date", False)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unkeyed(body: bytes) -> str:
    """A token with the old unkeyed checksum: anyone could compute it."""
    return b64(body) + "." + hashlib.sha256(b"smgrpc-page-v1|" + body).hexdigest()[:16]


async def refused(stub, token: str) -> None:
    err = await expect(
        stub.ListSecrets(pb.ListSecretsRequest(next_token=token)),
        BAD,
        "InvalidNextTokenException",
        BAD_TOKEN,
    )
    assert err.reason == "INVALID_NEXT_TOKEN"


@pytest.fixture
async def five(stub, clock) -> str:
    """Five secrets; the NextToken after the first two."""
    for i in range(5):
        await create(stub, f"t{i}", "v")
        clock.advance(1)
    resp = await stub.ListSecrets(pb.ListSecretsRequest(max_results=2))
    return str(resp.next_token)


async def test_forged_without_the_key(stub, five) -> None:
    body = json.dumps([[0.0, "arn"], FP], separators=(",", ":")).encode()
    await refused(stub, unkeyed(body))
    # The right shape and fingerprint, MAC'd with some other key.
    await refused(stub, paging.Tokens(b"k" * 32).encode((0.0, "arn"), FP))


async def test_truncated_and_altered(stub, five) -> None:
    for bad in (five[:-1], five[:-10], five.split(".")[0], five + "A", five.replace(".", "..")):
        await refused(stub, bad)


async def test_deeply_nested_is_no_internal_error(stub, five) -> None:
    body = b"[" * 1000 + b"]" * 1000
    await refused(stub, unkeyed(body))
    await refused(stub, b64(body) + "." + five.split(".")[1])


async def test_oversized(stub, five) -> None:
    data, mac = five.split(".")
    await refused(stub, data + "A" * (4000 - len(five)) + "." + mac)


async def test_other_request_kinds(stub, five) -> None:
    versions = await stub.ListSecretVersionIds(pb.ListSecretVersionIdsRequest(secret_id="t0"))
    assert not versions.HasField("next_token")
    batch = await stub.BatchGetSecretValue(
        pb.BatchGetSecretValueRequest(filters=[flt("name", "t")], max_results=2)
    )
    # A ListSecrets token in BatchGetSecretValue, and the other way round.
    await expect(
        stub.BatchGetSecretValue(
            pb.BatchGetSecretValueRequest(filters=[flt("name", "t")], next_token=five)
        ),
        BAD,
        "InvalidNextTokenException",
        BAD_TOKEN,
    )
    await refused(stub, batch.next_token)


@pytest.fixture
async def other_region(tmp_path: Path, clock: FakeClock) -> AsyncIterator[pbg.SecretsManagerStub]:
    r = await start_region(make_config(tmp_path / "other", "eu-west-1"), clock=clock)
    try:
        async with admin_channel(r) as channel:
            stub = pbg.SecretsManagerStub(channel)
            for i in range(5):
                await create(stub, f"t{i}", "v")
            yield stub
    finally:
        await r.stop(0.5)


async def test_another_regions_token(stub, five, other_region) -> None:
    await refused(other_region, five)
    theirs = await other_region.ListSecrets(pb.ListSecretsRequest(max_results=2))
    await refused(stub, theirs.next_token)


async def test_token_survives_a_restart(tmp_path: Path, clock: FakeClock) -> None:
    config = make_config(tmp_path)
    region = await start_region(config, clock=clock)
    try:
        async with admin_channel(region) as channel:
            stub = pbg.SecretsManagerStub(channel)
            for i in range(5):
                await create(stub, f"r{i}", "v")
                clock.advance(1)
            first = await stub.ListSecrets(pb.ListSecretsRequest(max_results=2))
    finally:
        await region.stop(0.5)
    again = await start_region(config, clock=clock)
    try:
        async with admin_channel(again) as channel:
            stub = pbg.SecretsManagerStub(channel)
            rest = await stub.ListSecrets(pb.ListSecretsRequest(next_token=first.next_token))
            assert [e.name for e in rest.secret_list] == ["r2", "r3", "r4"]
    finally:
        await again.stop(0.5)
