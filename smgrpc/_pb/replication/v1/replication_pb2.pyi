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
    __slots__ = ("source_region", "target_region", "prev_seq", "last_seq", "snapshot", "snapshot_end", "live_lineages", "states", "lineage_after", "lineage_upto", "source_incarnation")
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
    SOURCE_INCARNATION_FIELD_NUMBER: _ClassVar[int]
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
    source_incarnation: str
    def __init__(self, source_region: _Optional[str] = ..., target_region: _Optional[str] = ..., prev_seq: _Optional[int] = ..., last_seq: _Optional[int] = ..., snapshot: _Optional[bool] = ..., snapshot_end: _Optional[bool] = ..., live_lineages: _Optional[_Iterable[str]] = ..., states: _Optional[_Iterable[_Union[SecretState, _Mapping]]] = ..., lineage_after: _Optional[str] = ..., lineage_upto: _Optional[str] = ..., source_incarnation: _Optional[str] = ...) -> None: ...

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
    __slots__ = ("applied_seq", "gap", "results", "incarnation", "resync")
    APPLIED_SEQ_FIELD_NUMBER: _ClassVar[int]
    GAP_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    INCARNATION_FIELD_NUMBER: _ClassVar[int]
    RESYNC_FIELD_NUMBER: _ClassVar[int]
    applied_seq: int
    gap: bool
    results: _containers.RepeatedCompositeFieldContainer[StateResult]
    incarnation: str
    resync: bool
    def __init__(self, applied_seq: _Optional[int] = ..., gap: _Optional[bool] = ..., results: _Optional[_Iterable[_Union[StateResult, _Mapping]]] = ..., incarnation: _Optional[str] = ..., resync: _Optional[bool] = ...) -> None: ...

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

class IamSnapshot(_message.Message):
    __slots__ = ("source_region", "target_region", "account", "holder", "epoch", "generation", "users", "roles", "keys")
    SOURCE_REGION_FIELD_NUMBER: _ClassVar[int]
    TARGET_REGION_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    USERS_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    source_region: str
    target_region: str
    account: str
    holder: str
    epoch: int
    generation: int
    users: _containers.RepeatedCompositeFieldContainer[IamUser]
    roles: _containers.RepeatedCompositeFieldContainer[IamRole]
    keys: _containers.RepeatedCompositeFieldContainer[IamAccessKey]
    def __init__(self, source_region: _Optional[str] = ..., target_region: _Optional[str] = ..., account: _Optional[str] = ..., holder: _Optional[str] = ..., epoch: _Optional[int] = ..., generation: _Optional[int] = ..., users: _Optional[_Iterable[_Union[IamUser, _Mapping]]] = ..., roles: _Optional[_Iterable[_Union[IamRole, _Mapping]]] = ..., keys: _Optional[_Iterable[_Union[IamAccessKey, _Mapping]]] = ...) -> None: ...

class IamTag(_message.Message):
    __slots__ = ("key", "value")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: str
    def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class IamInlinePolicy(_message.Message):
    __slots__ = ("name", "document")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    name: str
    document: str
    def __init__(self, name: _Optional[str] = ..., document: _Optional[str] = ...) -> None: ...

class IamUser(_message.Message):
    __slots__ = ("name", "user_id", "arn", "path", "created_at", "tags", "policies")
    NAME_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ARN_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    name: str
    user_id: str
    arn: str
    path: str
    created_at: float
    tags: _containers.RepeatedCompositeFieldContainer[IamTag]
    policies: _containers.RepeatedCompositeFieldContainer[IamInlinePolicy]
    def __init__(self, name: _Optional[str] = ..., user_id: _Optional[str] = ..., arn: _Optional[str] = ..., path: _Optional[str] = ..., created_at: _Optional[float] = ..., tags: _Optional[_Iterable[_Union[IamTag, _Mapping]]] = ..., policies: _Optional[_Iterable[_Union[IamInlinePolicy, _Mapping]]] = ...) -> None: ...

class IamRole(_message.Message):
    __slots__ = ("name", "role_id", "arn", "path", "created_at", "assume_role_policy", "description", "max_session_duration", "tags", "policies")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_ID_FIELD_NUMBER: _ClassVar[int]
    ARN_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    ASSUME_ROLE_POLICY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    MAX_SESSION_DURATION_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    name: str
    role_id: str
    arn: str
    path: str
    created_at: float
    assume_role_policy: str
    description: str
    max_session_duration: int
    tags: _containers.RepeatedCompositeFieldContainer[IamTag]
    policies: _containers.RepeatedCompositeFieldContainer[IamInlinePolicy]
    def __init__(self, name: _Optional[str] = ..., role_id: _Optional[str] = ..., arn: _Optional[str] = ..., path: _Optional[str] = ..., created_at: _Optional[float] = ..., assume_role_policy: _Optional[str] = ..., description: _Optional[str] = ..., max_session_duration: _Optional[int] = ..., tags: _Optional[_Iterable[_Union[IamTag, _Mapping]]] = ..., policies: _Optional[_Iterable[_Union[IamInlinePolicy, _Mapping]]] = ...) -> None: ...

class IamAccessKey(_message.Message):
    __slots__ = ("access_key_id", "user_name", "status", "created_at", "sealed_secret")
    ACCESS_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    USER_NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    SEALED_SECRET_FIELD_NUMBER: _ClassVar[int]
    access_key_id: str
    user_name: str
    status: str
    created_at: float
    sealed_secret: bytes
    def __init__(self, access_key_id: _Optional[str] = ..., user_name: _Optional[str] = ..., status: _Optional[str] = ..., created_at: _Optional[float] = ..., sealed_secret: _Optional[bytes] = ...) -> None: ...

class MoveIamRequest(_message.Message):
    __slots__ = ("target_region", "min_epoch")
    TARGET_REGION_FIELD_NUMBER: _ClassVar[int]
    MIN_EPOCH_FIELD_NUMBER: _ClassVar[int]
    target_region: str
    min_epoch: int
    def __init__(self, target_region: _Optional[str] = ..., min_epoch: _Optional[int] = ...) -> None: ...

class IamStatusRequest(_message.Message):
    __slots__ = ("target_region",)
    TARGET_REGION_FIELD_NUMBER: _ClassVar[int]
    target_region: str
    def __init__(self, target_region: _Optional[str] = ...) -> None: ...

class IamReply(_message.Message):
    __slots__ = ("holder", "epoch", "generation", "applied")
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    holder: str
    epoch: int
    generation: int
    applied: bool
    def __init__(self, holder: _Optional[str] = ..., epoch: _Optional[int] = ..., generation: _Optional[int] = ..., applied: _Optional[bool] = ...) -> None: ...
