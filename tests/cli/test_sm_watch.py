"""`smgrpc secretsmanager watch`: the WatchSecrets stream printed one JSON object per line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from typing import Any

from tests.cli.sm import Cli, server_env
from tests.harness import ROOT, SMGRPC, Servers


def _line(proc: subprocess.Popen[bytes], within: float = 20.0) -> dict[str, Any]:
    assert proc.stdout is not None
    deadline = time.monotonic() + within
    line = proc.stdout.readline()  # the stream flushes every line
    assert line, f"watch ended: {proc.stderr.read().decode() if proc.stderr else ''}"
    assert time.monotonic() < deadline
    event: dict[str, Any] = json.loads(line)
    return event


async def test_watch_prints_the_stream_one_json_per_line(servers: Servers) -> None:
    srv = await servers.start()
    env = server_env(srv)
    sm = Cli(env)
    base = {k: v for k, v in os.environ.items() if not k.startswith("SMGRPC_")}
    proc = subprocess.Popen(
        [*SMGRPC, "secretsmanager", "watch", "--name-prefix", "app/"],
        cwd=ROOT,
        env={**base, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        hello = _line(proc)
        assert hello["Type"] == "Heartbeat" and hello["Sequence"] == 0
        assert hello["Region"] == "us-east-1" and "ARN" not in hello
        sm("create-secret", "--name", "other", "--secret-string", "x").json()  # filtered out
        made = sm("create-secret", "--name", "app/one", "--secret-string", "s3cr3t").json()
        put = sm("put-secret-value", "--secret-id", "app/one", "--secret-string", "v2").json()
        created = _line(proc)
        assert (created["Type"], created["ARN"], created["Name"]) == (
            "Created",
            made["ARN"],
            "app/one",
        )
        assert created["VersionId"] == made["VersionId"] and created["Sequence"] > 0
        added = _line(proc)
        assert (added["Type"], added["VersionId"]) == ("VersionAdded", put["VersionId"])
        assert added["Sequence"] > created["Sequence"]
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130 and b"Traceback" not in err
    assert b"s3cr3t" not in out + err


async def test_watch_resumes_after_a_sequence_with_query(servers: Servers) -> None:
    srv = await servers.start()
    env = server_env(srv)
    sm = Cli(env)
    for name in ("a", "b", "c"):
        sm("create-secret", "--name", name, "--secret-string", "x").json()
    base = {k: v for k, v in os.environ.items() if not k.startswith("SMGRPC_")}
    proc = subprocess.Popen(
        [
            *SMGRPC,
            "secretsmanager",
            "watch",
            "--after-sequence",
            "1",
            "--query",
            "[Sequence, Name]",
        ],
        cwd=ROOT,
        env={**base, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        lines = [json.loads(proc.stdout.readline()) for _ in range(3)]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
    events = [x for x in lines if x[1] is not None]
    assert events[:2] == [[2, "b"], [3, "c"]]
