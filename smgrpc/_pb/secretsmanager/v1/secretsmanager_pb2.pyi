import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.rpc import error_details_pb2 as _error_details_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Tag(_message.Message):
    __slots__ = ("key", "value")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: str
    def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class Filter(_message.Message):
    __slots__ = ("key", "values")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    key: str
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, key: _Optional[str] = ..., values: _Optional[_Iterable[str]] = ...) -> None: ...

class ReplicaRegionType(_message.Message):
    __slots__ = ("region", "kms_key_id")
    REGION_FIELD_NUMBER: _ClassVar[int]
    KMS_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    region: str
    kms_key_id: str
    def __init__(self, region: _Optional[str] = ..., kms_key_id: _Optional[str] = ...) -> None: ...

class ReplicationStatusType(_message.Message):
    __slots__ = ("region", "kms_key_id", "status", "status_message", "last_accessed_date")
    REGION_FIELD_NUMBER: _ClassVar[int]
    KMS_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    LAST_ACCESSED_DATE_FIELD_NUMBER: _ClassVar[int]
    region: str
    kms_key_id: str
    status: str
    status_message: str
    last_accessed_date: _timestamp_pb2.Timestamp
    def __init__(self, region: _Optional[str] = ..., kms_key_id: _Optional[str] = ..., status: _Optional[str] = ..., status_message: _Optional[str] = ..., last_accessed_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RotationRulesType(_message.Message):
    __slots__ = ("automatically_after_days", "duration", "schedule_expression")
    AUTOMATICALLY_AFTER_DAYS_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_EXPRESSION_FIELD_NUMBER: _ClassVar[int]
    automatically_after_days: int
    duration: str
    schedule_expression: str
    def __init__(self, automatically_after_days: _Optional[int] = ..., duration: _Optional[str] = ..., schedule_expression: _Optional[str] = ...) -> None: ...

class ExternalSecretRotationMetadataItem(_message.Message):
    __slots__ = ("key", "value")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: str
    def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class StageList(_message.Message):
    __slots__ = ("stages",)
    STAGES_FIELD_NUMBER: _ClassVar[int]
    stages: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, stages: _Optional[_Iterable[str]] = ...) -> None: ...

