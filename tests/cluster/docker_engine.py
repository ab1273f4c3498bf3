"""A Docker engine for tests/cluster/test_compose_real.py: the one that runs, or one started here.

`engine()` installs what is missing (scripts/ensure-docker: Debian's docker.io, docker-compose
and debootstrap, as root), starts `dockerd` when no engine answers, and stops it again at the
end if it started it. Where no engine can run it raises `NoEngine` with a one-line reason,
which the test turns into a skip.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0


class NoEngine(Exception):
    """No Docker engine can run here; the message is one line saying why."""


@dataclass(frozen=True)
class Engine:
    compose: tuple[str, ...]  # `docker compose` or `docker-compose`
    started: bool  # True when this module started dockerd (and will stop it)


def _run(*argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


def answers() -> bool:
    """True when `docker info` reaches an engine."""
    if shutil.which("docker") is None:
        return False
    try:
        return _run("docker", "info", "--format", "{{.ServerVersion}}").returncode == 0
    except subprocess.TimeoutExpired:
        return False


def compose_command() -> tuple[str, ...] | None:
    """The compose CLI: the `docker compose` plugin, else Debian's `docker-compose` 1.29."""
    if shutil.which("docker") and _run("docker", "compose", "version").returncode == 0:
        return ("docker", "compose")
    if shutil.which("docker-compose"):
        return ("docker-compose",)
    return None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def _installed() -> bool:
    debootstrap = shutil.which("debootstrap") or Path("/usr/sbin/debootstrap").exists()
    engine = answers() or shutil.which("dockerd") or Path("/usr/sbin/dockerd").exists()
    return bool(debootstrap and engine and compose_command())


def _install() -> None:
    done = _run(str(ROOT / "scripts" / "ensure-docker"), timeout=900)
    if done.returncode != 0:
        raise NoEngine(_last_line(done.stderr + done.stdout))


NICE = 10  # the engine, its containers and the image build yield the CPU to the rest of the suite


def _background() -> None:
    """In dockerd before exec: SIGINT back to default (background jobs inherit it ignored),
    and a lower priority, which its containerd and containers inherit (timing-sensitive tests
    run next to this one on the suite's other workers)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.nice(NICE)


def _start_dockerd(log: Path) -> subprocess.Popen[bytes]:
    dockerd = shutil.which("dockerd") or "/usr/sbin/dockerd"
    if os.geteuid() != 0:
        raise NoEngine("no Docker engine runs and starting dockerd needs root")
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [dockerd],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_background,
        )
    deadline = time.monotonic() + START_TIMEOUT
    while not answers():
        if proc.poll() is not None:
            raise NoEngine(f"dockerd exited with {proc.returncode}: {_last_line(log.read_text())}")
        if time.monotonic() > deadline:
            _stop_dockerd(proc)
            raise NoEngine(
                f"dockerd did not answer in {START_TIMEOUT:.0f} s: {_last_line(log.read_text())}"
            )
        time.sleep(0.5)
    return proc


def _stop_dockerd(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()  # dockerd stops its containers and its containerd on SIGTERM
    try:
        proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@contextmanager
def engine(log: Path) -> Iterator[Engine]:
    """A Docker engine and a compose CLI for the duration of the block (raises NoEngine)."""
    if not _installed():
        _install()
    compose = compose_command()
    if compose is None:
        raise NoEngine("no compose CLI (docker compose or docker-compose)")
    proc = None if answers() else _start_dockerd(log)
    try:
        yield Engine(compose=compose, started=proc is not None)
    finally:
        if proc is not None:
            _stop_dockerd(proc)
