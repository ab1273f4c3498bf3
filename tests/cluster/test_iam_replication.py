"""IAM is global: the IAM Region's users and keys reach every Region over the peer links.

In-process Regions (one loop) linked through FaultProxies: propagation of users, keys,
deactivation and deletion; NotIamRegion on the other Regions; a partitioned Region keeps its
last IAM state and catches up after heal; the fenced move; and the SecretAccessKey canary over
every Region's raw database, the logs and the replication wire.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import grpc
import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.app import Region
from smgrpc.core.errors import NotIamRegion
from smgrpc.core.iam.model import IamState
from smgrpc.crypto.cluster import ClusterKey
from smgrpc.replication.iam_operator import iam_status, move_iam_region
from tests.authn import altered
from tests.cluster.conftest import REGIONS, Cluster, eventually
from tests.cluster.creds import channel, files_holding

US, EU, AP = REGIONS


def key_of(state: IamState, key_id: str) -> str | None:
    k = state.keys.get(key_id)
    return None if k is None else k.status


def addr(r: Region) -> str:
    return f"127.0.0.1:{r.port}"


def cluster_key(tmp_path: Path) -> ClusterKey:
    return ClusterKey.from_file(tmp_path / "cluster.secret")


async def call_with(r: Region, token: str | None) -> grpc.StatusCode:
    """ListSecrets in `r` with `token`: OK, or the code it failed with."""
    ch = channel(addr(r), lambda: token)
    try:
        await pbg.SecretsManagerStub(ch).ListSecrets(pb.ListSecretsRequest())
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    finally:
        await ch.close()
    return grpc.StatusCode.OK


async def guarded(r: Region) -> bool:
    """Whether this build authenticates calls (the guard) at all."""
    return await call_with(r, None) == grpc.StatusCode.UNAUTHENTICATED


async def test_a_user_and_key_made_in_the_iam_region_work_everywhere_within_seconds(
    cluster: Cluster,
) -> None:
    us, eu, ap = (cluster.regions[n] for n in REGIONS)
    assert us.iam.state.holder == US and eu.iam.state.holder == US
    await us.iam.create_user("app")
    await us.iam.put_user_policy(
        "app",
        "all",
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}',
    )
    _, issued = await us.iam.create_access_key("app")
    kid = issued.access_key_id
    t0 = time.monotonic()
    for r in (eu, ap):
        await eventually(lambda r=r: _has(r, kid), within=20, what=f"key in {r.config.region}")
    took = time.monotonic() - t0
    assert took < 8.0, took  # typically well under a second; the margin is for loaded CI
    for r in (eu, ap):
        mine, theirs = r.iam.state.keys[kid], us.iam.state.keys[kid]
        assert r.iam.state.generation == us.iam.state.generation
        assert r.iam.state.users["app"].policies == us.iam.state.users["app"].policies
        # Re-sealed under the receiver's own master key: nothing stored is the same bytes.
        assert mine.sealed != theirs.sealed and mine.digest != theirs.digest
        assert r.iam_minter.verify(mine, issued.secret_access_key)
        assert not r.iam_minter.verify(mine, altered(issued.secret_access_key))
    token = f"{kid}:{issued.secret_access_key}"
    if await guarded(eu):
        assert await call_with(eu, token) == grpc.StatusCode.OK
        assert await call_with(ap, token) == grpc.StatusCode.OK


async def _has(r: Region, kid: str) -> bool:
    return kid in r.iam.state.keys


async def test_deactivation_and_deletion_propagate(cluster: Cluster) -> None:
    us, eu = cluster.regions[US], cluster.regions[EU]
    await us.iam.create_user("app")
    _, issued = await us.iam.create_access_key("app")
    kid = issued.access_key_id
    await eventually(lambda: _has(eu, kid), within=10)
    await us.iam.update_access_key("app", kid, "Inactive")
    await eventually(lambda: _true(key_of(eu.iam.state, kid) == "Inactive"), within=10)
    token = f"{kid}:{issued.secret_access_key}"
    if await guarded(eu):
        assert await call_with(eu, token) == grpc.StatusCode.UNAUTHENTICATED
    await us.iam.delete_access_key("app", kid)
    await us.iam.delete_user("app")
    await eventually(lambda: _true("app" not in eu.iam.state.users), within=10)
    assert kid not in eu.iam.state.keys


async def _true(v: bool) -> bool:
    return v


async def test_iam_writes_elsewhere_are_refused_naming_the_iam_region(cluster: Cluster) -> None:
    eu = cluster.regions[EU]
    with pytest.raises(NotIamRegion) as err:
        await eu.iam.create_user("nope")
    assert US in err.value.message
    assert "nope" not in eu.iam.state.users


async def test_a_partitioned_region_keeps_its_last_state_and_catches_up(cluster: Cluster) -> None:
    us, eu = cluster.regions[US], cluster.regions[EU]
    await us.iam.create_user("old")
    _, old = await us.iam.create_access_key("old")
    await eventually(lambda: _has(eu, old.access_key_id), within=10)
    cluster.isolate(EU)
    await us.iam.create_user("new")
    _, new = await us.iam.create_access_key("new")
    await us.iam.update_access_key("old", old.access_key_id, "Inactive")
    import asyncio

    await asyncio.sleep(1.5)
    # Cut off: still serving, with the IAM state it last had.
    assert "new" not in eu.iam.state.users
    assert key_of(eu.iam.state, old.access_key_id) == "Active"
    if await guarded(eu):
        assert await call_with(eu, f"{old.access_key_id}:{old.secret_access_key}") in (
            grpc.StatusCode.OK,
            grpc.StatusCode.PERMISSION_DENIED,  # no policy: authenticated, then denied
        )
    cluster.heal()
    t0 = time.monotonic()
    await eventually(lambda: _has(eu, new.access_key_id), within=10)
    assert time.monotonic() - t0 < 5.0
    assert key_of(eu.iam.state, old.access_key_id) == "Inactive"


async def test_move_fences_the_old_holder(
    cluster: Cluster, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="smgrpc")
    us, eu, ap = (cluster.regions[n] for n in REGIONS)
    key = cluster_key(tmp_path)
    await us.iam.create_user("before")
    await eventually(lambda: _true("before" in eu.iam.state.users), within=10)
    # The old holder is cut off and takes a write nobody else sees.
    cluster.isolate(US)
    await us.iam.create_user("lost")
    ack = await move_iam_region(addr(eu), EU, key)
    assert (ack.holder, ack.epoch, ack.applied) == (EU, 1, True)
    again = await move_iam_region(addr(eu), EU, key)  # idempotent
    assert (again.holder, again.epoch, again.applied) == (EU, 1, False)
    await eu.iam.create_user("after")
    await eventually(lambda: _true("after" in ap.iam.state.users), within=10)
    assert ap.iam.state.holder == EU
    with pytest.raises(NotIamRegion):
        await ap.iam.create_user("x")
    cluster.heal()
    await eventually(lambda: _true(us.iam.state.holder == EU), within=10)
    assert "after" in us.iam.state.users and "lost" not in us.iam.state.users
    assert us.iam.state.epoch == 1
    with pytest.raises(NotIamRegion) as err:
        await us.iam.create_user("late")
    assert EU in err.value.message
    assert "superseded" in caplog.text
    st = await iam_status(addr(us), US, key)
    assert (st.holder, st.epoch) == (EU, 1)


async def test_a_secret_access_key_is_never_in_any_db_log_or_on_the_wire(
    cluster: Cluster, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for p in cluster.proxies.values():
        p.capture = True
    us, eu, ap = (cluster.regions[n] for n in REGIONS)
    await us.iam.create_user("canary")
    _, issued = await us.iam.create_access_key("canary")
    for r in (eu, ap):
        await eventually(lambda r=r: _has(r, issued.access_key_id), within=10)
    await us.iam.update_access_key("canary", issued.access_key_id, "Inactive")
    for r in (eu, ap):
        await eventually(
            lambda r=r: _true(key_of(r.iam.state, issued.access_key_id) == "Inactive"), within=10
        )
    secret = issued.secret_access_key.encode()
    wire = b"".join(bytes(p.captured) for p in cluster.proxies.values())
    assert issued.access_key_id.encode() in wire  # the capture saw the IAM pushes
    assert secret not in wire
    assert secret.decode() not in caplog.text
    assert files_holding(tmp_path, secret) == []  # every Region's database and WAL files
