"""SigV4 verification's answers to the review of issue 11: the window's edge, what must be
signed, the replay guard's per-key share (README "SigV4 verification")."""

from __future__ import annotations

import pytest

from smgrpc.auth.replay import ReplayGuard
from smgrpc.auth.sigv4 import SigV4Verifier
from smgrpc.core.errors import ServiceError
from tests.auth.sigv4_helpers import T0, World, sign


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
