"""Typed domain errors, one class per AWS error code.

Messages are AWS wording and must never contain secret material. The api layer maps each
class to a gRPC status in one table (smgrpc/api/errors.py).
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every error the API reports with an AWS code."""

    aws_code: str = "InternalServiceError"
    # ErrorInfo metadata beyond awsErrorCode (names and values are never secret material).
    info: tuple[tuple[str, str], ...] = ()

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        resource: str | None = None,
        retry_after: float | None = None,
    ):
        """retry_after: seconds a client should wait before retrying (google.rpc.RetryInfo)."""
        super().__init__(message)
        self.message = message
        self.field = field
        self.resource = resource
        self.retry_after = retry_after

    @property
    def reason(self) -> str:
        """UPPER_SNAKE form of the AWS code without the Exception suffix."""
        code = self.aws_code.removesuffix("Exception")
        out = []
        for i, ch in enumerate(code):
            if ch.isupper() and i and not code[i - 1].isupper():
                out.append("_")
            out.append(ch.upper())
        return "".join(out)


class ResourceNotFound(ServiceError):
    aws_code = "ResourceNotFoundException"


class ResourceExists(ServiceError):
    aws_code = "ResourceExistsException"


class ValidationError(ServiceError):
    aws_code = "ValidationException"


class SerializationError(ServiceError):
    """An AWS JSON body that is not JSON, not an object, or has a member of the wrong JSON type."""

    aws_code = "SerializationException"


class InvalidParameter(ServiceError):
    aws_code = "InvalidParameterException"


class InvalidNextToken(ServiceError):
    aws_code = "InvalidNextTokenException"


class MalformedPolicyDocument(ServiceError):
    aws_code = "MalformedPolicyDocumentException"


class InvalidRequest(ServiceError):
    aws_code = "InvalidRequestException"


class PreconditionNotMet(ServiceError):
    aws_code = "PreconditionNotMetException"


class PublicPolicy(ServiceError):
    aws_code = "PublicPolicyException"


class EncryptionFailure(ServiceError):
    aws_code = "EncryptionFailure"


class DecryptionFailure(ServiceError):
    aws_code = "DecryptionFailure"


class LimitExceeded(ServiceError):
    aws_code = "LimitExceededException"


class AccessDenied(ServiceError):
    aws_code = "AccessDeniedException"


class Unauthenticated(ServiceError):
    aws_code = "UnrecognizedClientException"


# ---- SigV4 (the AWS JSON listener, auth/sigv4.py): AWS's codes for refused signatures ----


class MissingAuthenticationToken(ServiceError):
    """No Authorization header (nor presigned query): AWS's answer to an unsigned call."""

    aws_code = "MissingAuthenticationTokenException"


class IncompleteSignature(ServiceError):
    """A malformed Authorization header: parts missing, wrong algorithm, unparsable date."""

    aws_code = "IncompleteSignatureException"


class InvalidSignature(ServiceError):
    """A well-formed signature that is wrong, expired, mis-scoped or already used."""

    aws_code = "InvalidSignatureException"


class Throttling(ServiceError):
    """Retryable refusal for load (here: the SigV4 replay guard is at its memory bound)."""

    aws_code = "ThrottlingException"

    def __init__(self, message: str = "Rate exceeded", **_: object) -> None:
        super().__init__(message, retry_after=1.0)


# ---- IAM (smgrpc.iam.v1): AWS IAM's own codes, which carry no "Exception" suffix ----


class IamAccessDenied(ServiceError):
    """IAM's own code for a denied IAM call (Secrets Manager says AccessDeniedException)."""

    aws_code = "AccessDenied"


class InvalidClientTokenId(ServiceError):
    """IAM's code for a missing or unknown credential (Secrets Manager:
    UnrecognizedClientException)."""

    aws_code = "InvalidClientTokenId"


class NoSuchEntity(ServiceError):
    aws_code = "NoSuchEntity"


class EntityAlreadyExists(ServiceError):
    aws_code = "EntityAlreadyExists"


class IamMalformedPolicyDocument(ServiceError):
    """IAM's code; Secrets Manager's MalformedPolicyDocumentException stays separate."""

    aws_code = "MalformedPolicyDocument"


