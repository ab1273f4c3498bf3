"""scripts/bench driver: GetSecretValue and PutSecretValue throughput/latency vs an empty baseline.

Read /work/shared/docs/BENCHMARKING.md first. In short: this VM has 2 cores shared by the server
and the load generator, single figures are noisy (about +-12 %), so every smgrpc figure is set
against a baseline (an empty grpc.aio handler with the same types and server options, see
scripts/bench_empty_server.py) measured in the same run, interleaved, and we report ratios of
medians over --repeat runs.

Load generator: h2load (Debian package nghttp2-client) sending pre-framed gRPC bodies. h2load
only sees HTTP status, and gRPC errors travel in trailers under HTTP 200, so every h2load figure
is verified before it is trusted (see VERIFY_TEXT). Without h2load a Python grpc.aio load
generator (scripts/bench_loadgen.py) is used and labelled: its figures are client-bound.

Never run by the test suite. Exit status: 0 all targets met, 1 a target missed, 2 a measurement
could not be verified (its figures are flagged and must not be trusted), 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import grpc

# Benchmark the smgrpc tree this script lives in (also when run from a copy of the repo with
# the main venv's Python): its package first on sys.path and on the server's PYTHONPATH.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb  # noqa: E402
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pb_grpc  # noqa: E402

PY = sys.executable
SERVICE = "smgrpc.secretsmanager.v1.SecretsManager"
GET = f"/{SERVICE}/GetSecretValue"
PUT = f"/{SERVICE}/PutSecretValue"
SECRET_NAME = "bench/value"
# ~100-byte value, shaped like a typical credential secret.
VALUE = '{"username":"bench","password":"' + "p" * 54 + '","port":5432}'
PUT_VALUE = '{"username":"bench","password":"' + "q" * 54 + '","port":5432}'
assert len(VALUE) == len(PUT_VALUE) == 100
# Concurrency -> (connections, streams per connection). c=16 is the reference shape of
# BENCHMARKING.md (4 conns x 4 streams); c=64 keeps 4 connections and deepens the streams.
SHAPES = {1: (1, 1), 16: (4, 4), 64: (4, 16)}
TARGET_GET_RPS_RATIO = 0.80
TARGET_GET_P99_RATIO = 2.0
TARGET_PUT_WPS = 300.0
TARGET_CONC = 16
FSYNC_NOTE = (
    "fsync on this VM is ~175 us (write-back virtual disk): durable commits are cheaper "
    "here than on real hardware"
)
VERIFY_TEXT = """\
How calls were verified (h2load only sees HTTP status; a gRPC error is HTTP 200 + grpc-status
in the trailers, with NO response message):
  * before and after every measured run, real gRPC calls (a Python client reading grpc-status)
    must succeed and return the expected value / response length;
  * h2load counts received DATA bytes. Every success carries exactly one framed response
    (5 + L bytes, L fixed for this secret and measured by a real call); an error carries none.
    So bodies = data_bytes / (5 + L) must be >= the responses h2load completed; the number of
    completed calls that could have been gRPC errors is then at most started - bodies, i.e. the
    handful of streams still in flight when h2load stopped (shown as 'unproven');
  * PutSecretValue: the server's own count is checked too: the secret's version count
    (ListSecretVersionIds, include deprecated) must grow by between 'succeeded' and 'started'.
A run failing any check is flagged UNVERIFIED and the exit status is 2."""


# ---------------------------------------------------------------- small helpers


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def median(values: list[float]) -> float:
    values = [v for v in values if v == v]  # drop NaN
    return statistics.median(values) if values else float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of every thread of pid (gRPC C-core threads included)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def frame(message: bytes) -> bytes:
    """gRPC length-prefixed message: flag 0, 4-byte big-endian length, the message."""
    return b"\x00" + len(message).to_bytes(4, "big") + message


def log(msg: str) -> None:
    print(msg, flush=True)


class Cleanup:
    """Every process and temp dir this run created; closed on exit, error or Ctrl-C."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.dirs: list[Path] = []

    def popen(self, name: str, argv: list[str], **kw: Any) -> subprocess.Popen[bytes]:
        p = subprocess.Popen(argv, **kw)
        self.procs.append((name, p))
        return p

    def mkdtemp(self) -> Path:
        d = Path(tempfile.mkdtemp(prefix="smgrpc-bench-"))
        self.dirs.append(d)
        return d

    def close(self) -> None:
        for _, p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)  # smgrpc drains; baseline stops
        deadline = time.monotonic() + 8
        for _, p in self.procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs.clear()
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)
        self.dirs.clear()


# ---------------------------------------------------------------- load generators


def ensure_h2load(mode: str, allow_install: bool) -> str | None:
    if mode == "python":
        return None
    path = shutil.which("h2load")
    if path:
        return path
    if allow_install and os.geteuid() == 0 and shutil.which("apt-get"):
        log("h2load not found: installing Debian package nghttp2-client (apt-get, as root) ...")
        r = subprocess.run(
            "apt-get update -qq && apt-get install -y -qq nghttp2-client",
            shell=True,
            capture_output=True,
            text=True,
        )
        if r.returncode != 0:
            log(f"  apt-get failed (exit {r.returncode}): {r.stderr.strip()[-400:]}")
        path = shutil.which("h2load")
        if path:
            return path
    log(
        "h2load is not available. Install it with `sudo apt-get install nghttp2-client` "
        "(Debian/Ubuntu; `dnf install nghttp2` on Fedora, `brew install nghttp2` on macOS)."
    )
    if mode == "h2load":
        raise SystemExit("--loadgen h2load was requested but h2load is missing")
    log(
        "FALLBACK: using the Python grpc.aio load generator (scripts/bench_loadgen.py). Its "
        "figures are client-bound (the client costs as much CPU per call as the server on the "
        "same 2 cores): compare ratios only."
    )
    return None


