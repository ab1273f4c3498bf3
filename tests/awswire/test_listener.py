"""The AWS JSON 1.1 listener over raw HTTP: framing, error bodies and headers, limits, the
pipeline it shares with gRPC (authentication first, audit, metrics), drain, TLS, no leaks.

A real Region (grpc.aio + the aiohttp listener on port 0, SQLite in a tmp dir), a real HTTP
client (aiohttp's), requests signed by botocore's own SigV4 signer."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.api.errors import SHUTTING_DOWN
from smgrpc.api.services import Method
from smgrpc.app import Region
from smgrpc.awswire.server import MAX_BODY, AwsListener
from tests.conftest import CANARY, admin_channel, admin_token, make_config, running
from tests.security.pki import make_pki

CT = "application/x-amz-json-1.1"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def sign(
    url: str, op: str, body: bytes, key: str, region: str = "us-east-1", **extra: str
) -> dict[str, str]:
    """The headers of a request botocore signs (key: `<AccessKeyId>:<SecretAccessKey>`)."""
    access, secret = key.split(":", 1)
    req = AWSRequest(
        method="POST",
        url=url,
        data=body,
        headers={"Content-Type": CT, "X-Amz-Target": f"secretsmanager.{op}", **extra},
    )
    SigV4Auth(Credentials(access, secret), "secretsmanager", region).add_auth(req)
    return dict(req.headers.items())


class Wire:
    """An HTTP client of one Region's AWS listener."""

    def __init__(self, region: Region, session: aiohttp.ClientSession, scheme: str = "http"):
        self.region, self.session = region, session
        host = "localhost" if scheme == "https" else "127.0.0.1"
        self.url = f"{scheme}://{host}:{region.aws_port}/"

    async def raw(
        self, body: bytes | Any = b"", method: str = "POST", path: str = "/", **headers: str
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        async with self.session.request(
            method, self.url.rstrip("/") + path, data=body, headers=headers
        ) as resp:
            data = await resp.read()
            return resp.status, dict(resp.headers), json.loads(data) if data else {}

    async def call(
        self, op: str, payload: dict[str, Any] | bytes, key: str | None = None
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        """A signed call (key: the admin's by default)."""
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = sign(self.url, op, body, key or admin_token(self.region))
        return await self.raw(body, **headers)


@pytest.fixture
async def wire(tmp_path: Path) -> AsyncIterator[Wire]:
    cfg = make_config(tmp_path, aws_listen="127.0.0.1:0", audit_log=tmp_path / "audit.log")
    async with running(cfg) as region, aiohttp.ClientSession() as session:
        yield Wire(region, session)


async def create(region: Region, name: str = "db/password", value: str = CANARY) -> str:
    async with admin_channel(region) as channel:
        got = await pbg.SecretsManagerStub(channel).CreateSecret(
            pb.CreateSecretRequest(name=name, secret_string=value)
        )
    return str(got.arn)


async def audited(region: Region, rid: str) -> dict[str, Any]:
    """The audit record of request `rid` (refusals are queued: waits for it, at most 5 s)."""
    path = region.config.audit_log
    assert path is not None
    for _ in range(100):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            if record.get("requestID") == rid:
                return dict(record)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no audit record of {rid}")


def assert_aws_error(status: int, headers: dict[str, str], body: dict[str, Any], code: str) -> str:
    """The AWS error shape: __type, Message and message alike, the two headers; its message."""
    assert body["__type"] == code, body
    assert headers["X-Amzn-ErrorType"] == code
    assert headers["Content-Type"] == CT
    assert UUID.fullmatch(headers["x-amzn-RequestId"])
    assert body["Message"] == body["message"] and body["message"]
    assert set(body) == {"__type", "Message", "message"}
    return str(body["message"])


async def test_signed_get_secret_value(wire: Wire) -> None:
    arn = await create(wire.region)
    status, headers, body = await wire.call("GetSecretValue", {"SecretId": "db/password"})
    assert status == 200, body
    assert body["SecretString"] == CANARY and body["ARN"] == arn and body["Name"] == "db/password"
    assert headers["Content-Type"] == CT and UUID.fullmatch(headers["x-amzn-RequestId"])
    assert "X-Amzn-ErrorType" not in headers


async def test_a_domain_error_is_aws_shaped(wire: Wire) -> None:
    status, headers, body = await wire.call("GetSecretValue", {"SecretId": "no/such"})
    assert status == 400
    message = assert_aws_error(status, headers, body, "ResourceNotFoundException")
    assert message == "Secrets Manager can't find the specified secret."


async def test_unsigned_call_refused_before_anything_is_read(wire: Wire) -> None:
    await create(wire.region)
    body = json.dumps({"SecretId": "db/password"}).encode()
    status, headers, got = await wire.raw(
        body, **{"Content-Type": CT, "X-Amz-Target": "secretsmanager.GetSecretValue"}
    )
    assert status == 400
    assert_aws_error(status, headers, got, "MissingAuthenticationTokenException")
    assert CANARY not in json.dumps(got)


async def test_wrong_key_refused(wire: Wire) -> None:
    key = admin_token(wire.region)
    forged = key.split(":")[0] + ":" + "x" * 40
    status, headers, body = await wire.call("ListSecrets", {}, key=forged)
    assert status == 400
    assert_aws_error(status, headers, body, "InvalidSignatureException")
    assert "x" * 40 not in json.dumps(body) and key.split(":")[1] not in json.dumps(body)


async def test_undecodable_body_authenticated_first(wire: Wire) -> None:
    """AWS authenticates before it validates: unsigned garbage is an authentication error,
    signed garbage the codec's SerializationException."""
    unsigned = await wire.raw(
        b"{not json", **{"Content-Type": CT, "X-Amz-Target": "secretsmanager.GetSecretValue"}
    )
    assert unsigned[2]["__type"] == "MissingAuthenticationTokenException"
    status, headers, body = await wire.call("GetSecretValue", b"{not json")
    assert status == 400
    assert_aws_error(status, headers, body, "SerializationException")
    status, headers, body = await wire.call("GetSecretValue", {})
    message = assert_aws_error(status, headers, body, "ValidationException")
    assert "Value null at 'secretId' failed to satisfy constraint" in message


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/", {}, 405),
        ("PUT", "/", {"Content-Type": CT, "X-Amz-Target": "secretsmanager.ListSecrets"}, 405),
        ("POST", "/other", {"Content-Type": CT, "X-Amz-Target": "secretsmanager.ListSecrets"}, 404),
        ("POST", "/", {"Content-Type": CT}, 400),
        ("POST", "/", {"Content-Type": CT, "X-Amz-Target": "secretsmanager.NoSuchThing"}, 400),
        ("POST", "/", {"Content-Type": CT, "X-Amz-Target": "secretsmanager.WatchSecrets"}, 400),
        ("POST", "/", {"Content-Type": CT, "X-Amz-Target": "kms.ListSecrets"}, 400),
        ("POST", "/", {"Content-Type": CT, "X-Amz-Target": "ListSecrets"}, 400),
        ("POST", "/", {"Content-Type": "application/json", "X-Amz-Target": "x"}, 400),
        ("POST", "/", {"X-Amz-Target": "secretsmanager.ListSecrets"}, 400),
        (
            "POST",
            "/",
            {"Content-Type": "text/plain", "X-Amz-Target": "secretsmanager.ListSecrets"},
            400,
        ),
    ],
)
async def test_framing_errors_are_unknown_operation(
    wire: Wire, method: str, path: str, headers: dict[str, str], status: int
) -> None:
    got = await wire.raw(b"{}", method=method, path=path, **headers)
    assert got[0] == status
    assert_aws_error(*got, "UnknownOperationException")