class IamLimitExceeded(ServiceError):
    aws_code = "LimitExceeded"


class DeleteConflict(ServiceError):
    aws_code = "DeleteConflict"


class IamValidationError(ServiceError):
    aws_code = "ValidationError"


class InvalidInput(ServiceError):
    aws_code = "InvalidInput"


class NotIamRegion(ServiceError):
    """An IAM write sent to a Region that does not hold IAM; the message names the holder."""

    aws_code = "NotIamRegionException"


class IamConflict(ServiceError):
    """The stored IAM generation moved under a commit (another writer): nothing was written.

    AWS IAM's ConcurrentModification: the caller may retry.
    """

    aws_code = "ConcurrentModification"


# ---- WatchSecrets (beyond AWS): codes in AWS's style ----


class ExpiredSequence(ServiceError):
    """AfterSequence outside what the Region can resume from (older than its retained history,
    or newer than its newest position): the client must resync, then watch afresh."""

    aws_code = "ExpiredSequenceException"

    def __init__(self, message: str, *, oldest: int = 0, newest: int = 0) -> None:
        super().__init__(message)
        self.info = (("oldestSequence", str(oldest)), ("newestSequence", str(newest)))


class SlowConsumer(ServiceError):
    """A stream cut off for not keeping up; resume with AfterSequence = after_sequence."""

    aws_code = "SlowConsumerException"

    def __init__(self, message: str, *, after_sequence: int = 0) -> None:
        super().__init__(message, retry_after=1.0)
        self.info = (("afterSequence", str(after_sequence)),)


class ServiceUnavailable(ServiceError):
    """The server is shutting down; a stream ends with the position to resume from."""

    aws_code = "ServiceUnavailable"

    def __init__(self, message: str, *, after_sequence: int | None = None) -> None:
        super().__init__(message, retry_after=1.0)
        if after_sequence is not None:
            self.info = (("afterSequence", str(after_sequence)),)


class NotImplementedOperation(ServiceError):
    """An operation declared in the contract whose capability is not built yet."""

    aws_code = "NotImplemented"


class InternalServiceError(ServiceError):
    aws_code = "InternalServiceError"


# Frequently used AWS messages, kept in one place so every path says exactly the same thing.
SECRET_NOT_FOUND = "Secrets Manager can't find the specified secret."
MARKED_DELETED = "You tried to perform the operation on a secret that's currently marked deleted."
UPDATE_MARKED_DELETED = (
    "You can't perform this operation on the secret because it was marked for deletion."
)
REPLICA_READ_ONLY = (
    "Operation not permitted on a replica secret. Call must be made in primary secret's region."
)


def validation(value_desc: str, path: str, constraint: str) -> ValidationError:
    """AWS-style model constraint violation; an empty value_desc hides the value (sensitive)."""
    # Long values are not echoed: the message travels in gRPC trailers (8-16 KiB budget).
    shown = f"Value {value_desc} at" if value_desc and len(value_desc) <= 258 else "Value at"
    return ValidationError(
        f"1 validation error detected: {shown} '{path}' failed to satisfy constraint: {constraint}",
        field=path,
    )


CONCURRENT_MODIFICATION = (
    "The request was rejected because multiple requests to change this object were submitted "
    "simultaneously. Wait a few minutes and submit your request again."
)


def iam_validation(value_desc: str, path: str, constraint: str) -> IamValidationError:
    """IAM's model constraint violation: Secrets Manager's wording, IAM's ValidationError code."""
    base = validation(value_desc, path, constraint)
    return IamValidationError(base.message, field=path)


def error_kind(exc: BaseException) -> str:
    """What may be logged of an unexpected error: its type, plus SQLite's result-code name.

    Never the message: it may hold secret text. SQLite's code (SQLITE_BUSY, SQLITE_FULL, ...) is
    a fixed constant and tells an operator a locked database from a full disk.
    """
    kind = type(exc).__name__
    code = getattr(exc, "sqlite_errorname", None)
    if isinstance(code, str) and code.isidentifier():
        kind = f"{kind} {code}"
    return kind
