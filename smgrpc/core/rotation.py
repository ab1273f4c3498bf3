"""RotateSecret, CancelRotateSecret and the transitions the rotation engine drives.

A rotation in progress is `Secret.rotating` (core.model.RotationRun), written in the same
transaction as the labels and versions it concerns, so it is durable and replicates with the
secret. The API half (rotate_secret, cancel_rotate_secret) starts and stops runs; the engine half
(start_due, step_done, step_failed, abandon) moves a run through AWS's four steps. Each engine
transition re-reads the secret and does nothing (returns None) when the run it names is no
longer the secret's run: cancelled, finished, replaced, the secret purged, or now a replica.

AWS sources: RotateSecret / CancelRotateSecret API reference, "How rotation works" and
"Rotation schedules" (user guide); see /work/shared/docs/api-behaviors.md §1.7, §2.2, §2.17.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace

from smgrpc.core import arn as arns
from smgrpc.core import guards, labels
from smgrpc.core import validate as check
from smgrpc.core.errors import AccessDenied, InvalidRequest, ServiceError
from smgrpc.core.events import ROTATION_SUCCEEDED
from smgrpc.core.model import (
    AWSCURRENT,
    AWSPENDING,
    ROTATION_STEPS,
    RotationConfig,
    RotationRun,
    Secret,
    Version,
)
from smgrpc.core.ports import Clock, Store, WriteTx
from smgrpc.core.schedule import Schedule, next_rotation_date, next_window, opens_at, parse_rules
from smgrpc.core.schedule.rules import plan
from smgrpc.core.values import ValueUseCases, prune, token_conflict

BUILTIN_PASSWORD = "smgrpc-builtin-password"
NO_FUNCTION = "No Lambda rotation function ARN is associated with this secret."
CANNOT_INVOKE = (
    "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function "
    "policy grants access to the principal secretsmanager.amazonaws.com."
)
IN_PROGRESS = "A previous rotation isn't complete. That rotation will be reattempted."
# CancelRotateSecret on a secret never given a function (AWS documentation wording, "sic").
CANCEL_NO_FUNCTION = (
    "You tried to enable rotation on a secret that doesn't already have a Lambda function ARN "
    "configuredand you didn't include such an ARN as a parameter in this call."
)
TEST_STEP = "testSecret"
FINISH_STEP = "finishSecret"


def function_name(lambda_arn: str, region: str, account: str) -> str | None:
    """NAME of `arn:<partition>:lambda:<region>:<account>:function:<NAME>` (the Region's own
    partition: aws, aws-cn, ...), else None (another partition, Region or account, a qualified
    or malformed ARN)."""
    parts = lambda_arn.split(":")
    head = ["arn", arns.partition_for(region), "lambda"]
    if len(parts) != 7 or parts[:3] != head or parts[5] != "function":
        return None
    if parts[3] != region or parts[4] != account or not parts[6]:
        return None
    return parts[6]


def effective_function(requested: str | None, secret: Secret) -> str | None:
    """The function ARN a RotateSecret uses: the one it names, else the secret's stored one."""
    return requested or secret.rotation.lambda_arn or None


def schedule_of(r: RotationConfig) -> Schedule:
    """The stored rules as a Schedule (validated by parse_rules when they were stored)."""
    return Schedule(r.automatically_after_days, r.schedule_expression, r.duration)


def due_at(r: RotationConfig) -> float | None:
    """When the scheduled rotation starts: the opening of the window whose last second is
    NextRotationDate (AWS rotates during the window; NextRotationDate is its latest time)."""
    if r.next_rotation is None:
        return None
    try:
        return opens_at(schedule_of(r), r.next_rotation)
    except (ValueError, ServiceError):  # stored rules no longer plan (never expected)
        return r.next_rotation


