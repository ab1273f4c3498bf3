"""Requests signed by botocore's own SigV4 signer, at a chosen instant, as SignedRequests."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager

import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from smgrpc.auth.sigv4 import SignedRequest, SigV4Verifier
from smgrpc.core.iam.model import AccessKey, IamState, User
from smgrpc.crypto.access_keys import AccessKeyVault, NewAccessKey
from tests.conftest import FakeClock

ACCOUNT = "123456789012"
REGION = "us-east-1"
HOST = "127.0.0.1:4566"
T0 = 1_796_126_400  # 2026-12-01T12:00:00Z
AMZ_T0 = "20261201T120000Z"
KID = "AKIAABCDEFGHIJKLMN23"
# The secret key is a canary: it must appear in no message, repr or log line.
SECRET = "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"
INACTIVE_KID = "AKIABBBBBBBBBBBBBB23"
INACTIVE_SECRET = "InactiveKeySecret00000000000000000000000"
ORPHAN_KID = "AKIACCCCCCCCCCCCCC23"  # its user was deleted
ORPHAN_SECRET = "OrphanKeySecret0000000000000000000000000"
BODY = b'{"SecretId": "prod/db"}'
TARGET = "secretsmanager.GetSecretValue"


def user(name: str) -> User:
    return User(name, f"AIDA{name.upper()}", f"arn:aws:iam::{ACCOUNT}:user/{name}", "/", 0.0)


def key(vault: AccessKeyVault, kid: str, secret: str, owner: str, status: str) -> AccessKey:
    stored = vault.seal(NewAccessKey(kid, secret))
    return AccessKey(kid, owner, status, 0.0, stored.sealed, stored.digest)  # type: ignore[arg-type]


def make_state(vault: AccessKeyVault) -> IamState:
    keys = {
        KID: key(vault, KID, SECRET, "alice", "Active"),
        INACTIVE_KID: key(vault, INACTIVE_KID, INACTIVE_SECRET, "bob", "Inactive"),
        ORPHAN_KID: key(vault, ORPHAN_KID, ORPHAN_SECRET, "carol", "Active"),
    }
    users = {"alice": user("alice"), "bob": user("bob")}
    return IamState(ACCOUNT, REGION, users=users, keys=keys)


class World:
    """A vault, an IAM snapshot, a clock at T0 and a verifier over them."""

    def __init__(self, vault: AccessKeyVault | None = None) -> None:
        self.vault = vault or AccessKeyVault(b"m" * 32, ACCOUNT)
        self.state = make_state(self.vault)
        self.clock = FakeClock(float(T0))
        self.verifier = SigV4Verifier(REGION, lambda: self.state, self.vault, self.clock)


@contextmanager
def signing_time(t: int) -> Iterator[None]:
    """botocore's signer reads the time through botocore.auth.get_current_datetime."""
    saved = botocore.auth.get_current_datetime
    at = datetime.datetime.fromtimestamp(t, datetime.UTC).replace(tzinfo=None)
    botocore.auth.get_current_datetime = lambda *a, **k: at  # type: ignore[assignment]
    try:
        yield
    finally:
        botocore.auth.get_current_datetime = saved  # type: ignore[assignment]


def sign(
    body: bytes = BODY,
    *,
    t: int = T0,
    kid: str = KID,
    secret: str = SECRET,
    region: str = REGION,
    service: str = "secretsmanager",
    path: str = "/",
    extra: dict[str, str] | None = None,
    invocation: str | None = "0b5e8f3a-0000-4000-8000-000000000001",
) -> SignedRequest:
    """A request as botocore signs it; the unsigned SDK headers added as botocore adds them
    (after signing), plus the Host header the HTTP client sends."""
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": TARGET}
    headers.update(extra or {})
    req = AWSRequest("POST", f"http://{HOST}{path}", data=body, headers=headers)
    with signing_time(t):
        SigV4Auth(Credentials(kid, secret), service, region).add_auth(req)
    got = [("host", HOST), ("user-agent", "Boto3/1.44.8 md/Botocore#1.44.8")]
    got += [(k.lower(), v) for k, v in req.headers.items()]
    if invocation is not None:
        got += [("amz-sdk-invocation-id", invocation), ("amz-sdk-request", "attempt=1; max=3")]
    return SignedRequest("POST", path.partition("?")[0], path.partition("?")[2], tuple(got), body)


def header(req: SignedRequest, name: str) -> str:
    return next(v for k, v in req.headers if k == name)


def with_header(req: SignedRequest, name: str, value: str | None) -> SignedRequest:
    """The request with header `name` replaced (None: removed; absent: appended)."""
    out = [(k, v) for k, v in req.headers if k != name]
    if value is not None:
        out.append((name, value))
    return SignedRequest(req.method, req.path, req.query, tuple(out), req.body)


def with_auth(req: SignedRequest, old: str, new: str) -> SignedRequest:
    auth = header(req, "authorization")
    assert old in auth
    return with_header(req, "authorization", auth.replace(old, new, 1))


def signature(req: SignedRequest) -> str:
    return header(req, "authorization").rpartition("Signature=")[2]
