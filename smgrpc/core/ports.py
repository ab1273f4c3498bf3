"""What the use cases need from the outside, as Protocols (implemented by storage/crypto)."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from smgrpc.core.events import Change, SecretEvent
from smgrpc.core.iam.model import AccessKey, IamState
from smgrpc.core.model import KmsKeyRecord, KmsMaterialRecord, Sealed, Secret, SecretValue


class Clock(Protocol):
    def now(self) -> float: ...


class SystemClock:
    """Wall-clock time in epoch seconds."""

    def now(self) -> float:
        return time.time()


class Cipher(Protocol):
    def check_usable(self, ref: str | None) -> KmsKeyRecord: ...
    def resolve(self, ref: str | None) -> KmsKeyRecord: ...
    def seal(
        self, value: SecretValue, *, ref: str | None, secret_arn: str, version_id: str
    ) -> Sealed: ...
    def open(self, sealed: Sealed, *, secret_arn: str, version_id: str) -> SecretValue: ...
    def display_id(self, key_id: str) -> str: ...


# (seq, arn, lineage, kind) of one outbox row, in sequence order.
OutboxRow = tuple[int, str, str, str]


class ReplicationTx(Protocol):
    """Replication bookkeeping inside a write transaction: committed with it, or not at all.

    Persistence only: which rows to enqueue and when a generation moves is decided by the
    replication feed (smgrpc.replication.feed), never by a store.
    """

    async def enqueue(self, secret: Secret, changes: list[tuple[str, str]]) -> None:
        """Append outbox rows (region, kind) for this secret, after every existing row."""

    async def ack(self, region: str, seq: int) -> None:
        """The Region applied everything up to seq: raise its cursor, drop those rows."""

    async def requeue(self, region: str, after: int, upto: int) -> None:
        """Append again, at the end, one row per distinct change in (after, upto]."""

    async def forget(self, region: str, arn: str) -> None:
        """Drop every pending row of this secret for this Region."""

    async def applied(self, source_region: str) -> int:
        """Replica side: the position applied from source_region (0 if none)."""

    async def set_applied(
        self, source_region: str, seq: int, incarnation: str | None = None
    ) -> None:
        """Replica side: the applied position (and the source incarnation it is from)."""

    async def applied_incarnation(self, source_region: str) -> str:
        """Replica side: the source's incarnation the applied position is from ('' unknown)."""

    async def set_peer_incarnation(self, region: str, incarnation: str) -> None:
        """Primary side: the replica Region's incarnation its cursor refers to."""

    async def replay_mark(self, peer_region: str) -> float:
        """Replica side: the highest push timestamp accepted from the peer (0.0 if none)."""

    async def set_replay_mark(self, peer_region: str, timestamp: float) -> None: ...


class EventTx(Protocol):
    """WatchSecrets history inside a write transaction: committed with it, or not at all.

    Persistence only: which events a change gives is decided by core.events.derive (the
    replication feed calls it on every save and delete), never by a store.
    """

    async def record(self, changes: Sequence[Change], at: float) -> None:
        """Append events after every recorded one: sequence numbers newest+1, newest+2, ...
        in order (per Region, strictly increasing, never reused, kept across restarts); the
        oldest beyond the store's retention may be dropped in the same transaction."""

    def note(self, arn: str, outcome: str) -> None:
        """An outcome the states cannot tell (core.events.derive's `noted`) for this
        transaction's next change of `arn`; a bare store ignores it (the feed reads it)."""


class WriteTx(ReplicationTx, EventTx, Protocol):
    def find(self, secret_id: str) -> Secret | None: ...
    def find_arn(self, arn: str) -> Secret | None: ...
    async def sealed(self, arn: str, version_id: str) -> Sealed | None: ...
    async def save(self, new: Secret, blobs: dict[str, Sealed] | None = None) -> None: ...
    async def delete(self, secret: Secret) -> None: ...


class ReplicationLog(Protocol):
    """Primary side reads of the outbox (committed rows only) and of the durable cursors."""

    async def cursor(self, region: str) -> int: ...
    async def peer_incarnation(self, region: str) -> str:
        """The replica Region's incarnation the cursor refers to ('' unknown)."""
        ...

    async def outbox(self, region: str, after: int, limit: int) -> list[OutboxRow]: ...


class EventLog(Protocol):
    """Committed WatchSecrets history (reads only; no thread hop for the recent tail)."""

    def event_bounds(self) -> tuple[int, int]:
        """(oldest retained sequence, newest recorded); oldest = newest + 1 when none is kept
        (0, 0 on a Region that never recorded an event)."""
        ...

    async def events_after(self, after: int, limit: int) -> list[SecretEvent]:
        """Committed events with sequence > after, in order, at most `limit`."""
        ...

    async def wait_event(self, after: int) -> None:
        """Return once an event with sequence > after is committed (at once if one is)."""
        ...

    def gone(self, arn: str) -> Secret | None:
        """The last state of a secret deleted (purged) since this process started, by ARN
        (bounded: the most recent ones), else None."""
        ...


