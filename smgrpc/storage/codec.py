"""Rows <-> domain records. Only metadata is JSON; values stay sealed blobs."""

from __future__ import annotations

import json
from typing import Any

from smgrpc.core.model import ReplicaStatus, RotationConfig, Secret, Version


def secret_meta(s: Secret) -> str:
    r = s.rotation
    return json.dumps(
        {
            "created_at": s.created_at,
            "last_changed_at": s.last_changed_at,
            "description": s.description,
            "kms_key_id": s.kms_key_id,
            "tags": [list(t) for t in s.tags] if s.tags is not None else None,
            "policy": s.policy,
            "deleted_date": s.deleted_date,
            "last_accessed_day": s.last_accessed_day,
            "type": s.type,
            "rotation": [
                r.enabled,
                r.lambda_arn,
                r.automatically_after_days,
                r.duration,
                r.schedule_expression,
                r.last_rotated,
                r.next_rotation,
            ],
            "primary_region": s.primary_region,
            "replicas": [
                [
                    x.region,
                    x.kms_key_id,
                    x.status,
                    x.status_message,
                    x.last_accessed_day,
                    x.force_overwrite,
                ]
                for x in s.replicas
            ],
            "lineage": s.lineage,
            "epoch": s.epoch,
            "generation": s.generation,
        },
        separators=(",", ":"),
    )


def secret_from_row(arn: str, name: str, meta: str, versions: tuple[Version, ...]) -> Secret:
    m: dict[str, Any] = json.loads(meta)
    tags = m.get("tags")
    return Secret(
        arn=arn,
        name=name,
        created_at=m["created_at"],
        last_changed_at=m["last_changed_at"],
        description=m.get("description"),
        kms_key_id=m.get("kms_key_id"),
        tags=tuple((k, v) for k, v in tags) if tags is not None else None,
        policy=m.get("policy"),
        deleted_date=m.get("deleted_date"),
        last_accessed_day=m.get("last_accessed_day"),
        type=m.get("type"),
        rotation=RotationConfig(*m.get("rotation", [None] * 7)),
        primary_region=m.get("primary_region"),
        replicas=tuple(ReplicaStatus(*x) for x in m.get("replicas", [])),
        versions=versions,
        lineage=m.get("lineage"),
        epoch=m.get("epoch", 0),
        generation=m.get("generation", 0),
    )


def version_from_row(row: Any) -> tuple[str, Version]:
    arn, vid, created, stages, key_id, has_value, last_access = row
    return arn, Version(
        vid, created, tuple(json.loads(stages)), key_id, bool(has_value), last_access
    )


def stages_json(v: Version) -> str:
    return json.dumps(list(v.stages), separators=(",", ":"))
