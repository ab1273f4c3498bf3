"""Runs one rotation, step by step, from the step its durable record names.

Each invocation has a deadline (--rotation-step-timeout). A step failing with a transient code
is invoked again after a backoff, up to --rotation-max-attempts invocations (the count is
durable: `step_failed`), then the rotation is abandoned; any other failure abandons it at once.
Abandoning leaves AWSCURRENT where it was, removes AWSPENDING from the new version and sets the
next window (RotationUseCases.abandon). After every await the run is checked to be still the
one recorded (CancelRotateSecret, a deletion or a demotion stops it): the use cases return
None, or a different run, and the runner stops there. Nothing here logs or raises secret text.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Protocol

from smgrpc.core.model import RotationRun, Secret
from smgrpc.core.rotation import function_name
from smgrpc.core.slices import backoff
from smgrpc.rotation.invokers import Invoker, Registry, RotationEvent, StepFailed

log = logging.getLogger("smgrpc.rotation")
WATCH_EVERY = 0.5  # seconds between two looks, during a step, at whether the run is current
SUCCEEDED, FAILED, STOPPED = "succeeded", "failed", "stopped"  # a run's end, for /metrics
MAX_COUNTED_SECRETS = 10_000  # distinct (ARN, result) counts kept; beyond: ARN ""


class Transitions(Protocol):
    """The engine-facing half of core.rotation.RotationUseCases (one transaction each)."""

    async def start_due(self, arn: str) -> Secret | None: ...
    async def step_done(self, arn: str, version_id: str, step: str) -> Secret | None: ...
    async def step_failed(self, arn: str, version_id: str, step: str) -> Secret | None: ...
    async def abandon(self, arn: str, version_id: str) -> Secret | None: ...


class Lookup(Protocol):
    def find(self, secret_id: str) -> Secret | None: ...


def _same(secret: Secret | None, run: RotationRun) -> RotationRun | None:
    """The secret's current run if it is still `run`'s rotation (same new version)."""
    now = secret.rotating if secret is not None else None
    return now if now is not None and now.version_id == run.version_id else None


class Runner:
    def __init__(
        self,
        transitions: Transitions,
        store: Lookup,
        registry: Registry,
        region: str,
        account: str,
        *,
        step_timeout: float,
        max_attempts: int,
        base_backoff: float = 0.5,
        max_backoff: float = 10.0,
    ) -> None:
        self.transitions, self.store, self.registry = transitions, store, registry
        self.region, self.account = region, account
        self.step_timeout, self.max_attempts = step_timeout, max_attempts
        self.base_backoff, self.max_backoff = base_backoff, max_backoff
        self.results: Counter[tuple[str, str]] = Counter()  # (ARN, result) -> runs ended

    def _ended(self, arn: str, result: str) -> None:
        if (arn, result) not in self.results and len(self.results) >= MAX_COUNTED_SECRETS:
            arn = ""
        self.results[arn, result] += 1

    async def run(self, arn: str) -> None:
        """Drive the secret's recorded run to its end (or until it is no longer current)."""
        secret = self.store.find(arn)
        run = secret.rotating if secret is not None else None
        while run is not None:
            # A function of this Region's (a promoted replica's run may name another's).
            name = function_name(run.lambda_arn, self.region, self.account)
            invoker = self.registry.get(name) if name is not None else None
            if invoker is None:
                log.warning(
                    "rotation of %s abandoned: its function %s is not registered here",
                    arn,
                    run.lambda_arn,
                )
                await self.transitions.abandon(arn, run.version_id)
                self._ended(arn, FAILED)
                return
            if run.attempts >= self.max_attempts:  # the last attempt failed before a restart
                log.warning("rotation of %s abandoned at %s: out of attempts", arn, run.step)
                await self.transitions.abandon(arn, run.version_id)
                self._ended(arn, FAILED)
                return
            event = RotationEvent(run.step, arn, run.version_id, run.token)
            try:
                if not await self._invoke(invoker, event, arn, run):
                    self._ended(arn, STOPPED)
                    return  # cancelled (or deleted, demoted) meanwhile
            except StepFailed as failed:
                run = await self._failed(arn, run, failed)
                continue
            done = await self.transitions.step_done(arn, run.version_id, run.step)
            if done is not None and done.rotating is None:
                log.info("rotation of %s finished (version %s)", arn, run.version_id)
                self._ended(arn, SUCCEEDED)
            elif _same(done, run) is None:
                self._ended(arn, STOPPED)
            run = _same(done, run)

    async def _invoke(
        self, invoker: Invoker, event: RotationEvent, arn: str, run: RotationRun
    ) -> bool:
        """Invoke one step; False (the call cut) as soon as the run is no longer current, so
        CancelRotateSecret frees the slot within WATCH_EVERY rather than at the deadline."""
        call = asyncio.ensure_future(invoker.invoke(event, self.step_timeout))
        try:
            while not call.done():
                await asyncio.wait([call], timeout=WATCH_EVERY)
                if not call.done() and _same(self.store.find(arn), run) is None:
                    log.info("rotation of %s stopped at %s: no longer in progress", arn, run.step)
                    return False
            call.result()  # StepFailed
            return True
        finally:
            if not call.done():
                call.cancel()
                await asyncio.wait([call])

    async def _failed(self, arn: str, run: RotationRun, failed: StepFailed) -> RotationRun | None:
        """Record the failure; the run to go on with after a backoff, or None (abandoned)."""
        now = _same(await self.transitions.step_failed(arn, run.version_id, run.step), run)
        if now is None:
            self._ended(arn, STOPPED)
            return None
        if failed.transient and now.attempts < self.max_attempts:
            delay = backoff(self.base_backoff, self.max_backoff, now.attempts - 1)
            log.info(
                "rotation of %s: %s failed (%s), attempt %d of %d: retrying in %.1f s",
                arn,
                run.step,
                failed.code,
                now.attempts,
                self.max_attempts,
                delay,
            )
            await asyncio.sleep(delay)
            again = _same(self.store.find(arn), now)
            if again is None:
                self._ended(arn, STOPPED)
            return again
        log.warning(
            "rotation of %s abandoned at %s (%s after %d attempt%s): AWSCURRENT unchanged, "
            "retried at the next window",
            arn,
            run.step,
            failed.code,
            now.attempts,
            "" if now.attempts == 1 else "s",
        )
        await self.transitions.abandon(arn, run.version_id)
        self._ended(arn, FAILED)
        return None
