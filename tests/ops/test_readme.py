"""The README's "Backup and restore" and "Key rotation" commands, run verbatim."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
from pathlib import Path

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from tests.harness import ROOT, SMGRPC, Servers, channel_stub, servers

__all__ = ["servers"]


def commands(section: str) -> list[list[str]]:
    """The `.venv/bin/smgrpc ...` lines of the first sh block under `### <section>`."""
    text = (ROOT / "README.md").read_text()
    block = re.search(rf"### {re.escape(section)}\n\n```sh\n(.*?)```", text, re.S)
    assert block is not None, section
    joined = block.group(1).replace("\\\n", " ")
    return [shlex.split(line) for line in joined.splitlines() if line.startswith(".venv/bin/")]


async def run(cwd: Path, argv: list[str]) -> str:
    assert argv[0] == ".venv/bin/smgrpc"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMGRPC_")}
    proc = await asyncio.create_subprocess_exec(
        *SMGRPC,
        *argv[1:],
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, (argv, err.decode())
    return out.decode()


async def test_readme_backup_restore_and_key_rotation(servers: Servers, tmp_path: Path) -> None:
    data = tmp_path / "smgrpc-data" / "us-east-1"
    server = await servers.start(data)
    ch, stub = await channel_stub(server)
    await stub.CreateSecret(pb.CreateSecretRequest(name="db", secret_string="s3cret"))
    await ch.close()
    await run(
        tmp_path,
        [".venv/bin/smgrpc", "kms", "create-key", "--alias", "alias/app", "--data-dir", str(data)],
    )
    backup, key_rotation = commands("Backup and restore"), commands("Key rotation")
    assert [c[1] for c in backup] == ["backup", "restore", "serve"]
    assert [c[1:3] for c in key_rotation[:2]] == [
        ["kms", "rotate-key"],
        ["kms", "rotate-master-key"],
    ]
    assert key_rotation[2][1] == "serve"
    for argv in backup[:2]:  # the backup runs while the server serves
        await run(tmp_path, argv)
    await run(tmp_path, key_rotation[0])
    await server.terminate()
    await run(tmp_path, key_rotation[1])  # the server stopped
    for argv in (backup[2], key_rotation[2]):
        assert argv[argv.index("--data-dir") + 1].endswith("us-east-1")
        d = tmp_path / argv[argv.index("--data-dir") + 1]
        key = tmp_path / argv[argv.index("--master-key-file") + 1]
        again = await servers.start(
            d, "--master-key-file", str(key), "--admin-token-file", str(data / "admin.token")
        )
        ch, stub = await channel_stub(again)
        got = await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="db"))
        assert got.secret_string == "s3cret"
        await ch.close()
        await again.terminate()
