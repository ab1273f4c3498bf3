"""A secret's metadata as plain JSON-able data (no secret material), for storage and the wire."""

from __future__ import annotations

from typing import Any

from smgrpc.core.model import RotationConfig, Secret


def to_dict(s: Secret) -> dict[str, Any]:
    """The metadata that both a stored row and a replicated state carry."""
    r = s.rotation
    return {
        "created_at": s.created_at,
        "last_changed_at": s.last_changed_at,
        "description": s.description,
        "tags": [list(t) for t in s.tags] if s.tags is not None else None,
        "policy": s.policy,
        "deleted_date": s.deleted_date,
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
    }


def fields_from(m: dict[str, Any]) -> dict[str, Any]:
    """Secret constructor fields from to_dict() output."""
    tags = m.get("tags")
    return {
        "created_at": float(m["created_at"]),
        "last_changed_at": float(m["last_changed_at"]),
        "description": m.get("description"),
        "tags": tuple((k, v) for k, v in tags) if tags is not None else None,
        "policy": m.get("policy"),
        "deleted_date": m.get("deleted_date"),
        "type": m.get("type"),
        "rotation": RotationConfig(*m.get("rotation", [None] * 7)),
    }
