"""A secret's metadata as plain JSON-able data (no secret material), for storage and the wire."""

from __future__ import annotations

from typing import Any

from smgrpc.core.model import RotationConfig, RotationRun, Secret


def to_dict(s: Secret) -> dict[str, Any]:
    """The metadata that both a stored row and a replicated state carry."""
    r = s.rotation
    out: dict[str, Any] = {
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
    if s.rotating is not None:  # absent, not null, on the (many) secrets not rotating now
        out["rotating"] = run_to_list(s.rotating)
    return out


def run_to_list(run: RotationRun | None) -> list[Any] | None:
    """The rotation in progress as stored and replicated (a list in field order; None: none)."""
    if run is None:
        return None
    return [
        run.version_id,
        run.token,
        run.lambda_arn,
        run.step,
        run.immediate,
        run.started_at,
        run.attempts,
    ]


def run_from_list(raw: list[Any] | None) -> RotationRun | None:
    """Inverse of run_to_list; rows and states written before rotation existed have none."""
    if not raw:
        return None
    vid, token, arn, step, immediate, started, attempts = raw
    return RotationRun(
        str(vid), str(token), str(arn), str(step), bool(immediate), float(started), int(attempts)
    )


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
        "rotating": run_from_list(m.get("rotating")),
    }
