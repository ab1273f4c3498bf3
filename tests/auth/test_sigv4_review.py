"""SigV4 verification's answers to the review of issue 11: the window's edge, what must be
signed, the replay guard's per-key share (README "SigV4 verification")."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from smgrpc.api.guard import Guard
from smgrpc.auth.replay import ReplayGuard, Verdict
from smgrpc.auth.sigv4 import MISMATCH, SignedRequest, SigV4Verifier
from smgrpc.awswire.dispatch import WireContext, sigv4_identity
from smgrpc.core.errors import ServiceError
from smgrpc.core.iam.model import IamState
from tests.auth.sigv4_helpers import (
    BODY,
    HOST,
    INACTIVE_KID,
    INACTIVE_SECRET,
    KID,
    REGION,
    SECRET,
    T0,
    TARGET,
    World,
    sign,
    signing_time,
    with_auth,
    with_header,
)

NEW, REPLAYED, KEY_FULL = Verdict.NEW, Verdict.REPLAYED, Verdict.KEY_FULL


def code_of(world: World, req: object) -> str:
    try:
        world.verifier.verify(req)  # type: ignore[arg-type]
    except ServiceError as exc:
        return exc.aws_code
    return "accepted"


def test_a_replay_at_the_window_edge_is_refused() -> None:
    """A request signed at T0 with the clock at T0 + 300.4 was accepted again and again (the
    skew check rounded the clock down, the replay guard did not): now it is expired."""
    world = World()
    world.clock.t = T0 + 300.4
    req = sign(t=T0)
    assert [code_of(world, req) for _ in range(2)] == ["InvalidSignatureException"] * 2
    world.clock.t = T0 + 300.0  # the edge itself: accepted once, then a replay
    assert [code_of(world, req) for _ in range(2)] == ["accepted", "InvalidSignatureException"]


def test_the_replay_guard_must_cover_the_skew() -> None:
    world = World()
    with pytest.raises(ValueError, match="at least `skew`"):
        SigV4Verifier(
            "us-east-1",
            lambda: world.state,
            world.vault,
            world.clock,
            replay=ReplayGuard(retention=60),
        )


class _HostAndDateOnly(SigV4Auth):
    """A signer that leaves X-Amz-Target and Content-Type out of SignedHeaders."""

    def headers_to_sign(self, request: AWSRequest) -> Any:
        got = super().headers_to_sign(request)
        for name in ("x-amz-target", "content-type"):
            del got[name]
        return got


def test_target_and_content_type_must_be_signed() -> None:
    """A request signed over host;x-amz-date only could be sent on as another operation
    (GetSecretValue signed, DeleteSecret sent): refused, whatever the target says."""
    world = World()
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": TARGET}
    req = AWSRequest("POST", f"http://{HOST}/", data=BODY, headers=headers)
    with signing_time(T0):
        _HostAndDateOnly(Credentials(KID, SECRET), "secretsmanager", REGION).add_auth(req)
    assert "SignedHeaders=host;x-amz-date," in req.headers["Authorization"]
    got = tuple([("host", HOST), *((k.lower(), v) for k, v in req.headers.items())])
    swapped = SignedRequest("POST", "/", "", got, BODY)
    swapped = with_header(swapped, "x-amz-target", "secretsmanager.DeleteSecret")
    with pytest.raises(ServiceError) as info:
        world.verifier.verify(swapped)
    assert info.value.aws_code == "InvalidSignatureException"
    assert str(info.value) == "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization."
    unsigned_type = with_auth(sign(), "content-type;host;", "host;")
    assert code_of(world, unsigned_type) == "InvalidSignatureException"
    no_type = with_header(with_auth(sign(), "content-type;host;", "host;"), "content-type", None)
    with pytest.raises(ServiceError, match="^The request signature we calculated") as info:
        world.verifier.verify(no_type)  # no Content-Type sent: not required, a bad signature
    assert str(info.value) == MISMATCH
    assert code_of(world, sign()) == "accepted"  # what botocore signs


def test_a_key_deactivated_between_two_authentications_is_refused() -> None:
    """handlers.wrap authenticates a call again after a Prepare (a large policy compiled
    meanwhile); the wire's memo of the first verification re-checks the key is still Active
    in the snapshot of the second (it only checked the user's ARN still existed)."""
    world = World()
    verifier = world.verifier
    guard = Guard(
        lambda: world.state,
        world.vault,
        world.clock,
        identity=sigv4_identity(verifier.verify, verifier.recheck),
    )
    ctx = WireContext("ipv4:127.0.0.1:5", "Boto3", False, sign())
    assert guard.authenticate(ctx, ()).name == "alice"
    assert guard.authenticate(ctx, ()).name == "alice"  # memo: no replay refusal
    keys = dict(world.state.keys)
    keys[KID] = replace(keys[KID], status="Inactive")
    world.state = IamState(world.state.account, world.state.holder, users=world.state.users,
                           keys=keys)  # fmt: skip
    with pytest.raises(ServiceError) as info:
        guard.authenticate(ctx, ())
    assert info.value.aws_code == "UnrecognizedClientException"


def test_one_key_cannot_fill_the_replay_guard_for_everyone() -> None:
    """Each accepted request is recorded; one authenticated caller varying the unsigned
    invocation id filled the whole guard and then every key got ThrottlingException. Now a
    key may hold only its share: past it that key alone is throttled."""
    guard = ReplayGuard(retention=300, max_entries=8, max_per_key=3)
    assert [guard.admit(d, T0, T0, "A") for d in (1, 2, 3, 4)] == [NEW, NEW, NEW, KEY_FULL]
    assert [guard.admit(d, T0, T0, "B") for d in (5, 6, 7)] == [NEW, NEW, NEW]
    assert guard.admit(2, T0, T0, "A") is REPLAYED  # a replay is still a replay
    assert guard.admit(9, T0 + 1, T0 + 301, "A") is NEW  # T0's digests left: A's share back
    assert len(guard) == 1

    world = World()
    keys = dict(world.state.keys)
    keys[INACTIVE_KID] = replace(keys[INACTIVE_KID], status="Active")  # bob's second key
    world.state = IamState(world.state.account, world.state.holder, users=world.state.users,
                           keys=keys)  # fmt: skip
    shared = ReplayGuard(retention=300, max_entries=100, max_per_key=2)
    verifier = SigV4Verifier(REGION, lambda: world.state, world.vault, world.clock, replay=shared)
    for n in (1, 2):
        assert verifier.verify(sign(invocation=f"call-{n}")).name == "alice"
    with pytest.raises(ServiceError) as info:
        verifier.verify(sign(invocation="call-3"))
    assert info.value.aws_code == "ThrottlingException" and "this access key" in str(info.value)
    bob = sign(kid=INACTIVE_KID, secret=INACTIVE_SECRET, invocation="call-4")
    assert verifier.verify(bob).name == "bob"  # another key is served