class APIErrorType(_message.Message):
    __slots__ = ("secret_id", "error_code", "message")
    SECRET_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    secret_id: str
    error_code: str
    message: str
    def __init__(self, secret_id: _Optional[str] = ..., error_code: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class SecretValueEntry(_message.Message):
    __slots__ = ("arn", "name", "version_id", "secret_binary", "secret_string", "version_stages", "created_date")
    ARN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    SECRET_BINARY_FIELD_NUMBER: _ClassVar[int]
    SECRET_STRING_FIELD_NUMBER: _ClassVar[int]
    VERSION_STAGES_FIELD_NUMBER: _ClassVar[int]
    CREATED_DATE_FIELD_NUMBER: _ClassVar[int]
    arn: str
    name: str
    version_id: str
    secret_binary: bytes
    secret_string: str
    version_stages: _containers.RepeatedScalarFieldContainer[str]
    created_date: _timestamp_pb2.Timestamp
    def __init__(self, arn: _Optional[str] = ..., name: _Optional[str] = ..., version_id: _Optional[str] = ..., secret_binary: _Optional[bytes] = ..., secret_string: _Optional[str] = ..., version_stages: _Optional[_Iterable[str]] = ..., created_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SecretListEntry(_message.Message):
    __slots__ = ("arn", "name", "type", "description", "kms_key_id", "rotation_enabled", "rotation_lambda_arn", "rotation_rules", "external_secret_rotation_metadata", "external_secret_rotation_role_arn", "last_rotated_date", "last_changed_date", "last_accessed_date", "deleted_date", "next_rotation_date", "tags", "secret_versions_to_stages", "owning_service", "created_date", "primary_region", "tags_present")
    class SecretVersionsToStagesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: StageList
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[StageList, _Mapping]] = ...) -> None: ...
    ARN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    KMS_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    ROTATION_ENABLED_FIELD_NUMBER: _ClassVar[int]
    ROTATION_LAMBDA_ARN_FIELD_NUMBER: _ClassVar[int]
    ROTATION_RULES_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_SECRET_ROTATION_METADATA_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_SECRET_ROTATION_ROLE_ARN_FIELD_NUMBER: _ClassVar[int]
    LAST_ROTATED_DATE_FIELD_NUMBER: _ClassVar[int]
    LAST_CHANGED_DATE_FIELD_NUMBER: _ClassVar[int]
    LAST_ACCESSED_DATE_FIELD_NUMBER: _ClassVar[int]
    DELETED_DATE_FIELD_NUMBER: _ClassVar[int]
    NEXT_ROTATION_DATE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    SECRET_VERSIONS_TO_STAGES_FIELD_NUMBER: _ClassVar[int]
    OWNING_SERVICE_FIELD_NUMBER: _ClassVar[int]
    CREATED_DATE_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_REGION_FIELD_NUMBER: _ClassVar[int]
    TAGS_PRESENT_FIELD_NUMBER: _ClassVar[int]
    arn: str
    name: str
    type: str
    description: str
    kms_key_id: str
    rotation_enabled: bool
    rotation_lambda_arn: str
    rotation_rules: RotationRulesType
    external_secret_rotation_metadata: _containers.RepeatedCompositeFieldContainer[ExternalSecretRotationMetadataItem]
    external_secret_rotation_role_arn: str
    last_rotated_date: _timestamp_pb2.Timestamp
    last_changed_date: _timestamp_pb2.Timestamp
    last_accessed_date: _timestamp_pb2.Timestamp
    deleted_date: _timestamp_pb2.Timestamp
    next_rotation_date: _timestamp_pb2.Timestamp
    tags: _containers.RepeatedCompositeFieldContainer[Tag]
    secret_versions_to_stages: _containers.MessageMap[str, StageList]
    owning_service: str
    created_date: _timestamp_pb2.Timestamp
    primary_region: str
    tags_present: bool
    def __init__(self, arn: _Optional[str] = ..., name: _Optional[str] = ..., type: _Optional[str] = ..., description: _Optional[str] = ..., kms_key_id: _Optional[str] = ..., rotation_enabled: _Optional[bool] = ..., rotation_lambda_arn: _Optional[str] = ..., rotation_rules: _Optional[_Union[RotationRulesType, _Mapping]] = ..., external_secret_rotation_metadata: _Optional[_Iterable[_Union[ExternalSecretRotationMetadataItem, _Mapping]]] = ..., external_secret_rotation_role_arn: _Optional[str] = ..., last_rotated_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_changed_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_accessed_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deleted_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., next_rotation_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., tags: _Optional[_Iterable[_Union[Tag, _Mapping]]] = ..., secret_versions_to_stages: _Optional[_Mapping[str, StageList]] = ..., owning_service: _Optional[str] = ..., created_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., primary_region: _Optional[str] = ..., tags_present: _Optional[bool] = ...) -> None: ...

class SecretVersionsListEntry(_message.Message):
    __slots__ = ("version_id", "version_stages", "last_accessed_date", "created_date", "kms_key_ids")
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_STAGES_FIELD_NUMBER: _ClassVar[int]
    LAST_ACCESSED_DATE_FIELD_NUMBER: _ClassVar[int]
    CREATED_DATE_FIELD_NUMBER: _ClassVar[int]
    KMS_KEY_IDS_FIELD_NUMBER: _ClassVar[int]
    version_id: str
    version_stages: _containers.RepeatedScalarFieldContainer[str]
    last_accessed_date: _timestamp_pb2.Timestamp
    created_date: _timestamp_pb2.Timestamp
    kms_key_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, version_id: _Optional[str] = ..., version_stages: _Optional[_Iterable[str]] = ..., last_accessed_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., kms_key_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ValidationErrorsEntry(_message.Message):
    __slots__ = ("check_name", "error_message")
    CHECK_NAME_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    check_name: str
    error_message: str
    def __init__(self, check_name: _Optional[str] = ..., error_message: _Optional[str] = ...) -> None: ...

class BatchGetSecretValueRequest(_message.Message):
    __slots__ = ("secret_id_list", "filters", "max_results", "next_token")
    SECRET_ID_LIST_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    MAX_RESULTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    secret_id_list: _containers.RepeatedScalarFieldContainer[str]
    filters: _containers.RepeatedCompositeFieldContainer[Filter]
    max_results: int
    next_token: str
    def __init__(self, secret_id_list: _Optional[_Iterable[str]] = ..., filters: _Optional[_Iterable[_Union[Filter, _Mapping]]] = ..., max_results: _Optional[int] = ..., next_token: _Optional[str] = ...) -> None: ...

