"""The SigV4 replay guard: a signed request is accepted once within its signature window.

What is remembered of an accepted request is a 64-bit truncated BLAKE2b digest of its replay
key (auth/sigv4.py: the signature plus the SDK's unsigned invocation headers), never the
signature itself, filed under the request's *signed* second (its X-Amz-Date). A replay
carries the same signed second, so a lookup reads exactly one bucket; a bucket is dropped
as soon as every request it holds is past its window (signed second + retention < now).

Layout per signed second: a `set` of the digests accepted lately ("hot") and, once the
second is `SEAL_AFTER` seconds old (clients with a synchronised clock have sent all of theirs
by then), a sorted `array('Q')` of the rest (8 bytes a digest, looked up by bisection). Late
arrivals (skewed clocks) go to the hot set and are merged into the array when it grows past
a quarter of it. Sealing is bounded work: at most `MERGE_BUDGET` digests are sorted a tick
(one tick a second); a sort of 65,536 ints takes ~8 ms, so the loop is never held long.

Bound (the design point is 3,000 requests/s for the whole 5-minute window, 900,000 digests):
- at most `max_entries` digests in all (default 1,000,000), and at most `max_per_second`
  (default 65,536) under one signed second;
- memory, measured with CPython 3.11 (tracemalloc): 7.8 MB for 900,000 digests at 3,000
  requests/s with synchronised clocks (8.6 bytes a digest: all but the last seconds sealed),
  ~106 bytes a digest while hot; the worst case (every digest hot: all clients skewed) is
  max_entries x ~110 B, ~110 MB. The longest tick of that run (seal one second of 3,000,
  drop one) took 4.4 ms.

At the bound the guard neither forgets nor admits: `admit` answers FULL (a replay is still
answered REPLAYED), the verifier refuses the request with ThrottlingException (retryable:
SDKs back off and retry, the retry is signed afresh), and a warning is logged at most every
10 s. It never fails open. Not thread-safe: one event loop calls it.

Per-key share: each digest is filed under its owner (the verifier passes the access key
id), and no owner may hold more than `max_per_key` (default a quarter of `max_entries`:
250,000, ~830 requests/s sustained over the 5-minute window). Past its share `admit`
answers KEY_FULL for that owner only (ThrottlingException for that key), so one
authenticated caller varying the unsigned invocation id cannot fill the guard and throttle
everyone; it takes four keys at their share to reach the bound. (The per-second bound stays
global: one key can fill one signed second, which throttles others for that second only.)
"""

from __future__ import annotations

import logging
import math
from array import array
from bisect import bisect_left
from enum import Enum
from itertools import chain

log = logging.getLogger("smgrpc.auth.replay")

# The verifier's answers (auth/sigv4.py): REPLAYED, FULL, KEY_FULL.
REPLAYED = (
    "This signed request was already accepted once (same signature, same amz-sdk-invocation-id "
    "and amz-sdk-request headers); a signed request is accepted only once within its 5-minute "
    "window. Each request must be signed afresh: an identical request signed within the same "
    "second has the same signature (AWS SDKs tell their calls apart by a fresh "
    "amz-sdk-invocation-id header)."
)
REPLAY_FULL = (
    "Rate exceeded: the server's record of recently used signatures is full; retry shortly "
    "with a freshly signed request."
)
REPLAY_KEY_FULL = (
    "Rate exceeded: this access key holds its whole share of the server's record of recently "
    "used signatures; retry shortly with a freshly signed request."
)
SEAL_AFTER = 2.0
MERGE_BUDGET = 131_072
_MIN_LATE = 256
_WARN_EVERY = 10.0


class Verdict(Enum):
    NEW = "new"  # first use: recorded
    REPLAYED = "replayed"  # seen before within the window
    FULL = "full"  # not seen, but the guard is at its bound: refuse (retryable)
    KEY_FULL = "key_full"  # not seen, but this owner holds its whole share: refuse it only


