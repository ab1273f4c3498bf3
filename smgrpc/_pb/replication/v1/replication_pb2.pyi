from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PushEnvelope(_message.Message):
    __slots__ = ("batch",)
    BATCH_FIELD_NUMBER: _ClassVar[int]
    batch: bytes
    def __init__(self, batch: _Optional[bytes] = ...) -> None: ...

class PushBatch(_message.Message):
    __slots__ = ("source_region", "target_region", "prev_seq", "last_seq", "snapshot", "snapshot_end", "live_lineages", "states", "lineage_after", "lineage_upto")
    SOURCE_REGION_FIELD_NUMBER: _ClassVar[int]
    TARGET_REGION_FIELD_NUMBER: _ClassVar[int]
    PREV_SEQ_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQ_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_END_FIELD_NUMBER: _ClassVar[int]
    LIVE_LINEAGES_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    LINEAGE_AFTER_FIELD_NUMBER: _ClassVar[int]
    LINEAGE_UPTO_FIELD_NUMBER: _ClassVar[int]
    source_region: str
    target_region: str
    prev_seq: int
    last_seq: int
    snapshot: bool
    snapshot_end: bool
    live_lineages: _containers.RepeatedScalarFieldContainer[str]
    states: _containers.RepeatedCompositeFieldContainer[SecretState]
    lineage_after: str
    lineage_upto: str
    def __init__(self, source_region: _Optional[str] = ..., target_region: _Optional[str] = ..., prev_seq: _Optional[int] = ..., last_seq: _Optional[int] = ..., snapshot: _Optional[bool] = ..., snapshot_end: _Optional[bool] = ..., live_lineages: _Optional[_Iterable[str]] = ..., states: _Optional[_Iterable[_Union[SecretState, _Mapping]]] = ..., lineage_after: _Optional[str] = ..., lineage_upto: _Optional[str] = ...) -> None: ...

class SecretState(_message.Message):
    __slots__ = ("lineage", "epoch", "generation", "primary_arn", "name", "removed", "force_overwrite", "replica_kms_key_id", "metadata_json", "versions", "promoted")
    LINEAGE_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_ARN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    FORCE_OVERWRITE_FIELD_NUMBER: _ClassVar[int]
    REPLICA_KMS_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    PROMOTED_FIELD_NUMBER: _ClassVar[int]
    lineage: str
    epoch: int
    generation: int
    primary_arn: str
    name: str
    removed: bool
    force_overwrite: bool
    replica_kms_key_id: str
    metadata_json: str
    versions: _containers.RepeatedCompositeFieldContainer[VersionState]
    promoted: bool
    def __init__(self, lineage: _Optional[str] = ..., epoch: _Optional[int] = ..., generation: _Optional[int] = ..., primary_arn: _Optional[str] = ..., name: _Optional[str] = ..., removed: _Optional[bool] = ..., force_overwrite: _Optional[bool] = ..., replica_kms_key_id: _Optional[str] = ..., metadata_json: _Optional[str] = ..., versions: _Optional[_Iterable[_Union[VersionState, _Mapping]]] = ..., promoted: _Optional[bool] = ...) -> None: ...

class VersionState(_message.Message):
    __slots__ = ("version_id", "stages", "created_at", "sealed_value", "has_value")
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    STAGES_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    SEALED_VALUE_FIELD_NUMBER: _ClassVar[int]
    HAS_VALUE_FIELD_NUMBER: _ClassVar[int]
    version_id: str
    stages: _containers.RepeatedScalarFieldContainer[str]
    created_at: float
    sealed_value: bytes
    has_value: bool
    def __init__(self, version_id: _Optional[str] = ..., stages: _Optional[_Iterable[str]] = ..., created_at: _Optional[float] = ..., sealed_value: _Optional[bytes] = ..., has_value: _Optional[bool] = ...) -> None: ...

class PushReply(_message.Message):
    __slots__ = ("applied_seq", "gap", "results")
    APPLIED_SEQ_FIELD_NUMBER: _ClassVar[int]
    GAP_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    applied_seq: int
    gap: bool
    results: _containers.RepeatedCompositeFieldContainer[StateResult]
    def __init__(self, applied_seq: _Optional[int] = ..., gap: _Optional[bool] = ..., results: _Optional[_Iterable[_Union[StateResult, _Mapping]]] = ...) -> None: ...

class StateResult(_message.Message):
    __slots__ = ("lineage", "outcome", "message", "last_accessed_day")
    LINEAGE_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    LAST_ACCESSED_DAY_FIELD_NUMBER: _ClassVar[int]
    lineage: str
    outcome: str
    message: str
    last_accessed_day: str
    def __init__(self, lineage: _Optional[str] = ..., outcome: _Optional[str] = ..., message: _Optional[str] = ..., last_accessed_day: _Optional[str] = ...) -> None: ...