_RE_REQ = re.compile(
    r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
    r"(\d+) failed, (\d+) errored, (\d+) timeout"
)
_RE_STATUS = re.compile(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx")
_RE_FINISHED = re.compile(r"finished in ([\d.]+)(ms|s),")
_RE_TRAFFIC = re.compile(r"traffic: .*?\((\d+)\) total, .*?\((\d+)\) headers.*?\((\d+)\) data")


def read_token(path: Path | None) -> str | None:
    """The admin credential smgrpc wrote at its first start (None before / for the baseline)."""
    if path is None or not path.exists():
        return None
    return path.read_text().strip() or None


class _Bearer(grpc.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    """Sends `authorization: Bearer <admin token>` with every call (read when first there)."""

    def __init__(self, token_file: Path | None) -> None:
        self.token_file = token_file

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        token = read_token(self.token_file)
        if token:
            md = [*(details.metadata or ()), ("authorization", f"Bearer {token}")]
            details = details._replace(metadata=md)
        return continuation(details, request)


class Loadgen:
    def __init__(
        self, h2load: str | None, cleanup: Cleanup, workdir: Path, token_file: Path | None = None
    ) -> None:
        """token_file: smgrpc's admin.token; every load run sends it (to both servers, so the
        baseline's requests carry the same header bytes)."""
        self.h2load = h2load
        self.cleanup = cleanup
        self.workdir = workdir
        self.token_file = token_file
        self.label = (
            "h2load (pre-framed gRPC bodies)"
            if h2load
            else "Python grpc.aio client (FALLBACK, client-bound)"
        )

    def run(
        self,
        port: int,
        method: str,
        message: bytes,
        conns: int,
        streams: int,
        duration: int,
        expect_len: int,
        server_pid: int,
        *,
        python: bool = False,
        warmup: float = 0,
        requests: int | None = None,
        budget: float | None = None,
    ) -> dict[str, Any]:
        """One load run. requests: h2load sends exactly that many (-n) instead of running for
        `duration` (-D), so that no call is left in flight, and cancelled, at the end; budget:
        seconds after which such a run is stopped anyway (SIGINT) and judged from its log."""
        cpu0 = proc_cpu_seconds(server_pid)
        if self.h2load and not python:
            out = self._h2load(
                port, method, message, conns, streams, duration, expect_len, requests, budget
            )
        else:
            out = self._python(port, method, message, conns, streams, duration, expect_len, warmup)
        cpu = proc_cpu_seconds(server_pid) - cpu0
        calls = out.get("calls_for_cpu", 0)
        out["server_cpu_us_per_call"] = cpu / calls * 1e6 if calls else float("nan")
        out["server_cores"] = cpu / out.get("elapsed_s", duration + (warmup if python else 0))
        out["loadavg_1m"] = os.getloadavg()[0]  # other work on the 2 cores skews absolutes
        return out

    def _h2load(
        self,
        port: int,
        method: str,
        message: bytes,
        conns: int,
        streams: int,
        duration: int,
        expect_len: int,
        requests: int | None,
        budget: float | None = None,
    ) -> dict[str, Any]:
        body = self.workdir / f"body-{method.rsplit('/', 1)[1]}-{abs(hash(message))}.bin"
        if not body.exists():
            body.write_bytes(frame(message))
        logfile = self.workdir / "h2load-requests.tsv"
        logfile.unlink(missing_ok=True)  # h2load appends
        argv = [
            self.h2load or "h2load",
            "-t",
            "1",
            "-c",
            str(conns),
            "-m",
            str(streams),
            *(["-n", str(requests)] if requests else ["-D", str(duration)]),
            "-d",
            str(body),
            "-H",
            "content-type: application/grpc",
            "-H",
            "te: trailers",
            *(["-H", f"authorization: Bearer {t}"] if (t := read_token(self.token_file)) else []),
            f"--log-file={logfile}",
            f"http://127.0.0.1:{port}{method}",
        ]
        c0 = children_cpu_seconds()
        t0 = time.monotonic()
        proc = self.cleanup.popen(
            "h2load", argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        limit = budget if (requests and budget) else duration + 120
        budget_hit = False
        try:
            text, err = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:  # only a -n run can overrun: stop it, read its log
            budget_hit = bool(requests and budget)
            proc.send_signal(signal.SIGINT)
            try:
                text, err = proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                text, err = proc.communicate()
            if not budget_hit:
                raise RuntimeError(f"h2load hung:\n{text}\n{err}") from None
        wall = time.monotonic() - t0
        client_cpu = children_cpu_seconds() - c0
        m_req, m_st, m_tr = _RE_REQ.search(text), _RE_STATUS.search(text), _RE_TRAFFIC.search(text)
        m_fin = _RE_FINISHED.search(text)
        if not budget_hit and (proc.returncode != 0 or not (m_req and m_st and m_tr and m_fin)):
            raise RuntimeError(f"h2load failed (exit {proc.returncode}):\n{text}\n{err}")
        lat: list[float] = []
        starts: list[int] = []
        statuses: Counter[str] = Counter()
        for line in logfile.read_text().splitlines():
            cols = line.split("\t")
            if len(cols) < 3:
                continue
            statuses[cols[1]] += 1
            if cols[1] == "200":
                lat.append(int(cols[2]) / 1000)
                starts.append(int(cols[0]))
        lat.sort()
        if budget_hit:  # no summary: the per-request log is the record; in flight <= c x m
            succeeded = done = total = statuses.get("200", 0)
            started = done + conns * streams
            failed = errored = timeout = 0
            s2xx = succeeded
            data_bytes = (5 + expect_len) * succeeded  # unknown: the server count must decide
            span = wall
        else:
            assert m_req and m_st and m_tr and m_fin
            total, started, done, succeeded, failed, errored, timeout = map(int, m_req.groups())
            # -D: h2load's counts cover exactly the main duration; -n: the whole timed run.
            elapsed = float(m_fin.group(1)) / (1000 if m_fin.group(2) == "ms" else 1)
            span = elapsed if requests else float(duration)
            s2xx = int(m_st.group(1))
            data_bytes = int(m_tr.group(3))
        per = 5 + expect_len
        bodies = data_bytes // per
        unproven = max(0, started - bodies)
        checks = {
            "no_failed_streams": failed == 0 and errored == 0 and timeout == 0,
            "all_2xx": s2xx == done == succeeded,
            "log_matches": statuses.get("200", 0) == succeeded and len(statuses) == 1,
            "bodies_cover_done": bodies >= done,
        }
        series: list[int] = []
        if starts:
            first = min(starts)
            per_s = Counter((s - first) // 1_000_000 for s in starts)
            series = [per_s.get(i, 0) for i in range(max(1, int(span)))]
        return {
            "loadgen": "h2load",
            "conns": conns,
            "streams": streams,
            "duration_s": duration,
            "requests": requests,
            "elapsed_s": span,
            "rps": succeeded / span,
            "budget_hit": budget_hit,
            "p50_ms": percentile(lat, 50),
            "p99_ms": percentile(lat, 99),
            "mean_ms": statistics.fmean(lat) if lat else float("nan"),
            "max_ms": lat[-1] if lat else float("nan"),
            "h2load": {
                "total": total,
                "started": started,
                "done": done,
                "succeeded": succeeded,
                "failed": failed,
                "errored": errored,
                "timeout": timeout,
                "2xx": s2xx,
                "data_bytes": data_bytes,
                "response_len": expect_len,
                "bodies": bodies,
                "bytes_remainder": data_bytes - bodies * per,
            },
            "verify": {"checks": checks, "unproven_calls": unproven, "ok": all(checks.values())},
            "per_second": series,
            "client_cpu_us_per_call": client_cpu / succeeded * 1e6 if succeeded else float("nan"),
            "calls_for_cpu": succeeded,
            "succeeded": succeeded,
            "started": started,
        }

    def _python(
        self,
        port: int,
        method: str,
        message: bytes,
        conns: int,
        streams: int,
        duration: int,
        expect_len: int,
        warmup: float,
    ) -> dict[str, Any]:
        argv = [
            PY,
            str(ROOT / "scripts" / "bench_loadgen.py"),
            "--target",
            f"127.0.0.1:{port}",
            "--method",
            method,
            "--body-hex",
            message.hex(),
            "--conns",
            str(conns),
            "--streams",
            str(streams),
            "--duration",
            str(duration),
            "--warmup",
            str(warmup),
            "--expect-len",
            str(expect_len),
            *(["--token-file", str(self.token_file)] if self.token_file else []),
        ]
        p = self.cleanup.popen("loadgen", argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out_b, err_b = p.communicate(timeout=duration + warmup + 120)
        if p.returncode != 0:
            raise RuntimeError(f"loadgen failed (exit {p.returncode}): {err_b.decode()[-2000:]}")
        res = json.loads(out_b)
        checks = {
            "no_grpc_errors": not res["errors"],
            "lengths_match": res["bad_length"] == 0,
            "some_calls": res["ok"] > 0,
        }
        return {
            "loadgen": "python-grpc-aio",
            "conns": conns,
            "streams": streams,
            "duration_s": duration,
            "rps": res["rps"],
            "p50_ms": res["p50_ms"],
            "p99_ms": res["p99_ms"],
            "mean_ms": res["mean_ms"],
            "python": res,
            "verify": {"checks": checks, "unproven_calls": 0, "ok": all(checks.values())},
            "client_cpu_us_per_call": res["cpu_s"] / res["total_ok"] * 1e6
            if res["total_ok"]
            else float("nan"),
            "calls_for_cpu": res["total_ok"],
            "succeeded": res["total_ok"],
            "started": res["total_ok"],
        }


# ---------------------------------------------------------------- servers


class Server:
    def __init__(
        self,
        name: str,
        proc: subprocess.Popen[bytes],
        port: int,
        logpath: Path,
        token_file: Path | None = None,
    ) -> None:
        self.name, self.proc, self.port, self.logpath = name, proc, port, logpath
        self.channel = grpc.intercept_channel(
            grpc.insecure_channel(f"127.0.0.1:{port}"), _Bearer(token_file)
        )
        self.stub = pb_grpc.SecretsManagerStub(self.channel)
        self.raw_get = self.channel.unary_unary(GET)  # bytes in, bytes out
        self.raw_put = self.channel.unary_unary(PUT)

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}"
                )
            try:
                grpc.channel_ready_future(self.channel).result(timeout=0.5)
                return
            except grpc.FutureTimeoutError:
                continue
        raise RuntimeError(f"{self.name} not ready after {timeout}s:\n{self.tail()}")

    def tail(self) -> str:
        try:
            return "\n".join(self.logpath.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return ""

    def close(self) -> None:
        self.channel.close()


def token_file(workdir: Path) -> Path:
    return workdir / "data" / "admin.token"  # smgrpc's bootstrap admin credential


# The benchmark secret carries a resource policy (so every call evaluates one), which allows
# the account's principals GetSecretValue and DescribeSecret and denies a principal that
# does not exist: the deny statement is evaluated on every call and never matches.
BENCH_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountReads",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                "Resource": "*",
            },
            {
                "Sid": "NotThisOne",
                "Effect": "Deny",
                "Principal": {"AWS": "arn:aws:iam::123456789012:user/intruder"},
                "Action": "secretsmanager:*",
                "Resource": "*",
            },
        ],
    }
)


