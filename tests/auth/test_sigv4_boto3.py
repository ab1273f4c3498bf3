"""SigV4 verification of a real boto3 client's requests (botocore's signer, its retry headers,
its HTTP client) received by a minimal HTTP server in the test: what the AWS listener will see.

Also pins the finding the replay guard is designed around (auth/sigv4.py's docstring): two
identical boto3 calls signed in the same second carry the same signature, and differ only in
the unsigned amz-sdk-invocation-id header.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from smgrpc.auth import sigv4
from smgrpc.auth.sigv4 import SignedRequest
from smgrpc.core.errors import ServiceError
from tests.auth.sigv4_helpers import KID, SECRET, T0, World, signing_time


@dataclass
class Received:
    requests: list[SignedRequest] = field(default_factory=list)
    raw: list[tuple[str, list[tuple[str, str]], bytes]] = field(default_factory=list)


def _handler(world: World, seen: Received) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            path, _, query = self.path.partition("?")
            pairs = [(k.lower(), v) for k, v in self.headers.items()]
            req = SignedRequest(self.command, path, query, tuple(pairs), body)
            seen.requests.append(req)
            seen.raw.append((self.path, list(self.headers.items()), body))
            try:
                principal = world.verifier.verify(req)
                status, out = 200, {"SecretList": [], "Caller": principal.arn}
            except ServiceError as exc:
                status, out = 400, {"__type": exc.aws_code, "message": exc.message}
            data = json.dumps(out).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def served() -> Iterator[tuple[World, Received, int]]:
    world, seen = World(), Received()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(world, seen))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield world, seen, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def client(port: int, secret: str = SECRET, region: str = "us-east-1") -> Any:
    return boto3.client(
        "secretsmanager",
        region_name=region,
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id=KID,
        aws_secret_access_key=secret,
        config=Config(retries={"mode": "standard", "max_attempts": 1}),
    )


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err["Message"]


def test_identical_boto3_calls_in_one_second_share_a_signature_and_are_all_accepted(
    served: tuple[World, Received, int],
) -> None:
    world, seen, port = served
    sm = client(port)
    with signing_time(T0):
        for _ in range(3):
            sm.list_secrets()
    auths = {dict(r.headers)["authorization"] for r in seen.requests}
    invocations = {dict(r.headers)["amz-sdk-invocation-id"] for r in seen.requests}
    signed = dict(seen.requests[0].headers)["authorization"].split("SignedHeaders=")[1]
    assert signed.startswith("content-type;host;x-amz-date;x-amz-target,")  # not the SDK ids
    assert len(auths) == 1  # one signature for the three calls ...
    assert len(invocations) == 3  # ... told apart by the unsigned invocation id
    assert len(world.verifier.replay) == 3


def test_a_captured_boto3_request_sent_again_is_refused(
    served: tuple[World, Received, int],
) -> None:
    world, seen, port = served
    with signing_time(T0):
        client(port).list_secrets()
    path, headers, body = seen.raw[0]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", path, body=body, headers=dict(headers))
    resp = conn.getresponse()
    got = json.loads(resp.read())
    conn.close()
    assert resp.status == 400
    assert got == {"__type": "InvalidSignatureException", "message": sigv4.REPLAYED}


def test_boto3_with_a_wrong_secret_or_region_gets_aws_codes(
    served: tuple[World, Received, int],
) -> None:
    world, seen, port = served
    with signing_time(T0), pytest.raises(ClientError) as wrong:
        client(port, secret=SECRET[:-1] + "Z").list_secrets()
    code, message = _error(wrong)
    assert code == "InvalidSignatureException"
    assert message.startswith("The request signature we calculated does not match")
    assert SECRET not in str(wrong.value)
    with signing_time(T0), pytest.raises(ClientError) as scoped:
        client(port, region="us-west-2").list_secrets()
    assert _error(scoped) == (
        "InvalidSignatureException",
        "Credential should be scoped to a valid region. ",
    )
    world.clock.t = T0 + 400
    with signing_time(T0), pytest.raises(ClientError) as expired:
        client(port).list_secrets()
    assert _error(expired) == (
        "InvalidSignatureException",
        "Signature expired: 20261201T120000Z is now earlier than 20261201T120140Z "
        "(20261201T120640Z - 5 min.)",
    )
