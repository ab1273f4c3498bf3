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

class User(_message.Message):
    __slots__ = ("path", "user_name", "user_id", "arn", "create_date", "tags")
    PATH_FIELD_NUMBER: _ClassVar[int]
    USER_NAME_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ARN_FIELD_NUMBER: _ClassVar[int]
    CREATE_DATE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    path: str
    user_name: str
    user_id: str
    arn: str
    create_date: _timestamp_pb2.Timestamp
    tags: _containers.RepeatedCompositeFieldContainer[Tag]
    def __init__(self, path: _Optional[str] = ..., user_name: _Optional[str] = ..., user_id: _Optional[str] = ..., arn: _Optional[str] = ..., create_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., tags: _Optional[_Iterable[_Union[Tag, _Mapping]]] = ...) -> None: ...

class Role(_message.Message):
    __slots__ = ("path", "role_name", "role_id", "arn", "create_date", "assume_role_policy_document", "description", "max_session_duration", "tags")
    PATH_FIELD_NUMBER: _ClassVar[int]
    ROLE_NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_ID_FIELD_NUMBER: _ClassVar[int]
    ARN_FIELD_NUMBER: _ClassVar[int]
    CREATE_DATE_FIELD_NUMBER: _ClassVar[int]
    ASSUME_ROLE_POLICY_DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    MAX_SESSION_DURATION_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    path: str
    role_name: str
    role_id: str
    arn: str
    create_date: _timestamp_pb2.Timestamp
    assume_role_policy_document: str
    description: str
    max_session_duration: int
    tags: _containers.RepeatedCompositeFieldContainer[Tag]
    def __init__(self, path: _Optional[str] = ..., role_name: _Optional[str] = ..., role_id: _Optional[str] = ..., arn: _Optional[str] = ..., create_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., assume_role_policy_document: _Optional[str] = ..., description: _Optional[str] = ..., max_session_duration: _Optional[int] = ..., tags: _Optional[_Iterable[_Union[Tag, _Mapping]]] = ...) -> None: ...

