"""Master key rotation (kill -9 at every step, real processes) and customer key rotation."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import grpc
import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc.app import Region
from smgrpc.cli.main import main as cli_main
from tests.conftest import admin_channel, aws_error, make_config, running
from tests.harness import ROOT, SMGRPC, ServerProcess, Servers, channel_stub, servers
from tests.ops.test_backup import cli

__all__ = ["servers"]
STEPS = ["checked", "key-written", "rewrapped", "committed"]
SECRETS = {"plain": "p-value", "custom": "c-value-1", "rotated": "r-value-2"}


async def populate(servers: Servers, data: Path) -> None:
    """A Region with secrets under the default key, a customer key and a rotated material."""
    server = await servers.start(data)
    d = str(data)
    ch, stub = await channel_stub(server)
    try:
        assert (await cli("kms", "create-key", "--alias", "alias/app", "--data-dir", d))[0] == 0
        await asyncio.sleep(2.5)  # the server loads the new key (refresh every 2 s)
        await stub.CreateSecret(pb.CreateSecretRequest(name="plain", secret_string="p-value"))
        await stub.CreateSecret(
            pb.CreateSecretRequest(name="custom", secret_string="c-value-1", kms_key_id="alias/app")
        )
        await stub.CreateSecret(
            pb.CreateSecretRequest(
                name="rotated", secret_string="r-value-1", kms_key_id="alias/app"
            )
        )
        rc, out, err = await cli("kms", "rotate-key", "--key-id", "alias/app", "--data-dir", d)
        assert rc == 0 and json.loads(out)["KeyMaterialTerm"] == 1, err
        await asyncio.sleep(2.5)
        await stub.PutSecretValue(
            pb.PutSecretValueRequest(secret_id="rotated", secret_string="r-value-2")
        )
    finally:
        await ch.close()
    assert await server.terminate() == 0


async def serves_everything(server: ServerProcess) -> None:
    ch, stub = await channel_stub(server)  # the admin token: its access key was re-sealed
    try:
        for name, value in SECRETS.items():
            got = await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id=name))
            assert got.secret_string == value
        old = await stub.GetSecretValue(
            pb.GetSecretValueRequest(secret_id="rotated", version_stage="AWSPREVIOUS")
        )
        assert old.secret_string == "r-value-1"  # under the key's first material
    finally:
        await ch.close()


def refused(servers: Servers, data: Path, key: Path) -> bytes:
    done = servers.run_cli(
        "serve",
        "--region",
        "us-east-1",
        "--data-dir",
        str(data),
        "--master-key-file",
        str(key),
        "--listen",
        "127.0.0.1:0",
    )
    assert done.returncode == 2, done.stderr[-2000:]
    return done.stderr


async def rotate_until_killed(data: Path, new_key: Path, step: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMGRPC_")}
    env["SMGRPC_REKEY_PAUSE_AT"] = step
    proc = await asyncio.create_subprocess_exec(
        *SMGRPC,
        "kms",
        "rotate-master-key",
        "--data-dir",
        str(data),
        "--new-master-key-file",
        str(new_key),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    seen = b""
    while not seen.endswith(f"smgrpc: paused at {step}\n".encode()):
        line = await asyncio.wait_for(proc.stderr.readline(), 30)
        assert line, seen  # it paused, and did not exit
        seen += line
    proc.send_signal(signal.SIGKILL)  # kill -9 at this step
    assert await proc.wait() == -signal.SIGKILL


@pytest.mark.parametrize("step", STEPS)
async def test_rotate_master_key_killed_at_each_step_starts_with_old_or_new(
    servers: Servers, tmp_path: Path, step: str
) -> None:
    data, new_key = tmp_path / "data", tmp_path / "new.key"
    old_key = data / "master.key"
    await populate(servers, data)
    await rotate_until_killed(data, new_key, step)
    committed = step == "committed"
    good, bad = (new_key, old_key) if committed else (old_key, new_key)
    if bad.exists():
        assert b"master key does not match" in refused(servers, data, bad)
    server = await servers.start(data, "--master-key-file", str(good))
    await serves_everything(server)
    assert await server.terminate() == 0
    if not committed:  # run again to completion: then only the new key opens it
        rc, out, err = await cli(
            "kms",
            "rotate-master-key",
            "--data-dir",
            str(data),
            "--new-master-key-file",
            str(new_key),
        )
        assert rc == 0, err
        shown = json.loads(out)
        assert (shown["KmsKeys"], shown["RotatedMaterials"], shown["AccessKeys"]) == (2, 1, 1)
        assert "backups made before now still need it" in err
        assert b"master key does not match" in refused(servers, data, old_key)
        server = await servers.start(data, "--master-key-file", str(new_key))
        await serves_everything(server)
    with closing(sqlite3.connect(data / "secrets.db")) as conn:
        assert conn.execute("SELECT count(*) FROM meta WHERE k = 'rekey'").fetchone() == (0,)


async def test_rotate_master_key_is_refused_under_a_running_server(
    servers: Servers, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    await servers.start(data)
    before = (data / "secrets.db").read_bytes()
    rc, out, err = await cli(
        "kms",
        "rotate-master-key",
        "--data-dir",
        str(data),
        "--new-master-key-file",
        str(tmp_path / "new.key"),
    )
    assert (rc, out) == (2, "")
    assert "in use by a running server" in err and "stop it first" in err
    assert not (tmp_path / "new.key").exists()
    assert (data / "secrets.db").read_bytes() == before
    rc, _, err = await cli(
        "kms",
        "rotate-master-key",
        "--data-dir",
        str(data),
        "--new-master-key-file",
        str(data / "master.key"),
    )
    assert rc == 2  # the current key (and the server is running anyway)


async def kms(region: Region, *argv: str) -> tuple[int, str]:
    import io
    from contextlib import redirect_stdout

    buf = io.StringIO()
    with redirect_stdout(buf):
        rc = await asyncio.to_thread(
            cli_main, ["kms", *argv, "--data-dir", str(region.config.data_dir)]
        )
    return rc, buf.getvalue()


def wrapped_keys(region: Region) -> dict[str, bytes]:
    with closing(sqlite3.connect(region.config.db_path)) as conn:
        rows = conn.execute(
            "SELECT s.name || '/' || v.stages, v.wrapped_key FROM versions v "
            "JOIN secrets s ON s.arn = v.arn"
        ).fetchall()
    return {k: bytes(w) for k, w in rows}


async def wait_term(region: Region, key_id: str, term: int) -> None:
    for _ in range(100):
        if region.keyring.current_term(key_id) >= term:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"term {term} not loaded")


async def test_rotate_key_new_material_for_new_versions_old_still_decrypts(
    tmp_path: Path,
) -> None:
    async with running(make_config(tmp_path)) as region, admin_channel(region) as ch:
        from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg

        stub = pbg.SecretsManagerStub(ch)
        await stub.CreateSecret(pb.CreateSecretRequest(name="s", secret_string="one"))
        default = region.keyring.resolve(None).key_id
        rc, out = await kms(region, "rotate-key", "--key-id", "alias/aws/secretsmanager")
        assert rc == 0 and json.loads(out)["KeyMaterialTerm"] == 1
        await wait_term(region, default, 1)
        await stub.PutSecretValue(pb.PutSecretValueRequest(secret_id="s", secret_string="two"))
        rows = wrapped_keys(region)
        assert len(rows['s/["AWSPREVIOUS"]']) == 60  # term 0 (the original format)
        assert rows['s/["AWSCURRENT"]'][:5] == b"\x01\x00\x00\x00\x01"  # term 1
        got = await stub.GetSecretValue(
            pb.GetSecretValueRequest(secret_id="s", version_stage="AWSPREVIOUS")
        )
        assert got.secret_string == "one"
        assert (
            await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="s"))
        ).secret_string == "two"
        rc, out = await kms(region, "list-keys")
        assert [json.loads(x)["KeyMaterialTerm"] for x in out.splitlines()] == [1]
        rc, _ = await kms(region, "rotate-key", "--key-id", "alias/nope")
        assert rc == 2
    # Material rows are insert-only; a stray re-wrap outside a rotation is refused.
    with closing(sqlite3.connect(region.config.db_path)) as conn:
        for sql in (
            "DELETE FROM kms_materials",
            "UPDATE kms_materials SET material = x'00'",
            "UPDATE kms_materials SET material = zeroblob(60)",
            "UPDATE kms_materials SET term = 7",
            "INSERT OR REPLACE INTO kms_materials SELECT * FROM kms_materials",
            "UPDATE kms_keys SET material = zeroblob(60)",
        ):
            with pytest.raises(sqlite3.IntegrityError, match="kms_"):
                conn.execute(sql)
    # After a restart the rotated material is still there (and still opens both versions).
    async with running(make_config(tmp_path)) as region, admin_channel(region) as ch:
        from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg

        stub = pbg.SecretsManagerStub(ch)
        got = await stub.GetSecretValue(
            pb.GetSecretValueRequest(secret_id="s", version_stage="AWSPREVIOUS")
        )
        assert got.secret_string == "one"


async def test_material_is_rotated_at_the_data_key_bound_and_refuses_past_it(
    tmp_path: Path,
) -> None:
    cfg = make_config(tmp_path, kms_rotate_after=3)
    async with running(cfg) as region, admin_channel(region) as ch:
        from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg

        stub = pbg.SecretsManagerStub(ch)
        default = region.keyring.resolve(None).key_id
        for i in range(3):
            await stub.CreateSecret(pb.CreateSecretRequest(name=f"a{i}", secret_string=f"v{i}"))
        await wait_term(region, default, 1)  # rotated by the key upkeep (every 0.1 s here)
        await stub.CreateSecret(pb.CreateSecretRequest(name="b", secret_string="vb"))
        for i in range(3):
            got = await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id=f"a{i}"))
            assert got.secret_string == f"v{i}"
    with closing(sqlite3.connect(cfg.db_path)) as conn:
        usage = dict(
            ((k, t), n) for k, t, n in conn.execute("SELECT key_id, term, sealed FROM kms_usage")
        )
    assert usage == {(default, 0): 3, (default, 1): 1}
    # Without the upkeep (it runs every hour here), a material refuses past 2 x the bound.
    slow = replace(make_config(tmp_path / "slow", kms_rotate_after=2), key_refresh_interval=3600.0)
    async with running(slow) as region, admin_channel(region) as ch:
        from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg

        stub = pbg.SecretsManagerStub(ch)
        for i in range(4):
            await stub.CreateSecret(pb.CreateSecretRequest(name=f"c{i}", secret_string="x"))
        err = await aws_error(
            stub.CreateSecret(pb.CreateSecretRequest(name="c4", secret_string="x"))
        )
        assert (err.code, err.aws_code) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            "EncryptionFailure",
        )
        assert "data-key limit" in err.message
        err = await aws_error(stub.DescribeSecret(pb.DescribeSecretRequest(secret_id="c4")))
        assert err.aws_code == "ResourceNotFoundException"  # nothing half written
