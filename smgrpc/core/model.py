"""Frozen domain records: a secret, its versions and its value (with a redacting repr)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field, replace

from smgrpc.core.errors import InternalServiceError
from smgrpc.core.words import Words, filter_text

AWSCURRENT = "AWSCURRENT"
AWSPREVIOUS = "AWSPREVIOUS"
AWSPENDING = "AWSPENDING"
DEFAULT_KMS_ALIAS = "alias/aws/secretsmanager"
OWNING_SERVICE_TAG = "aws:secretsmanager:owningService"
_set = object.__setattr__  # how a frozen dataclass's __init__ sets its fields


@dataclass(frozen=True, repr=False, eq=False)
class SecretValue:
    """A secret value: exactly one of string / binary. Never printed, never logged."""

    string: str | None = None
    binary: bytes | None = None

    def __init__(self, string: str | None = None, binary: bytes | None = None) -> None:
        # The frozen dataclass's own __init__, with object.__setattr__ bound once: every
        # read makes one (~0.4 us less).
        _set(self, "string", string)
        _set(self, "binary", binary)

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
        tag = data[:1]
        if tag == b"s":
            return cls(data[1:].decode("utf-8"))
        if tag == b"b":
            return cls(None, data[1:])
        raise InternalServiceError("unknown value encoding")

    def same_as(self, other: SecretValue | None) -> bool:
        """Constant-time comparison (idempotent replays compare against stored plaintext)."""
        if other is None:
            return False
        return hmac.compare_digest(self.to_bytes(), other.to_bytes())


@dataclass(frozen=True, slots=True)
class Sealed:
    """Ciphertext of one version as stored: only the crypto package can open it."""

    kms_key_id: str
    wrapped_key: bytes = field(repr=False)
    ciphertext: bytes = field(repr=False)


# Records kept in memory for every secret are slotted (no per-instance __dict__): at 100k+
# secrets that is a large share of the Region's memory.
@dataclass(frozen=True, slots=True)
class Version:
    """One version's metadata; the value lives sealed in storage."""

    version_id: str
    created_at: float
    stages: tuple[str, ...]
    kms_key_id: str
    has_value: bool = True
    last_accessed_day: str | None = None


@dataclass(frozen=True, slots=True)
class RotationConfig:
    """Rotation settings as AWS reports them on DescribeSecret."""

    enabled: bool | None = None
    lambda_arn: str | None = None
    automatically_after_days: int | None = None
    duration: str | None = None
    schedule_expression: str | None = None
    last_rotated: float | None = None
    next_rotation: float | None = None


@dataclass(frozen=True, slots=True)
class ReplicaStatus:
    """Per-Region replication state kept on the primary."""

    region: str
    kms_key_id: str | None
    status: str
    status_message: str | None = None
    last_accessed_day: str | None = None
    # Internal (not in the API): overwrite a same-name secret in that Region on first apply.
    force_overwrite: bool = False


# The four steps of a rotation, in order (the Lambda event's Step values).
ROTATION_STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


@dataclass(frozen=True, slots=True)
class RotationRun:
    """The rotation in progress on a secret (durable: stored and replicated with its metadata).

    version_id: the new version (ClientRequestToken; AWSPENDING on it); token: the
    RotationToken passed to the function; step: the next step to invoke (ROTATION_STEPS);
    immediate False: RotateImmediately=false (testSecret only, then the test version's
    AWSPENDING is removed); attempts: failed attempts of `step` so far.
    """

    version_id: str
    token: str = field(repr=False)
    lambda_arn: str
    step: str
    immediate: bool
    started_at: float
    attempts: int = 0


# Shared by every secret without rotation settings (frozen, so sharing is safe).
NO_ROTATION = RotationConfig()
# Up to this many versions, a lookup by id is a scan of the tuple (no per-secret dict).
_SCAN_VERSIONS = 8


@dataclass(frozen=True, slots=True)
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
    rotation: RotationConfig = NO_ROTATION
    rotating: RotationRun | None = None  # the rotation in progress (core.rotation)
    primary_region: str | None = None  # set on replicas: the Region that owns the secret
    replicas: tuple[ReplicaStatus, ...] = ()
    versions: tuple[Version, ...] = ()
    # Replication identity: the lineage names one replicated secret across Regions (set on the
    # primary when it first gets a replica); the epoch fences an old primary after promotion;
    # the generation counts replicated changes (a replica applies only newer generations).
    lineage: str | None = None
    epoch: int = 0
    generation: int = 0
    # Caches of derived data (not part of the value; `evolve` starts without them): the
    # lower-cased text of the filter words, and a version index for secrets with many versions.
    _filter_text: str | None = field(default=None, init=False, compare=False, repr=False)
    _by_id: dict[str, Version] | None = field(default=None, init=False, compare=False, repr=False)

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
    def filter_text(self) -> str:
        """Every attribute that word filters look at, lower-cased and joined (the quick reject
        of a filtered scan); made once per metadata version. A str: the GC never walks it."""
        text = self._filter_text
        if text is None:
            text = filter_text(self.name, self.description, self.tags, self.owning_service)
            object.__setattr__(self, "_filter_text", text)
        return text

    @property
    def filter_words(self) -> Words:
        """ListSecrets filter words of this metadata (their sorted forms made when asked)."""
        return Words(self.name, self.description, self.tags, self.owning_service, self.filter_text)

    def version(self, version_id: str) -> Version | None:
        versions = self.versions
        if len(versions) <= _SCAN_VERSIONS:
            for v in versions:
                if v.version_id == version_id:
                    return v
            return None
        by_id = self._by_id
        if by_id is None:
            by_id = {v.version_id: v for v in versions}
            object.__setattr__(self, "_by_id", by_id)
        return by_id.get(version_id)

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


@dataclass(frozen=True)
class KmsMaterialRecord:
    """A rotated key material (term >= 1) of a KMS-like key, wrapped by the master key.

    `sealed`: how many data keys it has wrapped so far (as last recorded).
    """

    key_id: str
    term: int
    created_at: float
    wrapped_material: bytes = field(repr=False)
    sealed: int = 0
