"""What a shipper sends for one outbox row: the secret's whole current state, re-sealed.

Values are opened with this Region's keys and sealed under the cluster wire key for the target
(never copied as ciphertext). Only labeled versions replicate.
"""

from __future__ import annotations

from smgrpc.core import metadata
from smgrpc.core import replication as repl
from smgrpc.core.errors import DecryptionFailure, ServiceError
from smgrpc.core.model import Sealed, Secret
from smgrpc.core.ports import Cipher, Store
from smgrpc.crypto.cluster import ClusterKey
from smgrpc.replication import messages as m

UNREADABLE = (
    "A version of this secret can't be decrypted in the primary Region, so it was not replicated."
)


class StateReader:
    """Builds the wire state of a secret for one target Region."""

    def __init__(
        self, store: Store, cipher: Cipher, key: ClusterKey, source: str, target: str
    ) -> None:
        self.store, self.cipher, self.key = store, cipher, key
        self.source, self.target = source, target

    async def read(
        self, arn: str, lineage: str, kind: str
    ) -> tuple[m.WireState, Secret | None, str | None]:
        """(state to ship, the secret it reflects if a full state, problem message if none)."""
        secret = self.store.find(arn)
        if kind == repl.PROMOTED:
            epoch, name = (secret.epoch, secret.name) if secret else (0, "")
            return m.WireState(lineage, epoch, 0, arn, name, promoted=True), None, None
        for _ in range(3):
            if (
                kind == repl.REMOVE
                or secret is None
                or secret.lineage != lineage
                or self.target not in repl.active_regions(secret)
            ):
                name = secret.name if secret else ""
                return m.WireState(lineage, 0, 0, arn, name, removed=True), None, None
            blobs = await self._fetch([secret])
            try:
                return self._state_of(secret, blobs), secret, None
            except ServiceError:
                now = self.store.find(arn)
                if now is secret:  # not a race with a change (a version pruned meanwhile)
                    return m.WireState(lineage, 0, 0, arn, secret.name), secret, UNREADABLE
                secret = now
        return m.WireState(lineage, 0, 0, arn, ""), secret, UNREADABLE

    def _state_of(self, secret: Secret, blobs: dict[tuple[str, str], Sealed]) -> m.WireState:
        entry = next(r for r in secret.replicas if r.region == self.target)
        versions = []
        for v in secret.versions:
            if not v.stages:
                continue  # deprecated versions stay in the primary Region
            sealed = b""
            if v.has_value:
                blob = blobs.get((secret.arn, v.version_id))
                if blob is None:
                    raise DecryptionFailure(UNREADABLE)
                plain = self.cipher.open(blob, secret_arn=secret.arn, version_id=v.version_id)
                sealed = self.key.seal_value(
                    plain.to_bytes(),
                    source=self.source,
                    target=self.target,
                    arn=secret.arn,
                    version_id=v.version_id,
                )
            versions.append(
                m.WireVersion(v.version_id, v.stages, v.created_at, sealed, v.has_value)
            )
        return m.WireState(
            secret.lineage or "",
            secret.epoch,
            secret.generation,
            secret.arn,
            secret.name,
            force_overwrite=entry.force_overwrite,
            replica_kms_key_id=entry.kms_key_id or "",
            metadata=metadata.to_dict(secret),
            versions=tuple(versions),
        )

    async def _fetch(self, secrets: list[Secret]) -> dict[tuple[str, str], Sealed]:
        """Sealed blobs of the labeled versions (the ones that replicate)."""
        out: dict[tuple[str, str], Sealed] = {}
        for s in secrets:
            for v in s.versions:
                if v.stages and v.has_value:
                    blob = await self.store.sealed(s.arn, v.version_id)
                    if blob is not None:
                        out[(s.arn, v.version_id)] = blob
        return out