class _Second:
    """The digests of the requests signed in one second."""

    __slots__ = ("hot", "sealed", "owners")

    def __init__(self) -> None:
        self.hot: set[int] = set()
        self.sealed = array("Q")
        self.owners: dict[str, int] = {}  # owner -> how many of the digests are theirs

    def __contains__(self, digest: int) -> bool:
        if digest in self.hot:
            return True
        sealed = self.sealed
        if not sealed:
            return False
        i = bisect_left(sealed, digest)
        return i < len(sealed) and sealed[i] == digest

    def __len__(self) -> int:
        return len(self.hot) + len(self.sealed)

    def wants_seal(self) -> bool:
        return bool(self.hot) and (
            not self.sealed or len(self.hot) >= max(_MIN_LATE, len(self.sealed) // 4)
        )

    def seal(self) -> None:
        self.sealed = array("Q", sorted(chain(self.sealed, self.hot)))
        self.hot = set()


class ReplayGuard:
    """Remembers accepted replay digests for `retention` seconds past their signed time."""

    def __init__(
        self,
        retention: float = 300.0,
        max_entries: int = 1_000_000,
        max_per_second: int = 65_536,
        max_per_key: int | None = None,
    ) -> None:
        """max_per_key: the most digests one owner may hold (default max_entries // 4)."""
        self.retention = retention
        self.max_entries = max_entries
        self.max_per_second = max_per_second
        self.max_per_key = max_entries // 4 if max_per_key is None else max_per_key
        self._seconds: dict[int, _Second] = {}
        self._held: dict[str, int] = {}  # owner -> digests held, over every second
        self._count = 0
        self._next_tick = -math.inf
        self._warned_at: dict[bool, float] = {}  # share? -> when last warned

    def __len__(self) -> int:
        return self._count

    def __repr__(self) -> str:
        return f"ReplayGuard({self._count} digests, {len(self._seconds)} seconds)"

    def admit(self, digest: int, signed_at: int, now: float, owner: str = "") -> Verdict:
        """Record `digest` (0 <= digest < 2**64) of a request signed at `signed_at` (epoch
        seconds) by `owner`, unless it was recorded before, the guard is full or the owner
        holds its share."""
        if now >= self._next_tick:
            self._tick(now)
        if signed_at + self.retention < now:
            return Verdict.NEW  # outside the window: nothing to remember it for
        second = self._seconds.get(signed_at)
        if second is None:
            second = self._seconds[signed_at] = _Second()
        elif digest in second:
            return Verdict.REPLAYED
        if self._count >= self.max_entries or len(second) >= self.max_per_second:
            self._warn_full(now)
            return Verdict.FULL
        held = self._held.get(owner, 0)
        if held >= self.max_per_key:
            self._warn_full(now, share=True)
            return Verdict.KEY_FULL
        second.hot.add(digest)
        second.owners[owner] = second.owners.get(owner, 0) + 1
        self._held[owner] = held + 1
        self._count += 1
        return Verdict.NEW

    def _tick(self, now: float) -> None:
        """Once a second: drop the seconds past their window, seal the settled ones."""
        self._next_tick = math.floor(now) + 1
        horizon = now - self.retention
        for t in [t for t in self._seconds if t < horizon]:
            gone = self._seconds.pop(t)
            self._count -= len(gone)
            for owner, n in gone.owners.items():
                left = self._held[owner] - n
                if left:
                    self._held[owner] = left
                else:
                    del self._held[owner]
        budget = MERGE_BUDGET
        settled = now - SEAL_AFTER
        for t, second in self._seconds.items():
            if t <= settled and second.wants_seal() and len(second) <= budget:
                budget -= len(second)
                second.seal()

    def _warn_full(self, now: float, share: bool = False) -> None:
        if now - self._warned_at.get(share, -math.inf) < _WARN_EVERY:
            return
        self._warned_at[share] = now
        if share:
            log.warning(
                "SigV4 replay guard: an access key holds its whole share (%d digests): its "
                "new signed requests are refused with ThrottlingException until older ones "
                "leave their window (other keys are served)",
                self.max_per_key,
            )
        else:
            log.warning(
                "SigV4 replay guard at its bound (%d digests, at most %d in all and %d per "
                "signed second): new signed requests are refused with ThrottlingException "
                "until older ones leave their window",
                self._count,
                self.max_entries,
                self.max_per_second,
            )
