from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class RotationEvent(_message.Message):
    __slots__ = ("step", "secret_id", "client_request_token", "rotation_token")
    STEP_FIELD_NUMBER: _ClassVar[int]
    SECRET_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_REQUEST_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ROTATION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    step: str
    secret_id: str
    client_request_token: str
    rotation_token: str
    def __init__(self, step: _Optional[str] = ..., secret_id: _Optional[str] = ..., client_request_token: _Optional[str] = ..., rotation_token: _Optional[str] = ...) -> None: ...

class RotationResult(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