def reported_days(r: RotationConfig) -> int | None:
    """RotationRules.AutomaticallyAfterDays as DescribeSecret reports it: the stored value, or
    for rate(N days) N (AWS: "calculated from the rotation schedule"); None for cron and hour
    schedules (choice: AWS does not say how it counts those)."""
    if r.automatically_after_days is not None or r.schedule_expression is None:
        return r.automatically_after_days
    try:
        return plan(schedule_of(r)).every_days
    except ValueError:  # InvalidParameter too: stored rules were valid; never fail a read
        return None


def pending_elsewhere(secret: Secret) -> bool:
    """AWS's "rotation still in progress": AWSPENDING on a version that is not AWSCURRENT."""
    v = secret.version_with_stage(AWSPENDING)
    return v is not None and AWSCURRENT not in v.stages


def _next_step(run: RotationRun) -> str | None:
    """The step after run.step; None when the run ends with it."""
    if run.step == (FINISH_STEP if run.immediate else TEST_STEP):
        return None
    return ROTATION_STEPS[ROTATION_STEPS.index(run.step) + 1]


class RotationUseCases:
    """RotateSecret / CancelRotateSecret, and the engine's transitions (one transaction each).

    functions: whether a function NAME is registered in this Region (built-ins included);
    on_start: wakes the engine with the ARN of a secret whose run was just committed.
    """

    def __init__(
        self,
        store: Store,
        clock: Clock,
        values: ValueUseCases,
        region: str,
        account: str = arns.DEFAULT_ACCOUNT,
        *,
        functions: Callable[[str], bool],
        on_start: Callable[[str], None],
    ) -> None:
        self.store, self.clock, self.values = store, clock, values
        self.region, self.account = region, account
        self.functions, self.on_start = functions, on_start

    # ---- RotateSecret ----

    async def rotate_secret(
        self,
        secret_id: str,
        token: str | None,
        lambda_arn: str | None,
        days: int | None,
        expression: str | None,
        duration: str | None,
        rotate_immediately: bool | None,
        *,
        rules_given: bool | None = None,
    ) -> tuple[Secret, str | None]:
        """Store the rotation settings and start a run; (secret, the new version's id).

        rules_given: RotationRules was in the request (default: any of its members is); given
        rules replace all three stored members.
        """
        check.secret_id(secret_id)
        check.length(lambda_arn, "rotationLambdaARN", 0, 2048)
        if rules_given is None:
            rules_given = days is not None or expression is not None or duration is not None
        rules = parse_rules(days, expression, duration) if rules_given else None
        immediate = rotate_immediately is not False
        async with self.store.transaction() as tx:
            secret = guards.found(tx.find(secret_id), secret_id)
            guards.not_replica(secret)
            guards.not_deleted(secret)
            arn = self._invokable(lambda_arn, secret)
            run = secret.rotating
            if token is not None and run is not None and run.version_id == token:
                return secret, token  # the same request again: the run it started
            if run is not None or pending_elsewhere(secret):
                raise InvalidRequest(IN_PROGRESS, resource=secret.arn)
            check.token(token)
            version_id = token or str(uuid.uuid4())
            if secret.version(version_id) is not None:
                raise token_conflict(version_id, secret.arn)
            now = self.clock.now()
            secret = await self._new_version(tx, secret, version_id, immediate)
            config = _enabled(secret.rotation, arn, rules, now)
            step = ROTATION_STEPS[0] if immediate else TEST_STEP
            started = RotationRun(version_id, str(uuid.uuid4()), arn, step, immediate, now)
            secret = secret.evolve(rotation=config, rotating=started, last_changed_at=now)
            await tx.save(secret)
        self.on_start(secret.arn)
        return secret, version_id

    def _invokable(self, lambda_arn: str | None, secret: Secret) -> str:
        """The function ARN the call rotates with, if this Region can invoke it."""
        arn = effective_function(lambda_arn, secret)
        if not arn:
            raise InvalidRequest(NO_FUNCTION, resource=secret.arn)
        name = function_name(arn, self.region, self.account)
        if name is None or not self.functions(name):
            raise AccessDenied(CANNOT_INVOKE, resource=secret.arn)
        return arn

    async def _new_version(
        self, tx: WriteTx, secret: Secret, version_id: str, immediate: bool
    ) -> Secret:
        """The run's AWSPENDING version: value-less (immediate; the function's createSecret
        fills it with PutSecretValue) or a copy of the current value (testSecret only)."""
        current = secret.version_with_stage(AWSCURRENT)
        if not immediate and current is not None and current.has_value:
            value = await self.values.stored_value(tx, secret, current.version_id)
            if value is not None:
                updated, _ = await self.values.new_version(
                    tx, secret, version_id, value, [AWSPENDING]
                )
                return updated
        now = self.clock.now()
        key = self.values.cipher.check_usable(secret.kms_key_id)
        fresh = Version(version_id, now, (), key.key_id, has_value=False)
        versions = prune(labels.add_pending(secret.versions, fresh), now)
        return secret.evolve(versions=versions)

    # ---- CancelRotateSecret ----

    async def cancel_rotate_secret(self, secret_id: str) -> tuple[Secret, str | None]:
        """Turn rotation off and stop the run in progress; labels stay as they are (AWS: the
        caller may have to remove AWSPENDING). (secret, the run's version, else the current)."""
        check.secret_id(secret_id)
        async with self.store.transaction() as tx:
            secret = guards.found(tx.find(secret_id), secret_id)
            guards.not_replica(secret)
            guards.not_deleted(secret)
            if not secret.rotation.lambda_arn:
                raise InvalidRequest(CANCEL_NO_FUNCTION, resource=secret.arn)
            if secret.rotating is not None:
                version_id: str | None = secret.rotating.version_id
            elif pending_elsewhere(secret):
                pending = secret.version_with_stage(AWSPENDING)
                version_id = pending.version_id if pending is not None else None
            else:
                current = secret.version_with_stage(AWSCURRENT)
                version_id = current.version_id if current is not None else None
            config = _replace_config(secret.rotation, enabled=False, next_rotation=None)
            secret = secret.evolve(rotation=config, rotating=None)
            await tx.save(secret)
            return secret, version_id

    # ---- the engine's transitions ----

    async def start_due(self, arn: str) -> Secret | None:
        """Begin the scheduled rotation of a secret whose NextRotationDate has come.

        None if it is not (or no longer) due. A function this Region cannot invoke, or
        AWSPENDING left on another version (a cancelled run's), does not start: the secret is
        moved to its next window and returned without a run.
        """
        async with self.store.transaction() as tx:
            secret = tx.find_arn(arn)
            now = self.clock.now()
            if secret is None or not _due(secret, now):
                return None
            r = secret.rotation
            name = function_name(r.lambda_arn or "", self.region, self.account)
            if name is None or not self.functions(name) or pending_elsewhere(secret):
                secret = secret.evolve(rotation=self._next(r, now))
                await tx.save(secret)
                return secret
            version_id = str(uuid.uuid4())
            secret = await self._new_version(tx, secret, version_id, True)
            run = RotationRun(
                version_id, str(uuid.uuid4()), r.lambda_arn or "", ROTATION_STEPS[0], True, now
            )
            secret = secret.evolve(rotating=run)
            await tx.save(secret)
            return secret

    async def step_done(self, arn: str, version_id: str, step: str) -> Secret | None:
        """`step` of the run succeeded: the next step, or the end of the run.

        The end (after finishSecret, or testSecret when not immediate): LastRotatedDate (an
        immediate run only), NextRotationDate := the next window, rotating := None; a test run
        (RotateImmediately=false) also takes AWSPENDING off its test version. AWSCURRENT is
        wherever the function moved it.
        """
        async with self.store.transaction() as tx:
            secret, run = _current(tx, arn, version_id)
            if secret is None or run is None or run.step != step:
                return None
            after = _next_step(run)
            if after is not None:
                secret = secret.evolve(rotating=_replace_run(run, step=after, attempts=0))
            else:
                now = self.clock.now()
                r = secret.rotation
                if run.immediate:
                    r = _replace_config(r, last_rotated=now)
                    versions = secret.versions
                else:
                    versions = _drop_pending(secret, run.version_id)
                    tx.note(arn, ROTATION_SUCCEEDED)  # the states cannot tell it (core.events)
                if r.enabled:
                    r = _replace_config(
                        r, next_rotation=next_rotation_date(schedule_of(r), r.last_rotated, now)
                    )
                secret = secret.evolve(rotation=r, rotating=None, versions=versions)
            await tx.save(secret)
            return secret

    async def step_failed(self, arn: str, version_id: str, step: str) -> Secret | None:
        """One failed attempt of `step` (durable; the engine decides when to give up)."""
        async with self.store.transaction() as tx:
            secret, run = _current(tx, arn, version_id)
            if secret is None or run is None or run.step != step:
                return None
            secret = secret.evolve(rotating=_replace_run(run, attempts=run.attempts + 1))
            await tx.save(secret)
            return secret

    async def abandon(self, arn: str, version_id: str) -> Secret | None:
        """Give the run up: AWSCURRENT stays where it is, AWSPENDING comes off the run's version
        unless that version is AWSCURRENT, rotating := None, NextRotationDate := the next
        window after now (the rotation is tried again then)."""
        async with self.store.transaction() as tx:
            secret, run = _current(tx, arn, version_id)
            if secret is None or run is None:
                return None
            now = self.clock.now()
            r = secret.rotation
            if r.enabled:
                r = self._next(r, now)
            secret = secret.evolve(
                rotation=r, rotating=None, versions=_drop_pending(secret, run.version_id)
            )
            await tx.save(secret)
            return secret

    def _next(self, r: RotationConfig, now: float) -> RotationConfig:
        """The settings with NextRotationDate moved to the first window opening after now."""
        schedule = schedule_of(r)
        if not schedule.automatic:
            return _replace_config(r, next_rotation=None)
        return _replace_config(r, next_rotation=next_window(schedule, now).end - 1.0)