class Store(ReplicationLog, Protocol):
    def find(self, secret_id: str) -> Secret | None: ...
    def all(self) -> list[Secret]: ...
    def scan(
        self, sort_by: str, descending: bool, after: tuple[str | float, str] | None
    ) -> AsyncGenerator[Secret, None]:
        """Committed secrets in one listing order (core.listing.sort_key: sort value, then
        ARN), strictly after the position `after` (before it when descending).

        Safe to consume slowly: writes committed meanwhile may or may not show, but a secret
        present throughout is produced exactly once (keyset, e.g. ORDER BY .. WHERE (v, arn) >).
        """
        ...

    async def due_for_deletion(self, now: float) -> list[Secret]:
        """Secrets whose deletion date is at or before now, earliest first."""
        ...

    async def due_for_rotation(self, now: float, limit: int | None = None) -> list[Secret]:
        """Primaries (not replicas), not scheduled for deletion, with rotation enabled, no
        rotation in progress (`rotating` None) and a due time (core.rotation.due_at: the
        opening of the window NextRotationDate closes) at or before now; earliest first (then
        by ARN), at most `limit`. From an index: no scan of every secret."""
        ...

    async def rotations_in_progress(self) -> list[Secret]:
        """Primaries with a rotation in progress (`rotating` set), earliest started first."""
        ...

    async def sealed(self, arn: str, version_id: str) -> Sealed | None: ...
    def transaction(self) -> AbstractAsyncContextManager[WriteTx]: ...


class KeyRecords(Protocol):
    """The Region's KMS-like key rows (material wrapped by the master key).

    Insert-only: a key row is never replaced or deleted; only its enabled flag changes.
    """

    async def kms_keys(self) -> list[KmsKeyRecord]: ...

    async def add_kms_key(self, rec: KmsKeyRecord, canary: bytes | None = None) -> bool:
        """Insert a new key; False (nothing written) if its id, ARN or alias is taken.
        canary: written only while the data dir's key-check canary is this one."""
        ...

    async def set_kms_key_enabled(self, key_id: str, enabled: bool) -> None: ...

    async def kms_materials(self) -> list[KmsMaterialRecord]:
        """Rotated materials (insert-only, like the key rows) and data keys wrapped per term."""
        ...

    async def add_kms_material(self, rec: KmsMaterialRecord, canary: bytes | None = None) -> bool:
        """Insert a key's next material; False (nothing written) if that term exists.
        canary: as add_kms_key's."""
        ...

    async def add_kms_usage(self, usage: Mapping[tuple[str, int], int]) -> None: ...

    async def data_version(self) -> int:
        """Changes when another process commits (a running server then reloads its keys)."""
        ...


class Meta(Protocol):
    """Write-once facts of a Region's data (key-check canary, the Region's name)."""

    async def get_meta(self, key: str) -> bytes | None: ...

    async def add_meta(self, key: str, value: bytes) -> bytes:
        """Store value unless the key has one already; returns the stored value."""
        ...


class IamRecords(Protocol):
    """The account's IAM snapshot, persisted whole-or-nothing and fenced by its generation."""

    async def iam_load(self, account: str, holder: str) -> IamState:
        """The committed state; an empty IamState(account, holder) if nothing stored yet."""
        ...

    async def iam_commit(self, before: IamState, after: IamState) -> None:
        """Atomically persist `after` (the store diffs it against `before`); raises
        core.errors.IamConflict, writing nothing, if the stored generation is not
        before.generation."""
        ...


class IssuedKey(Protocol):
    """A key pair shown to its owner once (crypto.access_keys.NewAccessKey; redacting repr)."""

    @property
    def access_key_id(self) -> str: ...
    @property
    def secret_access_key(self) -> str: ...


class KeyMinter(Protocol):
    """Makes and opens access keys; the domain only ever holds the sealed form and digest."""

    def mint(self) -> tuple[IssuedKey, bytes, bytes]:
        """(the shown-once key, sealed secret, keyed digest of the secret)."""
        ...

    def reseal(self, access_key_id: str, secret: str) -> tuple[bytes, bytes]:
        """(sealed, digest) of a known secret under this Region's keys (replication)."""
        ...

    def reveal(self, key: AccessKey) -> str:
        """The plaintext secret (replication, SigV4); never log or return it to a caller."""
        ...

    def verify(self, key: AccessKey, presented: str) -> bool:
        """Whether `presented` is the key's secret (constant time, no decryption)."""
        ...


class RegionStore(Store, EventLog, KeyRecords, Meta, IamRecords, Protocol):
    """Everything a Region keeps: what app.py opens, and what a second backend implements."""

    async def close(self) -> None: ...
