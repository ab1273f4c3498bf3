"""The one table from domain errors to gRPC status + google.rpc.ErrorInfo (grpcio-status)."""

from __future__ import annotations

from datetime import timedelta

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from smgrpc.core import errors as e

DOMAIN = "smgrpc"
MAX_MESSAGE = 1024

STATUS: dict[type[e.ServiceError], int] = {
    e.ResourceNotFound: code_pb2.NOT_FOUND,
    e.ResourceExists: code_pb2.ALREADY_EXISTS,
    e.ValidationError: code_pb2.INVALID_ARGUMENT,
    e.SerializationError: code_pb2.INVALID_ARGUMENT,
    e.InvalidParameter: code_pb2.INVALID_ARGUMENT,
    e.InvalidNextToken: code_pb2.INVALID_ARGUMENT,
    e.MalformedPolicyDocument: code_pb2.INVALID_ARGUMENT,
    e.InvalidRequest: code_pb2.FAILED_PRECONDITION,
    e.PreconditionNotMet: code_pb2.FAILED_PRECONDITION,
    e.PublicPolicy: code_pb2.FAILED_PRECONDITION,
    e.EncryptionFailure: code_pb2.FAILED_PRECONDITION,
    e.DecryptionFailure: code_pb2.FAILED_PRECONDITION,
    e.LimitExceeded: code_pb2.RESOURCE_EXHAUSTED,
    e.AccessDenied: code_pb2.PERMISSION_DENIED,
    e.Unauthenticated: code_pb2.UNAUTHENTICATED,
    e.MissingAuthenticationToken: code_pb2.UNAUTHENTICATED,
    e.IncompleteSignature: code_pb2.UNAUTHENTICATED,
    e.InvalidSignature: code_pb2.UNAUTHENTICATED,
    e.Throttling: code_pb2.RESOURCE_EXHAUSTED,
    e.NotImplementedOperation: code_pb2.UNIMPLEMENTED,
    e.ExpiredSequence: code_pb2.OUT_OF_RANGE,
    e.SlowConsumer: code_pb2.RESOURCE_EXHAUSTED,
    e.ServiceUnavailable: code_pb2.UNAVAILABLE,
    e.InternalServiceError: code_pb2.INTERNAL,
    e.IamAccessDenied: code_pb2.PERMISSION_DENIED,
    e.InvalidClientTokenId: code_pb2.UNAUTHENTICATED,
    e.NoSuchEntity: code_pb2.NOT_FOUND,
    e.EntityAlreadyExists: code_pb2.ALREADY_EXISTS,
    e.IamMalformedPolicyDocument: code_pb2.INVALID_ARGUMENT,
    e.IamLimitExceeded: code_pb2.RESOURCE_EXHAUSTED,
    e.DeleteConflict: code_pb2.FAILED_PRECONDITION,
    e.IamValidationError: code_pb2.INVALID_ARGUMENT,
    e.InvalidInput: code_pb2.INVALID_ARGUMENT,
    e.NotIamRegion: code_pb2.FAILED_PRECONDITION,
    e.IamConflict: code_pb2.ABORTED,
}


def _pack(msg: Message) -> any_pb2.Any:
    out = any_pb2.Any()
    out.Pack(msg)
    return out


def to_status(exc: e.ServiceError, request_id: str) -> grpc.Status:
    """A grpc.Status whose trailer carries ErrorInfo (+ BadRequest / ResourceInfo, RequestInfo)."""
    # Walk the MRO: a subclass of a mapped error keeps its parent's status, never INTERNAL.
    code = next((STATUS[c] for c in type(exc).__mro__ if c in STATUS), code_pb2.INTERNAL)
    if len(exc.message) > MAX_MESSAGE:  # a last guard: trailers must stay small
        exc = type(exc)(exc.message[:MAX_MESSAGE] + "...", field=exc.field, resource=exc.resource)
    details = [
        _pack(
            error_details_pb2.ErrorInfo(
                reason=exc.reason,
                domain=DOMAIN,
                metadata={"awsErrorCode": exc.aws_code, **dict(exc.info)},
            )
        ),
        _pack(error_details_pb2.RequestInfo(request_id=request_id)),
    ]
    if exc.retry_after is not None:
        delay = duration_pb2.Duration()
        delay.FromTimedelta(timedelta(seconds=exc.retry_after))
        details.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
    if exc.field and code == code_pb2.INVALID_ARGUMENT:
        details.append(
            _pack(
                error_details_pb2.BadRequest(
                    field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(
                            field=exc.field, description=exc.message
                        )
                    ]
                )
            )
        )
    if exc.resource:
        details.append(
            _pack(
                error_details_pb2.ResourceInfo(
                    resource_type="kms:key"
                    if isinstance(exc, e.EncryptionFailure | e.DecryptionFailure)
                    else "secretsmanager:secret",
                    resource_name=exc.resource,
                )
            )
        )
    status = status_pb2.Status(code=code, message=exc.message, details=details)
    return rpc_status.to_status(status)


def internal(request_id: str) -> grpc.Status:
    """The generic answer to anything unexpected: no detail beyond the request id."""
    return to_status(
        e.InternalServiceError(f"InternalServiceError (request id {request_id})"), request_id
    )


SHUTTING_DOWN = "The server is shutting down and did not run this request; retry it."
THROTTLED = "Rate exceeded"  # AWS's ThrottlingException text


def _refusal(
    code: int, reason: str, aws_code: str, message: str, request_id: str, retry_after: float
) -> grpc.Status:
    """A call refused before it started: retryable (RetryInfo), guaranteed to have done nothing."""
    delay = duration_pb2.Duration()
    delay.FromTimedelta(timedelta(seconds=retry_after))
    details = [
        _pack(
            error_details_pb2.ErrorInfo(
                reason=reason, domain=DOMAIN, metadata={"awsErrorCode": aws_code}
            )
        ),
        _pack(error_details_pb2.RetryInfo(retry_delay=delay)),
        _pack(error_details_pb2.RequestInfo(request_id=request_id)),
    ]
    return rpc_status.to_status(status_pb2.Status(code=code, message=message, details=details))


def unavailable(request_id: str) -> grpc.Status:
    """A call refused during shutdown (UNAVAILABLE: retry elsewhere or after the restart)."""
    return _refusal(
        code_pb2.UNAVAILABLE,
        "SERVICE_UNAVAILABLE",
        "ServiceUnavailable",
        SHUTTING_DOWN,
        request_id,
        1.0,
    )


AUDIT_UNAVAILABLE = (
    "The request was not processed: the audit log cannot be written (audit unavailable). "
    "Nothing was done; retry later."
)


def audit_unavailable(request_id: str) -> grpc.Status:
    """A call refused because its audit record could not be written (fail-closed; retryable)."""
    return _refusal(
        code_pb2.UNAVAILABLE,
        "AUDIT_UNAVAILABLE",
        "InternalServiceError",
        AUDIT_UNAVAILABLE,
        request_id,
        1.0,
    )


def throttled(request_id: str, retry_after: float) -> grpc.Status:
    """A call refused by admission control (the server is at its in-flight limit)."""
    return _refusal(
        code_pb2.RESOURCE_EXHAUSTED,
        "THROTTLED",
        "ThrottlingException",
        THROTTLED,
        request_id,
        retry_after,
    )