async def test_json_1_0_content_type_accepted(wire: Wire) -> None:
    body = b"{}"
    json10 = {"Content-Type": "application/x-amz-json-1.0"}
    headers = sign(wire.url, "ListSecrets", body, admin_token(wire.region), **json10)
    status, _, got = await wire.raw(body, **headers)
    assert status == 200 and got["SecretList"] == []


async def test_oversize_body_refused(wire: Wire) -> None:
    headers = {"Content-Type": CT, "X-Amz-Target": "secretsmanager.PutSecretValue"}
    got = await wire.raw(io.BytesIO(b" " * (MAX_BODY + 1)), **headers)
    assert got[0] == 413
    assert str(MAX_BODY) in assert_aws_error(*got, "RequestEntityTooLargeException")

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(MAX_BODY // 65536 + 2):
            yield b" " * 65536

    got = await wire.raw(chunked(), **headers)
    assert got[0] == 413
    # The listener still answers afterwards.
    assert (await wire.call("ListSecrets", {}))[0] == 200


async def test_a_wire_call_is_audited_and_counted_like_grpc(wire: Wire) -> None:
    await create(wire.region)
    stats = {m.name: m for m in wire.region.calls.methods}["GetSecretValue"]
    before = stats.ok
    status, headers, _ = await wire.call("GetSecretValue", {"SecretId": "db/password"})
    assert status == 200
    rid = headers["x-amzn-RequestId"]
    assert stats.ok == before + 1
    # One series per method: the wire's calls are counted with gRPC's.
    assert [m.name for m in wire.region.calls.methods].count("GetSecretValue") == 1
    mine = await audited(wire.region, rid)
    assert mine["eventName"] == "GetSecretValue" and "errorCode" not in mine
    assert mine["sourceIPAddress"] == "127.0.0.1"  # the peer in grpc's form: aws:SourceIp
    assert "aiohttp" in mine["userAgent"].lower()
    # A refused wire call is audited too (as a refused gRPC call is).
    status, headers, _ = await wire.raw(
        b"{}", **{"Content-Type": CT, "X-Amz-Target": "secretsmanager.ListSecrets"}
    )
    rid = headers["x-amzn-RequestId"]
    refused = await audited(wire.region, rid)
    assert refused["errorCode"] == "MissingAuthenticationTokenException"
    stats = {m.name: m for m in wire.region.calls.methods}["ListSecrets"]
    assert stats.errors == {(grpc.StatusCode.UNAUTHENTICATED, refused["errorCode"]): 1}


async def test_a_wire_call_is_access_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.INFO, logger="smgrpc.access")
    cfg = make_config(tmp_path, aws_listen="127.0.0.1:0")
    async with running(cfg) as region, aiohttp.ClientSession() as session:
        status, headers, _ = await Wire(region, session).call("ListSecrets", {})
        assert status == 200
        region.access_log.flush()
    line = next(
        ln for ln in capsys.readouterr().err.splitlines() if headers["x-amzn-RequestId"] in ln
    )
    assert "ListSecrets OK" in line and "ipv4:127.0.0.1:" in line and ":user/admin" in line


