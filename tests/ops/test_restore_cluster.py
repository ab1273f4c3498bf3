"""A Region restored from an old backup rejoins its cluster without corrupting replication.

Real `smgrpc serve` processes (tests/cluster/procs.py) linked through FaultProxies; the
backup and restore are the real CLI. The restored Region's positions went backwards and its
generations were reused for other changes: without incarnations the replica would skip the
restored primary's new writes (equal generation) and keep secrets the primary no longer has.
"""

from __future__ import annotations

import shutil
import signal
import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import grpc
import pytest

from smgrpc._pb.iam.v1 import iam_pb2 as ipb
from smgrpc._pb.iam.v1 import iam_pb2_grpc as ipbg
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from tests.authn import ADMIN_POLICY as ALLOW
from tests.cluster.conftest import eventually
from tests.cluster.creds import channel
from tests.cluster.procs import ProcCluster, converged_p
from tests.ops.test_backup import cli

pytestmark = pytest.mark.slow
US, EU = "us-east-1", "eu-west-1"


@pytest.fixture
async def procs2(tmp_path: Path) -> AsyncIterator[ProcCluster]:
    c = ProcCluster(tmp_path, (US, EU))
    try:
        await c.start()
        yield c
    finally:
        await c.close()


async def put(c: ProcCluster, region: str, name: str, value: str) -> None:
    await c.stubs[region].PutSecretValue(
        pb.PutSecretValueRequest(secret_id=name, secret_string=value)
    )


async def create(c: ProcCluster, name: str, value: str) -> None:
    await c.stubs[US].CreateSecret(
        pb.CreateSecretRequest(
            name=name,
            secret_string=value,
            client_request_token=str(uuid.uuid4()),
            add_replica_regions=[pb.ReplicaRegionType(region=EU)],
        )
    )


async def value_in(c: ProcCluster, region: str, name: str) -> str | None:
    try:
        got = await c.stubs[region].GetSecretValue(pb.GetSecretValueRequest(secret_id=name))
    except grpc.aio.AioRpcError as exc:
        if exc.code() == grpc.StatusCode.NOT_FOUND:
            return None
        raise
    return str(got.secret_string)


async def restore_in_place(c: ProcCluster, region: str, backup: Path) -> None:
    """Kill the Region, replace its data dir by the backup (same key files), start it."""
    proc = c.procs[region]
    await c.kill(region)
    old = proc.data_dir.with_name(proc.data_dir.name + ".lost")
    proc.data_dir.rename(old)
    rc, _, err = await cli(
        "restore",
        "--from",
        str(backup),
        "--data-dir",
        str(proc.data_dir),
        "--master-key-file",
        str(old / "master.key"),
    )
    assert rc == 0, err
    for name in ("master.key", "admin.token"):
        if (old / name).exists():
            shutil.copy2(old / name, proc.data_dir / name)
    await c.restart(region)


async def test_restored_primary_resyncs_its_replica(procs2: ProcCluster, tmp_path: Path) -> None:
    c = procs2
    await create(c, "a", "a1")
    await create(c, "gone", "g1")
    await eventually(lambda: converged_p(c, "a", (US, EU)), what="a replicated")
    await eventually(lambda: converged_p(c, "gone", (US, EU)), what="gone replicated")
    backup = tmp_path / "us.backup"
    rc, _, err = await cli("backup", "--data-dir", str(c.procs[US].data_dir), "--out", str(backup))
    assert rc == 0, err

    # After the backup: changes the restore will lose (the replica has them).
    await put(c, US, "a", "a2")
    await create(c, "later", "l1")
    await c.stubs[US].RemoveRegionsFromReplication(
        pb.RemoveRegionsFromReplicationRequest(secret_id="gone", remove_replica_regions=[EU])
    )
    await eventually(lambda: converged_p(c, "later", (US, EU)), what="later replicated")
    await eventually(lambda: _is(c, EU, "a", "a2"), what="a2 in EU")
    await eventually(lambda: _absent(c, EU, "gone"), what="gone removed from EU")

    await restore_in_place(c, US, backup)
    assert await value_in(c, US, "a") == "a1"  # the backup's state
    assert await value_in(c, US, "gone") == "g1"
    assert await value_in(c, US, "later") is None
    # The restored primary writes again: the same generation as the replica's "a2".
    await put(c, US, "a", "a3")

    await eventually(lambda: _is(c, EU, "a", "a3"), what="the restored primary's write in EU")
    await eventually(lambda: converged_p(c, "a", (US, EU)), what="a converged")
    await eventually(lambda: converged_p(c, "gone", (US, EU)), what="gone back in EU")
    await eventually(lambda: _absent(c, EU, "later"), what="later dropped from EU")
    # And replication goes on normally from there.
    await put(c, US, "a", "a4")
    await create(c, "after", "x1")
    await eventually(lambda: _is(c, EU, "a", "a4"), what="a4 in EU")
    await eventually(lambda: converged_p(c, "after", (US, EU)), what="after replicated")
    logs = c.procs[EU].stderr().decode()
    assert "new incarnation" in logs, logs[-3000:]


async def test_restored_replica_is_resynced(procs2: ProcCluster, tmp_path: Path) -> None:
    c = procs2
    await create(c, "a", "a1")
    await eventually(lambda: converged_p(c, "a", (US, EU)), what="a replicated")
    backup = tmp_path / "eu.backup"
    rc, _, err = await cli("backup", "--data-dir", str(c.procs[EU].data_dir), "--out", str(backup))
    assert rc == 0, err
    await put(c, US, "a", "a2")
    await create(c, "later", "l1")
    await eventually(lambda: converged_p(c, "later", (US, EU)), what="later replicated")
    await eventually(lambda: _is(c, EU, "a", "a2"), what="a2 in EU")

    await restore_in_place(c, EU, backup)
    await eventually(lambda: _is(c, EU, "a", "a2"), what="a2 back in EU")
    await eventually(lambda: converged_p(c, "later", (US, EU)), what="later back in EU")
    await put(c, US, "a", "a3")
    await eventually(lambda: _is(c, EU, "a", "a3"), what="a3 in EU")
    assert "new incarnation" in c.procs[US].stderr().decode()