class BatchGetSecretValueResponse(_message.Message):
    __slots__ = ("secret_values", "next_token", "errors")
    SECRET_VALUES_FIELD_NUMBER: _ClassVar[int]
    NEXT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    secret_values: _containers.RepeatedCompositeFieldContainer[SecretValueEntry]
    next_token: str
    errors: _containers.RepeatedCompositeFieldContainer[APIErrorType]
    def __init__(self, secret_values: _Optional[_Iterable[_Union[SecretValueEntry, _Mapping]]] = ..., next_token: _Optional[str] = ..., errors: _Optional[_Iterable[_Union[APIErrorType, _Mapping]]] = ...) -> None: ...

class CancelRotateSecretRequest(_message.Message):
    __slots__ = ("secret_id",)
    SECRET_ID_FIELD_NUMBER: _ClassVar[int]
    secret_id: str
    def __init__(self, secret_id: _Optional[str] = ...) -> None: ...

class CancelRotateSecretResponse(_message.Message):
    __slots__ = ("arn", "name", "version_id")
    ARN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    arn: str
    name: str
    version_id: str
    def __init__(self, arn: _Optional[str] = ..., name: _Optional[str] = ..., version_id: _Optional[str] = ...) -> None: ...

class CreateSecretRequest(_message.Message):
    __slots__ = ("name", "client_request_token", "description", "kms_key_id", "secret_binary", "secret_string", "tags", "add_replica_regions", "force_overwrite_replica_secret", "type")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CLIENT_REQUEST_TOKEN_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    KMS_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    SECRET_BINARY_FIELD_NUMBER: _ClassVar[int]
    SECRET_STRING_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    ADD_REPLICA_REGIONS_FIELD_NUMBER: _ClassVar[int]
    FORCE_OVERWRITE_REPLICA_SECRET_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    name: str
    client_request_token: str
    description: str
    kms_key_id: str
    secret_binary: bytes
    secret_string: str
    tags: _containers.RepeatedCompositeFieldContainer[Tag]
    add_replica_regions: _containers.RepeatedCompositeFieldContainer[ReplicaRegionType]
    force_overwrite_replica_secret: bool
    type: str
    def __init__(self, name: _Optional[str] = ..., client_request_token: _Optional[str] = ..., description: _Optional[str] = ..., kms_key_id: _Optional[str] = ..., secret_binary: _Optional[bytes] = ..., secret_string: _Optional[str] = ..., tags: _Optional[_Iterable[_Union[Tag, _Mapping]]] = ..., add_replica_regions: _Optional[_Iterable[_Union[ReplicaRegionType, _Mapping]]] = ..., force_overwrite_replica_secret: _Optional[bool] = ..., type: _Optional[str] = ...) -> None: ...

class CreateSecretResponse(_message.Message):
    __slots__ = ("arn", "name", "version_id", "replication_status")
    ARN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    REPLICATION_STATUS_FIELD_NUMBER: _ClassVar[int]
    arn: str
    name: str
    version_id: str
    replication_status: _containers.RepeatedCompositeFieldContainer[ReplicationStatusType]
    def __init__(self, arn: _Optional[str] = ..., name: _Optional[str] = ..., version_id: _Optional[str] = ..., replication_status: _Optional[_Iterable[_Union[ReplicationStatusType, _Mapping]]] = ...) -> None: ...

class DeleteResourcePolicyRequest(_message.Message):
    __slots__ = ("secret_id",)
    SECRET_ID_FIELD_NUMBER: _ClassVar[int]
    secret_id: str
    def __init__(self, secret_id: _Optional[str] = ...) -> None: ...

