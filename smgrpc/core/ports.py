"""What the use cases need from the outside, as Protocols (implemented by storage/crypto)."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from smgrpc.core.model import KmsKeyRecord, Sealed, Secret, SecretValue


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


class WriteTx(Protocol):
    def find(self, secret_id: str) -> Secret | None: ...
    def find_arn(self, arn: str) -> Secret | None: ...
    async def sealed(self, arn: str, version_id: str) -> Sealed | None: ...
    async def save(self, new: Secret, blobs: dict[str, Sealed] | None = None) -> None: ...
    async def delete(self, secret: Secret) -> None: ...
    async def enqueue(self, secret: Secret, changes: list[tuple[str, str]]) -> None: ...


class Store(Protocol):
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

    async def sealed(self, arn: str, version_id: str) -> Sealed | None: ...
    def transaction(self) -> AbstractAsyncContextManager[WriteTx]: ...
