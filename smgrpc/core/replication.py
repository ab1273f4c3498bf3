"""Replication rules as pure functions: what a change means for each replica Region."""

from __future__ import annotations

from dataclasses import replace

from smgrpc.core.model import ReplicaStatus, Secret

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


def content(secret: Secret) -> Secret:
    """The part of a secret that replicates: everything but local access dates and statuses."""
    return replace(
        secret,
        last_accessed_day=None,
        replicas=(),
        generation=0,
        versions=tuple(replace(v, last_accessed_day=None) for v in secret.versions),
    )


def outbox_changes(old: Secret | None, new: Secret | None) -> list[tuple[str, str]]:
    """(region, kind) rows to enqueue for a primary-side save of `new` over `old`."""
    before = {r.region: r for r in old.replicas} if old is not None and not old.is_replica else {}
    rows: list[tuple[str, str]] = []
    now_active = active_regions(new)
    changed = new is not None and (old is None or content(old) != content(new))
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
        kms_key_id or "alias/aws/secretsmanager",
        IN_PROGRESS,
        "Replication in progress",
        None,
        force,
    )
