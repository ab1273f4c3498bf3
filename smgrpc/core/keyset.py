"""Everything of a data dir that the master key wraps or derives, as stored (ciphertext)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, repr=False)
class WrappedKeySet:
    """What `smgrpc kms rotate-master-key` re-wraps, in one transaction."""

    account: str
    canary: bytes
    keys: tuple[tuple[str, bytes], ...]  # (KMS key id, wrapped material of term 0)
    materials: tuple[tuple[str, int, bytes], ...]  # (KMS key id, term >= 1, wrapped material)
    access_keys: tuple[tuple[str, bytes, bytes], ...]  # (access key id, sealed, digest)

    def __repr__(self) -> str:
        return (
            f"WrappedKeySet({len(self.keys)} keys, {len(self.materials)} rotated materials, "
            f"{len(self.access_keys)} access keys)"
        )
