"""Master key rotation (kill -9 at every step, real processes) and customer key rotation."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sqlite3
from contextlib import closing
from dataclasses import replace
from pathlib import Path
from typing import Any

import grpc
import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc.app import Region, open_keyring
from smgrpc.cli.kms_rotate import rotate_key
from smgrpc.cli.main import main as cli_main
from smgrpc.config import Config
from smgrpc.crypto.keyring import KmsError
from smgrpc.crypto.master import load_master_key
from smgrpc.crypto.rekey import rewrap
from smgrpc.storage.rekey import Rekeyed, rekey
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


@pytest.fixture(scope="module")
def populated_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """populate() once per module (two real server key loads, ~8 s); see `populated`."""
    root = tmp_path_factory.mktemp("populated")
    made = Servers(root)
    try:
        asyncio.run(populate(made, root / "data"))
    finally:
        made.cleanup()
    return root / "data"


@pytest.fixture
def populated(populated_once: Path, tmp_path: Path) -> Path:
    """A private copy (modes kept) of the populated data dir, stopped cleanly by SIGTERM:
    byte for byte what populate() leaves, without each test starting its servers again."""
    data = tmp_path / "data"
    shutil.copytree(populated_once, data)
    return data


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


def hook_env(**hook: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMGRPC_")}
    return env | hook


async def paused_rotation(
    data: Path, new_key: Path, step: str, seconds: int = 300
) -> asyncio.subprocess.Process:
    """`smgrpc kms rotate-master-key`, paused at `step` by the test hook (it goes on after
    `seconds`)."""
    env = hook_env(
        SMGRPC_TEST_HOOKS="1",
        SMGRPC_TEST_REKEY_PAUSE_AT=step,
        SMGRPC_TEST_REKEY_PAUSE_SECONDS=str(seconds),
    )
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
    while not seen.endswith(f"smgrpc: test hook: paused at {step} for {seconds} s\n".encode()):
        line = await asyncio.wait_for(proc.stderr.readline(), 30)
        assert line, seen  # it paused, and did not exit
        seen += line
    return proc


async def rotate_until_killed(data: Path, new_key: Path, step: str) -> None:
    proc = await paused_rotation(data, new_key, step)
    proc.send_signal(signal.SIGKILL)  # kill -9 at this step
    assert await proc.wait() == -signal.SIGKILL


@pytest.mark.parametrize("step", STEPS)
async def test_rotate_master_key_killed_at_each_step_starts_with_old_or_new(
    servers: Servers, tmp_path: Path, populated: Path, step: str
) -> None:
    data, new_key = populated, tmp_path / "new.key"
    old_key = data / "master.key"
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


async def test_kms_commands_are_refused_while_a_master_key_rotation_holds_the_dir(
    servers: Servers, tmp_path: Path, populated: Path
) -> None:
    """A `smgrpc kms` command that read the keys with the old master key would write rows no
    key opens once the rotation commits: while the rotation runs, every kms command (and a
    server) is refused with a clear message; nothing is written; the rotation completes."""
    data, new_key = populated, tmp_path / "new.key"
    proc = await paused_rotation(data, new_key, "key-written", seconds=15)
    d = str(data)
    for argv in (
        ("create-key", "--alias", "alias/late"),
        ("rotate-key", "--key-id", "alias/app"),
        ("list-keys",),
    ):
        rc, out, err = await cli("kms", *argv, "--data-dir", d)
        assert (rc, out) == (2, ""), (argv, rc, out, err)
        assert "is being re-keyed by `smgrpc kms rotate-master-key`" in err, err
    done = servers.run_cli(
        "serve", "--region", "us-east-1", "--data-dir", d, "--listen", "127.0.0.1:0"
    )
    assert done.returncode == 2 and b"is being re-keyed" in done.stderr
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err
    rc, out, err = await cli("kms", "list-keys", "--data-dir", d, "--master-key-file", str(new_key))
    assert rc == 0, err
    keys = [json.loads(line) for line in out.splitlines()]
    assert sorted(k["Alias"] for k in keys) == ["alias/app", "alias/aws/secretsmanager"]
    assert {k["KeyMaterialTerm"] for k in keys if k["Alias"] == "alias/app"} == {1}
    server = await servers.start(data, "--master-key-file", str(new_key))
    await serves_everything(server)


async def test_a_key_row_is_never_written_under_a_canary_its_key_did_not_verify(
    tmp_path: Path, clock: object
) -> None:
    """The race without the lock (e.g. a lock the file system does not honour): a kms command
    opened the keys with the old master key, the rotation committed, then it inserts. The
    insert checks the canary in the same statement: refused, nothing written, the dir opens
    with the new key."""
    cfg = make_config(tmp_path)
    async with running(cfg, clock=clock):
        pass
    kms_cfg = Config(region=cfg.region, data_dir=cfg.data_dir)
    store, keyring = await open_keyring(kms_cfg, clock, serve=False)  # type: ignore[arg-type]
    try:
        rec = keyring.new_customer_key("alias/late", "", 1.0)
        material = keyring.new_material(keyring.resolve(None).key_id, 1.0)
        old = cfg.key_path.read_bytes()
        old_key = load_master_key(cfg.key_path, create=False)
        new_key = load_master_key(tmp_path / "new.key", create=True)
        rekey(cfg.db_path, cfg.account, lambda s: rewrap(old_key, new_key, s), lambda _: None)
        with pytest.raises(Rekeyed, match="rotated while this ran"):
            await store.add_kms_key(rec, keyring.canary)
        with pytest.raises(Rekeyed):
            await store.add_kms_material(material, keyring.canary)
        assert old == cfg.key_path.read_bytes()
    finally:
        await store.close()
    with closing(sqlite3.connect(cfg.db_path)) as conn:
        late = conn.execute("SELECT count(*) FROM kms_keys WHERE alias = 'alias/late'")
        assert late.fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM kms_materials").fetchone() == (0,)
    new_cfg = replace(cfg, master_key_file=tmp_path / "new.key")
    async with running(new_cfg, clock=clock) as region:  # every key row opens
        assert region.keyring is not None


async def test_the_rekey_pause_hook_refuses_unless_test_hooks_are_enabled(
    servers: Servers, tmp_path: Path
) -> None:
    data, new_key = tmp_path / "data", tmp_path / "new.key"
    server = await servers.start(data)
    assert await server.terminate() == 0
    proc = await asyncio.create_subprocess_exec(
        *SMGRPC,
        "kms",
        "rotate-master-key",
        "--data-dir",
        str(data),
        "--new-master-key-file",
        str(new_key),
        cwd=ROOT,
        env=hook_env(SMGRPC_TEST_REKEY_PAUSE_AT="checked"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2 and b"SMGRPC_TEST_REKEY_PAUSE_AT is a test hook" in err, err
    assert not new_key.exists()  # refused before anything was done


class _Raced:
    """The store of a `kms rotate-key` that another process beats to every term: before each
    insert, a second real store (another connection to the same file) adds that very term."""

    def __init__(self, store: Any, rival: Any, keyring: Any) -> None:
        self.store, self.rival, self.keyring = store, rival, keyring
        self.tries = 0

    async def kms_keys(self) -> Any:
        return await self.store.kms_keys()

    async def kms_materials(self) -> Any:
        return await self.store.kms_materials()

    async def add_kms_material(self, rec: Any, canary: bytes | None = None) -> bool:
        self.tries += 1
        theirs = self.keyring.new_material(rec.key_id, 2.0)  # same key id and term
        assert theirs.term == rec.term and await self.rival.add_kms_material(theirs)
        return bool(await self.store.add_kms_material(rec, canary))


async def test_rotate_key_never_reports_a_term_it_did_not_write(
    tmp_path: Path, clock: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = make_config(tmp_path)
    async with running(cfg, clock=clock):
        pass
    kms_cfg = Config(region=cfg.region, data_dir=cfg.data_dir)
    store, keyring = await open_keyring(kms_cfg, clock, serve=False)
    rival, _ = await open_keyring(kms_cfg, clock, serve=False)
    try:
        raced = _Raced(store, rival, keyring)
        with pytest.raises(KmsError) as err:
            await rotate_key(raced, keyring, clock, "alias/aws/secretsmanager")  # type: ignore[arg-type]
        assert err.value.code == "ConflictException" and raced.tries == 3
        assert capsys.readouterr().out == ""  # no KeyMaterialTerm printed
        # Once nobody races it, it rotates and prints the term it wrote.
        assert await rotate_key(store, keyring, clock, "alias/aws/secretsmanager") == 0
        shown = json.loads(capsys.readouterr().out)
        terms = [m.term for m in await store.kms_materials() if m.wrapped_material]
        assert shown["KeyMaterialTerm"] == max(terms) == 4
    finally:
        await store.close()
        await rival.close()
