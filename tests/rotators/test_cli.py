"""`smgrpc rotator postgresql` as a real process: it serves Invoke, calls the Region back,
rotates a real PostgreSQL user, logs no password, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import grpc

from smgrpc._pb.rotation.v1 import rotation_pb2_grpc as rpbg
from smgrpc.app import Region
from tests.api.helpers import create, get
from tests.conftest import CANARY, FakeClock
from tests.harness import ROOT, SMGRPC, free_port
from tests.rotators import pg
from tests.rotators.conftest import STEPS, begin_rotation, function_credential
from tests.rotators.test_postgresql import can_login, db_json, role


def _spawn(argv: list[str], out: Any) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMGRPC_")}
    return subprocess.Popen(argv, stdout=out, stderr=out, cwd=ROOT, env=env)


async def _ready(addr: str, proc: subprocess.Popen[bytes], within: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        assert proc.poll() is None, "the rotator exited early"
        async with grpc.aio.insecure_channel(addr) as ch:
            try:
                await asyncio.wait_for(ch.channel_ready(), 0.5)
                return
            except TimeoutError:
                pass
    raise AssertionError(f"the rotator did not listen on {addr}")


async def test_rotator_process_rotates_and_stops_on_sigterm(
    region: Region, clock: FakeClock, stub: Any, tmp_path: Path, postgres: pg.Cluster
) -> None:
    creds = await function_credential(region, tmp_path)
    old = f"{CANARY}-cli"
    name = role(postgres, old)
    arn = (await create(stub, f"db/{name}", db_json(postgres, name, old))).arn
    ev = await begin_rotation(region, clock, arn)
    port = free_port()
    err = (tmp_path / "rotator.err").open("wb")
    argv = [*SMGRPC, "rotator", "postgresql", "--listen", f"127.0.0.1:{port}",
            "--endpoint", f"127.0.0.1:{region.port}", "--credentials-file", str(creds),
            "--log-level", "DEBUG"]  # fmt: skip
    proc = _spawn(argv, err)
    try:
        await _ready(f"127.0.0.1:{port}", proc)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
            fn = rpbg.RotationFunctionStub(ch)  # type: ignore[no-untyped-call]
            for step in STEPS:
                ev.step = step
                await fn.Invoke(ev, timeout=30)
        proc.send_signal(signal.SIGTERM)
        rc = await asyncio.to_thread(proc.wait, 15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        err.close()
    assert rc == 0
    new = json.loads((await get(stub, arn)).secret_string)["password"]
    assert await can_login(postgres, name, new)
    assert not await can_login(postgres, name, old)
    log = (tmp_path / "rotator.err").read_text()
    assert log.count("step done") == 4 and "signal received: stopping" in log
    assert CANARY not in log and new not in log
    assert creds.read_text().strip().split(":")[1] not in log


def test_rotator_refuses_bad_settings(tmp_path: Path) -> None:
    creds = tmp_path / "creds"
    creds.write_text("not a credential\n")
    creds.chmod(0o600)
    base = [*SMGRPC, "rotator", "postgresql", "--credentials-file", str(creds)]
    cases = {
        ("--listen", "127.0.0.1:0", "--endpoint", "127.0.0.1:1"): "is not one <AccessKeyId>",
        ("--listen", "0.0.0.0:0", "--endpoint", "127.0.0.1:1"): "is not a loopback address",
        ("--listen", "127.0.0.1:0", "--endpoint", "127.0.0.1:1", "--tls-cert", str(creds)): (
            "--tls-cert and --tls-key go together"
        ),
    }
    for args, message in cases.items():
        out = subprocess.run([*base, *args], capture_output=True, cwd=ROOT, timeout=30, check=False)
        assert out.returncode == 2, out
        assert message in out.stderr.decode(), out.stderr
