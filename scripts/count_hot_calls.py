"""Python-level function calls per GetSecretValue on the server's side (sys.setprofile).

A real Region in this process (grpc.aio on port 0, SQLite in a tmp dir), one real channel; the
profiler counts "call" events of code in smgrpc/ (the server: api, guard, use cases, store) and
of everything else (grpc's Python layer, client included) over N warmed-up calls. Used to check
that a change to api/handlers.py `wrap` does not make the hot path do more work.

    .venv/bin/python scripts/count_hot_calls.py [--calls N] [--audit]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb  # noqa: E402
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg  # noqa: E402
from tests.conftest import admin_channel, make_config, running  # noqa: E402

SERVER = str(Path(__file__).resolve().parent.parent / "smgrpc")


async def main(n: int, audit: bool) -> None:
    counts: Counter[str] = Counter()
    by_fn: Counter[str] = Counter()

    def prof(frame: FrameType, event: str, _arg: Any) -> None:
        if event == "call":
            mine = frame.f_code.co_filename.startswith(SERVER)
            counts["smgrpc" if mine else "other"] += 1
            if mine:
                by_fn[f"{Path(frame.f_code.co_filename).name}:{frame.f_code.co_name}"] += 1

    with tempfile.TemporaryDirectory() as tmp:
        kw: dict[str, Any] = {"audit_log": Path(tmp) / "audit.log"} if audit else {}
        async with running(make_config(Path(tmp), **kw)) as region, admin_channel(region) as ch:
            stub = pbg.SecretsManagerStub(ch)
            await stub.CreateSecret(pb.CreateSecretRequest(name="hot", secret_string="v"))
            req = pb.GetSecretValueRequest(secret_id="hot")
            for _ in range(200):  # warm: the guard's fast path, caches
                await stub.GetSecretValue(req)
            sys.setprofile(prof)
            for _ in range(n):
                await stub.GetSecretValue(req)
            sys.setprofile(None)
    print(f"GetSecretValue x{n} (audit {'on' if audit else 'off'}), Python calls per call:")
    print(f"  smgrpc/ (server): {counts['smgrpc'] / n:.2f}")
    print(f"  other (grpc, asyncio, client): {counts['other'] / n:.2f}")
    for name, c in by_fn.most_common(40):
        print(f"    {c / n:6.2f} {name}")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--calls", type=int, default=500)
    p.add_argument("--audit", action="store_true")
    a = p.parse_args()
    asyncio.run(main(a.calls, a.audit))
