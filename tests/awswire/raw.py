"""Raw HTTP to the AWS listener: requests signed with botocore's own SigV4 signer (or not signed
at all), sent with http.client, so a test controls every byte, the clock of the signature and
how often a request is sent."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.awswire.conftest import REGION, Key


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _FixedClockSigV4(SigV4Auth):
    """botocore's SigV4 signer with the signing time given (add_auth reads the clock)."""

    def __init__(self, credentials: Credentials, when: datetime) -> None:
        super().__init__(credentials, "secretsmanager", REGION)
        self._when = when

    def add_auth(self, request: AWSRequest) -> None:
        # botocore's own add_auth with the timestamp fixed instead of read from the clock
        request.context["timestamp"] = self._when.strftime(SIGV4_TIMESTAMP)
        self._modify_request_before_signing(request)
        canonical = self.canonical_request(request)
        signature = self.signature(self.string_to_sign(request, canonical), request)
        self._inject_signature_to_request(request, signature)


def headers_for(operation: str) -> dict[str, str]:
    return {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": f"secretsmanager.{operation}",
    }


def signed(
    endpoint: str,
    key: Key,
    operation: str,
    members: Mapping[str, Any],
    when: datetime | None = None,
) -> tuple[dict[str, str], bytes]:
    """Headers and body of a POST / signed by key at `when` (default: now)."""
    body = json.dumps(dict(members)).encode()
    req = AWSRequest(method="POST", url=endpoint + "/", data=body, headers=headers_for(operation))
    creds = Credentials(key.key_id, key.secret)
    _FixedClockSigV4(creds, when or datetime.now(UTC).replace(tzinfo=None)).add_auth(req)
    return dict(req.headers.items()), body


def post(endpoint: str, headers: Mapping[str, str], body: bytes) -> Reply:
    """One POST / on a fresh connection."""
    url = urlsplit(endpoint)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=10)
    try:
        conn.request("POST", "/", body=body, headers=dict(headers))
        resp = conn.getresponse()
        data = resp.read()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
    finally:
        conn.close()


T = TypeVar("T")


def eventually(probe: Callable[[], T], done: Callable[[T], bool], within: float = 20.0) -> T:
    deadline = time.monotonic() + within
    while True:
        try:
            got = probe()
            if done(got):
                return got
        except ClientError as exc:
            if time.monotonic() > deadline:
                raise
            got = exc  # type: ignore[assignment]
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {within}s: {got!r}")
        time.sleep(0.1)
