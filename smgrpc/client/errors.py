"""Client exceptions: one ServiceError subclass per AWS error code, decoded from the rich status
(google.rpc.Status details: ErrorInfo metadata `awsErrorCode`, RequestInfo, RetryInfo).

`str(e)` is aws-cli's line: `An error occurred (<code>) when calling the <Op> operation: <msg>`.
ClientError is for failures on this side (bad settings, unreachable endpoint, deadline).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status


class ClientError(Exception):
    """A failure on the client's side: bad settings or arguments, endpoint unreachable, or the
    deadline expired. `.status` is the gRPC status behind it, if there was one."""

    def __init__(self, message: str, *, status: grpc.StatusCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class ParamValidationError(ClientError):
    """An argument the request message has no field for, or of the wrong type."""


class EndpointConnectionError(ClientError):
    """The server could not be reached (after the retries)."""


class DeadlineExceededError(ClientError):
    """The call's deadline expired before the server answered."""


class ServiceError(Exception):
    """An error answered by the service, with its AWS code and request id."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: grpc.StatusCode = grpc.StatusCode.UNKNOWN,
        request_id: str = "",
        operation: str = "",
        metadata: Mapping[str, str] | None = None,
        retry_delay: float | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.status = status
        self.request_id = request_id
        self.operation = operation
        self.metadata: dict[str, str] = dict(metadata or {})
        self.retry_delay = retry_delay  # seconds, from RetryInfo
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return (
            f"An error occurred ({self.code}) when calling the {self.operation} operation: "
            f"{self.message}"
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, "
            f"request_id={self.request_id!r})"
        )

    @property
    def response(self) -> dict[str, Any]:
        """botocore's shape: `e.response["Error"]["Code"]`, `["ResponseMetadata"]["RequestId"]`."""
        return {
            "Error": {"Code": self.code, "Message": self.message},
            "ResponseMetadata": {"RequestId": self.request_id},
        }


# ---- one class per AWS code the service answers -------------------------------------------


class ResourceNotFoundException(ServiceError): ...


class ResourceExistsException(ServiceError): ...


class ValidationException(ServiceError): ...


class InvalidParameterException(ServiceError): ...


class InvalidNextTokenException(ServiceError): ...


class MalformedPolicyDocumentException(ServiceError): ...


class InvalidRequestException(ServiceError): ...


class PreconditionNotMetException(ServiceError): ...


class PublicPolicyException(ServiceError): ...


class EncryptionFailure(ServiceError): ...


class DecryptionFailure(ServiceError): ...


class LimitExceededException(ServiceError): ...


class AccessDeniedException(ServiceError): ...


class UnrecognizedClientException(ServiceError): ...


class NotImplemented(ServiceError): ...  # the AWS code (shadows the builtin here only)


class InternalServiceError(ServiceError): ...


class ThrottlingException(ServiceError): ...


class ServiceUnavailable(ServiceError): ...


class ExpiredSequenceException(ServiceError):
    """WatchSecrets: the position is outside the retained history; resync, then watch again."""


class SlowConsumerException(ServiceError):
    """WatchSecrets: the stream was cut off for not keeping up (resumable)."""


_BY_CODE: dict[str, type[ServiceError]] = {
    c.__name__: c
    for c in list(globals().values())
    if isinstance(c, type) and issubclass(c, ServiceError) and c is not ServiceError
}

# A status without ErrorInfo (grpc's own, or a proxy's): the nearest AWS code.
_FALLBACK = {
    grpc.StatusCode.NOT_FOUND: "ResourceNotFoundException",
    grpc.StatusCode.INVALID_ARGUMENT: "InvalidParameterException",
    grpc.StatusCode.PERMISSION_DENIED: "AccessDeniedException",
    grpc.StatusCode.UNAUTHENTICATED: "UnrecognizedClientException",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "ThrottlingException",
    grpc.StatusCode.UNAVAILABLE: "ServiceUnavailable",
    grpc.StatusCode.UNIMPLEMENTED: "NotImplemented",
}


def error_class(code: str) -> type[ServiceError]:
    """The class of an AWS code (a new subclass of ServiceError for a code not listed here)."""
    cls = _BY_CODE.get(code)
    if cls is None:
        name = code if code.isidentifier() else "UnknownServiceError"
        cls = _BY_CODE.setdefault(code, type(name, (ServiceError,), {"__module__": __name__}))
    return cls


# Codes that have no class above but are still reachable as attributes (`errors.NoSuchEntity`,
# the same class from_rpc_error raises for them): the other codes smgrpc's server answers
# (its IAM API, core/errors.py) and AWS's common errors. Any other name is an AttributeError, so
# a misspelled `except client.exceptions.ResourceNotFoundExceptoin` fails loudly instead of
# never matching. A code outside both lists still decodes (a ServiceError subclass made then).
SERVER_CODES = frozenset(
    {
        "AccessDenied",
        "ConcurrentModification",
        "DeleteConflict",
        "EntityAlreadyExists",
        "InvalidClientTokenId",
        "InvalidInput",
        "LimitExceeded",
        "MalformedPolicyDocument",
        "NoSuchEntity",
        "NotIamRegionException",
        "ValidationError",
    }
)
AWS_COMMON_CODES = frozenset(
    {
        "ExpiredTokenException",
        "IncompleteSignature",
        "InternalFailure",
        "InvalidAction",
        "InvalidParameterCombination",
        "InvalidParameterValue",
        "InvalidQueryParameter",
        "InvalidSignatureException",
        "MalformedQueryString",
        "MissingAction",
        "MissingAuthenticationToken",
        "MissingParameter",
        "NotAuthorized",
        "OptInRequired",
        "RequestExpired",
        "RequestTimeout",
        "ServiceUnavailableException",
    }
)
KNOWN_CODES = frozenset(_BY_CODE) | SERVER_CODES | AWS_COMMON_CODES


def __getattr__(name: str) -> type[ServiceError]:
    """`errors.NoSuchEntity` for a known code without a class above: the same class
    `from_rpc_error` raises (AttributeError for any other name)."""
    if name not in KNOWN_CODES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r} (not a known code)")
    return error_class(name)


def from_rpc_error(exc: grpc.RpcError, operation: str) -> ServiceError | ClientError:
    """The exception for a failed call (a grpc.RpcError that is also a grpc.Call)."""
    call: Any = exc
    status_code: grpc.StatusCode = call.code()
    message: str = call.details() or ""
    info = error_details_pb2.ErrorInfo()
    request = error_details_pb2.RequestInfo()
    retry_delay: float | None = None
    try:
        status = rpc_status.from_call(call)
    except ValueError:  # a trailer that contradicts the status: decode nothing from it
        status = None
    for detail in status.details if status is not None else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            detail.Unpack(info)
        elif detail.Is(error_details_pb2.RequestInfo.DESCRIPTOR):
            detail.Unpack(request)
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            retry_delay = retry.retry_delay.ToTimedelta().total_seconds()
    code = info.metadata.get("awsErrorCode", "")
    if not code:
        if status_code == grpc.StatusCode.UNAVAILABLE:
            return EndpointConnectionError(
                f"Could not connect to the endpoint ({operation}): {message}", status=status_code
            )
        if status_code == grpc.StatusCode.DEADLINE_EXCEEDED:
            return DeadlineExceededError(
                f"The {operation} call's deadline expired before the server answered",
                status=status_code,
            )
        code = _FALLBACK.get(status_code, "InternalServiceError")
    return error_class(code)(
        code,
        message,
        status=status_code,
        request_id=request.request_id,
        operation=operation,
        metadata=info.metadata,
        retry_delay=retry_delay,
    )
