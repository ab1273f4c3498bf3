"""WatchSecrets events as pure functions of one secret's state before and after a write.

Invariant kept here: `derive(before, after)` names only what a watcher can observe of the
change (its ARN, name, at most one version id per event), never a value (a Secret holds none),
and is empty when nothing observable changed (access dates, generations, replication status
text, NextRotationDate/LastRotatedDate alone). One write gives its events in a fixed order:
Created | ReplicaPromoted, ScheduledForDeletion | Restored, RotationStarted, VersionAdded,
StagesChanged, MetadataChanged, RotationSucceeded | RotationFailed; a secret gone is Deleted
alone. Sequence numbers and times are given by the store when the events are recorded, in the
transaction of the change (see core.ports.EventTx).

Which write gives which event (README "WatchSecrets" says the same):
- Created: the secret did not exist (CreateSecret, a replica's first apply).
- VersionAdded: a version with a value that the secret did not have: a new version id, or a
  value-less version (RotateSecret's AWSPENDING, made empty) getting its value from the
  rotation function's PutSecretValue; the labels it took travel with it (no StagesChanged).
- StagesChanged: a label moved onto a version that existed before (UpdateSecretVersionStage),
  or off one without a new version taking it.
- MetadataChanged: description, KMS key, tags, resource policy, rotation settings (enabled,
  function, rules), replication settings (the replica Regions and their keys).
- ScheduledForDeletion / Restored: DeletedDate set / cleared. Deleted: purged, force-deleted.
- ReplicaPromoted: a replica became a standalone primary (StopReplicationToReplica).
- RotationStarted: a rotation run began (VersionId: the run's version). RotationSucceeded /
  RotationFailed: the run ended; succeeded if its LastRotatedDate moved (an immediate run's
  finishSecret) or the writer noted success (a RotateImmediately=false run's testSecret);
  anything else that ends a run (abandoned, cancelled) failed.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from smgrpc.core.model import AWSCURRENT, AWSPREVIOUS, Secret, Version

HEARTBEAT = "Heartbeat"
CREATED = "Created"
VERSION_ADDED = "VersionAdded"
STAGES_CHANGED = "StagesChanged"
METADATA_CHANGED = "MetadataChanged"
SCHEDULED_FOR_DELETION = "ScheduledForDeletion"
RESTORED = "Restored"
DELETED = "Deleted"
REPLICA_PROMOTED = "ReplicaPromoted"
ROTATION_STARTED = "RotationStarted"
ROTATION_SUCCEEDED = "RotationSucceeded"
ROTATION_FAILED = "RotationFailed"
TYPES = (
    CREATED,
    VERSION_ADDED,
    STAGES_CHANGED,
    METADATA_CHANGED,
    SCHEDULED_FOR_DELETION,
    RESTORED,
    DELETED,
    REPLICA_PROMOTED,
    ROTATION_STARTED,
    ROTATION_SUCCEEDED,
    ROTATION_FAILED,
)


@dataclass(frozen=True, slots=True)
class Change:
    """An event before it is recorded (no sequence, no time yet)."""

    type: str
    arn: str
    name: str
    version_id: str | None = None
    # Deleted: the secret's last state (its resource policy and tags judge who may see its
    # events once it is gone; kept in memory only, see ports.EventLog.gone).
    gone: Secret | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class SecretEvent:
    """One recorded event of a Region's history."""

    sequence: int
    type: str
    arn: str
    name: str
    version_id: str | None
    time: float


def _rotation_settings(s: Secret) -> tuple[object, ...]:
    r = s.rotation
    return (
        r.enabled,
        r.lambda_arn,
        r.automatically_after_days,
        r.schedule_expression,
        r.duration,
    )


def _metadata(s: Secret) -> tuple[object, ...]:
    replication = tuple(sorted((r.region, r.kms_key_id or "") for r in s.replicas))
    return (s.description, s.kms_key_id, s.tags, s.policy, _rotation_settings(s), replication)


def _versions(before: Secret, after: Secret) -> tuple[list[str], str | None]:
    """(version ids added or filled in, the version a label moved to or from, if any)."""
    if before.versions is after.versions:
        return [], None
    old: dict[str, Version] = {v.version_id: v for v in before.versions}
    added: list[str] = []
    gained: str | None = None
    lost: str | None = None
    for v in after.versions:
        prev = old.get(v.version_id)
        if (prev is None or not prev.has_value) and v.has_value:
            # A value-less version (RotateSecret's AWSPENDING) is added when it is filled in.
            added.append(v.version_id)
        elif prev is not None and prev is not v and prev.stages != v.stages:
            if set(v.stages) - set(prev.stages) - {AWSPREVIOUS}:
                # AWSCURRENT's new holder is the version a watcher wants named.
                if gained is None or AWSCURRENT in v.stages:
                    gained = v.version_id
            elif lost is None:
                lost = v.version_id
    if gained is not None:
        return added, gained
    return added, (lost if not added else None)


def _rotation_end(before: Secret, after: Secret, noted: Collection[str]) -> str:
    if ROTATION_SUCCEEDED in noted:
        return ROTATION_SUCCEEDED
    if ROTATION_FAILED not in noted and after.rotation.last_rotated != before.rotation.last_rotated:
        return ROTATION_SUCCEEDED
    return ROTATION_FAILED


def derive(
    before: Secret | None, after: Secret | None, noted: Collection[str] = ()
) -> list[Change]:
    """The events of one write that took a secret from `before` to `after` (None: absent).

    noted: outcomes the writer states that the states cannot tell (ROTATION_SUCCEEDED of a
    RotateImmediately=false run's testSecret; see the module docstring).
    """
    if after is None:
        return [] if before is None else [Change(DELETED, before.arn, before.name, gone=before)]

    def event(kind: str, version_id: str | None = None) -> Change:
        return Change(kind, after.arn, after.name, version_id)

    if before is None or before.arn != after.arn:
        current = after.version_with_stage(AWSCURRENT)
        return [event(CREATED, current.version_id if current is not None else None)]
    out: list[Change] = []
    if before.is_replica and not after.is_replica:
        out.append(event(REPLICA_PROMOTED))
    if before.deleted_date is None and after.deleted_date is not None:
        out.append(event(SCHEDULED_FOR_DELETION))
    elif before.deleted_date is not None and after.deleted_date is None:
        out.append(event(RESTORED))
    run_was, run_now = before.rotating, after.rotating
    if run_now is not None and (run_was is None or run_was.version_id != run_now.version_id):
        out.append(event(ROTATION_STARTED, run_now.version_id))
    added, moved = _versions(before, after)
    out.extend(event(VERSION_ADDED, vid) for vid in added)
    if moved is not None:
        out.append(event(STAGES_CHANGED, moved))
    if before is not after and _metadata(before) != _metadata(after):
        out.append(event(METADATA_CHANGED))
    if run_was is not None and (run_now is None or run_now.version_id != run_was.version_id):
        out.append(event(_rotation_end(before, after, noted), run_was.version_id))
    return out


def window(oldest: int, newest: int, after: int) -> bool:
    """Whether a stream may resume after `after`: every event after it is still retained
    (oldest - 1 <= after) and it is not beyond the Region's newest position."""
    return oldest - 1 <= after <= newest
