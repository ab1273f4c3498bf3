"""Helper behind scripts/cluster: three local Regions as background processes.

State dir (SMGRPC_CLUSTER_DIR, default ./cluster-data):
  cluster.json            base port of the last `up`
  cluster.secret          shared cluster secret (0600, base64 of 32 random bytes)
  <region>/               --data-dir of the Region; master.key (0600) inside it
  us-east-1/admin.token   the cluster's admin credential (0600, `AccessKeyId:SecretAccessKey`):
                          written by the IAM Region (us-east-1) on its first start, valid in
                          every Region once IAM has replicated (`up` waits for that)
  run/<region>.pid        pid of the running `smgrpc serve`
  logs/<region>.log       its stdout and stderr (appended)

Environment: SMGRPC_CLUSTER_DIR; SMGRPC_CLUSTER_BASE_PORT (default 50051, or the port of the last
`up`: the Regions listen on 127.0.0.1:BASE, BASE+1, BASE+2); SMGRPC_CLUSTER_START_TIMEOUT and
SMGRPC_CLUSTER_STOP_TIMEOUT in seconds (default 60 and 20).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
IAM_REGION = REGIONS[0]  # IAM is global: one Region holds IAM writes, the others get copies
DEFAULT_BASE_PORT = 50051
HOST = "127.0.0.1"
START_TIMEOUT = float(os.environ.get("SMGRPC_CLUSTER_START_TIMEOUT", "60"))
# A Region drains for up to ~10.5 s after SIGTERM (0.5 s NOT_SERVING, then 10 s grace).
STOP_TIMEOUT = float(os.environ.get("SMGRPC_CLUSTER_STOP_TIMEOUT", "20"))


class ClusterError(Exception):
    """Something the user has to fix; printed without a traceback."""


def log(msg: str) -> None:
    print(f"cluster: {msg}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Node:
    region: str
    port: int
    state: Path

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def data_dir(self) -> Path:
        return self.state / self.region

    @property
    def master_key(self) -> Path:
        return self.data_dir / "master.key"

    @property
    def admin_token(self) -> Path:
        return self.data_dir / "admin.token"

    @property
    def pid_file(self) -> Path:
        return self.state / "run" / f"{self.region}.pid"

    @property
    def log_file(self) -> Path:
        return self.state / "logs" / f"{self.region}.log"


# --- state ----------------------------------------------------------------------------------


def state_dir() -> Path:
    raw = os.environ.get("SMGRPC_CLUSTER_DIR")
    return Path(raw).resolve() if raw else ROOT / "cluster-data"


def stored_base_port(state: Path) -> int | None:
    try:
        return int(json.loads((state / "cluster.json").read_text())["base_port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def requested_base_port(state: Path) -> int:
    raw = os.environ.get("SMGRPC_CLUSTER_BASE_PORT")
    if raw:
        try:
            port = int(raw)
        except ValueError:
            raise ClusterError(f"SMGRPC_CLUSTER_BASE_PORT must be a number, got {raw!r}") from None
        if not 1 <= port <= 65535 - len(REGIONS) + 1:
            raise ClusterError(f"SMGRPC_CLUSTER_BASE_PORT out of range: {port}")
        return port
    return stored_base_port(state) or DEFAULT_BASE_PORT


def nodes(state: Path, base_port: int) -> list[Node]:
    return [Node(r, base_port + i, state) for i, r in enumerate(REGIONS)]


def write_secret_file(path: Path) -> None:
    """base64 of 32 random bytes, created 0600 (never overwritten)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(base64.b64encode(os.urandom(32)) + b"\n")
        fh.flush()
        os.fsync(fh.fileno())


def ensure_secret(path: Path) -> None:
    if not path.exists():
        write_secret_file(path)
        log(f"created {path} (0600)")
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise ClusterError(f"{path} has mode {mode:04o}; it must be 0600 (chmod 600 {path})")


# --- processes ------------------------------------------------------------------------------


