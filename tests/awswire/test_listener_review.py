"""The AWS listener's answers to the review of issue 11 (docs: README "The AWS listener"): the
wire's own body cap and parse bounds, malformed HTTP, body-read errors, Expect: 100-continue,
the drain's grace. A real Region (grpc.aio + the aiohttp listener on port 0), raw sockets
where a test must control every byte."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path

from tests.conftest import make_config, running

CT = "application/x-amz-json-1.1"


def head(op: str, length: int, *extra: str) -> bytes:
    """The head of a POST / for `op` with a Content-Length (no body)."""
    lines = [
        "POST / HTTP/1.1",
        "Host: 127.0.0.1",
        f"Content-Type: {CT}",
        f"X-Amz-Target: secretsmanager.{op}",
        f"Content-Length: {length}",
        *extra,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def test_stop_grace_bounds_the_aws_drain(tmp_path: Path) -> None:
    """stop(grace=) is the AWS listener's grace too (it was always shutdown_grace): a client
    stalled mid-upload holds a request in flight, and stop(grace=0.2) does not wait 10 s."""
    cfg = replace(make_config(tmp_path, aws_listen="127.0.0.1:0"), shutdown_grace=10.0)
    async with running(cfg) as region:
        reader, writer = await asyncio.open_connection("127.0.0.1", region.aws_port)
        writer.write(head("ListSecrets", 100) + b"{")  # 99 bytes of the body never come
        await writer.drain()
        await asyncio.sleep(0.2)  # the request is being read
        t0 = time.monotonic()
        await region.stop(grace=0.2)
        took = time.monotonic() - t0
        writer.close()
    assert took < 3.0, f"stop(grace=0.2) took {took:.1f} s"
