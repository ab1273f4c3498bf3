"""Plain records of the replication protocol (transport.py maps them to protobuf)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

APPLIED = "applied"
SKIPPED = "skipped"
REMOVED = "removed"
PROMOTED = "promoted"
NAME_CONFLICT = "name_conflict"
KEY_UNAVAILABLE = "key_unavailable"
REFUSED = "refused"


class ReplayedPush(Exception):
    """A push signed no later than one already accepted from its source (durable mark)."""


@dataclass(frozen=True, repr=False)
class WireVersion:
    version_id: str
    stages: tuple[str, ...]
    created_at: float
    sealed_value: bytes  # sealed under the cluster wire key; b"" when the version has no value
    has_value: bool

    def __repr__(self) -> str:
        return f"WireVersion({self.version_id!r}, {self.stages!r}, <sealed>)"


@dataclass(frozen=True)
class WireState:
    lineage: str
    epoch: int
    generation: int
    primary_arn: str
    name: str
    removed: bool = False
    force_overwrite: bool = False
    replica_kms_key_id: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    versions: tuple[WireVersion, ...] = ()
    promoted: bool = False


@dataclass(frozen=True)
class Batch:
    source: str
    target: str
    prev_seq: int
    last_seq: int
    states: tuple[WireState, ...] = ()
    snapshot: bool = False
    snapshot_end: bool = False
    live_lineages: tuple[str, ...] = ()
    lineage_after: str = ""  # snapshot pages: the lineage range (after, upto] they cover
    lineage_upto: str = ""  # "" on the last page: no upper bound
    incarnation: str = ""  # the source data dir's incarnation ("": a peer without one)


@dataclass(frozen=True)
class Result:
    lineage: str
    outcome: str
    message: str = ""
    last_accessed_day: str | None = None


@dataclass(frozen=True)
class Reply:
    applied_seq: int
    gap: bool = False
    results: tuple[Result, ...] = ()
    incarnation: str = ""  # the replica data dir's incarnation
    resync: bool = False  # the source's incarnation is not the one applied from: snapshot