def _proc_state(pid: int) -> str | None:
    """The one-letter state from /proc (None where /proc is not available)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting for its parent."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _proc_state(pid) not in ("Z", "X")


def is_our_server(pid: int, node: Node) -> bool:
    """Guards against a recycled pid: it must be `smgrpc serve --region <region>` on its address."""
    if not alive(pid):
        return False
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc (macOS): trust the pid file
    return b"serve" in argv and node.region.encode() in argv and node.address.encode() in argv


def running_pid(node: Node) -> int | None:
    """The pid of this node's server, or None (a stale pid file is removed)."""
    try:
        pid = int(node.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    if is_our_server(pid, node):
        return pid
    node.pid_file.unlink(missing_ok=True)
    return None


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as grpc does: TIME_WAIT is ok
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def health(address: str, timeout: float = 1.0) -> str:
    """SERVING, NOT_SERVING, ... as the standard health service says, or 'down'."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(address) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=timeout
            )
        except grpc.RpcError:
            return "down"
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


def serve_command(node: Node, peers: list[Node], secret: Path) -> list[str]:
    smgrpc = str(Path(sys.executable).parent / "smgrpc")
    cmd = [
        smgrpc,
        "serve",
        "--region",
        node.region,
        "--listen",
        node.address,
        "--data-dir",
        str(node.data_dir),
        "--master-key-file",
        str(node.master_key),
        "--cluster-secret-file",
        str(secret),
        "--iam-region",
        IAM_REGION,
    ]
    for p in peers:
        cmd += ["--peer", f"{p.region}={p.address}"]
    return cmd


def check_port(node: Node) -> None:
    if not port_free(node.port):
        raise ClusterError(
            f"{node.address} is already in use by another process "
            f"(stop it, e.g. a `scripts/serve`, or pick another SMGRPC_CLUSTER_BASE_PORT); "
            "nothing was created"
        )


def start(node: Node, peers: list[Node], secret: Path) -> int:
    check_port(node)
    node.data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(node.data_dir, 0o700)
    ensure_secret(node.master_key)
    # Only the flags configure the Region: SMGRPC_* variables of the caller must not leak in.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMGRPC_")}
    node.log_file.parent.mkdir(parents=True, exist_ok=True)
    node.pid_file.parent.mkdir(parents=True, exist_ok=True)
    with open(node.log_file, "ab") as out:
        proc = subprocess.Popen(
            serve_command(node, peers, secret),
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # survives this script and Ctrl-C
    node.pid_file.write_text(f"{proc.pid}\n")
    return proc.pid


def log_tail(node: Node, lines: int = 20) -> str:
    try:
        text = node.log_file.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join("    " + line for line in text[-lines:])


def wait_healthy(node: Node, pid: int, deadline: float) -> None:
    while True:
        if health(node.address) == "SERVING":
            return
        if not alive(pid):
            raise ClusterError(
                f"{node.region} exited during start-up; end of {node.log_file}:\n{log_tail(node)}"
            )
        if time.monotonic() > deadline:
            raise ClusterError(
                f"{node.region} did not become SERVING on {node.address} in "
                f"{START_TIMEOUT:.0f} s; end of {node.log_file}:\n{log_tail(node)}"
            )
        time.sleep(0.1)


def iam_versions(ns: list[Node], secret: Path) -> set[tuple[str, int, int]]:
    """(IAM Region, epoch, generation) as each Region reports it (signed operator calls)."""
    import asyncio

    from smgrpc.crypto.cluster import ClusterKey
    from smgrpc.replication.iam_operator import MoveRefused, iam_status

    key = ClusterKey.from_file(secret)

    async def one(n: Node) -> tuple[str, int, int]:
        try:
            got = await iam_status(n.address, n.region, key, wait=2.0)
        except MoveRefused:
            return ("?", -1, -1)
        return (got.holder, got.epoch, got.generation)

    async def every() -> list[tuple[str, int, int]]:
        return [await one(n) for n in ns]

    return set(asyncio.run(every()))


def wait_iam(ns: list[Node], secret: Path, deadline: float) -> None:
    """Until every Region has the same IAM state (then the admin credential works in all)."""
    while True:
        seen = iam_versions(ns, secret)
        if len(seen) == 1 and next(iter(seen))[2] > 0:
            return
        if time.monotonic() > deadline:
            log(f"IAM has not replicated to every Region yet ({sorted(seen)}); see the logs")
            return
        time.sleep(0.1)


def terminate(pids: dict[str, int], timeout: float) -> list[str]:
    """SIGTERM, wait up to timeout, then SIGKILL; returns the Regions that had to be killed."""
    for pid in pids.values():
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while any(alive(p) for p in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    killed = [r for r, p in pids.items() if alive(p)]
    for region in killed:
        try:
            os.kill(pids[region], signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5
    while any(alive(pids[r]) for r in killed) and time.monotonic() < deadline:
        time.sleep(0.1)
    return killed


# --- commands -------------------------------------------------------------------------------


def cmd_up() -> int:
    state = state_dir()
    base = requested_base_port(state)
    stored = stored_base_port(state)
    ns = nodes(state, stored or base)
    if stored is not None and stored != base and any(running_pid(n) for n in ns):
        raise ClusterError(
            f"the cluster in {state} is running on base port {stored}; run "
            f"`scripts/cluster down` before changing SMGRPC_CLUSTER_BASE_PORT"
        )
    ns = nodes(state, base)
    for n in ns:  # before anything is created: a busy port leaves no secret or key behind
        if running_pid(n) is None:
            check_port(n)
    state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o700)
    secret = state / "cluster.secret"
    ensure_secret(secret)
    (state / "cluster.json").write_text(json.dumps({"base_port": base}) + "\n")

    started: dict[str, int] = {}
    pids: dict[str, int] = {}
    try:
        for n in ns:
            pid = running_pid(n)
            if pid is not None:
                log(f"{n.region} already running (pid {pid})")
            else:
                pid = start(n, [p for p in ns if p is not n], secret)
                started[n.region] = pid
                log(f"{n.region} started (pid {pid}), log {n.log_file}")
            pids[n.region] = pid
        deadline = time.monotonic() + START_TIMEOUT
        for n in ns:
            wait_healthy(n, pids[n.region], deadline)
    except BaseException:
        if started:  # leave things as they were: stop what this call started
            terminate(started, STOP_TIMEOUT)
            for n in ns:
                if n.region in started:
                    n.pid_file.unlink(missing_ok=True)
        raise
    wait_iam(ns, secret, time.monotonic() + START_TIMEOUT)
    print(f"cluster up: 3 Regions (state in {state})")
    for n in ns:
        print(f"{n.region:<16} {n.address}")
    holder = next(n for n in ns if n.region == IAM_REGION)
    print(f"admin credential (made by IAM Region {IAM_REGION}, valid in every Region):")
    print(f"  {holder.admin_token}")
    return 0


def cmd_status() -> int:
    state = state_dir()
    ns = nodes(state, stored_base_port(state) or requested_base_port(state))
    serving = 0
    for n in ns:
        pid = running_pid(n)
        # Only our own process counts: another server on the port is not this Region.
        if pid is not None:
            h = health(n.address)
        else:
            h = "down" if port_free(n.port) else "down (port in use by another process)"
        serving += h == "SERVING"
        print(f"{n.region:<16} {n.address:<17} pid {pid if pid else '-':<8} {h}")
    return 0 if serving == len(ns) else 3


def cmd_down(purge: bool) -> int:
    state = state_dir()
    ns = nodes(state, stored_base_port(state) or requested_base_port(state))
    pids = {n.region: pid for n in ns if (pid := running_pid(n)) is not None}
    killed = terminate(pids, STOP_TIMEOUT) if pids else []
    for region in killed:
        log(f"{region} did not exit within {STOP_TIMEOUT:.0f} s of SIGTERM: sent SIGKILL")
    left = [r for r, p in pids.items() if alive(p)]
    if left:
        raise ClusterError(f"still running after SIGKILL: {', '.join(left)}")
    for n in ns:
        n.pid_file.unlink(missing_ok=True)
        if n.region in pids:
            log(f"{n.region} stopped (pid {pids[n.region]})")
    if not pids:
        log("no Region was running")
    if purge and state.exists():
        if not (state / "cluster.json").exists() and not (state / "cluster.secret").exists():
            raise ClusterError(f"refusing to purge {state}: not a scripts/cluster state dir")
        shutil.rmtree(state)
        log(f"purged {state}")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="scripts/cluster",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start the three Regions (idempotent) and wait until SERVING")
    sub.add_parser("status", help="address, pid and health of each Region")
    down = sub.add_parser("down", help="stop the Regions (SIGTERM, then SIGKILL)")
    down.add_argument("--purge", action="store_true", help="also delete the state dir (data!)")
    args = p.parse_args(argv)
    try:
        if args.command == "up":
            return cmd_up()
        if args.command == "status":
            return cmd_status()
        return cmd_down(args.purge)
    except ClusterError as exc:
        log(str(exc))
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