def _enabled(r: RotationConfig, arn: str, rules: Schedule | None, now: float) -> RotationConfig:
    """The settings RotateSecret stores: enabled, the function, the given rules (else the
    stored ones) and the NextRotationDate they give."""
    schedule = rules or schedule_of(r)
    return RotationConfig(
        enabled=True,
        lambda_arn=arn,
        automatically_after_days=schedule.automatically_after_days,
        duration=schedule.duration,
        schedule_expression=schedule.schedule_expression,
        last_rotated=r.last_rotated,
        next_rotation=next_rotation_date(schedule, r.last_rotated, now),
    )


def _due(secret: Secret, now: float) -> bool:
    r = secret.rotation
    return (
        not secret.is_replica
        and secret.deleted_date is None
        and secret.rotating is None
        and bool(r.enabled)
        and (due := due_at(r)) is not None
        and due <= now
    )


def _current(tx: WriteTx, arn: str, version_id: str) -> tuple[Secret | None, RotationRun | None]:
    """The secret and its run, if that run is the one rotating `version_id` on a primary."""
    secret = tx.find_arn(arn)
    if secret is None or secret.is_replica:
        return None, None
    run = secret.rotating
    if run is None or run.version_id != version_id:
        return None, None
    return secret, run


def _drop_pending(secret: Secret, version_id: str) -> tuple[Version, ...]:
    v = secret.version(version_id)
    if v is None or AWSPENDING not in v.stages or AWSCURRENT in v.stages:
        return secret.versions
    return labels.drop_label(secret.versions, version_id, AWSPENDING)


def _replace_config(r: RotationConfig, **changes: object) -> RotationConfig:
    return replace(r, **changes)  # type: ignore[arg-type]


def _replace_run(run: RotationRun, **changes: object) -> RotationRun:
    return replace(run, **changes)  # type: ignore[arg-type]
