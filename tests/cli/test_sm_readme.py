"""The README's "Command line" walkthrough, run verbatim (bash -e) against a real server."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

from tests.harness import ROOT, Servers


def walkthrough() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("\n## Command line\n") :]
    m = re.search(r"```sh\n(.*?)```", section, re.S)
    assert m is not None
    return m.group(1)


async def test_readme_walkthrough_runs_verbatim(servers: Servers, tmp_path: Path) -> None:
    # The Quick start layout: the server's data under ./smgrpc-data/us-east-1 of the cwd.
    srv = await servers.start(tmp_path / "smgrpc-data" / "us-east-1")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMGRPC_")}
    env["SMGRPC_ENDPOINT"] = srv.addr  # the README's server is on the default 127.0.0.1:50051
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    proc = await asyncio.create_subprocess_exec(
        "bash",
        "-e",
        "-o",
        "pipefail",
        "-c",
        walkthrough(),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    raw_out, raw_err = await asyncio.wait_for(proc.communicate(), 120)
    out, err = raw_out.decode(), raw_err.decode()
    assert proc.returncode == 0, err
    pem = (tmp_path / "cert.pem").read_text()
    assert pem.count("\n") == 4
    assert pem + "\n" in out  # the multi-line PEM, line for line
    assert '"prod/key"\n' in out and "the same 32 bytes\n" in out
    assert re.search(
        r"^arn:aws:secretsmanager:\S+:secret:dev/db-\w{6}\tdev/db\t[-0-9a-f]{36}$", out, re.M
    )
    assert "\nAWSCURRENT\n" in out
    assert "\nprod/tls\tprod/key\n" in out
    assert "\nprod/tls\tthe web tier's certificate\n" in out
    # --max-items 2, then the rest from the NextToken: three names in all, none twice.
    firsts = re.search(r'\[\n    "([^"]+)",\n    "([^"]+)"\n\]\n\[\n    "([^"]+)"\n\]\n', out)
    assert firsts is not None and sorted(firsts.groups()) == ["dev/db", "prod/key", "prod/tls"]
    assert "\n------------------------\n|    DescribeSecret    |\n+---------+------------+\n" in out
    assert re.search(r"^\|\|  team\s+\|  payments\s+\|\|$", out, re.M)
    assert '"dev/db"\nexit code 254\n' in out
    assert err == (
        "\nAn error occurred (ResourceNotFoundException) when calling the GetSecretValue "
        "operation: Secrets Manager can't find the specified secret.\n"
    )
    assert srv.admin_token() not in out + err
