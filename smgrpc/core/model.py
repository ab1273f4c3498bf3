"""Frozen domain records: a secret, its versions and its value (with a redacting repr)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field, replace
from functools import cached_property

from smgrpc.core.errors import InternalServiceError
from smgrpc.core.words import Words

AWSCURRENT = "AWSCURRENT"
AWSPREVIOUS = "AWSPREVIOUS"
AWSPENDING = "AWSPENDING"
DEFAULT_KMS_ALIAS = "alias/aws/secretsmanager"
OWNING_SERVICE_TAG = "aws:secretsmanager:owningService"


@dataclass(frozen=True, repr=False, eq=False)
class SecretValue:
    """A secret value: exactly one of string / binary. Never printed, never logged."""

    string: str | None = None
    binary: bytes | None = None

    def __repr__(self) -> str:
        return "SecretValue(<redacted>)"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("secret values are not serialisable")

    def to_bytes(self) -> bytes:
        """Type-tagged plaintext, so a read returns the same field that was written."""
        if self.string is not None:
            return b"s" + self.string.encode("utf-8")
        if self.binary is not None:
            return b"b" + self.binary
        raise InternalServiceError("empty secret value")

    @classmethod
    def from_bytes(cls, data: bytes) -> SecretValue:
        """Inverse of to_bytes."""
        tag, body = data[:1], data[1:]
        if tag == b"s":
            return cls(string=body.decode("utf-8"))
        if tag == b"b":
            return cls(binary=body)
        raise InternalServiceError("unknown value encoding")

    def same_as(self, other: SecretValue | None) -> bool:
        """Constant-time comparison (idempotent replays compare against stored plaintext)."""
        if other is None:
            return False
        return hmac.compare_digest(self.to_bytes(), other.to_bytes())


@dataclass(frozen=True)
class Sealed:
    """Ciphertext of one version as stored: only the crypto package can open it."""

    kms_key_id: str
    wrapped_key: bytes = field(repr=False)
    ciphertext: bytes = field(repr=False)


@dataclass(frozen=True)
class Version:
    """One version's metadata; the value lives sealed in storage."""

    version_id: str
    created_at: float
    stages: tuple[str, ...]
    kms_key_id: str
    has_value: bool = True
    last_accessed_day: str | None = None


@dataclass(frozen=True)
class RotationConfig:
    """Rotation settings as AWS reports them on DescribeSecret."""

    enabled: bool | None = None
    lambda_arn: str | None = None
    automatically_after_days: int | None = None
    duration: str | None = None
    schedule_expression: str | None = None
    last_rotated: float | None = None
    next_rotation: float | None = None


@dataclass(frozen=True)
class ReplicaStatus:
    """Per-Region replication state kept on the primary."""

    region: str
    kms_key_id: str | None
    status: str
    status_message: str | None = None
    last_accessed_day: str | None = None
    # Internal (not in the API): overwrite a same-name secret in that Region on first apply.
    force_overwrite: bool = False


@dataclass(frozen=True)
class Secret:
    """The secret aggregate: metadata plus all its versions (metadata only)."""

    arn: str
    name: str
    created_at: float
    last_changed_at: float
    description: str | None = None
    kms_key_id: str | None = None
    tags: tuple[tuple[str, str], ...] | None = None
    policy: str | None = None
    deleted_date: float | None = None
    last_accessed_day: str | None = None
    type: str | None = None
    rotation: RotationConfig = field(default_factory=RotationConfig)
    primary_region: str | None = None  # set on replicas: the Region that owns the secret
    replicas: tuple[ReplicaStatus, ...] = ()
    versions: tuple[Version, ...] = ()
    # Replication identity: the lineage names one replicated secret across Regions (set on the
    # primary when it first gets a replica); the epoch fences an old primary after promotion;
    # the generation counts replicated changes (a replica applies only newer generations).
    lineage: str | None = None
    epoch: int = 0
    generation: int = 0

    @property
    def is_replica(self) -> bool:
        return self.primary_region is not None

    @property
    def owning_service(self) -> str | None:
        for key, value in self.tags or ():
            if key == OWNING_SERVICE_TAG:
                return value
        return None

    @property
    def filter_words(self) -> Words:
        """ListSecrets filter words of this metadata, made once (on the first filtered list)."""
        # Cached by hand: functools.cached_property takes a lock per access on Python 3.11,
        # and this is read once per secret per filtered scan.
        w: Words | None = self.__dict__.get("_filter_words")
        if w is None:
            w = Words.of(self.name, self.description, self.tags, self.owning_service)
            self.__dict__["_filter_words"] = w
        return w

    @cached_property
    def _by_version_id(self) -> dict[str, Version]:
        return {v.version_id: v for v in self.versions}

    def version(self, version_id: str) -> Version | None:
        return self._by_version_id.get(version_id)

    def version_with_stage(self, stage: str) -> Version | None:
        for v in self.versions:
            if stage in v.stages:
                return v
        return None

    def stage_map(self) -> dict[str, tuple[str, ...]]:
        """VersionIdsToStages as AWS reports it: label-less (deprecated) versions omitted."""
        return {v.version_id: v.stages for v in self.versions if v.stages}

    def evolve(self, **changes: object) -> Secret:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class KmsKeyRecord:
    """A KMS-like key as stored: its material is wrapped by the Region's master key."""

    key_id: str
    arn: str
    alias: str | None
    description: str
    enabled: bool
    created_at: float
    wrapped_material: bytes = field(repr=False)