class DeleteResourcePolicyResponse(_message.Message):
    __slots__ = ("arn", "name")
    ARN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    arn: str
    name: str
    def __init__(self, arn: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class DeleteSecretRequest(_message.Message):
    __slots__ = ("secret_id", "recovery_window_in_days", "force_delete_without_recovery")
    SECRET_ID_FIELD_NUMBER: _ClassVar[int]
    RECOVERY_WINDOW_IN_DAYS_FIELD_NUMBER: _ClassVar[int]
    FORCE_DELETE_WITHOUT_RECOVERY_FIELD_NUMBER: _ClassVar[int]
    secret_id: str
    recovery_window_in_days: int
    force_delete_without_recovery: bool
    def __init__(self, secret_id: _Optional[str] = ..., recovery_window_in_days: _Optional[int] = ..., force_delete_without_recovery: _Optional[bool] = ...) -> None: ...

class DeleteSecretResponse(_message.Message):
    __slots__ = ("arn", "name", "deletion_date")
    ARN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DELETION_DATE_FIELD_NUMBER: _ClassVar[int]
    arn: str
    name: str
    deletion_date: _timestamp_pb2.Timestamp
    def __init__(self, arn: _Optional[str] = ..., name: _Optional[str] = ..., deletion_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DescribeSecretRequest(_message.Message):
    __slots__ = ("secret_id",)
    SECRET_ID_FIELD_NUMBER: _ClassVar[int]
    secret_id: str
    def __init__(self, secret_id: _Optional[str] = ...) -> None: ...

class DescribeSecretResponse(_message.Message):
    __slots__ = ("arn", "name", "type", "description", "kms_key_id", "rotation_enabled", "rotation_lambda_arn", "rotation_rules", "external_secret_rotation_metadata", "external_secret_rotation_role_arn", "last_rotated_date", "last_changed_date", "last_accessed_date", "deleted_date", "next_rotation_date", "tags", "version_ids_to_stages", "owning_service", "created_date", "primary_region", "replication_status", "tags_present")
    class VersionIdsToStagesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: StageList
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[StageList, _Mapping]] = ...) -> None: ...
    ARN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    KMS_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    ROTATION_ENABLED_FIELD_NUMBER: _ClassVar[int]
    ROTATION_LAMBDA_ARN_FIELD_NUMBER: _ClassVar[int]
    ROTATION_RULES_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_SECRET_ROTATION_METADATA_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_SECRET_ROTATION_ROLE_ARN_FIELD_NUMBER: _ClassVar[int]
    LAST_ROTATED_DATE_FIELD_NUMBER: _ClassVar[int]
    LAST_CHANGED_DATE_FIELD_NUMBER: _ClassVar[int]
    LAST_ACCESSED_DATE_FIELD_NUMBER: _ClassVar[int]
    DELETED_DATE_FIELD_NUMBER: _ClassVar[int]
    NEXT_ROTATION_DATE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    VERSION_IDS_TO_STAGES_FIELD_NUMBER: _ClassVar[int]
    OWNING_SERVICE_FIELD_NUMBER: _ClassVar[int]
    CREATED_DATE_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_REGION_FIELD_NUMBER: _ClassVar[int]
    REPLICATION_STATUS_FIELD_NUMBER: _ClassVar[int]
    TAGS_PRESENT_FIELD_NUMBER: _ClassVar[int]
    arn: str
    name: str
    type: str
    description: str
    kms_key_id: str
    rotation_enabled: bool
    rotation_lambda_arn: str
    rotation_rules: RotationRulesType
    external_secret_rotation_metadata: _containers.RepeatedCompositeFieldContainer[ExternalSecretRotationMetadataItem]
    external_secret_rotation_role_arn: str
    last_rotated_date: _timestamp_pb2.Timestamp
    last_changed_date: _timestamp_pb2.Timestamp
    last_accessed_date: _timestamp_pb2.Timestamp
    deleted_date: _timestamp_pb2.Timestamp
    next_rotation_date: _timestamp_pb2.Timestamp
    tags: _containers.RepeatedCompositeFieldContainer[Tag]
    version_ids_to_stages: _containers.MessageMap[str, StageList]
    owning_service: str
    created_date: _timestamp_pb2.Timestamp
    primary_region: str
    replication_status: _containers.RepeatedCompositeFieldContainer[ReplicationStatusType]
    tags_present: bool
    def __init__(self, arn: _Optional[str] = ..., name: _Optional[str] = ..., type: _Optional[str] = ..., description: _Optional[str] = ..., kms_key_id: _Optional[str] = ..., rotation_enabled: _Optional[bool] = ..., rotation_lambda_arn: _Optional[str] = ..., rotation_rules: _Optional[_Union[RotationRulesType, _Mapping]] = ..., external_secret_rotation_metadata: _Optional[_Iterable[_Union[ExternalSecretRotationMetadataItem, _Mapping]]] = ..., external_secret_rotation_role_arn: _Optional[str] = ..., last_rotated_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_changed_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_accessed_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deleted_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., next_rotation_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., tags: _Optional[_Iterable[_Union[Tag, _Mapping]]] = ..., version_ids_to_stages: _Optional[_Mapping[str, StageList]] = ..., owning_service: _Optional[str] = ..., created_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., primary_region: _Optional[str] = ..., replication_status: _Optional[_Iterable[_Union[ReplicationStatusType, _Mapping]]] = ..., tags_present: _Optional[bool] = ...) -> None: ...

