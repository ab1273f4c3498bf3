"""Request ids: random version-4 UUID strings, unique per call (handlers.RequestIds)."""

from __future__ import annotations

import uuid

from smgrpc.api.handlers import RequestIds


def test_request_ids_are_unique_version_4_uuids() -> None:
    new_id = RequestIds(batch=4)  # several refills
    ids = [new_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for rid in ids:
        u = uuid.UUID(rid)
        assert str(u) == rid and u.version == 4 and u.variant == uuid.RFC_4122
