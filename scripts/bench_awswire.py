"""scripts/bench aws: GetSecretValue over the AWS JSON 1.1 listener vs over gRPC vs moto_server.

One smgrpc process serves both front doors (`--listen` gRPC and `--aws-listen` AWS JSON 1.1 +
SigV4) on the same data dir, with scripts/bench's secret and resource policy; moto_server
(pip moto[server]) holds a secret with the same value. Each repeat measures the three in a
rotating order at the same concurrency (16), the figures are medians, and the ratios are
medians of the paired per-repeat ratios.

Load generators (they share the 2 cores with the servers; see BENCHMARKING.md):
* gRPC: h2load with a pre-framed body and the admin's Bearer credential (scripts/bench.py's
  Loadgen; the Python client if h2load is missing).
* AWS listener: wrk (one thread, 16 keep-alive connections) with a Lua script that sends each
  of a pool of pre-signed requests once. The listener's replay guard refuses a signed request
  seen before, so every request is signed beforehand by botocore's own SigV4 signer with a
  fresh `amz-sdk-invocation-id` header among the signed headers (as the Java v2 / Go v2 / JS
  v3 SDKs sign it): distinct signatures, all valid for 5 minutes. The pool is sized from the
  previous run's rate; a run that exhausts it reports the wrapped (refused) requests as errors.
* moto_server: the same wrk script with one request (moto does not check signatures).
wrk counts non-2xx answers; every AWS answer is 200 only if the value was served, and one
boto3 call per target checks the value before each run.

Server CPU per call: utime+stime of the server process over the run / answered calls.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from statistics import median
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import boto3  # noqa: E402
from bench import (  # noqa: E402
    BENCH_POLICY,
    GET,
    PY,
    ROOT,
    SECRET_NAME,
    VALUE,
    Cleanup,
    Loadgen,
    Server,
    check_get,
    ensure_h2load,
    fmt,
    free_port,
    log,
    pb,
    proc_cpu_seconds,
)
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

REGION = "us-east-1"
CONNS = 16
TARGETS = ("aws", "grpc", "moto")
LUA = r"""
local reqs, idx, wrapped = {}, 0, 0
init = function(args)
  local f = assert(io.open(args[1], "rb"))
  local data = f:read("*a")
  f:close()
  for r in string.gmatch(data, "(.-)%z") do reqs[#reqs + 1] = r end  -- %z: NUL (LuaJIT)
end
request = function()
  idx = idx + 1
  if idx > #reqs then idx, wrapped = 1, wrapped + 1 end
  return reqs[idx]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "non2xx": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "timeout": %d, "p50_us": %d, "p99_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
"""


def ensure_wrk(allow_install: bool) -> str:
    path = shutil.which("wrk")
    if path:
        return path
    if allow_install and os.geteuid() == 0 and shutil.which("apt-get"):
        log("wrk not found: installing the Debian package wrk (apt-get, as root) ...")
        subprocess.run(
            "apt-get update -qq && apt-get install -y -qq wrk", shell=True, capture_output=True
        )
        path = shutil.which("wrk")
        if path:
            return path
    raise SystemExit("wrk is needed (Debian/Ubuntu: apt-get install wrk; macOS: brew install wrk)")


def raw_request(host: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = ["POST / HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def presign(port: int, key: tuple[str, str], n: int) -> bytes:
    """n distinct GetSecretValue requests signed now by botocore's SigV4 signer, NUL-separated."""
    host = f"127.0.0.1:{port}"
    body = json.dumps({"SecretId": SECRET_NAME}).encode()
    signer = SigV4Auth(Credentials(*key), "secretsmanager", REGION)
    out = []
    for _ in range(n):
        req = AWSRequest(
            method="POST",
            url=f"http://{host}/",
            data=body,
            headers={
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": "secretsmanager.GetSecretValue",
                "amz-sdk-invocation-id": str(uuid.uuid4()),  # signed: each request distinct
            },
        )
        signer.add_auth(req)
        out.append(raw_request(host, dict(req.headers.items()), body))
    return b"\0".join(out) + b"\0"


class Wrk:
    def __init__(self, wrk: str, cleanup: Cleanup, workdir: Path) -> None:
        self.wrk, self.cleanup, self.workdir = wrk, cleanup, workdir
        self.script = workdir / "pool.lua"
        self.script.write_text(LUA)

    def run(self, port: int, pool: bytes, duration: int, server_pid: int) -> dict[str, Any]:
        pool_file = self.workdir / f"pool-{port}.bin"
        pool_file.write_bytes(pool)
        argv = [self.wrk, "-t1", f"-c{CONNS}", f"-d{duration}s", "--timeout", "10s",
                "-s", str(self.script), f"http://127.0.0.1:{port}/",
                "--", str(pool_file)]  # fmt: skip
        cpu0 = proc_cpu_seconds(server_pid)
        proc = self.cleanup.popen("wrk", argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = proc.communicate(timeout=duration + 60)
        cpu = proc_cpu_seconds(server_pid) - cpu0
        line = next((x for x in out.decode().splitlines() if x.startswith("{")), None)
        if proc.returncode != 0 or line is None:
            raise RuntimeError(f"wrk failed ({proc.returncode}): {out.decode()} {err.decode()}")
        r = json.loads(line)
        ok = r["requests"] - r["non2xx"]
        errors = r["non2xx"] + r["connect"] + r["read"] + r["write"] + r["timeout"]
        secs = r["duration_us"] / 1e6
        return {
            "ok": ok,
            "errors": errors,
            "pool": pool.count(b"\0"),
            "rps": ok / secs,
            "p50_ms": r["p50_us"] / 1000,
            "p99_ms": r["p99_us"] / 1000,
            "server_cpu_us_per_call": cpu / ok * 1e6 if ok else float("nan"),
            "loadavg_1m": os.getloadavg()[0],
        }


def start_smgrpc(cleanup: Cleanup, workdir: Path) -> tuple[Server, int]:
    gport, aport, data = free_port(), free_port(), workdir / "smgrpc" / "data"
    data.parent.mkdir(parents=True)
    logpath = workdir / "smgrpc" / "smgrpc.log"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with open(logpath, "wb") as f:
        proc = cleanup.popen(
            "smgrpc",
            [PY, "-m", "smgrpc.cli.main", "serve", "--region", REGION, "--listen",
             f"127.0.0.1:{gport}", "--aws-listen", f"127.0.0.1:{aport}", "--data-dir", str(data)],
            stdout=f, stderr=subprocess.STDOUT, start_new_session=True, env=env, cwd=ROOT,
        )  # fmt: skip
    srv = Server("smgrpc", proc, gport, logpath, data / "admin.token")
    srv.wait_ready()
    deadline = time.monotonic() + 10
    while not (data / "admin.token").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    srv.stub.CreateSecret(pb.CreateSecretRequest(name=SECRET_NAME, secret_string=VALUE))
    srv.stub.PutResourcePolicy(
        pb.PutResourcePolicyRequest(secret_id=SECRET_NAME, resource_policy=BENCH_POLICY)
    )
    return srv, aport


def start_moto(cleanup: Cleanup, workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    with open(workdir / "moto.log", "wb") as f:
        proc = cleanup.popen(
            "moto", [str(Path(PY).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
            stdout=f, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    client = boto_client(port, ("AKIAMOTOMOTOMOTOMOTO", "moto" * 10))
    deadline = time.monotonic() + 30
    while True:
        try:
            client.create_secret(Name=SECRET_NAME, SecretString=VALUE)
            return proc, port
        except Exception:  # not listening yet
            if time.monotonic() > deadline or proc.poll() is not None:
                raise
            time.sleep(0.2)


def boto_client(port: int, key: tuple[str, str]) -> Any:
    return boto3.client(
        "secretsmanager", endpoint_url=f"http://127.0.0.1:{port}", region_name=REGION,
        aws_access_key_id=key[0], aws_secret_access_key=key[1],
        config=Config(retries={"total_max_attempts": 1}),
    )  # fmt: skip


def check_aws(client: Any) -> None:
    got = client.get_secret_value(SecretId=SECRET_NAME)
    if got["SecretString"] != VALUE:
        raise RuntimeError("wrong value over the AWS wire")


def run(args: argparse.Namespace, cleanup: Cleanup) -> int:
    wrk = ensure_wrk(not args.no_install)
    h2 = ensure_h2load("auto", not args.no_install)
    workdir = cleanup.mkdtemp()
    srv, aport = start_smgrpc(cleanup, workdir)
    key_id, secret = (workdir / "smgrpc" / "data" / "admin.token").read_text().strip().split(":", 1)
    key = (key_id, secret)
    moto, mport = start_moto(cleanup, workdir)
    clients = {"aws": boto_client(aport, key), "moto": boto_client(mport, key)}
    wrk_gen = Wrk(wrk, cleanup, workdir)
    grpc_gen = Loadgen(h2, cleanup, workdir, workdir / "smgrpc" / "data" / "admin.token")
    req = pb.GetSecretValueRequest(secret_id=SECRET_NAME).SerializeToString()
    glen = len(srv.raw_get(req, timeout=10))
    moto_pool = presign(mport, key, 1)
    log(
        f"aws bench: GetSecretValue, c={CONNS}; {args.duration}s x {args.repeat}; "
        f"AWS: wrk + {CONNS} connections, pre-signed pool; gRPC: {grpc_gen.label}; "
        f"load average {os.getloadavg()[0]:.2f}; {workdir}"
    )
    rate = {"aws": 3000.0}
    # Warm-up: every target once, briefly (the AWS pool sizes the first measured run).
    warm = wrk_gen.run(aport, presign(aport, key, 3000), 1, srv.proc.pid)
    rate["aws"] = max(warm["rps"], 500.0)
    grpc_gen.run(srv.port, GET, req, 4, 4, 1, glen, srv.proc.pid)
    wrk_gen.run(mport, moto_pool, 1, moto.pid)
    runs: dict[str, list[dict[str, Any]]] = {t: [] for t in TARGETS}
    for rep in range(args.repeat):
        order = TARGETS[rep % 3 :] + TARGETS[: rep % 3]
        for t in order:
            if t == "grpc":
                ok, why = check_get(srv, glen)
                if not ok:
                    raise RuntimeError(f"gRPC: {why}")
                r = grpc_gen.run(srv.port, GET, req, 4, 4, args.duration, glen, srv.proc.pid)
                r["errors"] = 0 if r["verify"]["ok"] else max(1, r["started"] - r["succeeded"])
            elif t == "aws":
                check_aws(clients["aws"])
                n = int(rate["aws"] * args.duration * 1.6) + 500
                pool = presign(aport, key, n)
                r = wrk_gen.run(aport, pool, args.duration, srv.proc.pid)
                rate["aws"] = max(r["rps"], 500.0)
                if r["ok"] + r["errors"] > r["pool"]:
                    log(f"  (the pool of {r['pool']} was exhausted: replays refused, counted "
                        "as errors)")  # fmt: skip
            else:
                check_aws(clients["moto"])
                r = wrk_gen.run(mport, moto_pool, args.duration, moto.pid)
            runs[t].append(r)
            log(
                f"  [{rep + 1}/{args.repeat}] {t:<4} {fmt(r['rps']):>7} rps  "
                f"p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms  "
                f"server {fmt(r['server_cpu_us_per_call'])} us CPU/call  "
                f"errors {r.get('errors', 0)}  load {r['loadavg_1m']:.2f}"
            )
    out: dict[str, Any] = {"conc": CONNS, "duration": args.duration, "runs": runs}
    out["median"] = {
        t: {k: median(r[k] for r in runs[t])
            for k in ("rps", "p50_ms", "p99_ms", "server_cpu_us_per_call")}
        for t in TARGETS
    }  # fmt: skip
    with_grpc = list(zip(runs["aws"], runs["grpc"], strict=True))
    with_moto = list(zip(runs["aws"], runs["moto"], strict=True))
    out["ratio"] = {
        "aws/grpc": median(a["rps"] / g["rps"] for a, g in with_grpc),
        "aws/moto": median(a["rps"] / m["rps"] for a, m in with_moto),
        "aws/grpc server CPU per call": median(
            a["server_cpu_us_per_call"] / g["server_cpu_us_per_call"] for a, g in with_grpc
        ),
    }
    log("GetSecretValue, medians:")
    for t in TARGETS:
        m = out["median"][t]
        log(f"  {t:<4} {fmt(m['rps']):>7} rps  p50 {m['p50_ms']:.2f} ms  p99 {m['p99_ms']:.2f} ms"
            f"  server {fmt(m['server_cpu_us_per_call'])} us CPU/call")  # fmt: skip
    ratio = out["ratio"]
    log(f"  AWS listener / gRPC: {ratio['aws/grpc']:.2f}x rps, "
        f"{ratio['aws/grpc server CPU per call']:.2f}x server CPU per call; "
        f"AWS listener / moto_server: {ratio['aws/moto']:.1f}x rps")  # fmt: skip
    srv.close()
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1, default=str))
    errors = sum(r.get("errors", 0) for t in TARGETS for r in runs[t])
    return 0 if errors == 0 else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="scripts/bench aws", description=__doc__)
    p.add_argument("--duration", type=int, default=5, help="seconds per measured run (5)")
    p.add_argument("--repeat", type=int, default=3, help="runs per target (3)")
    p.add_argument("--no-install", action="store_true", help="never apt-get install wrk/h2load")
    p.add_argument("--json", metavar="PATH", help="write the results as JSON to PATH")
    args = p.parse_args(argv)
    cleanup = Cleanup()
    try:
        return run(args, cleanup)
    except KeyboardInterrupt:
        return 130
    finally:
        cleanup.close()


if __name__ == "__main__":
    sys.exit(main())
