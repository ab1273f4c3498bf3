"""The AWS listener's answers to the review of issue 11 (docs: README "The AWS listener"): the
wire's own body cap and parse bounds, malformed HTTP, body-read errors, Expect: 100-continue,
the drain's grace. A real Region (grpc.aio + the aiohttp listener on port 0), raw sockets
where a test must control every byte."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from smgrpc.app import Region
from smgrpc.awswire.server import MAX_BODY
from tests.awswire.test_listener import sign
from tests.conftest import admin_token, make_config, running

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


async def exchange(port: int, data: bytes, wait: float = 5.0) -> bytes:
    """Send `data` on a fresh connection, read until the server closes it (or `wait`)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    got = b""
    try:
        async with asyncio.timeout(wait):
            while chunk := await reader.read(65536):
                got += chunk
    except TimeoutError:
        pass
    writer.close()
    return got


def parse(raw: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
    """Status, headers (lower-cased) and JSON body of the first response in `raw`."""
    text, _, rest = raw.partition(b"\r\n\r\n")
    status_line, *lines = text.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines)}
    body = rest[: int(headers.get("content-length", len(rest)))]
    return int(status_line.split()[1]), headers, json.loads(body)


@pytest.fixture
async def region(tmp_path: Path) -> AsyncIterator[Region]:
    async with running(make_config(tmp_path, aws_listen="127.0.0.1:0")) as r:
        yield r


async def test_a_compressed_body_is_refused_as_aws_does(region: Region) -> None:
    """A bad gzip body was a 500 InternalServiceError with an ERROR traceback; AWS JSON
    clients never compress requests: any Content-Encoding but identity is a 400."""
    body = b"not gzip at all"
    raw = await exchange(
        region.aws_port, head("ListSecrets", len(body), "Content-Encoding: gzip") + body
    )
    status, headers, got = parse(raw)
    assert status == 400 and got["__type"] == "SerializationException"
    assert headers["x-amzn-errortype"] == "SerializationException"
    assert "Content-Encoding is not supported" in got["message"]