class GetRandomPasswordRequest(_message.Message):
    __slots__ = ("password_length", "exclude_characters", "exclude_numbers", "exclude_punctuation", "exclude_uppercase", "exclude_lowercase", "include_space", "require_each_included_type")
    PASSWORD_LENGTH_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_CHARACTERS_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_NUMBERS_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_PUNCTUATION_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_UPPERCASE_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_LOWERCASE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_SPACE_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_EACH_INCLUDED_TYPE_FIELD_NUMBER: _ClassVar[int]
    password_length: int
    exclude_characters: str
    exclude_numbers: bool
    exclude_punctuation: bool
    exclude_uppercase: bool
    exclude_lowercase: bool
    include_space: bool
    require_each_included_type: bool
    def __init__(self, password_length: _Optional[int] = ..., exclude_characters: _Optional[str] = ..., exclude_numbers: _Optional[bool] = ..., exclude_punctuation: _Optional[bool] = ..., exclude_uppercase: _Optional[bool] = ..., exclude_lowercase: _Optional[bool] = ..., include_space: _Optional[bool] = ..., require_each_included_type: _Optional[bool] = ...) -> None: ...

class GetRandomPasswordResponse(_message.Message):
    __slots__ = ("random_password",)
    RANDOM_PASSWORD_FIELD_NUMBER: _ClassVar[int]
    random_password: str
    def __init__(self, random_password: _Optional[str] = ...) -> None: ...

class GetResourcePolicyRequest(_message.Message):
    __slots__ = ("secret_id",)
    SECRET_ID_FIELD_NUMBER: _ClassVar[int]
    secret_id: str
    def __init__(self, secret_id: _Optional[str] = ...) -> None: ...

class GetResourcePolicyResponse(_message.Message):
    __slots__ = ("arn", "name", "resource_policy")
    ARN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_POLICY_FIELD_NUMBER: _ClassVar[int]
    arn: str
    name: str
    resource_policy: str
    def __init__(self, arn: _Optional[str] = ..., name: _Optional[str] = ..., resource_policy: _Optional[str] = ...) -> None: ...

class GetSecretValueRequest(_message.Message):
    __slots__ = ("secret_id", "version_id", "version_stage")
    SECRET_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_STAGE_FIELD_NUMBER: _ClassVar[int]
    secret_id: str
    version_id: str
    version_stage: str
    def __init__(self, secret_id: _Optional[str] = ..., version_id: _Optional[str] = ..., version_stage: _Optional[str] = ...) -> None: ...

