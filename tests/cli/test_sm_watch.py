"""`smgrpc secretsmanager watch`: the WatchSecrets stream printed one JSON object per line."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from typing import Any

from tests.cli.sm import Cli, server_env
from tests.harness import ROOT, SMGRPC, Servers


async def watch(env: dict[str, str], *argv: str) -> asyncio.subprocess.Process:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SMGRPC_")}
    return await asyncio.create_subprocess_exec(
        *SMGRPC,
        "secretsmanager",
        "watch",
        *argv,
        cwd=ROOT,
        env={**base, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        # A shell's background job (`cmd &`, e.g. a CI runner) starts with SIGINT ignored, and
        # children inherit that: the Ctrl-C this test sends would then never arrive.
        preexec_fn=_default_sigint,
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


async def line(proc: asyncio.subprocess.Process, within: float = 20.0) -> Any:
    assert proc.stdout is not None
    raw = await asyncio.wait_for(proc.stdout.readline(), within)  # flushed per event
    assert raw, "watch ended"
    return json.loads(raw)


async def event(proc: asyncio.subprocess.Process) -> Any:
    """The next line that is not a periodic Heartbeat (one may come between any two events
    when the commands in between take longer than the heartbeat interval)."""
    while True:
        got = await line(proc)
        kind = got.get("Type") if isinstance(got, dict) else got[-1]  # --query ending in Type
        if kind != "Heartbeat":
            return got


async def stop(proc: asyncio.subprocess.Process) -> tuple[bytes, bytes]:
    proc.send_signal(signal.SIGINT)
    return await asyncio.wait_for(proc.communicate(), 20)


async def test_watch_prints_the_stream_one_json_per_line(servers: Servers) -> None:
    srv = await servers.start()
    env = server_env(srv)
    sm = Cli(env)
    proc = await watch(env, "--name-prefix", "app/")
    try:
        hello = await line(proc)
        assert hello["Type"] == "Heartbeat" and hello["Sequence"] == 0
        assert hello["Region"] == "us-east-1" and "ARN" not in hello
        sm("create-secret", "--name", "other", "--secret-string", "x").json()  # filtered out
        made = sm("create-secret", "--name", "app/one", "--secret-string", "s3cr3t").json()
        put = sm("put-secret-value", "--secret-id", "app/one", "--secret-string", "v2").json()
        created = await event(proc)
        assert (created["Type"], created["ARN"], created["Name"]) == (
            "Created",
            made["ARN"],
            "app/one",
        )
        assert created["VersionId"] == made["VersionId"] and created["Sequence"] > 0
        added = await event(proc)
        assert (added["Type"], added["VersionId"]) == ("VersionAdded", put["VersionId"])
        assert added["Sequence"] > created["Sequence"]
    finally:
        out, err = await stop(proc)
    assert proc.returncode == 130 and b"Traceback" not in err
    assert b"s3cr3t" not in out + err


async def test_watch_resumes_after_a_sequence_with_query(servers: Servers) -> None:
    srv = await servers.start()
    env = server_env(srv)
    sm = Cli(env)
    for name in ("a", "b", "c"):
        sm("create-secret", "--name", name, "--secret-string", "x").json()
    proc = await watch(env, "--after-sequence", "1", "--query", "[Sequence, Name, Type]")
    try:
        first = await line(proc)
        lines = [await event(proc) for _ in range(2)]
    finally:
        await stop(proc)
    assert first[1] is None and first[2] == "Heartbeat"  # the first message: no secret fields
    assert lines == [[2, "b", "Created"], [3, "c", "Created"]]