async def test_a_client_leaving_mid_upload_is_not_an_error(
    region: Region, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    reader, writer = await asyncio.open_connection("127.0.0.1", region.aws_port)
    writer.write(head("ListSecrets", 1000) + b'{"MaxResults": 1')
    await writer.drain()
    await asyncio.sleep(0.2)
    writer.transport.abort()  # gone, mid-body
    await asyncio.sleep(0.3)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    assert any("client left" in r.getMessage() for r in caplog.records)


async def test_expect_100_continue_is_answered(region: Region) -> None:
    """curl sends Expect: 100-continue for larger bodies and waits ~1 s for the 100."""
    reader, writer = await asyncio.open_connection("127.0.0.1", region.aws_port)
    writer.write(head("ListSecrets", 2, "Expect: 100-continue"))
    await writer.drain()
    async with asyncio.timeout(0.8):
        interim = await reader.readuntil(b"\r\n\r\n")
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    writer.write(b"{}")
    await writer.drain()
    async with asyncio.timeout(5):
        final = await reader.readuntil(b"\r\n\r\n")
    writer.close()
    assert final.startswith(b"HTTP/1.1 400 ")  # unsigned: MissingAuthenticationTokenException
    assert b"MissingAuthenticationTokenException" in final


CANARY_SIG = "deadbeefSIGNATUREcanary0123456789abcdef0123456789abcdef012345"


async def test_a_malformed_request_logs_no_header_text(
    region: Region, caplog: pytest.LogCaptureFixture
) -> None:
    """aiohttp refuses a request it cannot parse before our handler runs: it logged the raw
    header line (an Authorization value with its Signature) with a traceback at ERROR on
    aiohttp.server and sent text/plain. Now: the exception's type only, an AWS error body."""
    caplog.set_level(logging.DEBUG)
    auth = (
        "AWS4-HMAC-SHA256 Credential=AKIAABCDEFGHIJKLMN23/20261201/us-east-1/secretsmanager/"
        f"aws4_request, SignedHeaders=host;x-amz-date, Signature={CANARY_SIG}\x01"
    )
    request = (
        f"POST / HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nContent-Length: 2\r\n\r\n{{}}"
    )
    status, headers, got = parse(await exchange(region.aws_port, request.encode()))
    assert status == 400 and got["__type"] == "SerializationException"
    assert headers["content-type"] == CT and headers["x-amzn-errortype"] == got["__type"]
    assert got["message"] == "The HTTP request could not be parsed (BadHttpMessage)."
    assert CANARY_SIG not in caplog.text and "SIGNATURE" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert any("BadHttpMessage" in r.getMessage() for r in caplog.records)
    # A bad chunk size in the same packet as the head takes the same path.
    lines = ["POST / HTTP/1.1", "Host: x", f"Content-Type: {CT}",
             "X-Amz-Target: secretsmanager.ListSecrets", "Transfer-Encoding: chunked"]  # fmt: skip
    raw = await exchange(region.aws_port, ("\r\n".join(lines) + "\r\n\r\nzz\r\n").encode())
    assert parse(raw)[2]["__type"] == "SerializationException"


class LagMeter:
    """The longest the event loop went without running a 5 ms ticker (its lag), while on."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._on = True

    async def run(self) -> None:
        while self._on:
            t = time.perf_counter()
            await asyncio.sleep(0.005)
            self.worst = max(self.worst, time.perf_counter() - t - 0.005)

    def stop(self) -> None:
        self._on = False


def _filling(item: bytes, prefix: bytes = b'{"Filters":[', suffix: bytes = b"]}") -> bytes:
    """A body of `item`s just under the wire's cap."""
    n = (MAX_BODY - len(prefix) - len(suffix)) // (len(item) + 1)
    return prefix + b",".join([item] * n) + suffix


async def test_a_maximal_body_does_not_hold_the_event_loop(region: Region) -> None:
    """An unsigned 6 MB ListSecrets of 200,000 Filters held the loop 2,154 ms (parsed and
    converted before authentication). Now: the wire's own 512 KiB cap, list lengths and the
    number of JSON values checked before conversion, large bodies decoded in a thread; the
    loop's lag while each of these maximal bodies is served stays in tens of ms at most (a
    robust bound on a shared, loaded machine; measured 0.3-14 ms at load 8)."""
    key = admin_token(region)
    url = f"http://127.0.0.1:{region.aws_port}/"
    # The largest legitimate value: 65,536 control characters, JSON-escaped six-fold.
    secret = "\x01" * 65536
    create = json.dumps({"Name": "big", "SecretString": secret, "ClientRequestToken": "t" * 32})
    filters = b'{"Filters":[' + b",".join([b'{"Key":"name","Values":["a"]}'] * 2000) + b"]}"
    ids = b'{"SecretIdList":[' + b",".join([b'"a"'] * 3000) + b"]}"
    bodies = [
        ("ListSecrets", _filling(b'{"Key":"name","Values":["a"]}'), None),
        ("ListSecrets", _filling(b'{"Key":"name","Values":["a"]}'), key),  # 70,000 values
        ("ListSecrets", _filling(b"{}", b'{"Unknown":['), None),
        ("ListSecrets", _filling(b"[]", b'{"Unknown":['), key),
        ("ListSecrets", _filling(b'"a"', b'{"Unknown":['), key),
        ("ListSecrets", filters, key),  # few enough values, but 2,000 > 100 Filters
        ("BatchGetSecretValue", ids, key),
        ("CreateSecret", create.encode(), key),
    ]
    answers, lags = [], []
    async with aiohttp.ClientSession() as session:
        for op, body, signer in bodies:
            assert len(body) <= MAX_BODY
            headers = sign(url, op, body, signer) if signer else {
                "Content-Type": CT, "X-Amz-Target": f"secretsmanager.{op}"}  # fmt: skip
            meter = LagMeter()
            ticker = asyncio.create_task(meter.run())
            await asyncio.sleep(0.02)
            meter.worst = 0.0
            async with session.post(url, data=body, headers=headers) as resp:
                got = await resp.json(content_type=None)
                answers.append((resp.status, got.get("__type"), got.get("message", "")[-40:]))
            meter.stop()
            await ticker
            lags.append(round(meter.worst * 1000, 1))
    many = "The request body holds more than 16384 JSON values."[-40:]
    assert (
        answers
        == [
            (400, "MissingAuthenticationTokenException", "Missing Authentication Token"),  # first
            (400, "SerializationException", many),
            (400, "MissingAuthenticationTokenException", "Missing Authentication Token"),
            (400, "SerializationException", many),
            (400, "SerializationException", many),
            (400, "ValidationException", "Member must have length less than or equal to 10"[-40:]),
            (400, "ValidationException", "Member must have length less than or equal to 20"[-40:]),
            (200, None, ""),
        ]
    ), lags
    print("loop lag (ms) per body:", lags)
    # Wall-clock lag also counts the OS giving the CPU to other processes: 0.3-14 ms at load 8,
    # once 117 ms under pytest-xdist with the compose demo building beside it. 250 ms still
    # fails the defect this guards against (2,154 ms; 175 ms for a 1 MiB body parsed inline).
    assert max(lags) < 250, lags
