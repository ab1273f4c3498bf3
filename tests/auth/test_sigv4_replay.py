"""The SigV4 replay guard (auth/replay.py): one bucket a signed second, sealed into sorted
arrays, dropped after the window, bounded (FULL, never forgetting early)."""

from __future__ import annotations

import logging
import random

import pytest

from smgrpc.auth.replay import SEAL_AFTER, ReplayGuard, Verdict
from smgrpc.auth.sigv4 import SigV4Verifier
from smgrpc.core.errors import ServiceError
from tests.auth.sigv4_helpers import REGION, T0, World, sign

NEW, REPLAYED, FULL = Verdict.NEW, Verdict.REPLAYED, Verdict.FULL


def test_first_use_then_replayed_until_the_window_ends() -> None:
    guard = ReplayGuard(retention=300)
    assert guard.admit(7, T0, T0) is NEW
    assert guard.admit(7, T0, T0 + 300) is REPLAYED
    assert guard.admit(8, T0, T0 + 300) is NEW
    assert guard.admit(7, T0 + 1, T0 + 300) is NEW  # another signed second: another request
    assert guard.admit(9, T0, T0 + 301) is NEW  # past the window: not remembered at all
    assert len(guard) == 1  # T0's second was dropped; only T0 + 1's digest is kept


def test_sealed_seconds_still_answer_and_take_late_arrivals() -> None:
    guard = ReplayGuard(retention=300)
    rng = random.Random(5)
    digests = sorted({rng.getrandbits(64) & ~1 for _ in range(5000)})  # even: d + 1 is new
    assert len(digests) == 5000
    for d in digests:
        assert guard.admit(d, T0, T0) is NEW
    guard.admit(1, T0 + 10, T0 + 10)  # a tick SEAL_AFTER later seals T0's second
    second = guard._seconds[T0]
    assert not second.hot and len(second.sealed) == 5000
    assert all(guard.admit(d, T0, T0 + 11) is REPLAYED for d in digests[::7])
    late = [d + 1 for d in digests[:300]]  # a skewed client's late requests
    assert all(guard.admit(d, T0, T0 + 12) is NEW for d in late)
    assert all(guard.admit(d, T0, T0 + 13) is REPLAYED for d in late)
    guard.admit(2, T0 + 20, T0 + 20)
    assert len(second.hot) == 300  # below a quarter of the sealed ones: kept hot
    assert guard.admit(digests[0], T0, T0 + 21) is REPLAYED
    assert len(guard) == 5302
    assert SEAL_AFTER < 10


def test_full_refuses_new_requests_but_still_detects_replays(
    caplog: pytest.LogCaptureFixture,
) -> None:
    guard = ReplayGuard(retention=300, max_entries=3, max_per_key=3)  # the bound, not a share
    assert [guard.admit(d, T0, T0) for d in (1, 2, 3)] == [NEW, NEW, NEW]
    with caplog.at_level(logging.WARNING, "smgrpc.auth.replay"):
        assert guard.admit(4, T0, T0) is FULL
        assert guard.admit(5, T0, T0) is FULL
    assert guard.admit(2, T0, T0) is REPLAYED
    assert len([r for r in caplog.records if "at its bound" in r.message]) == 1
    assert guard.admit(4, T0 + 1, T0 + 301) is NEW  # T0's digests left the window


def test_per_second_bound() -> None:
    guard = ReplayGuard(retention=300, max_per_second=2)
    assert [guard.admit(d, T0, T0) for d in (1, 2, 3)] == [NEW, NEW, FULL]
    assert guard.admit(3, T0 + 1, T0) is NEW


def test_verifier_at_the_bound_answers_throttling() -> None:
    world = World()
    guard = ReplayGuard(retention=300, max_entries=1, max_per_key=1)
    verifier = SigV4Verifier(REGION, lambda: world.state, world.vault, world.clock, replay=guard)
    verifier.verify(sign())
    with pytest.raises(ServiceError) as info:
        verifier.verify(sign(t=T0 + 1))
    assert info.value.aws_code == "ThrottlingException"
    assert info.value.retry_after == 1.0
    world.clock.t = T0 + 301  # the first signature left its window: room again
    assert verifier.verify(sign(t=T0 + 2)).name == "alice"
