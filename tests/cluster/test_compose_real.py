"""The README's Docker Compose walkthrough, run line by line against real containers.

The block under "### The same three Regions with Docker Compose" is read from README.md and each
of its lines is run with bash, in order, from the repository root: `scripts/image --offline` (the
air-gapped build), `$COMPOSE up -d`, grpcurl through the published ports with the admin
credential, `docker kill` of a Region and its return, the promotion of a replica, the AWS CLI
through every Region's AWS listener, and `$COMPOSE down -v`. EXPECTED below holds, for each line,
what its answer must be; the README block and EXPECTED must list the same lines.

A Docker engine is started when none runs (tests/cluster/docker_engine.py); where none can run,
the test is skipped with the reason. COMPOSE_PROJECT_NAME keeps it away from a demo of the user's.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.docker_engine import NICE, Engine, NoEngine, engine

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PROJECT = "smgrpc-compose-test"
SERVICES = ("us-east-1", "eu-west-1", "ap-southeast-2")
HOST_PORTS = (50051, 50052, 50053, 4566, 4567, 4568, 9101, 9102, 9103)
REPLICA_MSG = (
    "Operation not permitted on a replica secret. Call must be made in primary secret's region."
)


@dataclass(frozen=True)
class Answer:
    code: int
    out: str

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.out)
        return data


@dataclass
class Demo:
    engine: Engine
    env: dict[str, str]
    seen: dict[str, Any] = field(default_factory=dict)  # values kept between lines

    def compose(self, *args: str, timeout: float = 120) -> Answer:
        done = subprocess.run(
            [*self.engine.compose, "-f", "compose/docker-compose.yml", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Answer(done.returncode, done.stdout + done.stderr)

    def health(self, service: str) -> str:
        ids = self.compose("ps", "-q", service).out.split()
        if not ids:
            return "none"
        done = subprocess.run(
            ["docker", "inspect", "-f", "{{.State.Status}} {{.State.Health.Status}}", ids[0]],
            capture_output=True,
            text=True,
            timeout=30,
        )
        return done.stdout.strip()

    def wait_healthy(self, timeout: float = 120) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = {s: self.health(s) for s in SERVICES}
            if all(v == "running healthy" for v in states.values()):
                return True
            time.sleep(1)
        raise AssertionError(f"not all Regions healthy in {timeout:.0f} s: {states}")


# --- what each README line must answer -----------------------------------------------------

Check = Callable[[Demo, Answer], bool]


def ok(check: Callable[[dict[str, Any]], bool]) -> Check:
    """The line succeeded and its JSON answer satisfies check."""
    return lambda demo, a: a.code == 0 and check(a.json())


def value(expected: str) -> Check:
    return ok(lambda r: r.get("SecretString") == expected)


def in_sync(demo: Demo, a: Answer) -> bool:
    if a.code != 0:
        return False
    status = {s["Region"]: s["Status"] for s in a.json().get("ReplicationStatus", [])}
    return status == {"eu-west-1": "InSync", "ap-southeast-2": "InSync"}


def created(demo: Demo, a: Answer) -> bool:
    r = a.json()
    demo.seen["create"] = r
    assert r["ARN"].startswith("arn:aws:secretsmanager:us-east-1:"), r
    assert [s["Region"] for s in r["ReplicationStatus"]] == ["eu-west-1"], r
    return True


def replica_read(demo: Demo, a: Answer) -> bool:
    if a.code != 0 or a.json().get("SecretString") != "hunter2":
        return False
    first = demo.seen["create"]
    assert a.json()["ARN"] == first["ARN"].replace("us-east-1", "eu-west-1")
    assert a.json()["VersionId"] == first["VersionId"]
    return True


def refused_on_replica(demo: Demo, a: Answer) -> bool:
    assert a.code != 0 and REPLICA_MSG in a.out and "InvalidParameterException" in a.out, a.out
    return True


def up(demo: Demo, a: Answer) -> bool:
    assert a.code == 0, a.out
    return demo.wait_healthy()


def ps(demo: Demo, a: Answer) -> bool:
    # compose 1.29 wraps its table at 80 columns: count in the whole text, not per line
    assert a.code == 0, a.out
    assert a.out.count("(healthy)") == 3, a.out
    assert re.search(r"Exit 0|Exited \(0\)", a.out), a.out
    init = demo.compose("ps", "-aq", "secrets-init").out.split()
    code = subprocess.run(
        ["docker", "inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", *init[:1]],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert code.stdout.strip() == "exited 0", code.stdout + code.stderr
    return True


def killed(demo: Demo, a: Answer) -> bool:
    assert a.code == 0, a.out
    assert demo.health("ap-southeast-2").startswith("exited"), demo.health("ap-southeast-2")
    return True


def written_while_down(demo: Demo, a: Answer) -> bool:
    assert a.code == 0, a.out
    down = subprocess.run(
        [".venv/bin/grpcurl", "-plaintext", "-max-time", "5", "127.0.0.1:50053", "list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert down.returncode != 0, "ap-southeast-2 still answers after docker kill"
    return True


def started(demo: Demo, a: Answer) -> bool:
    assert a.code == 0, a.out
    return demo.wait_healthy()


def promoted(demo: Demo, a: Answer) -> bool:
    assert a.code == 0, a.out
    assert a.json()["ARN"] == demo.seen["create"]["ARN"].replace("us-east-1", "eu-west-1")
    return True


def put_current(demo: Demo, a: Answer) -> bool:
    assert a.code == 0, a.out
    assert a.json()["VersionStages"] == ["AWSCURRENT"], a.out
    return True


def text(expected: str) -> Check:
    def check(demo: Demo, a: Answer) -> bool:
        assert a.code == 0, a.out
        assert a.out.strip() == expected, a.out
        return True

    return check


def down(demo: Demo, a: Answer) -> bool:
    assert a.code == 0, a.out
    left = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={PROJECT}"],
        capture_output=True,
        text=True,
    ).stdout.split()
    volumes = subprocess.run(
        ["docker", "volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={PROJECT}"],
        capture_output=True,
        text=True,
    ).stdout.split()
    assert left == [] and volumes == [], (left, volumes)
    return True


def built(demo: Demo, a: Answer) -> bool:
    assert a.code == 0, a.out[-3000:]
    inspect = subprocess.run(
        ["docker", "image", "inspect", "-f", "{{json .Config.Entrypoint}}", "smgrpc:compose-demo"],
        capture_output=True,
        text=True,
    )
    assert json.loads(inspect.stdout) == ["smgrpc", "serve"], inspect.stdout + inspect.stderr
    return True


def gr(region: str, op: str, body: str) -> str:
    return f"$G -H \"$AUTH\" -d '{body}' ${region} $SM/{op}"


GET = '{"SecretId":"demo/db"}'
AWS_GET = (
    "aws --endpoint-url http://127.0.0.1:{port} --region {region} secretsmanager "
    "get-secret-value --secret-id demo/db --query SecretString --output text"
)

# (README line without its trailing comment, what it must answer, seconds to keep retrying)
EXPECTED: list[tuple[str, Check, float]] = [
    ("scripts/image --offline", built, 0),
    ("$COMPOSE up -d", up, 0),
    ("$COMPOSE ps", ps, 0),
    (
        gr(
            "US",
            "CreateSecret",
            '{"Name":"demo/db","SecretString":"hunter2","AddReplicaRegions":[{"Region":"eu-west-1"}]}',
        ),
        created,
        20,  # IAM (the admin's key) reaches the other Regions within a second or so
    ),
    (gr("EU", "GetSecretValue", GET), replica_read, 30),
    (
        gr("EU", "PutSecretValue", '{"SecretId":"demo/db","SecretString":"rotated"}'),
        refused_on_replica,
        0,
    ),
    (
        gr(
            "US",
            "ReplicateSecretToRegions",
            '{"SecretId":"demo/db","AddReplicaRegions":[{"Region":"ap-southeast-2"}]}',
        ),
        ok(
            lambda r: (
                {s["Region"] for s in r["ReplicationStatus"]} == {"eu-west-1", "ap-southeast-2"}
            )
        ),
        0,
    ),
    (gr("AP", "GetSecretValue", GET), value("hunter2"), 30),
    (gr("US", "DescribeSecret", GET), in_sync, 30),
    ("$COMPOSE kill ap-southeast-2", killed, 0),
    (gr("US", "GetSecretValue", GET), value("hunter2"), 0),
    (
        gr("US", "PutSecretValue", '{"SecretId":"demo/db","SecretString":"hunter3"}'),
        written_while_down,
        0,
    ),
    (gr("EU", "GetSecretValue", GET), value("hunter3"), 30),
    ("$COMPOSE start ap-southeast-2", started, 0),
    (gr("AP", "GetSecretValue", GET), value("hunter3"), 60),
    (gr("US", "DescribeSecret", GET), in_sync, 60),
    (gr("EU", "StopReplicationToReplica", GET), promoted, 0),
    (gr("EU", "PutSecretValue", '{"SecretId":"demo/db","SecretString":"rotated"}'), put_current, 0),
    (AWS_GET.format(port=4566, region="us-east-1"), text("hunter3"), 0),
    (AWS_GET.format(port=4567, region="eu-west-1"), text("rotated"), 0),
    (AWS_GET.format(port=4568, region="ap-southeast-2"), text("hunter3"), 30),
    ("$COMPOSE down -v", down, 0),
]

ASSIGNMENT = re.compile(r"^(export\s+)?[A-Z_]+=")


def readme_block() -> list[str]:
    """The compose walkthrough's lines (comment-only and blank lines dropped)."""
    text_ = README.read_text()
    section = re.search(
        r"^### The same three Regions with Docker Compose\n(.*?)(?=^### |\Z)", text_, re.M | re.S
    )
    assert section, "README.md lacks the compose section"
    block = re.search(r"```sh\n(scripts/image --offline.*?)```", section.group(1), re.S)
    assert block, "the compose section's first block must start with scripts/image --offline"
    lines = [line.strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def _command(line: str) -> str:
    """The line without a trailing `  # comment` (the bodies hold no ' #')."""
    return re.sub(r"\s+#\s.*$", "", line) if not ASSIGNMENT.match(line) else line


def test_readme_block_is_what_the_real_test_runs() -> None:
    commands = [_command(line) for line in readme_block() if not ASSIGNMENT.match(line)]
    assert commands == [line for line, _, _ in EXPECTED]


# --- the run --------------------------------------------------------------------------------


def _busy_port() -> int | None:
    for port in HOST_PORTS:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return port
    return None


@pytest.fixture(scope="module")
def docker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    log = tmp_path_factory.mktemp("dockerd") / "dockerd.log"
    try:
        with engine(log) as eng:
            yield eng
    except NoEngine as exc:
        pytest.skip(f"no Docker engine: {exc}")


def _assign(line: str, env: dict[str, str]) -> dict[str, str]:
    """Run an assignment line with bash and return the environment it leaves."""
    done = subprocess.run(
        ["bash", "-c", f"set -a; {line}\nenv -0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()
    pairs = (item.split("=", 1) for item in done.stdout.decode().split("\0") if "=" in item)
    return dict(pairs)


def _run_line(demo: Demo, line: str, check: Check, retry: float) -> int:
    """Run the line until check passes (retrying for up to retry seconds); the attempts made."""
    deadline = time.monotonic() + retry
    attempts = 0
    while True:
        attempts += 1
        done = subprocess.run(
            ["nice", "-n", str(NICE), "bash", "-c", line],  # debootstrap, pip wheel: low priority
            cwd=ROOT,
            env=demo.env,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        answer = Answer(done.returncode, done.stdout + done.stderr)
        try:
            if check(demo, answer):
                return attempts
        except (AssertionError, ValueError, KeyError) as exc:
            if time.monotonic() >= deadline:
                raise AssertionError(f"{line}\n-> {answer.out[-2000:]}") from exc
        if time.monotonic() >= deadline:
            raise AssertionError(f"{line} never gave the expected answer:\n{answer.out[-2000:]}")
        if attempts == 1:
            print(f"         (retrying: {answer.out.strip()[-160:]!r})")
        time.sleep(0.5)


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_compose_walkthrough_in_real_containers(docker: Engine) -> None:
    busy = _busy_port()
    if busy is not None:
        pytest.skip(
            f"127.0.0.1:{busy} is taken (a scripts/serve, scripts/cluster or compose demo?)"
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMGRPC_", "AWS_"))}
    env |= {
        "COMPOSE_PROJECT_NAME": PROJECT,
        "PATH": f"{ROOT / '.venv' / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}",
        "AWS_CONFIG_FILE": "/nonexistent/aws-config",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
    }
    demo = Demo(docker, env)
    demo.compose("down", "-v", "--remove-orphans", "--timeout", "5")  # what a crashed run left
    expected = iter(EXPECTED)
    try:
        for line in readme_block():
            if ASSIGNMENT.match(line):
                demo.env = _assign(line, demo.env)
                if line.startswith("COMPOSE="):  # the compose this machine has
                    demo.env["COMPOSE"] = " ".join(
                        [*docker.compose, "-f", "compose/docker-compose.yml"]
                    )
                continue
            command, check, retry = next(expected)
            assert _command(line) == command
            began = time.monotonic()
            attempts = _run_line(demo, line, check, retry)
            took = time.monotonic() - began
            print(f"{took:6.1f} s  {attempts} x {command[:90]}")  # shown with -s
    finally:
        demo.compose("down", "-v", "--remove-orphans", "--timeout", "5")