def start_servers(
    cleanup: Cleanup, workdir: Path, log_level: str = "INFO"
) -> tuple[Server, Server]:
    bport, sport = free_port(), free_port()
    blog = workdir / "baseline.log"
    with open(blog, "wb") as f:
        bproc = cleanup.popen(
            "baseline",
            [
                PY,
                str(ROOT / "scripts" / "bench_empty_server.py"),
                "--listen",
                f"127.0.0.1:{bport}",
                "--value-size",
                str(len(VALUE)),
            ],
            stdout=f,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    slog = workdir / "smgrpc.log"
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
    )
    with open(slog, "wb") as f:
        sproc = cleanup.popen(
            "smgrpc",
            [
                PY,
                "-m",
                "smgrpc.cli.main",
                "serve",
                "--region",
                "us-east-1",
                "--listen",
                f"127.0.0.1:{sport}",
                "--data-dir",
                str(workdir / "data"),
                "--log-level",
                log_level,
            ],
            stdout=f,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
            cwd=ROOT,
        )
    base = Server("baseline", bproc, bport, blog)
    sm = Server("smgrpc", sproc, sport, slog, token_file(workdir))
    base.wait_ready()
    sm.wait_ready()
    return base, sm


# ---------------------------------------------------------------- gRPC checks


def check_get(server: Server, expect_len: int | None, n: int = 3) -> tuple[bool, str]:
    """n real calls: grpc-status OK, right length; for smgrpc also the right value."""
    req = pb.GetSecretValueRequest(secret_id=SECRET_NAME).SerializeToString()
    try:
        for _ in range(n):
            raw = server.raw_get(req, timeout=10)
            if expect_len is not None and len(raw) != expect_len:
                return False, f"response length {len(raw)} != {expect_len}"
            if server.name == "smgrpc":
                msg = pb.GetSecretValueResponse.FromString(raw)
                if msg.secret_string != VALUE or "AWSCURRENT" not in msg.version_stages:
                    return False, "wrong value or label"
    except grpc.RpcError as exc:
        return False, f"gRPC {exc.code().name}: {exc.details()}"  # type: ignore[attr-defined]
    return True, f"{n} calls OK"


