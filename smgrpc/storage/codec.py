"""Rows <-> domain records. Only metadata is JSON; values stay sealed blobs."""

from __future__ import annotations

import json
from typing import Any

from smgrpc.core import metadata
from smgrpc.core.model import NO_ROTATION, ReplicaStatus, Secret, Version


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


def _shared_tags(
    tags: tuple[tuple[str, str], ...] | None, memo: dict[Any, Any]
) -> tuple[tuple[str, str], ...] | None:
    """The same tags, each repeated (key, value) pair and key string one shared object."""
    if not tags:
        return tags
    out = []
    for pair in tags:
        shared = memo.get(pair)
        if shared is None:
            k, v = pair
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
    """memo: shared across one load, so equal tags and rotation settings are one object."""
    m: dict[str, Any] = json.loads(meta)
    fields = metadata.fields_from(m)
    if fields["rotation"] == NO_ROTATION:
        fields["rotation"] = NO_ROTATION
    if memo is not None:
        fields["tags"] = _shared_tags(fields["tags"], memo)
    return Secret(
        arn=arn,
        name=name,
        kms_key_id=m.get("kms_key_id"),
        last_accessed_day=m.get("last_accessed_day"),
        primary_region=m.get("primary_region"),
        replicas=tuple(ReplicaStatus(*x) for x in m.get("replicas", [])),
        versions=versions,
        lineage=m.get("lineage"),
        epoch=m.get("epoch", 0),
        generation=m.get("generation", 0),
        **fields,
    )


def version_from_row(row: Any) -> tuple[str, Version]:
    arn, vid, created, stages, key_id, has_value, last_access = row
    return arn, Version(
        vid, created, tuple(json.loads(stages)), key_id, bool(has_value), last_access
    )


def stages_json(v: Version) -> str:
    return json.dumps(list(v.stages), separators=(",", ":"))
