"""Rows <-> domain records. Only metadata is JSON; values stay sealed blobs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from smgrpc.core import metadata
from smgrpc.core.model import NO_ROTATION, ReplicaStatus, RotationConfig, Secret, Version


def secret_meta(s: Secret) -> str:
    r = metadata.to_dict(s)
    r.update(
        kms_key_id=s.kms_key_id,
        last_accessed_day=s.last_accessed_day,
        primary_region=s.primary_region,
        replicas=[
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
        lineage=s.lineage,
        epoch=s.epoch,
        generation=s.generation,
    )
    return json.dumps(r, separators=(",", ":"))


# The C scanner alone (no per-call wrapper): a start-up decodes every secret's row.
_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_NO_ROTATION_ROW = [None] * 7


def _meta(text: str) -> dict[str, Any]:
    try:
        m, end = _scan(text, 0)
    except StopIteration:
        m, end = None, -1
    if end != len(text) or not isinstance(m, dict):
        return dict(json.loads(text))  # not our compact JSON: the ordinary path (and errors)
    return m


def _tags(raw: list[list[str]] | None, memo: dict[Any, Any] | None) -> Any:
    """Tags as stored; with a memo, each repeated (key, value) pair and key is one object."""
    if raw is None:
        return None
    if memo is None:
        return tuple((k, v) for k, v in raw)
    out = []
    for k, v in raw:
        pair = (k, v)
        shared = memo.get(pair)
        if shared is None:
            shared = memo[pair] = (memo.setdefault(k, k), v)
        out.append(shared)
    return tuple(out)


def secret_from_row(
    arn: str,
    name: str,
    meta: str,
    versions: tuple[Version, ...],
    memo: dict[Any, Any] | None = None,
) -> Secret:
    """The record of a stored row (metadata.fields_from's reading of the metadata, inlined:
    a start-up decodes every secret). memo: shared across one load (tags shared)."""
    m = _meta(meta)
    rot = m.get("rotation", _NO_ROTATION_ROW)
    get = m.get
    return Secret(
        arn=arn,
        name=name,
        created_at=float(m["created_at"]),
        last_changed_at=float(m["last_changed_at"]),
        description=get("description"),
        tags=_tags(get("tags"), memo),
        policy=get("policy"),
        deleted_date=get("deleted_date"),
        type=get("type"),
        rotation=NO_ROTATION if rot == _NO_ROTATION_ROW else RotationConfig(*rot),
        rotating=None if get("rotating") is None else metadata.run_from_list(get("rotating")),
        kms_key_id=get("kms_key_id"),
        last_accessed_day=get("last_accessed_day"),
        primary_region=get("primary_region"),
        replicas=tuple(ReplicaStatus(*x) for x in get("replicas", ())),
        versions=versions,
        lineage=get("lineage"),
        epoch=get("epoch", 0),
        generation=get("generation", 0),
    )


def version_from_row(row: Any) -> tuple[str, Version]:
    arn, vid, created, stages, key_id, has_value, last_access = row
    return arn, Version(
        vid, created, tuple(json.loads(stages)), key_id, bool(has_value), last_access
    )


def stages_json(v: Version) -> str:
    return json.dumps(list(v.stages), separators=(",", ":"))
