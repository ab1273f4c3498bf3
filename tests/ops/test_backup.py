"""`smgrpc backup` / `smgrpc restore` with real server processes and the real CLI."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
import uuid
from pathlib import Path

import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from tests.harness import ROOT, SMGRPC, Servers, channel_stub, servers, write_key_file

__all__ = ["servers"]


async def cli(*argv: str, timeout: float = 60.0) -> tuple[int, str, str]:
    """The real `smgrpc` command as a child process (the loop keeps serving meanwhile)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMGRPC_")}
    proc = await asyncio.create_subprocess_exec(
        *SMGRPC,
        *argv,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_backup_while_writing_then_restore_serves_every_acknowledged_write(
    servers: Servers, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    server = await servers.start(data)
    ch, stub = await channel_stub(server)
    acked: list[tuple[float, str, str]] = []  # (acknowledged at, name, value)
    stop = asyncio.Event()

    async def writer() -> None:
        i = 0
        while not stop.is_set():
            name, value = f"s{i:05d}", f"value-{uuid.uuid4()}"
            await stub.CreateSecret(pb.CreateSecretRequest(name=name, secret_string=value))
            acked.append((time.monotonic(), name, value))
            i += 1

    task = asyncio.create_task(writer())
    await asyncio.sleep(1.0)
    started = time.monotonic()
    rc, out, err = await cli("backup", "--data-dir", str(data), "--out", str(tmp_path / "b.db"))
    finished = time.monotonic()
    await asyncio.sleep(0.3)
    stop.set()
    await task
    await ch.close()
    assert rc == 0, err
    shown = json.loads(out)
    before = [(n, v) for t, n, v in acked if t < started]
    during = [t for t, _, _ in acked if started <= t <= finished]
    print(
        f"[figure] {len(before)} writes before the backup, {len(during)} during it "
        f"({finished - started:.2f}s incl. CLI start), backup {shown['Bytes']} bytes"
    )
    assert len(before) > 20
    assert len(during) > 0  # the server kept acknowledging writes while the backup ran
    assert shown["Region"] == "us-east-1" and shown["Secrets"] >= len(before)
    assert "ciphertext only" in err and "master key" in err
    assert (tmp_path / "b.db").stat().st_mode & 0o777 == 0o600
    blob = (tmp_path / "b.db").read_bytes()
    assert not any(v.encode() in blob for _, v in before)  # no value in the clear

    await server.terminate()
    restored = tmp_path / "restored"
    rc, out, err = await cli(
        "restore",
        "--from",
        str(tmp_path / "b.db"),
        "--data-dir",
        str(restored),
        "--master-key-file",
        str(data / "master.key"),
    )
    assert rc == 0, err
    assert json.loads(out)["Incarnation"]
    shutil.copy2(data / "admin.token", tmp_path / "admin.token")
    again = await servers.start(
        restored,
        "--master-key-file",
        str(data / "master.key"),
        "--admin-token-file",
        str(tmp_path / "admin.token"),
    )
    ch, stub = await channel_stub(again)
    try:
        for name, value in before:
            got = await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id=name))
            assert got.secret_string == value
    finally:
        await ch.close()


async def test_restore_refuses_a_wrong_key_and_a_used_dir_and_the_server_refuses_it_too(
    servers: Servers, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    server = await servers.start(data)
    ch, stub = await channel_stub(server)
    await stub.CreateSecret(pb.CreateSecretRequest(name="kept", secret_string="v"))
    await ch.close()
    out_file = tmp_path / "b.db"
    assert (await cli("backup", "--data-dir", str(data), "--out", str(out_file)))[0] == 0
    rc, _, err = await cli("backup", "--data-dir", str(data), "--out", str(out_file))
    assert (rc, err) == (2, f"smgrpc: {out_file} already exists; not overwritten\n")
    rc, _, err = await cli("backup", "--data-dir", str(tmp_path / "nope"), "--out", "x.db")
    assert rc == 2 and "no Region in" in err
    await server.terminate()

    wrong = tmp_path / "wrong.key"
    write_key_file(wrong)
    target = tmp_path / "restored"
    rc, _, err = await cli(
        "restore",
        "--from",
        str(out_file),
        "--data-dir",
        str(target),
        "--master-key-file",
        str(wrong),
    )
    assert rc == 2 and "master key does not match" in err, err
    assert not target.exists()  # refused before anything was written
    used = tmp_path / "used"
    used.mkdir()
    (used / "x").write_text("")
    rc, _, err = await cli("restore", "--from", str(out_file), "--data-dir", str(used))
    assert rc == 2 and "not an empty directory" in err
    assert sorted(p.name for p in used.iterdir()) == ["x"]
    rc, _, err = await cli(
        "restore", "--from", str(tmp_path / "wrong.key"), "--data-dir", str(target)
    )
    assert rc == 2 and "is not a backup of a Region" in err

    # Restored without the key check: the server refuses the wrong key, clearly, and exits.
    rc, _, err = await cli("restore", "--from", str(out_file), "--data-dir", str(target))
    assert rc == 0, err
    done = servers.run_cli(
        "serve",
        "--region",
        "us-east-1",
        "--data-dir",
        str(target),
        "--master-key-file",
        str(wrong),
        "--listen",
        "127.0.0.1:0",
    )
    assert done.returncode == 2
    assert b"master key does not match keyring of this data directory" in done.stderr
    done = servers.run_cli(
        "serve", "--region", "us-east-1", "--data-dir", str(target), "--listen", "127.0.0.1:0"
    )
    assert done.returncode == 2 and b"does not exist" in done.stderr  # no key: not generated


@pytest.mark.parametrize("bad", ["garbage", "empty"])
async def test_restore_of_a_damaged_backup_writes_nothing(tmp_path: Path, bad: str) -> None:
    src = tmp_path / "b.db"
    src.write_bytes(b"" if bad == "empty" else b"SQLite format 3\x00" + os.urandom(5000))
    rc, _, err = await cli("restore", "--from", str(src), "--data-dir", str(tmp_path / "d"))
    assert rc == 2 and "smgrpc: " in err and "Traceback" not in err, err
    assert not (tmp_path / "d").exists()
