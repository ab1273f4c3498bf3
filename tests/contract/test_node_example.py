"""examples/node (@grpc/grpc-js + @grpc/proto-loader from npm) against a real server.

Skipped only when Node.js is missing and cannot be installed here (not root); as root (CI)
scripts/ensure-node installs Debian's nodejs and npm first, so the test always runs there.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.app import Region
from tests.conftest import admin_channel, pb

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "node"
ENSURE_NODE = ROOT / "scripts" / "ensure-node"


def node_ready() -> None:
    """Node.js and the example's npm packages, or skip (not root) / fail (root)."""
    if shutil.which("node") is None and os.geteuid() != 0:
        pytest.skip("Node.js is not installed (apt-get install nodejs npm)")
    done = subprocess.run(
        [str(ENSURE_NODE)], capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr
    assert shutil.which("node"), "scripts/ensure-node ran as root but node is still missing"
    assert (EXAMPLE / "node_modules" / "@grpc" / "grpc-js").is_dir(), done.stderr


async def run_example(region: Region, prefix: str) -> list[dict[str, Any]]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "SMGRPC_ENDPOINT": f"127.0.0.1:{region.port}",
        "SMGRPC_TOKEN_FILE": str(region.admin_token_path),
    }
    proc = await asyncio.create_subprocess_exec(
        "node",
        "example.js",
        prefix,
        cwd=EXAMPLE,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    return [json.loads(line) for line in out.decode().splitlines()]


async def test_node_example_creates_reads_lists_and_decodes_error_info(region: Region) -> None:
    await asyncio.to_thread(node_ready)
    prefix = "node-test/"
    steps = await run_example(region, prefix)

    assert [s["step"] for s in steps] == ["created", "created", "read", "listed", "error"]
    first, second, read, listed, error = steps
    names = [f"{prefix}db-password", f"{prefix}api-key"]
    assert [first["name"], second["name"]] == names
    for created, name in ((first, names[0]), (second, names[1])):
        arn = created["arn"]
        assert arn.startswith(f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}-")
        assert len(arn.rsplit("-", 1)[1]) == 6
        assert len(created["versionId"]) == 36  # the example's ClientRequestToken (a UUID)

    # What the example read is what the server holds (checked with the Python stub).
    async with admin_channel(region) as channel:
        stub = pbg.SecretsManagerStub(channel)
        held = await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id=names[0]))
    assert held.arn == first["arn"] and held.version_id == first["versionId"]
    assert read == {
        "step": "read",
        "name": names[0],
        "value": "value-0-from-node",
        "versionId": first["versionId"],
        "versionStages": ["AWSCURRENT"],
    }
    assert held.secret_string == "value-0-from-node"

    # Listed by the name filter, one page at a time (MaxResults 1, NextToken followed).
    assert sorted(listed["names"]) == sorted(names)

    # The ErrorInfo decoded from the grpc-status-details-bin trailer.
    assert error["grpcCode"] == "NOT_FOUND"
    assert error["awsErrorCode"] == "ResourceNotFoundException"
    assert error["reason"] == "RESOURCE_NOT_FOUND" and error["domain"] == "smgrpc"
    assert error["message"] == "Secrets Manager can't find the specified secret."
    assert len(error["requestId"]) == 36


def test_package_lock_pins_what_package_json_names() -> None:
    """package.json pins exact versions and package-lock.json (committed) agrees."""
    package = json.loads((EXAMPLE / "package.json").read_text())
    lock = json.loads((EXAMPLE / "package-lock.json").read_text())
    deps = package["dependencies"]
    assert set(deps) == {"@grpc/grpc-js", "@grpc/proto-loader", "google-proto-files", "protobufjs"}
    for name, version in deps.items():
        assert version[0].isdigit(), f"{name} is not pinned: {version}"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    assert lock["packages"][""]["dependencies"] == deps