async def test_no_credential_or_value_in_logs_or_errors(
    wire: Wire, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    await create(wire.region)
    secret = admin_token(wire.region).split(":")[1]
    answers = [
        await wire.call("GetSecretValue", {"SecretId": "db/password"}),
        await wire.call("GetSecretValue", {"SecretId": CANARY}),
        await wire.call("PutSecretValue", {"SecretId": "db/password", "SecretString": CANARY}),
        await wire.call("GetSecretValue", b'{"SecretId": "' + CANARY.encode() + b'"'),
        await wire.call("ListSecrets", {}, key=admin_token(wire.region)[:-1] + "Q"),
    ]
    wire.region.access_log.flush()
    out = caplog.text + capsys.readouterr().err
    for status, _headers, body in answers[1:]:
        assert status >= 400 and CANARY not in json.dumps(body) and secret not in json.dumps(body)
    assert CANARY not in out and secret not in out


async def test_drain_answers_503_service_unavailable(wire: Wire) -> None:
    wire.region.gate.close()  # what SIGTERM does first (serve_until_signal)
    status, headers, body = await wire.call("ListSecrets", {})
    assert status == 503
    assert assert_aws_error(status, headers, body, "ServiceUnavailable") == SHUTTING_DOWN


async def test_listener_closed_after_stop(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, aws_listen="127.0.0.1:0")
    async with running(cfg) as region:
        port = region.aws_port
        assert port > 0
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.post(f"http://127.0.0.1:{port}/", data=b"{}")


async def test_tls(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    files = pki.region("us-east-1")
    cfg = make_config(
        tmp_path,
        aws_listen="127.0.0.1:0",
        tls_cert=files["tls_cert"],
        tls_key=files["tls_key"],
    )
    trust = ssl.create_default_context(cafile=str(tmp_path / "pki" / "client-ca.pem"))
    async with (
        running(cfg) as region,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trust)) as session,
    ):
        wire = Wire(region, session, scheme="https")
        status, _, body = await wire.call("ListSecrets", {})
        assert status == 200 and body["SecretList"] == []
        with pytest.raises(aiohttp.ClientError):  # no plaintext on the TLS port
            await session.post(f"http://127.0.0.1:{region.aws_port}/", data=b"{}")


async def test_close_lets_a_request_in_flight_finish_then_refuses_connections() -> None:
    """close() (app's drain, after the gate closed) stops accepting and waits for the
    request in flight, up to the grace; the handler here is a real coroutine standing in for
    a slow call (the pipeline's own drain answer is test_drain_answers_503...)."""
    started = asyncio.Event()

    async def slow(request: Any, context: Any, metadata: Any = None) -> pb.ListSecretsResponse:
        started.set()
        await asyncio.sleep(0.3)
        return pb.ListSecretsResponse()

    methods = {"ListSecrets": Method(slow, pb.ListSecretsRequest, pb.ListSecretsResponse, False)}
    listener = AwsListener("127.0.0.1:0", methods, lambda *parts: parts, max_body=1024, grace=5.0)
    port = await listener.start()
    url = f"http://127.0.0.1:{port}/"
    headers = {"Content-Type": CT, "X-Amz-Target": "secretsmanager.ListSecrets"}
    async with aiohttp.ClientSession() as session:

        async def call() -> tuple[int, bytes]:
            async with session.post(url, data=b"{}", headers=headers) as resp:
                return resp.status, await resp.read()

        inflight = asyncio.create_task(call())
        await started.wait()
        await listener.close()
        assert inflight.done()  # close() returned only once the request had its answer
        status, body = await inflight
        assert status == 200 and json.loads(body) == {"SecretList": []}
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.post(url, data=b"{}", headers=headers)