class GetSecretValueResponse(_message.Message):
    __slots__ = ("arn", "name", "version_id", "secret_binary", "secret_string", "version_stages", "created_date")
    ARN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    SECRET_BINARY_FIELD_NUMBER: _ClassVar[int]
    SECRET_STRING_FIELD_NUMBER: _ClassVar[int]
    VERSION_STAGES_FIELD_NUMBER: _ClassVar[int]
    CREATED_DATE_FIELD_NUMBER: _ClassVar[int]
    arn: str
    name: str
    version_id: str
    secret_binary: bytes
    secret_string: str
    version_stages: _containers.RepeatedScalarFieldContainer[str]
    created_date: _timestamp_pb2.Timestamp
    def __init__(self, arn: _Optional[str] = ..., name: _Optional[str] = ..., version_id: _Optional[str] = ..., secret_binary: _Optional[bytes] = ..., secret_string: _Optional[str] = ..., version_stages: _Optional[_Iterable[str]] = ..., created_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListSecretVersionIdsRequest(_message.Message):
    __slots__ = ("secret_id", "max_results", "next_token", "include_deprecated")
    SECRET_ID_FIELD_NUMBER: _ClassVar[int]
    MAX_RESULTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_DEPRECATED_FIELD_NUMBER: _ClassVar[int]
    secret_id: str
    max_results: int
    next_token: str
    include_deprecated: bool
    def __init__(self, secret_id: _Optional[str] = ..., max_results: _Optional[int] = ..., next_token: _Optional[str] = ..., include_deprecated: _Optional[bool] = ...) -> None: ...

class ListSecretVersionIdsResponse(_message.Message):
    __slots__ = ("versions", "next_token", "arn", "name")
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ARN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedCompositeFieldContainer[SecretVersionsListEntry]
    next_token: str
    arn: str
    name: str
    def __init__(self, versions: _Optional[_Iterable[_Union[SecretVersionsListEntry, _Mapping]]] = ..., next_token: _Optional[str] = ..., arn: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class ListSecretsRequest(_message.Message):
    __slots__ = ("include_planned_deletion", "max_results", "next_token", "filters", "sort_order", "sort_by")
    INCLUDE_PLANNED_DELETION_FIELD_NUMBER: _ClassVar[int]
    MAX_RESULTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    SORT_ORDER_FIELD_NUMBER: _ClassVar[int]
    SORT_BY_FIELD_NUMBER: _ClassVar[int]
    include_planned_deletion: bool
    max_results: int
    next_token: str
    filters: _containers.RepeatedCompositeFieldContainer[Filter]
    sort_order: str
    sort_by: str
    def __init__(self, include_planned_deletion: _Optional[bool] = ..., max_results: _Optional[int] = ..., next_token: _Optional[str] = ..., filters: _Optional[_Iterable[_Union[Filter, _Mapping]]] = ..., sort_order: _Optional[str] = ..., sort_by: _Optional[str] = ...) -> None: ...

class ListSecretsResponse(_message.Message):
    __slots__ = ("secret_list", "next_token")
    SECRET_LIST_FIELD_NUMBER: _ClassVar[int]
    NEXT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    secret_list: _containers.RepeatedCompositeFieldContainer[SecretListEntry]
    next_token: str
    def __init__(self, secret_list: _Optional[_Iterable[_Union[SecretListEntry, _Mapping]]] = ..., next_token: _Optional[str] = ...) -> None: ...

class PutResourcePolicyRequest(_message.Message):
    __slots__ = ("secret_id", "resource_policy", "block_public_policy")
    SECRET_ID_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_POLICY_FIELD_NUMBER: _ClassVar[int]
    BLOCK_PUBLIC_POLICY_FIELD_NUMBER: _ClassVar[int]
    secret_id: str
    resource_policy: str
    block_public_policy: bool
    def __init__(self, secret_id: _Optional[str] = ..., resource_policy: _Optional[str] = ..., block_public_policy: _Optional[bool] = ...) -> None: ...

class PutResourcePolicyResponse(_message.Message):
    __slots__ = ("arn", "name")
    ARN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    arn: str
    name: str
    def __init__(self, arn: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class PutSecretValueRequest(_message.Message):
    __slots__ = ("secret_id", "client_request_token", "secret_binary", "secret_string", "version_stages", "rotation_token")
    SECRET_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_REQUEST_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SECRET_BINARY_FIELD_NUMBER: _ClassVar[int]
    SECRET_STRING_FIELD_NUMBER: _ClassVar[int]
    VERSION_STAGES_FIELD_NUMBER: _ClassVar[int]
    ROTATION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    secret_id: str
    client_request_token: str
    secret_binary: bytes
    secret_string: str
    version_stages: _containers.RepeatedScalarFieldContainer[str]
    rotation_token: str
    def __init__(self, secret_id: _Optional[str] = ..., client_request_token: _Optional[str] = ..., secret_binary: _Optional[bytes] = ..., secret_string: _Optional[str] = ..., version_stages: _Optional[_Iterable[str]] = ..., rotation_token: _Optional[str] = ...) -> None: ...

class PutSecretValueResponse(_message.Message):
    __slots__ = ("arn", "name", "version_id", "version_stages")
    ARN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_STAGES_FIELD_NUMBER: _ClassVar[int]
    arn: str
    name: str
    version_id: str
    version_stages: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, arn: _Optional[str] = ..., name: _Optional[str] = ..., version_id: _Optional[str] = ..., version_stages: _Optional[_Iterable[str]] = ...) -> None: ...

class RemoveRegionsFromReplicationRequest(_message.Message):
    __slots__ = ("secret_id", "remove_replica_regions")
    SECRET_ID_FIELD_NUMBER: _ClassVar[int]
    REMOVE_REPLICA_REGIONS_FIELD_NUMBER: _ClassVar[int]
    secret_id: str
    remove_replica_regions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, secret_id: _Optional[str] = ..., remove_replica_regions: _Optional[_Iterable[str]] = ...) -> None: ...

class RemoveRegionsFromReplicationResponse(_message.Message):
    __slots__ = ("arn", "replication_status")
    ARN_FIELD_NUMBER: _ClassVar[int]
    REPLICATION_STATUS_FIELD_NUMBER: _ClassVar[int]
    arn: str
    replication_status: _containers.RepeatedCompositeFieldContainer[ReplicationStatusType]
    def __init__(self, arn: _Optional[str] = ..., replication_status: _Optional[_Iterable[_Union[ReplicationStatusType, _Mapping]]] = ...) -> None: ...

class ReplicateSecretToRegionsRequest(_message.Message):
    __slots__ = ("secret_id", "add_replica_regions", "force_overwrite_replica_secret")
    SECRET_ID_FIELD_NUMBER: _ClassVar[int]
    ADD_REPLICA_REGIONS_FIELD_NUMBER: _ClassVar[int]
    FORCE_OVERWRITE_REPLICA_SECRET_FIELD_NUMBER: _ClassVar[int]
    secret_id: str
    add_replica_regions: _containers.RepeatedCompositeFieldContainer[ReplicaRegionType]
    force_overwrite_replica_secret: bool
    def __init__(self, secret_id: _Optional[str] = ..., add_replica_regions: _Optional[_Iterable[_Union[ReplicaRegionType, _Mapping]]] = ..., force_overwrite_replica_secret: _Optional[bool] = ...) -> None: ...

class ReplicateSecretToRegionsResponse(_message.Message):
    __slots__ = ("arn", "replication_status")
    ARN_FIELD_NUMBER: _ClassVar[int]
    REPLICATION_STATUS_FIELD_NUMBER: _ClassVar[int]
    arn: str
    replication_status: _containers.RepeatedCompositeFieldContainer[ReplicationStatusType]
    def __init__(self, arn: _Optional[str] = ..., replication_status: _Optional[_Iterable[_Union[ReplicationStatusType, _Mapping]]] = ...) -> None: ...

class RestoreSecretRequest(_message.Message):
    __slots__ = ("secret_id",)
    SECRET_ID_FIELD_NUMBER: _ClassVar[int]
    secret_id: str
    def __init__(self, secret_id: _Optional[str] = ...) -> None: ...

class RestoreSecretResponse(_message.Message):
    __slots__ = ("arn", "name")
    ARN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    arn: str
    name: str
    def __init__(self, arn: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class RotateSecretRequest(_message.Message):
    __slots__ = ("secret_id", "client_request_token", "rotation_lambda_arn", "rotation_rules", "external_secret_rotation_metadata", "external_secret_rotation_role_arn", "rotate_immediately")
    SECRET_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_REQUEST_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ROTATION_LAMBDA_ARN_FIELD_NUMBER: _ClassVar[int]
    ROTATION_RULES_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_SECRET_ROTATION_METADATA_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_SECRET_ROTATION_ROLE_ARN_FIELD_NUMBER: _ClassVar[int]
    ROTATE_IMMEDIATELY_FIELD_NUMBER: _ClassVar[int]
    secret_id: str
    client_request_token: str
    rotation_lambda_arn: str
    rotation_rules: RotationRulesType
    external_secret_rotation_metadata: _containers.RepeatedCompositeFieldContainer[ExternalSecretRotationMetadataItem]
    external_secret_rotation_role_arn: str
    rotate_immediately: bool
    def __init__(self, secret_id: _Optional[str] = ..., client_request_token: _Optional[str] = ..., rotation_lambda_arn: _Optional[str] = ..., rotation_rules: _Optional[_Union[RotationRulesType, _Mapping]] = ..., external_secret_rotation_metadata: _Optional[_Iterable[_Union[ExternalSecretRotationMetadataItem, _Mapping]]] = ..., external_secret_rotation_role_arn: _Optional[str] = ..., rotate_immediately: _Optional[bool] = ...) -> None: ...

class RotateSecretResponse(_message.Message):
    __slots__ = ("arn", "name", "version_id")
    ARN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    arn: str
    name: str
    version_id: str
    def __init__(self, arn: _Optional[str] = ..., name: _Optional[str] = ..., version_id: _Optional[str] = ...) -> None: ...

class StopReplicationToReplicaRequest(_message.Message):
    __slots__ = ("secret_id",)
    SECRET_ID_FIELD_NUMBER: _ClassVar[int]
    secret_id: str
    def __init__(self, secret_id: _Optional[str] = ...) -> None: ...

class StopReplicationToReplicaResponse(_message.Message):
    __slots__ = ("arn",)
    ARN_FIELD_NUMBER: _ClassVar[int]
    arn: str
    def __init__(self, arn: _Optional[str] = ...) -> None: ...

class TagResourceRequest(_message.Message):
    __slots__ = ("secret_id", "tags")
    SECRET_ID_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    secret_id: str
    tags: _containers.RepeatedCompositeFieldContainer[Tag]
    def __init__(self, secret_id: _Optional[str] = ..., tags: _Optional[_Iterable[_Union[Tag, _Mapping]]] = ...) -> None: ...

class TagResourceResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class UntagResourceRequest(_message.Message):
    __slots__ = ("secret_id", "tag_keys")
    SECRET_ID_FIELD_NUMBER: _ClassVar[int]
    TAG_KEYS_FIELD_NUMBER: _ClassVar[int]
    secret_id: str
    tag_keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, secret_id: _Optional[str] = ..., tag_keys: _Optional[_Iterable[str]] = ...) -> None: ...

class UntagResourceResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class UpdateSecretRequest(_message.Message):
    __slots__ = ("secret_id", "client_request_token", "description", "kms_key_id", "secret_binary", "secret_string", "type")
    SECRET_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_REQUEST_TOKEN_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    KMS_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    SECRET_BINARY_FIELD_NUMBER: _ClassVar[int]
    SECRET_STRING_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    secret_id: str
    client_request_token: str
    description: str
    kms_key_id: str
    secret_binary: bytes
    secret_string: str
    type: str
    def __init__(self, secret_id: _Optional[str] = ..., client_request_token: _Optional[str] = ..., description: _Optional[str] = ..., kms_key_id: _Optional[str] = ..., secret_binary: _Optional[bytes] = ..., secret_string: _Optional[str] = ..., type: _Optional[str] = ...) -> None: ...

class UpdateSecretResponse(_message.Message):
    __slots__ = ("arn", "name", "version_id")
    ARN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    arn: str
    name: str
    version_id: str
    def __init__(self, arn: _Optional[str] = ..., name: _Optional[str] = ..., version_id: _Optional[str] = ...) -> None: ...

class UpdateSecretVersionStageRequest(_message.Message):
    __slots__ = ("secret_id", "version_stage", "remove_from_version_id", "move_to_version_id")
    SECRET_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_STAGE_FIELD_NUMBER: _ClassVar[int]
    REMOVE_FROM_VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    MOVE_TO_VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    secret_id: str
    version_stage: str
    remove_from_version_id: str
    move_to_version_id: str
    def __init__(self, secret_id: _Optional[str] = ..., version_stage: _Optional[str] = ..., remove_from_version_id: _Optional[str] = ..., move_to_version_id: _Optional[str] = ...) -> None: ...

class UpdateSecretVersionStageResponse(_message.Message):
    __slots__ = ("arn", "name")
    ARN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    arn: str
    name: str
    def __init__(self, arn: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class ValidateResourcePolicyRequest(_message.Message):
    __slots__ = ("secret_id", "resource_policy")
    SECRET_ID_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_POLICY_FIELD_NUMBER: _ClassVar[int]
    secret_id: str
    resource_policy: str
    def __init__(self, secret_id: _Optional[str] = ..., resource_policy: _Optional[str] = ...) -> None: ...

class ValidateResourcePolicyResponse(_message.Message):
    __slots__ = ("policy_validation_passed", "validation_errors")
    POLICY_VALIDATION_PASSED_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_ERRORS_FIELD_NUMBER: _ClassVar[int]
    policy_validation_passed: bool
    validation_errors: _containers.RepeatedCompositeFieldContainer[ValidationErrorsEntry]
    def __init__(self, policy_validation_passed: _Optional[bool] = ..., validation_errors: _Optional[_Iterable[_Union[ValidationErrorsEntry, _Mapping]]] = ...) -> None: ...

class WatchSecretsRequest(_message.Message):
    __slots__ = ("secret_ids", "name_prefix", "after_sequence")
    SECRET_IDS_FIELD_NUMBER: _ClassVar[int]
    NAME_PREFIX_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    secret_ids: _containers.RepeatedScalarFieldContainer[str]
    name_prefix: str
    after_sequence: int
    def __init__(self, secret_ids: _Optional[_Iterable[str]] = ..., name_prefix: _Optional[str] = ..., after_sequence: _Optional[int] = ...) -> None: ...

class SecretEvent(_message.Message):
    __slots__ = ("sequence", "type", "arn", "name", "version_id", "time", "region")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ARN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    type: str
    arn: str
    name: str
    version_id: str
    time: _timestamp_pb2.Timestamp
    region: str
    def __init__(self, sequence: _Optional[int] = ..., type: _Optional[str] = ..., arn: _Optional[str] = ..., name: _Optional[str] = ..., version_id: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., region: _Optional[str] = ...) -> None: ...