class AccessKeyMetadata(_message.Message):
    __slots__ = ("user_name", "access_key_id", "status", "create_date")
    USER_NAME_FIELD_NUMBER: _ClassVar[int]
    ACCESS_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATE_DATE_FIELD_NUMBER: _ClassVar[int]
    user_name: str
    access_key_id: str
    status: str
    create_date: _timestamp_pb2.Timestamp
    def __init__(self, user_name: _Optional[str] = ..., access_key_id: _Optional[str] = ..., status: _Optional[str] = ..., create_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AccessKey(_message.Message):
    __slots__ = ("user_name", "access_key_id", "status", "secret_access_key", "create_date")
    USER_NAME_FIELD_NUMBER: _ClassVar[int]
    ACCESS_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SECRET_ACCESS_KEY_FIELD_NUMBER: _ClassVar[int]
    CREATE_DATE_FIELD_NUMBER: _ClassVar[int]
    user_name: str
    access_key_id: str
    status: str
    secret_access_key: str
    create_date: _timestamp_pb2.Timestamp
    def __init__(self, user_name: _Optional[str] = ..., access_key_id: _Optional[str] = ..., status: _Optional[str] = ..., secret_access_key: _Optional[str] = ..., create_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateUserRequest(_message.Message):
    __slots__ = ("path", "user_name", "tags")
    PATH_FIELD_NUMBER: _ClassVar[int]
    USER_NAME_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    path: str
    user_name: str
    tags: _containers.RepeatedCompositeFieldContainer[Tag]
    def __init__(self, path: _Optional[str] = ..., user_name: _Optional[str] = ..., tags: _Optional[_Iterable[_Union[Tag, _Mapping]]] = ...) -> None: ...

class CreateUserResponse(_message.Message):
    __slots__ = ("user",)
    USER_FIELD_NUMBER: _ClassVar[int]
    user: User
    def __init__(self, user: _Optional[_Union[User, _Mapping]] = ...) -> None: ...

class GetUserRequest(_message.Message):
    __slots__ = ("user_name",)
    USER_NAME_FIELD_NUMBER: _ClassVar[int]
    user_name: str
    def __init__(self, user_name: _Optional[str] = ...) -> None: ...

class GetUserResponse(_message.Message):
    __slots__ = ("user",)
    USER_FIELD_NUMBER: _ClassVar[int]
    user: User
    def __init__(self, user: _Optional[_Union[User, _Mapping]] = ...) -> None: ...

class ListUsersRequest(_message.Message):
    __slots__ = ("path_prefix", "marker", "max_items")
    PATH_PREFIX_FIELD_NUMBER: _ClassVar[int]
    MARKER_FIELD_NUMBER: _ClassVar[int]
    MAX_ITEMS_FIELD_NUMBER: _ClassVar[int]
    path_prefix: str
    marker: str
    max_items: int
    def __init__(self, path_prefix: _Optional[str] = ..., marker: _Optional[str] = ..., max_items: _Optional[int] = ...) -> None: ...

class ListUsersResponse(_message.Message):
    __slots__ = ("users", "is_truncated", "marker")
    USERS_FIELD_NUMBER: _ClassVar[int]
    IS_TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    MARKER_FIELD_NUMBER: _ClassVar[int]
    users: _containers.RepeatedCompositeFieldContainer[User]
    is_truncated: bool
    marker: str
    def __init__(self, users: _Optional[_Iterable[_Union[User, _Mapping]]] = ..., is_truncated: _Optional[bool] = ..., marker: _Optional[str] = ...) -> None: ...

class DeleteUserRequest(_message.Message):
    __slots__ = ("user_name",)
    USER_NAME_FIELD_NUMBER: _ClassVar[int]
    user_name: str
    def __init__(self, user_name: _Optional[str] = ...) -> None: ...

class DeleteUserResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TagUserRequest(_message.Message):
    __slots__ = ("user_name", "tags")
    USER_NAME_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    user_name: str
    tags: _containers.RepeatedCompositeFieldContainer[Tag]
    def __init__(self, user_name: _Optional[str] = ..., tags: _Optional[_Iterable[_Union[Tag, _Mapping]]] = ...) -> None: ...

class TagUserResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreateRoleRequest(_message.Message):
    __slots__ = ("path", "role_name", "assume_role_policy_document", "description", "max_session_duration", "tags")
    PATH_FIELD_NUMBER: _ClassVar[int]
    ROLE_NAME_FIELD_NUMBER: _ClassVar[int]
    ASSUME_ROLE_POLICY_DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    MAX_SESSION_DURATION_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    path: str
    role_name: str
    assume_role_policy_document: str
    description: str
    max_session_duration: int
    tags: _containers.RepeatedCompositeFieldContainer[Tag]
    def __init__(self, path: _Optional[str] = ..., role_name: _Optional[str] = ..., assume_role_policy_document: _Optional[str] = ..., description: _Optional[str] = ..., max_session_duration: _Optional[int] = ..., tags: _Optional[_Iterable[_Union[Tag, _Mapping]]] = ...) -> None: ...

class CreateRoleResponse(_message.Message):
    __slots__ = ("role",)
    ROLE_FIELD_NUMBER: _ClassVar[int]
    role: Role
    def __init__(self, role: _Optional[_Union[Role, _Mapping]] = ...) -> None: ...

class GetRoleRequest(_message.Message):
    __slots__ = ("role_name",)
    ROLE_NAME_FIELD_NUMBER: _ClassVar[int]
    role_name: str
    def __init__(self, role_name: _Optional[str] = ...) -> None: ...

class GetRoleResponse(_message.Message):
    __slots__ = ("role",)
    ROLE_FIELD_NUMBER: _ClassVar[int]
    role: Role
    def __init__(self, role: _Optional[_Union[Role, _Mapping]] = ...) -> None: ...

class ListRolesRequest(_message.Message):
    __slots__ = ("path_prefix", "marker", "max_items")
    PATH_PREFIX_FIELD_NUMBER: _ClassVar[int]
    MARKER_FIELD_NUMBER: _ClassVar[int]
    MAX_ITEMS_FIELD_NUMBER: _ClassVar[int]
    path_prefix: str
    marker: str
    max_items: int
    def __init__(self, path_prefix: _Optional[str] = ..., marker: _Optional[str] = ..., max_items: _Optional[int] = ...) -> None: ...

class ListRolesResponse(_message.Message):
    __slots__ = ("roles", "is_truncated", "marker")
    ROLES_FIELD_NUMBER: _ClassVar[int]
    IS_TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    MARKER_FIELD_NUMBER: _ClassVar[int]
    roles: _containers.RepeatedCompositeFieldContainer[Role]
    is_truncated: bool
    marker: str
    def __init__(self, roles: _Optional[_Iterable[_Union[Role, _Mapping]]] = ..., is_truncated: _Optional[bool] = ..., marker: _Optional[str] = ...) -> None: ...

class DeleteRoleRequest(_message.Message):
    __slots__ = ("role_name",)
    ROLE_NAME_FIELD_NUMBER: _ClassVar[int]
    role_name: str
    def __init__(self, role_name: _Optional[str] = ...) -> None: ...

class DeleteRoleResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TagRoleRequest(_message.Message):
    __slots__ = ("role_name", "tags")
    ROLE_NAME_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    role_name: str
    tags: _containers.RepeatedCompositeFieldContainer[Tag]
    def __init__(self, role_name: _Optional[str] = ..., tags: _Optional[_Iterable[_Union[Tag, _Mapping]]] = ...) -> None: ...

class TagRoleResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PutUserPolicyRequest(_message.Message):
    __slots__ = ("user_name", "policy_name", "policy_document")
    USER_NAME_FIELD_NUMBER: _ClassVar[int]
    POLICY_NAME_FIELD_NUMBER: _ClassVar[int]
    POLICY_DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    user_name: str
    policy_name: str
    policy_document: str
    def __init__(self, user_name: _Optional[str] = ..., policy_name: _Optional[str] = ..., policy_document: _Optional[str] = ...) -> None: ...

class PutUserPolicyResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetUserPolicyRequest(_message.Message):
    __slots__ = ("user_name", "policy_name")
    USER_NAME_FIELD_NUMBER: _ClassVar[int]
    POLICY_NAME_FIELD_NUMBER: _ClassVar[int]
    user_name: str
    policy_name: str
    def __init__(self, user_name: _Optional[str] = ..., policy_name: _Optional[str] = ...) -> None: ...

class GetUserPolicyResponse(_message.Message):
    __slots__ = ("user_name", "policy_name", "policy_document")
    USER_NAME_FIELD_NUMBER: _ClassVar[int]
    POLICY_NAME_FIELD_NUMBER: _ClassVar[int]
    POLICY_DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    user_name: str
    policy_name: str
    policy_document: str
    def __init__(self, user_name: _Optional[str] = ..., policy_name: _Optional[str] = ..., policy_document: _Optional[str] = ...) -> None: ...

class ListUserPoliciesRequest(_message.Message):
    __slots__ = ("user_name", "marker", "max_items")
    USER_NAME_FIELD_NUMBER: _ClassVar[int]
    MARKER_FIELD_NUMBER: _ClassVar[int]
    MAX_ITEMS_FIELD_NUMBER: _ClassVar[int]
    user_name: str
    marker: str
    max_items: int
    def __init__(self, user_name: _Optional[str] = ..., marker: _Optional[str] = ..., max_items: _Optional[int] = ...) -> None: ...

class ListUserPoliciesResponse(_message.Message):
    __slots__ = ("policy_names", "is_truncated", "marker")
    POLICY_NAMES_FIELD_NUMBER: _ClassVar[int]
    IS_TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    MARKER_FIELD_NUMBER: _ClassVar[int]
    policy_names: _containers.RepeatedScalarFieldContainer[str]
    is_truncated: bool
    marker: str
    def __init__(self, policy_names: _Optional[_Iterable[str]] = ..., is_truncated: _Optional[bool] = ..., marker: _Optional[str] = ...) -> None: ...

class DeleteUserPolicyRequest(_message.Message):
    __slots__ = ("user_name", "policy_name")
    USER_NAME_FIELD_NUMBER: _ClassVar[int]
    POLICY_NAME_FIELD_NUMBER: _ClassVar[int]
    user_name: str
    policy_name: str
    def __init__(self, user_name: _Optional[str] = ..., policy_name: _Optional[str] = ...) -> None: ...

class DeleteUserPolicyResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PutRolePolicyRequest(_message.Message):
    __slots__ = ("role_name", "policy_name", "policy_document")
    ROLE_NAME_FIELD_NUMBER: _ClassVar[int]
    POLICY_NAME_FIELD_NUMBER: _ClassVar[int]
    POLICY_DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    role_name: str
    policy_name: str
    policy_document: str
    def __init__(self, role_name: _Optional[str] = ..., policy_name: _Optional[str] = ..., policy_document: _Optional[str] = ...) -> None: ...

class PutRolePolicyResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetRolePolicyRequest(_message.Message):
    __slots__ = ("role_name", "policy_name")
    ROLE_NAME_FIELD_NUMBER: _ClassVar[int]
    POLICY_NAME_FIELD_NUMBER: _ClassVar[int]
    role_name: str
    policy_name: str
    def __init__(self, role_name: _Optional[str] = ..., policy_name: _Optional[str] = ...) -> None: ...

class GetRolePolicyResponse(_message.Message):
    __slots__ = ("role_name", "policy_name", "policy_document")
    ROLE_NAME_FIELD_NUMBER: _ClassVar[int]
    POLICY_NAME_FIELD_NUMBER: _ClassVar[int]
    POLICY_DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    role_name: str
    policy_name: str
    policy_document: str
    def __init__(self, role_name: _Optional[str] = ..., policy_name: _Optional[str] = ..., policy_document: _Optional[str] = ...) -> None: ...

class ListRolePoliciesRequest(_message.Message):
    __slots__ = ("role_name", "marker", "max_items")
    ROLE_NAME_FIELD_NUMBER: _ClassVar[int]
    MARKER_FIELD_NUMBER: _ClassVar[int]
    MAX_ITEMS_FIELD_NUMBER: _ClassVar[int]
    role_name: str
    marker: str
    max_items: int
    def __init__(self, role_name: _Optional[str] = ..., marker: _Optional[str] = ..., max_items: _Optional[int] = ...) -> None: ...

class ListRolePoliciesResponse(_message.Message):
    __slots__ = ("policy_names", "is_truncated", "marker")
    POLICY_NAMES_FIELD_NUMBER: _ClassVar[int]
    IS_TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    MARKER_FIELD_NUMBER: _ClassVar[int]
    policy_names: _containers.RepeatedScalarFieldContainer[str]
    is_truncated: bool
    marker: str
    def __init__(self, policy_names: _Optional[_Iterable[str]] = ..., is_truncated: _Optional[bool] = ..., marker: _Optional[str] = ...) -> None: ...

class DeleteRolePolicyRequest(_message.Message):
    __slots__ = ("role_name", "policy_name")
    ROLE_NAME_FIELD_NUMBER: _ClassVar[int]
    POLICY_NAME_FIELD_NUMBER: _ClassVar[int]
    role_name: str
    policy_name: str
    def __init__(self, role_name: _Optional[str] = ..., policy_name: _Optional[str] = ...) -> None: ...

class DeleteRolePolicyResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreateAccessKeyRequest(_message.Message):
    __slots__ = ("user_name",)
    USER_NAME_FIELD_NUMBER: _ClassVar[int]
    user_name: str
    def __init__(self, user_name: _Optional[str] = ...) -> None: ...

class CreateAccessKeyResponse(_message.Message):
    __slots__ = ("access_key",)
    ACCESS_KEY_FIELD_NUMBER: _ClassVar[int]
    access_key: AccessKey
    def __init__(self, access_key: _Optional[_Union[AccessKey, _Mapping]] = ...) -> None: ...

class ListAccessKeysRequest(_message.Message):
    __slots__ = ("user_name", "marker", "max_items")
    USER_NAME_FIELD_NUMBER: _ClassVar[int]
    MARKER_FIELD_NUMBER: _ClassVar[int]
    MAX_ITEMS_FIELD_NUMBER: _ClassVar[int]
    user_name: str
    marker: str
    max_items: int
    def __init__(self, user_name: _Optional[str] = ..., marker: _Optional[str] = ..., max_items: _Optional[int] = ...) -> None: ...

class ListAccessKeysResponse(_message.Message):
    __slots__ = ("access_key_metadata", "is_truncated", "marker")
    ACCESS_KEY_METADATA_FIELD_NUMBER: _ClassVar[int]
    IS_TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    MARKER_FIELD_NUMBER: _ClassVar[int]
    access_key_metadata: _containers.RepeatedCompositeFieldContainer[AccessKeyMetadata]
    is_truncated: bool
    marker: str
    def __init__(self, access_key_metadata: _Optional[_Iterable[_Union[AccessKeyMetadata, _Mapping]]] = ..., is_truncated: _Optional[bool] = ..., marker: _Optional[str] = ...) -> None: ...

class UpdateAccessKeyRequest(_message.Message):
    __slots__ = ("user_name", "access_key_id", "status")
    USER_NAME_FIELD_NUMBER: _ClassVar[int]
    ACCESS_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    user_name: str
    access_key_id: str
    status: str
    def __init__(self, user_name: _Optional[str] = ..., access_key_id: _Optional[str] = ..., status: _Optional[str] = ...) -> None: ...

class UpdateAccessKeyResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DeleteAccessKeyRequest(_message.Message):
    __slots__ = ("user_name", "access_key_id")
    USER_NAME_FIELD_NUMBER: _ClassVar[int]
    ACCESS_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    user_name: str
    access_key_id: str
    def __init__(self, user_name: _Optional[str] = ..., access_key_id: _Optional[str] = ...) -> None: ...

class DeleteAccessKeyResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