def count_versions(server: Server, name: str) -> int:
    n, token = 0, None
    while True:
        req = pb.ListSecretVersionIdsRequest(
            secret_id=name, include_deprecated=True, max_results=100
        )
        if token:
            req.next_token = token
        resp = server.stub.ListSecretVersionIds(req, timeout=60)
        n += len(resp.versions)
        token = resp.next_token if resp.HasField("next_token") else None
        if not token:
            return n


# ---------------------------------------------------------------- measurement plans


def fmt(v: float, nd: int = 0) -> str:
    return "n/a" if v != v else f"{v:,.{nd}f}"


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        k: median([r[k] for r in runs])
        for k in ("rps", "p50_ms", "p99_ms", "server_cpu_us_per_call", "client_cpu_us_per_call")
    } | {"all_verified": all(r["verify"]["ok"] for r in runs), "n": len(runs)}


def measure_get(
    args: argparse.Namespace, lg: Loadgen, base: Server, sm: Server, lens: dict[str, int]
) -> dict[str, Any]:
    req = pb.GetSecretValueRequest(secret_id=SECRET_NAME).SerializeToString()
    runs: dict[str, dict[int, list[dict[str, Any]]]] = {
        "baseline": {c: [] for c in args.conc},
        "smgrpc": {c: [] for c in args.conc},
    }
    step = 0
    for rep in range(args.repeat):
        for c in args.conc:
            conns, streams = SHAPES.get(c, (min(4, c), max(1, c // min(4, c))))
            order = (base, sm) if step % 2 == 0 else (sm, base)  # alternate who goes first
            step += 1
            for srv in order:
                ok_before, why_before = check_get(srv, lens[srv.name])
                if args.warmup:
                    lg.run(
                        srv.port,
                        GET,
                        req,
                        conns,
                        streams,
                        args.warmup,
                        lens[srv.name],
                        srv.proc.pid,
                    )
                r = lg.run(
                    srv.port,
                    GET,
                    req,
                    conns,
                    streams,
                    args.duration,
                    lens[srv.name],
                    srv.proc.pid,
                    warmup=1,
                )
                ok_after, why_after = check_get(srv, lens[srv.name])
                r["verify"]["checks"]["grpc_before"] = ok_before
                r["verify"]["checks"]["grpc_after"] = ok_after
                r["verify"]["grpc_detail"] = [why_before, why_after]
                r["verify"]["ok"] = all(r["verify"]["checks"].values())
                r["repeat"] = rep + 1
                runs[srv.name][c].append(r)
                flag = "" if r["verify"]["ok"] else "  UNVERIFIED " + json.dumps(r["verify"])
                log(
                    f"  [{rep + 1}/{args.repeat}] Get c={c:<3} {srv.name:<8} "
                    f"{fmt(r['rps']):>7} rps  p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms"
                    f"  server {fmt(r['server_cpu_us_per_call'])} us CPU/call"
                    f"  unproven {r['verify']['unproven_calls']}{flag}"
                )
    out: dict[str, Any] = {"runs": runs, "median": {}, "ratios": {}}
    for name in runs:
        out["median"][name] = {c: summarize(runs[name][c]) for c in args.conc}
    for c in args.conc:
        b, s = out["median"]["baseline"][c], out["median"]["smgrpc"][c]
        paired = [
            (sr["rps"] / br["rps"], sr["p99_ms"] / br["p99_ms"])
            for br, sr in zip(runs["baseline"][c], runs["smgrpc"][c], strict=True)
        ]
        out["ratios"][c] = {
            "rps": s["rps"] / b["rps"],
            "p99": s["p99_ms"] / b["p99_ms"],
            "p50": s["p50_ms"] / b["p50_ms"],
            "rps_per_repeat": [round(p[0], 3) for p in paired],
            "p99_per_repeat": [round(p[1], 3) for p in paired],
        }
    return out


def measure_put(args: argparse.Namespace, lg: Loadgen, sm: Server) -> dict[str, Any]:
    conns, streams = SHAPES.get(
        args.put_conc, (min(4, args.put_conc), max(1, args.put_conc // min(4, args.put_conc)))
    )
    runs: list[dict[str, Any]] = []
    # h2load -D stops with calls in flight and the server sees them cancelled: writes are sent
    # as a fixed number of requests (-n) instead: by default what the target rate would do in
    # --duration seconds (so every run, before or after a change, covers the same version
    # range), stopped anyway after a time budget. The warm-up uses its own secret, so each
    # measured secret starts with one version.
    sm.stub.CreateSecret(pb.CreateSecretRequest(name="bench/put-warm", secret_string=VALUE))
    msg = pb.PutSecretValueRequest(secret_id="bench/put-warm", secret_string=PUT_VALUE)
    plen = len(sm.raw_put(msg.SerializeToString(), timeout=10))
    w = lg.run(
        sm.port,
        PUT,
        msg.SerializeToString(),
        conns,
        streams,
        max(1, args.warmup),
        plen,
        sm.proc.pid,
        requests=conns * streams * 25,
    )
    n_requests = args.put_requests or int(TARGET_PUT_WPS * args.duration)
    budget = max(6.0 * args.duration, 30.0)
    if lg.h2load:
        log(
            f"  warm-up {fmt(w['rps'])} writes/s; each run sends {n_requests} writes to a fresh "
            f"secret (stopped after {budget:.0f} s if not done)"
        )
    for rep in range(args.repeat):
        name = f"bench/put-{rep + 1:03d}"
        sm.stub.CreateSecret(pb.CreateSecretRequest(name=name, secret_string=VALUE))
        msg = pb.PutSecretValueRequest(secret_id=name, secret_string=PUT_VALUE).SerializeToString()
        checks: dict[str, bool] = {}
        detail: dict[str, Any] = {}
        try:  # one real call: grpc-status OK, and the length every success will have
            plen = len(sm.raw_put(msg, timeout=10))
            checks["grpc_before"] = True
        except grpc.RpcError as exc:
            raise RuntimeError(f"PutSecretValue failed before the run: {exc}") from exc
        v0 = count_versions(sm, name)
        r = lg.run(
            sm.port,
            PUT,
            msg,
            conns,
            streams,
            args.duration,
            plen,
            sm.proc.pid,
            warmup=1,
            requests=n_requests,
            budget=budget,
        )
        v1 = count_versions(sm, name)
        got = sm.stub.GetSecretValue(pb.GetSecretValueRequest(secret_id=name), timeout=10)
        checks["grpc_after"] = got.secret_string == PUT_VALUE
        added = v1 - v0
        checks["server_count"] = r["succeeded"] <= added <= r["started"]
        detail["versions_added_server_side"] = added
        detail["versions_at_end"] = v1
        r["verify"]["checks"].update(checks)
        r["verify"]["ok"] = all(r["verify"]["checks"].values())
        r["verify"].update(detail)
        r["repeat"] = rep + 1
        runs.append(r)
        ps = r.get("per_second") or []
        trend = f"  first/last second {ps[0]}/{ps[-1]} writes" if len(ps) >= 2 else ""
        if r.get("budget_hit"):
            trend += f"  STOPPED at the {budget:.0f} s budget after {r['succeeded']} writes"
        flag = "" if r["verify"]["ok"] else "  UNVERIFIED " + json.dumps(r["verify"])
        log(
            f"  [{rep + 1}/{args.repeat}] Put c={args.put_conc:<3} smgrpc   "
            f"{fmt(r['rps']):>7} writes/s  p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms"
            f"  server {fmt(r['server_cpu_us_per_call'])} us CPU/call  server-side +{added}"
            f" versions (h2load succeeded {r['succeeded']}){trend}{flag}"
        )
    return {"runs": runs, "median": summarize(runs), "conns": conns, "streams": streams}


def crosscheck_python(
    args: argparse.Namespace, lg: Loadgen, base: Server, sm: Server, lens: dict[str, int]
) -> dict[str, Any]:
    """One Python-client run each: Get c=16 on both servers, Put c=16 with exact server count."""
    conns, streams = SHAPES[16]
    dur = args.duration
    out: dict[str, Any] = {"loadgen": "python grpc.aio client (client-bound)"}
    req = pb.GetSecretValueRequest(secret_id=SECRET_NAME).SerializeToString()
    for srv in (base, sm) if "get" in args.ops else ():
        r = lg.run(
            srv.port,
            GET,
            req,
            conns,
            streams,
            dur,
            lens[srv.name],
            srv.proc.pid,
            python=True,
            warmup=1,
        )
        out[f"get_{srv.name}"] = r
        log(
            f"  python-client Get c=16 {srv.name:<8} {fmt(r['rps']):>7} rps  "
            f"p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms  errors {r['python']['errors']}"
        )
    if "get" in args.ops:
        out["get_rps_ratio"] = out["get_smgrpc"]["rps"] / out["get_baseline"]["rps"]
        out["get_p99_ratio"] = out["get_smgrpc"]["p99_ms"] / out["get_baseline"]["p99_ms"]
    if "put" not in args.ops:
        return out
    name = "bench/put-python"
    sm.stub.CreateSecret(pb.CreateSecretRequest(name=name, secret_string=VALUE))
    msg = pb.PutSecretValueRequest(secret_id=name, secret_string=PUT_VALUE).SerializeToString()
    plen = len(sm.raw_put(msg, timeout=10))
    v0 = count_versions(sm, name)
    r = lg.run(sm.port, PUT, msg, conns, streams, dur, plen, sm.proc.pid, python=True, warmup=1)
    added = count_versions(sm, name) - v0
    r["verify"]["checks"]["server_count_exact"] = added == r["python"]["total_ok"]
    r["verify"]["ok"] = all(r["verify"]["checks"].values())
    r["verify"]["versions_added_server_side"] = added
    out["put"] = r
    log(
        f"  python-client Put c=16 smgrpc   {fmt(r['rps']):>7} writes/s  p50 {r['p50_ms']:.2f} ms"
        f"  p99 {r['p99_ms']:.2f} ms  server-side +{added} versions = client OK "
        f"{r['python']['total_ok']}: {r['verify']['checks']['server_count_exact']}"
    )
    return out


# ---------------------------------------------------------------- profiling (optional)


def summarize_collapsed(path: Path, top: int = 15) -> dict[str, Any]:
    """Top self / inclusive frames of a py-spy raw (collapsed) profile recorded with --threads."""
    self_c: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_s = line.rpartition(" ")
        if not stack or not count_s.isdigit():
            continue
        n = int(count_s)
        total += n
        frames = stack.split(";")
        threads[frames[0]] += n
        names = [re.sub(r":\d+\)$", ")", f) for f in frames[1:]]
        if names:
            self_c[names[-1]] += n
        for f in set(names):
            incl[f] += n
    pct = (lambda n: round(100 * n / total, 1)) if total else (lambda n: 0.0)
    return {
        "samples": total,
        "threads_pct": {t: pct(n) for t, n in threads.most_common(8)},
        "self_pct": [(f, pct(n)) for f, n in self_c.most_common(top)],
        "inclusive_pct": [
            (f, pct(n))
            for f, n in incl.most_common(top * 3)
            if "smgrpc" in f or "aiosqlite" in f or "grpc" in f
        ][:top],
    }


def profile(
    args: argparse.Namespace, lg: Loadgen, cleanup: Cleanup, sm: Server, lens: dict[str, int]
) -> dict[str, Any]:
    spy = shutil.which("py-spy") or str(Path(PY).with_name("py-spy"))
    if not Path(spy).exists() and not shutil.which("py-spy"):
        log("  py-spy not found: `.venv/bin/pip install py-spy` to profile. Skipped.")
        return {}
    outdir = Path(args.profile).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    conns, streams = SHAPES[16]
    result: dict[str, Any] = {}
    get_msg = pb.GetSecretValueRequest(secret_id=SECRET_NAME).SerializeToString()
    for tag, method in (("get", GET), ("put", PUT)):
        res: dict[str, Any] = {}
        for fmt_, ext in (("flamegraph", "svg"), ("raw", "txt")):
            msg, elen = get_msg, lens["smgrpc"]
            if method == PUT:  # a fresh secret per recording: each starts with one version
                name = f"bench/put-profile-{ext}"
                sm.stub.CreateSecret(pb.CreateSecretRequest(name=name, secret_string=VALUE))
                msg = pb.PutSecretValueRequest(
                    secret_id=name, secret_string=PUT_VALUE
                ).SerializeToString()
                elen = len(sm.raw_put(msg, timeout=10))
            out = outdir / f"smgrpc-{tag}-c16.{ext}"
            spy_p = cleanup.popen(
                "py-spy",
                [
                    spy,
                    "record",
                    "--pid",
                    str(sm.proc.pid),
                    "--duration",
                    str(args.duration + 1),
                    "--rate",
                    "250",
                    "--nonblocking",
                    "--threads",
                    "--format",
                    fmt_,
                    "--output",
                    str(out),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            time.sleep(1)
            r = lg.run(
                sm.port,
                method,
                msg,
                conns,
                streams,
                args.duration,
                elen,
                sm.proc.pid,
                requests=int(args.put_rate * args.duration) if method == PUT else None,
            )
            spy_p.wait(timeout=60)
            res[f"{fmt_}_file"] = str(out)
            res[f"rps_under_{fmt_}"] = r["rps"]
            if fmt_ == "raw" and out.exists():
                res["summary"] = summarize_collapsed(out)
        result[tag] = res
        s = res.get("summary", {})
        log(
            f"  profile {tag}: {res.get('flamegraph_file')} ({s.get('samples', 0)} samples; "
            f"rps under py-spy {fmt(res.get('rps_under_raw', float('nan')))})"
        )
        log(f"    threads: {s.get('threads_pct')}")
        for f, p in s.get("self_pct", [])[:12]:
            log(f"    self {p:5.1f}%  {f}")
        for f, p in s.get("inclusive_pct", [])[:12]:
            log(f"    incl {p:5.1f}%  {f}")
    return result


# ---------------------------------------------------------------- report


def _all_runs(get: dict[str, Any] | None, put: dict[str, Any] | None) -> list[list[dict[str, Any]]]:
    out = [runs for by_c in (get or {}).get("runs", {}).values() for runs in by_c.values()]
    return out + ([put["runs"]] if put else [])


def report(
    args: argparse.Namespace,
    lg: Loadgen,
    get: dict[str, Any] | None,
    put: dict[str, Any] | None,
    cross: dict[str, Any] | None,
) -> dict[str, Any]:
    targets: dict[str, Any] = {}
    if get:
        med, rat = get["median"], get["ratios"]
        log("")
        log(
            f"GetSecretValue — {lg.label}; smgrpc --log-level {args.log_level}; "
            f"medians of {args.repeat} x {args.duration} s runs "
            f"(+{args.warmup} s warm-up each), baseline and smgrpc interleaved; 2 cores shared "
            "by server and load generator."
        )
        hdr = (
            f"{'conc':>4} {'shape':>6} | {'target':<8} {'rps':>8} {'p50 ms':>7} {'p99 ms':>7} "
            f"{'srv us/call':>11} {'srv cores':>9} | {'rps ratio':>9} {'p99 ratio':>9}"
            "  (per repeat: rps / p99)"
        )
        log(hdr)
        log("-" * len(hdr))
        for c in args.conc:
            conns, streams = SHAPES.get(c, (min(4, c), max(1, c // min(4, c))))
            for name in ("baseline", "smgrpc"):
                m = med[name][c]
                cores = median([r["server_cores"] for r in get["runs"][name][c]])
                tail = " |"
                if name == "smgrpc":
                    rr = rat[c]
                    tail = (
                        f" | {rr['rps']:>8.2f}x {rr['p99']:>8.2f}x  {rr['rps_per_repeat']} / "
                        f"{rr['p99_per_repeat']}"
                    )
                flag = "" if m["all_verified"] else "  UNVERIFIED"
                log(
                    f"{c:>4} {f'{conns}x{streams}':>6} | {name:<8} {fmt(m['rps']):>8} "
                    f"{m['p50_ms']:>7.2f} {m['p99_ms']:>7.2f} "
                    f"{fmt(m['server_cpu_us_per_call']):>11} {cores:>9.2f}{tail}{flag}"
                )
        tc = TARGET_CONC if TARGET_CONC in rat else args.conc[len(args.conc) // 2]
        targets[f"get_rps_ratio_c{tc}"] = {
            "value": rat[tc]["rps"],
            "target": f">= {TARGET_GET_RPS_RATIO}",
            "met": rat[tc]["rps"] >= TARGET_GET_RPS_RATIO,
        }
        targets[f"get_p99_ratio_c{tc}"] = {
            "value": rat[tc]["p99"],
            "target": f"<= {TARGET_GET_P99_RATIO}",
            "met": rat[tc]["p99"] <= TARGET_GET_P99_RATIO,
        }
    if put:
        pm = put["median"]
        log("")
        log(
            f"PutSecretValue (durable: WAL, synchronous=FULL; no ClientRequestToken, so the "
            f"server makes a new version per call) — {lg.label}, c={args.put_conc} "
            f"({put['conns']}x{put['streams']}), fresh secret per run; {FSYNC_NOTE}."
        )
        ends = [r["verify"].get("versions_at_end") for r in put["runs"]]
        log(
            f"  median {fmt(pm['rps'])} writes/s, p50 {pm['p50_ms']:.2f} ms, "
            f"p99 {pm['p99_ms']:.2f} ms, server {fmt(pm['server_cpu_us_per_call'])} us CPU/write;"
            f" versions per secret at end {ends}{'' if pm['all_verified'] else '  UNVERIFIED'}"
        )
        firsts = [r["per_second"][0] for r in put["runs"] if len(r.get("per_second") or []) > 1]
        if firsts:
            log(
                f"  first second of each run (the secret still has few versions): median "
                f"{fmt(median([float(f) for f in firsts]))} writes/s {firsts}; the decline over "
                "a run is per-write cost growing with the secret's version count"
            )
        for r in put["runs"]:
            ps = r.get("per_second") or []
            if ps:
                stop = "  (STOPPED at the time budget)" if r.get("budget_hit") else ""
                log(f"  run {r['repeat']}: writes per second over the run {ps}{stop}")
        targets[f"put_writes_per_s_c{args.put_conc}"] = {
            "value": pm["rps"],
            "target": f">= {TARGET_PUT_WPS}",
            "met": pm["rps"] >= TARGET_PUT_WPS,
        }
    if cross:
        log("")
        log("Cross-check with the Python grpc.aio client (sees grpc-status; client-bound):")
        if "get_rps_ratio" in cross:
            log(
                f"  Get c=16: baseline {fmt(cross['get_baseline']['rps'])} rps, smgrpc "
                f"{fmt(cross['get_smgrpc']['rps'])} rps -> ratio {cross['get_rps_ratio']:.2f}x; "
                f"p99 ratio {cross['get_p99_ratio']:.2f}x"
            )
        if "put" in cross:
            pr = cross["put"]
            log(
                f"  Put c=16: {fmt(pr['rps'])} writes/s, p99 {pr['p99_ms']:.2f} ms; server-side "
                f"count equals client OK count: {pr['verify']['checks']['server_count_exact']}"
            )
    loads = [r["loadavg_1m"] for runs in _all_runs(get, put) for r in runs]
    if loads:
        log("")
        log(
            f"1-minute load average after each run: {min(loads):.2f} .. {max(loads):.2f} "
            f"(on {os.cpu_count()} CPUs; above ~2 other processes competed for the cores: "
            "absolute figures suffer, baseline ratios less so)"
        )
    log("")
    log(VERIFY_TEXT)
    log("")
    log("Targets (ratios of medians; differences under ~20 % are within noise):")
    for k, t in targets.items():
        log(
            f"  {k:<26} {t['value']:>9.2f}  target {t['target']:<7} "
            f"{'MET' if t['met'] else 'MISSED'}"
        )
    return targets


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="scripts/bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--duration", type=int, help="seconds per measured run (10; --quick 3)")
    p.add_argument("--warmup", type=int, help="warm-up seconds before each run (2; --quick 1)")
    p.add_argument("--repeat", type=int, help="runs per figure; medians reported (3; --quick 1)")
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: defaults become --duration 3 --warmup 1 --repeat 1, and no "
        "Python cross-check",
    )
    p.add_argument("--conc", default="1,16,64", help="GetSecretValue concurrencies (1,16,64)")
    p.add_argument("--put-conc", type=int, default=16, help="PutSecretValue concurrency (16)")
    p.add_argument(
        "--put-requests",
        type=int,
        metavar="N",
        help="h2load: writes per Put run, each run on a fresh secret (default: "
        "300/s x --duration, i.e. what the target rate does in that time); "
        "a run still going after 6 x --duration s is stopped",
    )
    p.add_argument("--ops", default="get,put", help="what to measure: get, put or both (get,put)")
    p.add_argument("--loadgen", choices=("auto", "h2load", "python"), default="auto")
    p.add_argument("--no-install", action="store_true", help="never apt-get install h2load")
    p.add_argument("--no-crosscheck", action="store_true", help="skip the Python-client runs")
    p.add_argument(
        "--profile",
        metavar="DIR",
        help="also profile smgrpc with py-spy under c=16 Get and Put load, into DIR",
    )
    p.add_argument("--json", metavar="PATH", help="write all results as JSON to PATH")
    p.add_argument(
        "--log-level",
        default="INFO",
        help="smgrpc's --log-level (INFO: the default users run, with the access "
        "log on, one line per call; WARNING: no access log)",
    )
    args = p.parse_args(argv)
    for name, full, quick in (("duration", 10, 3), ("warmup", 2, 1), ("repeat", 3, 1)):
        if getattr(args, name) is None:  # explicit flags win over --quick
            setattr(args, name, quick if args.quick else full)
    if args.quick:
        args.no_crosscheck = True
    args.conc = [int(c) for c in str(args.conc).split(",") if c.strip()]
    args.ops = {o.strip() for o in args.ops.split(",") if o.strip()}
    if not args.ops <= {"get", "put"}:
        p.error("--ops takes get, put or get,put")
    if args.duration < 1 or args.repeat < 1 or not args.conc:
        p.error("--duration and --repeat must be >= 1 and --conc non-empty")
    return args


def _on_term(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run(args: argparse.Namespace, cleanup: Cleanup) -> int:
    h2 = ensure_h2load(args.loadgen, not args.no_install)
    workdir = cleanup.mkdtemp()
    lg = Loadgen(h2, cleanup, workdir, token_file(workdir))
    h2v = (
        subprocess.run([h2, "--version"], capture_output=True, text=True).stdout.strip()
        if h2
        else None
    )
    meta = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "cpus": os.cpu_count(),
        "loadavg_at_start": os.getloadavg(),
        "python": platform.python_version(),
        "grpcio": grpc.__version__,
        "h2load": h2v,
        "loadgen": lg.label,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "repeat": args.repeat,
        "conc": args.conc,
        "shapes": {c: SHAPES.get(c) for c in args.conc},
        "value_bytes": len(VALUE),
        "fsync_note": FSYNC_NOTE,
        "smgrpc_log_level": args.log_level,
    }
    log(
        f"smgrpc bench: {lg.label}; {os.cpu_count()} CPUs; load average at start "
        f"{os.getloadavg()[0]:.2f}; temp dir {workdir}"
    )
    base, sm = start_servers(cleanup, workdir, args.log_level)
    log(
        f"  baseline (empty grpc.aio handler) pid {base.proc.pid} port {base.port}; "
        f"smgrpc pid {sm.proc.pid} port {sm.port}"
    )
    sm.stub.CreateSecret(pb.CreateSecretRequest(name=SECRET_NAME, secret_string=VALUE))
    sm.stub.PutResourcePolicy(
        pb.PutResourcePolicyRequest(secret_id=SECRET_NAME, resource_policy=BENCH_POLICY)
    )
    req = pb.GetSecretValueRequest(secret_id=SECRET_NAME).SerializeToString()
    lens = {
        "baseline": len(base.raw_get(req, timeout=10)),
        "smgrpc": len(sm.raw_get(req, timeout=10)),
    }
    ok_b, why_b = check_get(base, lens["baseline"])
    ok_s, why_s = check_get(sm, lens["smgrpc"])
    if not (ok_b and ok_s):
        raise RuntimeError(f"servers do not answer correctly: baseline {why_b}, smgrpc {why_s}")
    log(
        f"  success response lengths: baseline {lens['baseline']} B, smgrpc {lens['smgrpc']} B "
        f"(value {len(VALUE)} B)"
    )
    results: dict[str, Any] = {"meta": meta, "response_len": lens}
    try:
        if "get" in args.ops:
            log("GetSecretValue:")
            results["get"] = measure_get(args, lg, base, sm, lens)
        if "put" in args.ops:
            log("PutSecretValue:")
            results["put"] = measure_put(args, lg, sm)
        cross = None
        if not args.no_crosscheck:
            log("Python-client cross-check:")
            cross = crosscheck_python(args, lg, base, sm, lens)
            results["python_crosscheck"] = cross
        results["targets"] = report(args, lg, results.get("get"), results.get("put"), cross)
        args.put_rate = results.get("put", {}).get("median", {}).get("rps", 200.0)
        if args.profile:
            log("")
            log("Profiling smgrpc with py-spy (figures under the profiler are not comparable):")
            results["profile"] = profile(args, lg, cleanup, sm, lens)
    except Exception:
        for srv in (base, sm):  # the servers' own words before the temp dir goes away
            log(f"--- last lines of the {srv.name} log ---\n{srv.tail()}")
        raise
    finally:
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=1, default=str))
            log(f"JSON written to {args.json}")
        base.close()
        sm.close()
    verified = all(
        m["all_verified"]
        for n in ("baseline", "smgrpc")
        for m in results.get("get", {}).get("median", {}).get(n, {}).values()
    )
    verified = verified and results.get("put", {}).get("median", {}).get("all_verified", True)
    if cross:
        verified = verified and all(
            r["verify"]["ok"] for k, r in cross.items() if isinstance(r, dict) and "verify" in r
        )
    if not verified:
        log("Some runs were UNVERIFIED: do not trust their figures.")
        return 2
    return 0 if all(t["met"] for t in results["targets"].values()) else 1


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _on_term)
    signal.signal(signal.SIGHUP, _on_term)
    cleanup = Cleanup()
    try:
        return run(args, cleanup)
    except KeyboardInterrupt:
        log("\ninterrupted: stopping servers and removing temp dirs")
        return 130
    finally:
        cleanup.close()


if __name__ == "__main__":
    sys.exit(main())
