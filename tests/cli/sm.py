"""Running `smgrpc secretsmanager ...` in tests: in-process through the real main() (fast), or as
a subprocess of the installed `smgrpc` command (exit codes, streams, the README)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smgrpc.cli.main import main
from tests.harness import ROOT, SMGRPC, ServerProcess


@dataclass
class Run:
    rc: int
    out: str
    err: str

    def json(self) -> Any:
        assert self.rc == 0, self.err
        return json.loads(self.out)

    def text(self) -> str:
        assert self.rc == 0, self.err
        return self.out


def server_env(server: ServerProcess) -> dict[str, str]:
    return {
        "SMGRPC_ENDPOINT": server.addr,
        "SMGRPC_TOKEN_FILE": str(server.data_dir / "admin.token"),
    }


class Cli:
    """`cli("get-secret-value", "--secret-id", "x")`: main() with the server's settings in the
    environment (and nothing else of SMGRPC_*), stdout and stderr captured."""

    def __init__(self, env: dict[str, str], cwd: Path = ROOT) -> None:
        self.env = env
        self.cwd = cwd

    def __call__(self, *argv: str) -> Run:
        out, err = io.StringIO(), io.StringIO()
        saved = dict(os.environ)
        here = os.getcwd()
        try:
            for k in [k for k in os.environ if k.startswith("SMGRPC_")]:
                del os.environ[k]
            os.environ.update(self.env)
            os.chdir(self.cwd)
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    rc = main(["secretsmanager", *argv])
                except SystemExit as exc:  # argparse: usage errors, --help
                    rc = int(exc.code or 0)
        finally:
            os.chdir(here)
            os.environ.clear()
            os.environ.update(saved)
        return Run(rc, out.getvalue(), err.getvalue())


def subprocess_run(
    *argv: str, env: dict[str, str] | None = None, cwd: Path = ROOT, timeout: float = 60
) -> Run:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SMGRPC_")}
    proc = subprocess.run(
        [*SMGRPC, *argv],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    return Run(proc.returncode, proc.stdout.decode(), proc.stderr.decode())
