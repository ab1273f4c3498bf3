"""Start-up refusals around the master key (§D row 15, §C.9 canary)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from tests.conftest import pb
from tests.harness import Servers, channel_stub, snapshot, write_key_file

SECRET_NAME = "mk/db-password"
SECRET_VALUE = "mk-plaintext-4b1d"


def _serve_args(data_dir: Path, key: Path) -> list[str]:
    return [
        "serve",
        "--region",
        "us-east-1",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        str(data_dir),
        "--master-key-file",
        str(key),
    ]


def _assert_names_no_secret(stderr: bytes) -> None:
    assert SECRET_NAME.encode() not in stderr
    assert SECRET_VALUE.encode() not in stderr
    assert b"Traceback" not in stderr


async def test_wrong_master_key_refuses_to_start_and_modifies_nothing(
    servers: Servers, tmp_path: Path
) -> None:
    server = await servers.start()
    ch, stub = await channel_stub(server)
    try:
        await stub.CreateSecret(
            pb.CreateSecretRequest(name=SECRET_NAME, secret_string=SECRET_VALUE)
        )
    finally:
        await ch.close()
    assert await server.terminate() == 0
    data = server.data_dir
    right_key = data / "master.key"
    wrong_key = tmp_path / "wrong.key"
    write_key_file(wrong_key)

    # After a clean stop: nothing at all may change, not even a -wal/-shm appearing.
    before = snapshot(data)
    assert list(before) == ["secrets.db"]
    t0 = time.monotonic()
    r = servers.run_cli(*_serve_args(data, wrong_key))
    elapsed = time.monotonic() - t0
    assert r.returncode != 0
    assert b"master key does not match" in r.stderr, r.stderr
    assert elapsed < 5.0
    _assert_names_no_secret(r.stderr)
    assert snapshot(data) == before

    # After a crash (a -wal with committed pages is left behind): the database and the -wal are
    # untouched (the -shm is SQLite's transient wal-index, which any reader may rebuild).
    server = await servers.start(data)
    ch, stub = await channel_stub(server)
    try:
        await stub.CreateSecret(pb.CreateSecretRequest(name="mk/second", secret_string="second"))
    finally:
        await ch.close()
    server.kill()
    before = snapshot(data)
    assert "secrets.db-wal" in before
    r = servers.run_cli(*_serve_args(data, wrong_key))
    assert r.returncode != 0 and b"master key does not match" in r.stderr, r.stderr
    after = snapshot(data)
    assert {k: v for k, v in after.items() if not k.endswith("-shm")} == {
        k: v for k, v in before.items() if not k.endswith("-shm")
    }

    # The right key still opens everything: the refusals damaged nothing.
    server = await servers.start(data, "--master-key-file", str(right_key))
    ch, stub = await channel_stub(server)
    try:
        for name, value in ((SECRET_NAME, SECRET_VALUE), ("mk/second", "second")):
            got = await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id=name))
            assert got.secret_string == value
    finally:
        await ch.close()
    assert await server.terminate() == 0


async def test_key_file_readable_by_others_is_refused(servers: Servers, tmp_path: Path) -> None:
    key = tmp_path / "open.key"
    write_key_file(key, mode=0o644)
    data = tmp_path / "data"
    r = servers.run_cli(*_serve_args(data, key))
    assert r.returncode != 0
    assert b"has mode 0644" in r.stderr and b"chmod 600" in r.stderr, r.stderr
    assert b"Traceback" not in r.stderr
    assert not data.exists(), "nothing may be created before the key is accepted"


async def test_existing_data_dir_with_open_key_file_is_refused(
    servers: Servers, tmp_path: Path
) -> None:
    """The right key, but world-readable: refused all the same, the data dir untouched."""
    server = await servers.start()
    assert await server.terminate() == 0
    key = tmp_path / "copy.key"
    shutil.copyfile(server.data_dir / "master.key", key)
    key.chmod(0o640)
    before = snapshot(server.data_dir)
    r = servers.run_cli(*_serve_args(server.data_dir, key))
    assert r.returncode != 0 and b"has mode 0640" in r.stderr, r.stderr
    assert snapshot(server.data_dir) == before


async def test_missing_explicit_key_file_is_refused(servers: Servers, tmp_path: Path) -> None:
    key = tmp_path / "nope" / "missing.key"
    data = tmp_path / "data"
    r = servers.run_cli(*_serve_args(data, key))
    assert r.returncode != 0
    assert b"does not exist" in r.stderr and str(key).encode() in r.stderr, r.stderr
    assert b"Traceback" not in r.stderr
    assert not key.exists(), "an explicit key file is never generated"
    assert not data.exists()


async def test_malformed_key_file_is_refused(servers: Servers, tmp_path: Path) -> None:
    for content in (b"not base64 at all!!\n", b"c2hvcnQ=\n", b""):
        key = tmp_path / "bad.key"
        key.write_bytes(content)
        key.chmod(0o600)
        r = servers.run_cli(*_serve_args(tmp_path / "data", key))
        assert r.returncode != 0
        assert b"is not a base64 256-bit key" in r.stderr, r.stderr
        assert b"Traceback" not in r.stderr


async def test_lost_default_key_is_not_regenerated_over_existing_data(
    servers: Servers, tmp_path: Path
) -> None:
    """A data dir with data but no master.key: refused, and no new key is generated in its place."""
    server = await servers.start()
    assert await server.terminate() == 0
    data = server.data_dir
    (data / "master.key").unlink()
    before = snapshot(data)
    r = servers.run_cli("serve", "--listen", "127.0.0.1:0", "--data-dir", str(data))
    assert r.returncode == 2, r.stderr
    assert (
        r.stderr
        == (
            f"smgrpc: master key file {data / 'master.key'} does not exist (the data in this dir "
            "is encrypted under it)\n"
        ).encode()
    )
    assert not (data / "master.key").exists()
    assert snapshot(data) == before
