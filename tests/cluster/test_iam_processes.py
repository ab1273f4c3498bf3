"""IAM replication between real `smgrpc serve` processes (kill -9, restart, the move command).

The IAM Region's bootstrap admin credential works in every Region once IAM has replicated
(the harness waits for that); a replica killed with SIGKILL comes back with the IAM state of
its own database even while the IAM Region is unreachable; `smgrpc iam-region move` fences the
old IAM Region, which keeps following the new one after its own restart.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from smgrpc._pb.iam.v1 import iam_pb2 as ipb
from smgrpc._pb.iam.v1 import iam_pb2_grpc as ipbg
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.crypto.cluster import ClusterKey
from smgrpc.replication.iam_operator import iam_status
from tests.authn import ADMIN_POLICY as ALLOW
from tests.authn import altered
from tests.cluster.conftest import eventually
from tests.cluster.creds import channel, files_holding
from tests.cluster.procs import ROOT, SMGRPC, ProcCluster

pytestmark = pytest.mark.slow
US, EU, AP = "us-east-1", "eu-west-1", "ap-southeast-2"


@pytest.fixture
async def procs(tmp_path: Path) -> AsyncIterator[ProcCluster]:
    c = ProcCluster(tmp_path, (US, EU, AP))
    try:
        await c.start()
        yield c
    finally:
        await c.close()


async def list_with(addr: str, token: str | None) -> grpc.StatusCode:
    ch = channel(addr, lambda: token)
    try:
        await pbg.SecretsManagerStub(ch).ListSecrets(pb.ListSecretsRequest(), timeout=5)
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    finally:
        await ch.close()
    return grpc.StatusCode.OK


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SMGRPC, "iam-region", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


async def test_the_admin_credential_works_everywhere_and_survives_a_replica_kill(
    procs: ProcCluster, tmp_path: Path
) -> None:
    token = procs.admin_token.read_text().strip()
    assert not (tmp_path / EU / "admin.token").exists()  # only the IAM Region bootstraps
    key = ClusterKey.from_file(tmp_path / "cluster.secret")
    before = await iam_status(procs.procs[EU].addr, EU, key)
    assert (before.holder, before.epoch) == (US, 0) and before.generation >= 1
    for name in (US, EU, AP):
        assert await list_with(procs.procs[name].addr, token) == grpc.StatusCode.OK
    await procs.kill(EU)  # SIGKILL
    procs.isolate(EU)  # it can only have what its own database holds
    await procs.restart(EU)
    after = await iam_status(procs.procs[EU].addr, EU, key)
    assert (after.holder, after.epoch, after.generation) == (US, 0, before.generation)
    assert await list_with(procs.procs[EU].addr, token) == grpc.StatusCode.OK
    unguarded = await list_with(procs.procs[EU].addr, None) == grpc.StatusCode.OK
    if not unguarded:
        assert await list_with(procs.procs[EU].addr, altered(token)) == (
            grpc.StatusCode.UNAUTHENTICATED
        )
    procs.heal()


async def test_the_move_command_fences_the_old_iam_region_across_its_restart(
    procs: ProcCluster, tmp_path: Path
) -> None:
    secret = str(tmp_path / "cluster.secret")
    eu = procs.procs[EU].addr
    r = cli("move", "--endpoint", eu, "--to", EU, "--cluster-secret-file", secret)
    assert r.returncode == 0, r.stderr
    moved = json.loads(r.stdout)
    assert moved["IamRegion"] == EU and moved["Epoch"] == 1 and moved["Changed"] is True
    ack = await procs.wait_iam()
    assert (ack.holder, ack.epoch) == (EU, 1)
    # The old IAM Region restarts with its unchanged --iam-region us-east-1: its database says
    # the IAM Region moved at a higher epoch, and that wins.
    await procs.kill(US)
    await procs.restart(US)
    us = procs.procs[US].addr
    r = cli("status", "--endpoint", us, "--region", US, "--cluster-secret-file", secret)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["IamRegion"] == EU
    # A wrong Region name, or another cluster's secret, is refused with a clear message.
    r = cli("move", "--endpoint", eu, "--to", AP, "--cluster-secret-file", secret)
    assert r.returncode == 1 and "check that it is Region ap-southeast-2" in r.stderr
    # The admin credential (made in us-east-1) still works everywhere.
    token = procs.procs[US].admin_token.read_text().strip()
    for name in (US, EU, AP):
        assert await list_with(procs.procs[name].addr, token) == grpc.StatusCode.OK


async def test_iam_api_changes_reach_every_region_and_no_secret_leaks(
    procs: ProcCluster, tmp_path: Path
) -> None:
    """Through the public IAM API: a user + key made in the IAM Region authenticate in the other
    Regions within seconds; a deactivation too; IAM writes elsewhere name the IAM Region; the
    SecretAccessKey is in no Region's database files or logs, nor on any replication link."""
    for p in procs.proxies.values():
        p.capture = True
    admin = procs.admin_token.read_text().strip()
    ch = channel(procs.procs[US].addr, lambda: admin)
    iam = ipbg.IAMStub(ch)
    try:
        await iam.CreateUser(ipb.CreateUserRequest(user_name="app"))
        await iam.PutUserPolicy(
            ipb.PutUserPolicyRequest(user_name="app", policy_name="all", policy_document=ALLOW)
        )
        made = (await iam.CreateAccessKey(ipb.CreateAccessKeyRequest(user_name="app"))).access_key
        token = f"{made.access_key_id}:{made.secret_access_key}"
        t0 = time.monotonic()
        for name in (EU, AP):
            await eventually(
                lambda n=name: _ok(procs.procs[n].addr, token), within=10, what=f"key in {name}"
            )
        took = time.monotonic() - t0
        assert took < 8.0, took  # typically well under a second; the margin is for loaded CI
        # An IAM write in a replica Region: refused, naming the IAM Region.
        eu_iam = ipbg.IAMStub(eu_ch := channel(procs.procs[EU].addr, lambda: admin))
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await eu_iam.CreateUser(ipb.CreateUserRequest(user_name="nope"))
        await eu_ch.close()
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert US in (err.value.details() or "")
        await iam.UpdateAccessKey(
            ipb.UpdateAccessKeyRequest(
                user_name="app", access_key_id=made.access_key_id, status="Inactive"
            )
        )
        for name in (EU, AP):
            await eventually(
                lambda n=name: _refused(procs.procs[n].addr, token), within=10, what="inactive"
            )
    finally:
        await ch.close()
    secret = made.secret_access_key.encode()
    wire = b"".join(bytes(p.captured) for p in procs.proxies.values())
    assert made.access_key_id.encode() in wire  # the capture saw the IAM pushes
    assert secret not in wire
    assert files_holding(tmp_path, secret) == []  # databases, WAL files, every Region's logs


async def _ok(addr: str, token: str) -> bool:
    return await list_with(addr, token) == grpc.StatusCode.OK


async def _refused(addr: str, token: str) -> bool:
    return await list_with(addr, token) == grpc.StatusCode.UNAUTHENTICATED