async def _is(c: ProcCluster, region: str, name: str, value: str) -> bool:
    return await value_in(c, region, name) == value


async def _absent(c: ProcCluster, region: str, name: str) -> bool:
    return await value_in(c, region, name) is None


async def test_a_revocation_in_a_restored_iam_region_reaches_the_other_regions(
    procs2: ProcCluster, tmp_path: Path
) -> None:
    """The IAM Region restored from a backup taken at an older generation than its peers have:
    an access key deleted after the restore stops working in the other Region too (before, the
    peer answered "not newer" to every push and the leaked key kept working there)."""
    c = procs2
    admin = c.admin_token.read_text().strip()
    ch = channel(c.procs[US].addr, lambda: admin)
    iam = ipbg.IAMStub(ch)
    try:
        await iam.CreateUser(ipb.CreateUserRequest(user_name="app"))
        await iam.PutUserPolicy(
            ipb.PutUserPolicyRequest(user_name="app", policy_name="all", policy_document=ALLOW)
        )
        made = (await iam.CreateAccessKey(ipb.CreateAccessKeyRequest(user_name="app"))).access_key
        leaked = f"{made.access_key_id}:{made.secret_access_key}"
        await eventually(lambda: _iam_ok(c, EU, leaked), what="the key works in EU")
        backup = tmp_path / "us.backup"
        rc, _, err = await cli(
            "backup", "--data-dir", str(c.procs[US].data_dir), "--out", str(backup)
        )
        assert rc == 0, err
        for i in range(5):  # IAM writes after the backup: the peer's generation moves ahead
            await iam.CreateUser(ipb.CreateUserRequest(user_name=f"later{i}"))
        await c.wait_iam()
    finally:
        await ch.close()

    await restore_in_place(c, US, backup)
    ch = channel(c.procs[US].addr, lambda: admin)
    try:
        await ipbg.IAMStub(ch).DeleteAccessKey(
            ipb.DeleteAccessKeyRequest(user_name="app", access_key_id=made.access_key_id)
        )
    finally:
        await ch.close()
    assert await _iam_code(c, US, leaked) == grpc.StatusCode.UNAUTHENTICATED
    await eventually(
        lambda: _iam_refused(c, EU, leaked), within=15, what="the revoked key refused in EU"
    )
    ack = await c.wait_iam()  # both Regions at the restored IAM Region's version
    assert ack.holder == US


async def _iam_code(c: ProcCluster, region: str, token: str) -> grpc.StatusCode:
    ch = channel(c.procs[region].addr, lambda: token)
    try:
        await pbg.SecretsManagerStub(ch).ListSecrets(pb.ListSecretsRequest(), timeout=5)
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    finally:
        await ch.close()
    return grpc.StatusCode.OK


async def _iam_ok(c: ProcCluster, region: str, token: str) -> bool:
    return await _iam_code(c, region, token) == grpc.StatusCode.OK


async def _iam_refused(c: ProcCluster, region: str, token: str) -> bool:
    return await _iam_code(c, region, token) == grpc.StatusCode.UNAUTHENTICATED


def _as_before_incarnations(data_dir: Path) -> None:
    """What a data dir of a release without incarnations looks like after the upgrade's
    migration: no meta 'incarnation' (its next start makes one), '' in repl_applied/cursor."""
    with closing(sqlite3.connect(data_dir / "secrets.db")) as conn:
        conn.execute("DELETE FROM meta WHERE k = 'incarnation'")
        conn.execute("UPDATE repl_applied SET incarnation = ''")
        conn.execute("UPDATE repl_cursor SET incarnation = ''")
        conn.commit()


async def test_an_upgraded_pair_adopts_incarnations_without_a_snapshot(
    procs2: ProcCluster,
) -> None:
    """Both Regions upgraded from a release without incarnations (positions applied, no
    incarnation recorded): the replica adopts the source's first incarnation, as the source
    continues from the very position applied, instead of asking for a full snapshot."""
    c = procs2
    await create(c, "a", "a1")
    await put(c, US, "a", "a2")
    await eventually(lambda: _is(c, EU, "a", "a2"), what="a2 in EU")
    for region in (US, EU):
        await c.kill(region, signal.SIGTERM)  # an upgrade: stopped, not crashed
        _as_before_incarnations(c.procs[region].data_dir)
    await c.restart(US)
    await c.restart(EU)
    await put(c, US, "a", "a3")
    await eventually(lambda: _is(c, EU, "a", "a3"), what="a3 in EU")
    await eventually(lambda: converged_p(c, "a", (US, EU)), what="a converged")
    with closing(sqlite3.connect(c.procs[EU].data_dir / "secrets.db")) as conn:
        (adopted,) = conn.execute(
            "SELECT incarnation FROM repl_applied WHERE source_region = ?", (US,)
        ).fetchone()
    with closing(sqlite3.connect(c.procs[US].data_dir / "secrets.db")) as conn:
        (mine,) = conn.execute("SELECT v FROM meta WHERE k = 'incarnation'").fetchone()
    assert adopted == bytes(mine).decode()
    for region in (US, EU):
        logs = c.procs[region].stderr().decode()
        assert "new incarnation" not in logs and "snapshot" not in logs, logs[-3000:]
