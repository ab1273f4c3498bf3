"""scripts/cluster up|status|down and the README's Multi-Region walkthrough, as a user runs them.

Three real `smgrpc serve` processes on free loopback ports, driven with .venv/bin/grpcurl using
exactly the request bodies the README shows (checked by test_readme_shows_this_walkthrough).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import subprocess
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from smgrpc.config import from_args

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = ROOT / "scripts" / "cluster"
GRPCURL = ROOT / ".venv" / "bin" / "grpcurl"
SERVICE = "smgrpc.secretsmanager.v1.SecretsManager"
US, EU, AP = "us-east-1", "eu-west-1", "ap-southeast-2"
README = ROOT / "README.md"

# The walkthrough, step by step: (Region, operation, request body). The README shows these.
CREATE = '{"Name":"demo/db","SecretString":"hunter2","AddReplicaRegions":[{"Region":"eu-west-1"}]}'
GET = '{"SecretId":"demo/db"}'
REPLICATE = '{"SecretId":"demo/db","AddReplicaRegions":[{"Region":"ap-southeast-2"}]}'
STOP = '{"SecretId":"demo/db"}'
PUT = '{"SecretId":"demo/db","SecretString":"rotated"}'
REPLICA_MSG = (
    "Operation not permitted on a replica secret. Call must be made in primary secret's region."
)


def _free_base_port() -> int:
    """A port P with P, P+1 and P+2 free on 127.0.0.1."""
    for _ in range(200):
        base = random.randint(20000, 60000)
        socks = []
        try:
            for port in range(base, base + 3):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no three consecutive free ports")


@dataclass
class Cluster:
    env: dict[str, str]
    state: Path
    ports: dict[str, int]

    def run(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(CLUSTER), *args],
            env=self.env,
            cwd=ROOT,
            text=True,
            capture_output=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def pids(self) -> dict[str, int]:
        run = self.state / "run"
        return {p.stem: int(p.read_text()) for p in run.glob("*.pid")} if run.exists() else {}

    def grpcurl(self, region: str, op: str, body: str) -> tuple[int, str]:
        # The cluster's admin credential, as the README walkthrough passes it.
        token = (self.state / US / "admin.token").read_text().strip()
        done = subprocess.run(
            [
                str(GRPCURL),
                "-plaintext",
                "-H",
                f"authorization: Bearer {token}",
                "-d",
                body,
                f"127.0.0.1:{self.ports[region]}",
                f"{SERVICE}/{op}",
            ],
            text=True,
            capture_output=True,
            timeout=30,
        )
        return done.returncode, done.stdout + done.stderr

    def call(self, region: str, op: str, body: str) -> dict[str, Any]:
        code, out = self.grpcurl(region, op, body)
        assert code == 0, f"{op} in {region} failed:\n{out}"
        result: dict[str, Any] = json.loads(out)
        return result

    def eventually(
        self, region: str, op: str, body: str, check: Any, timeout: float = 30
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        out = ""
        while time.monotonic() < deadline:
            code, out = self.grpcurl(region, op, body)
            if code == 0 and check(json.loads(out)):
                result: dict[str, Any] = json.loads(out)
                return result
            time.sleep(0.2)
        raise AssertionError(f"{op} in {region} never satisfied the check; last answer:\n{out}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by whoever adopted it) is not running
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in "ZX"
    except OSError:
        return True


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    base = _free_base_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMGRPC_")}
    env |= {"SMGRPC_CLUSTER_DIR": str(tmp_path / "cluster"), "SMGRPC_CLUSTER_BASE_PORT": str(base)}
    c = Cluster(env, tmp_path / "cluster", {US: base, EU: base + 1, AP: base + 2})
    try:
        yield c
    finally:
        pids = c.pids()
        down = c.run("down")
        for region, pid in pids.items():  # never leave a server behind, whatever happened
            if _alive(pid):
                os.kill(pid, 9)
                raise AssertionError(
                    f"{region} (pid {pid}) survived `scripts/cluster down`:\n"
                    f"{down.stdout}{down.stderr}"
                )


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_cluster_up_walkthrough_status_down(cluster: Cluster) -> None:
    up = cluster.run("up")
    assert up.returncode == 0, up.stdout + up.stderr
    for region, port in cluster.ports.items():
        assert re.search(rf"^{region}\s+127\.0\.0\.1:{port}$", up.stdout, re.M), up.stdout
    pids = cluster.pids()
    assert set(pids) == {US, EU, AP} and all(_alive(p) for p in pids.values())
    secret = cluster.state / "cluster.secret"
    assert secret.stat().st_mode & 0o777 == 0o600
    token = cluster.state / US / "admin.token"
    assert f"  {token}\n" in up.stdout and token.stat().st_mode & 0o777 == 0o600
    assert not (cluster.state / EU / "admin.token").exists()  # only the IAM Region makes one

    again = cluster.run("up")  # idempotent: no second set of servers
    assert again.returncode == 0, again.stdout + again.stderr
    assert cluster.pids() == pids
    assert again.stderr.count("already running") == 3

    # 1. create in us-east-1 with a replica in eu-west-1
    created = cluster.call(US, "CreateSecret", CREATE)
    assert created["ARN"].startswith("arn:aws:secretsmanager:us-east-1:")
    assert [r["Region"] for r in created["ReplicationStatus"]] == [EU]
    # 2. read it in eu-west-1 once replication caught up
    got = cluster.eventually(EU, "GetSecretValue", GET, lambda r: r.get("SecretString"))
    assert got["SecretString"] == "hunter2"
    assert got["ARN"] == created["ARN"].replace(US, EU)
    assert got["VersionId"] == created["VersionId"]
    # the replica refuses writes until it is promoted
    code, out = cluster.grpcurl(EU, "PutSecretValue", PUT)
    assert code != 0 and REPLICA_MSG in out and "InvalidParameterException" in out
    # 3. replicate to ap-southeast-2 as well
    rep = cluster.call(US, "ReplicateSecretToRegions", REPLICATE)
    assert {r["Region"] for r in rep["ReplicationStatus"]} == {EU, AP}
    cluster.eventually(AP, "GetSecretValue", GET, lambda r: r.get("SecretString") == "hunter2")
    cluster.eventually(
        US,
        "DescribeSecret",
        GET,
        lambda r: (
            {s["Region"]: s["Status"] for s in r.get("ReplicationStatus", [])}
            == {EU: "InSync", AP: "InSync"}
        ),
    )
    # 4. promote the eu-west-1 replica to a standalone primary
    stopped = cluster.call(EU, "StopReplicationToReplica", STOP)
    assert stopped["ARN"] == created["ARN"].replace(US, EU)
    # 5. it takes writes now
    put = cluster.call(EU, "PutSecretValue", PUT)
    assert put["VersionStages"] == ["AWSCURRENT"]
    assert cluster.call(EU, "GetSecretValue", GET)["SecretString"] == "rotated"
    assert cluster.call(US, "GetSecretValue", GET)["SecretString"] == "hunter2"

    status = cluster.run("status")
    assert status.returncode == 0, status.stdout + status.stderr
    lines = status.stdout.strip().splitlines()
    assert len(lines) == 3
    for line, (region, port) in zip(lines, cluster.ports.items(), strict=True):
        assert re.fullmatch(
            rf"{region}\s+127\.0\.0\.1:{port}\s+pid {pids[region]}\s+SERVING", line.strip()
        ), line

    down = cluster.run("down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert not any(_alive(p) for p in pids.values())
    assert cluster.pids() == {}
    assert (cluster.state / US / "secrets.db").exists()  # data kept without --purge
    status = cluster.run("status")
    assert status.returncode == 3
    assert status.stdout.count(" down") == 3 and "SERVING" not in status.stdout

    purge = cluster.run("down", "--purge")
    assert purge.returncode == 0, purge.stdout + purge.stderr
    assert not cluster.state.exists()


def _readme_section() -> str:
    text = README.read_text()
    match = re.search(r"^## Multi-Region\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, "README.md has no '## Multi-Region' section"
    return match.group(1)


def test_readme_shows_this_walkthrough() -> None:
    section = _readme_section()
    for region_var, op, body in (
        ("$US", "CreateSecret", CREATE),
        ("$EU", "GetSecretValue", GET),
        ("$EU", "PutSecretValue", PUT),
        ("$US", "ReplicateSecretToRegions", REPLICATE),
        ("$AP", "GetSecretValue", GET),
        ("$EU", "StopReplicationToReplica", STOP),
    ):
        expected = f"-d '{body}' {region_var} $SM/{op}"
        assert expected in section, f"README walkthrough lacks: {expected}"


def test_readme_toml_example_is_accepted(tmp_path: Path) -> None:
    blocks = re.findall(r"```toml\n(.*?)```", _readme_section(), re.S)
    assert blocks, "the Multi-Region section shows a TOML config"
    for block in blocks:
        data = tomllib.loads(block)
        path = tmp_path / "region.toml"
        path.write_text(block)
        cfg = from_args(argparse.Namespace(config=str(path), peer=None), env={})
        assert cfg.region == data["region"]
        assert dict(cfg.peers) == data["peers"]
        assert cfg.cluster_secret_file is not None


def test_up_on_a_busy_port_creates_nothing(cluster: Cluster) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", cluster.ports[EU]))
        taken.listen()
        up = cluster.run("up")
    assert up.returncode == 1, up.stdout + up.stderr
    assert f"127.0.0.1:{cluster.ports[EU]} is already in use by another process" in up.stderr
    assert "nothing was created" in up.stderr
    assert not cluster.state.exists(), "no cluster secret, master key or data dir before the check"


@pytest.mark.slow
def test_status_does_not_take_a_foreign_server_for_a_region(cluster: Cluster) -> None:
    """Another process answering health on a Region's port is not that Region."""
    port = cluster.ports[US]
    foreign = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "smgrpc"),
            "serve",
            "--listen",
            f"127.0.0.1:{port}",
            "--data-dir",
            str(cluster.state.parent / "foreign"),
        ],
        env=cluster.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while GRPCURL.exists() and time.monotonic() < deadline:
            probe = subprocess.run(
                [str(GRPCURL), "-plaintext", f"127.0.0.1:{port}", "grpc.health.v1.Health/Check"],
                capture_output=True,
                text=True,
            )
            if "SERVING" in probe.stdout:
                break
            time.sleep(0.1)
        status = cluster.run("status")
        assert status.returncode == 3, status.stdout + status.stderr
        line = status.stdout.splitlines()[0]
        assert re.fullmatch(
            rf"{US}\s+127\.0\.0\.1:{port}\s+pid -\s+down \(port in use by another process\)",
            line.strip(),
        ), line
        assert "SERVING" not in status.stdout
    finally:
        foreign.terminate()
        foreign.wait(timeout=30)
