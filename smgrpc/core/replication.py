"""Replication rules as pure functions: what a change means for each replica Region."""

from __future__ import annotations

from dataclasses import replace

from smgrpc.core.model import DEFAULT_KMS_ALIAS, ReplicaStatus, Secret

IN_SYNC = "InSync"
IN_PROGRESS = "InProgress"
FAILED = "Failed"
NAME_EXISTS = "Secret with this name already exists in this region"
STATE = "state"
REMOVE = "remove"
PROMOTED = "promoted"  # notice from a promoted replica to its old primary


def active_regions(secret: Secret | None) -> list[str]:
    """Regions that should receive this secret's changes (Failed ones wait for a retry)."""
    if secret is None or secret.is_replica:
        return []
    return [r.region for r in secret.replicas if r.status != FAILED]


def _meta_key(s: Secret) -> tuple[object, ...]:
    return (
        s.arn,
        s.name,
        s.created_at,
        s.last_changed_at,
        s.description,
        s.kms_key_id,
        s.tags,
        s.policy,
        s.deleted_date,
        s.type,
        s.rotation,
        s.rotating,
        s.primary_region,
        s.lineage,
        s.epoch,
    )


def same_content(a: Secret, b: Secret) -> bool:
    """Equal in what replicates: all but local access dates, replica statuses and generation.

    Linear in the versions but cheap: unchanged versions are the very same objects.
    """
    if a is b:
        return True
    if _meta_key(a) != _meta_key(b) or len(a.versions) != len(b.versions):
        return False
    for x, y in zip(a.versions, b.versions, strict=True):
        if x is not y and (x.version_id, x.created_at, x.stages, x.kms_key_id, x.has_value) != (
            y.version_id,
            y.created_at,
            y.stages,
            y.kms_key_id,
            y.has_value,
        ):
            return False
    return True


def outbox_changes(old: Secret | None, new: Secret | None) -> list[tuple[str, str]]:
    """(region, kind) rows to enqueue for a primary-side save of `new` over `old`."""
    before = {r.region: r for r in old.replicas} if old is not None and not old.is_replica else {}
    rows: list[tuple[str, str]] = []
    now_active = active_regions(new)
    if not before and not now_active:
        return rows  # not replicated: nothing to compare (the common case, kept cheap)
    changed = new is not None and (old is None or not same_content(old, new))
    for region in now_active:
        was = before.get(region)
        if changed or was is None or was.status == FAILED:
            rows.append((region, STATE))
    still = {r.region for r in new.replicas} if new is not None and not new.is_replica else set()
    rows.extend((region, REMOVE) for region in before if region not in still)
    return rows


def set_status(
    secret: Secret, region: str, status: str, message: str | None, **extra: object
) -> Secret:
    """The secret with one Region's replication status replaced."""
    replicas = tuple(
        replace(r, status=status, status_message=message, **extra) if r.region == region else r  # type: ignore[arg-type]
        for r in secret.replicas
    )
    return secret.evolve(replicas=replicas)


def drop_region(secret: Secret, region: str) -> Secret:
    return secret.evolve(replicas=tuple(r for r in secret.replicas if r.region != region))


def replica_entry(region: str, kms_key_id: str | None, force: bool) -> ReplicaStatus:
    return ReplicaStatus(
        region,
        kms_key_id or DEFAULT_KMS_ALIAS,
        IN_PROGRESS,
        "Replication in progress",
        None,
        force,
    )
