"""What stands between an AWS JSON 1.1 request and api's call pipeline (see server.py).

`WireContext` is the small stand-in for grpc.aio.ServicerContext that handlers.wrap runs with:
grpc's peer form (aws:SourceIp works unchanged), no deadline, the user agent as the only
metadata, and an auth context carrying the request as SigV4 signed it, which the wire Guard's
identity hook (`sigv4_identity`) verifies once per request. `wrap` ends a failed call with
`context.abort_with_status(status)`: here that raises `WireAbort`, and `error_answer` turns
its status into AWS's error response (the code from ErrorInfo.metadata["awsErrorCode"], which
api/errors.py always sets, the message from the status). So validation, authorization, audit,
the access log and the metrics are those of a gRPC call by construction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any

import grpc
import orjson
from google.rpc import error_details_pb2, status_pb2

from smgrpc.api.handlers import RequestIds

CONTENT_TYPE = "application/x-amz-json-1.1"
SIGV4 = "smgrpc.sigv4"  # auth_context key: [the SignedRequest]
_VERIFIED = "smgrpc.sigv4.arn"  # auth_context key: [the ARN its verification found]
_DETAILS = "grpc-status-details-bin"
_ERROR_INFO = error_details_pb2.ErrorInfo.DESCRIPTOR.full_name
UNAVAILABLE = "ServiceUnavailable"
INTERNAL = "InternalServiceError"
# HTTP statuses other than 400 (AWS: 500 for InternalServiceError, 503 for ServiceUnavailable;
# ThrottlingException is a 400, as AWS answers it).
_HTTP = {INTERNAL: 500, UNAVAILABLE: 503}

# The request id of the HTTP request being served (each aiohttp request runs in its own
# task): handlers.wrap takes it as the call's id, so the access log, the audit record and the
# x-amzn-RequestId header all say the same.
_REQUEST_ID: ContextVar[str] = ContextVar("smgrpc_wire_request_id")
new_request_id = RequestIds()


def begin_request() -> str:
    """A new request id, the one `request_id()` gives the pipeline from now on in this task."""
    rid = new_request_id()
    _REQUEST_ID.set(rid)
    return rid


def request_id() -> str:
    """handlers.wrap's `ids`: the id of the HTTP request being served."""
    return _REQUEST_ID.get()


class WireAbort(grpc.aio.AbortError):  # type: ignore[misc]
    """`abort_with_status` on the wire: the call ended with `status` (nothing more to send)."""

    def __init__(self, status: grpc.Status) -> None:
        super().__init__("aborted")
        self.status = status


class WireContext:
    """The ServicerContext of one HTTP request (only what handlers.wrap, the guard and the
    audit read). `signed`: the request as SigV4 verification needs it (auth.sigv4's
    SignedRequest); `secure`: it came over TLS."""

    __slots__ = ("_peer", "_metadata", "_auth", "_code")

    def __init__(self, peer: str, user_agent: str, secure: bool, signed: object) -> None:
        self._peer = peer
        self._metadata: tuple[tuple[str, str], ...] = (("user-agent", user_agent),)
        self._auth: dict[str, list[Any]] = {
            "transport_security_type": [b"ssl" if secure else b"insecure"],
            SIGV4: [signed],
        }
        self._code: grpc.StatusCode | None = None

    def peer(self) -> str:
        return self._peer

    def time_remaining(self) -> float | None:
        return None  # AWS requests carry no deadline

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self._metadata

    def auth_context(self) -> dict[str, list[Any]]:
        return self._auth  # one dict per request: the identity hook memoises on it

    def code(self) -> grpc.StatusCode | None:
        return self._code

    async def abort_with_status(self, status: grpc.Status) -> None:
        self._code = status.code
        raise WireAbort(status)

    async def abort(self, code: grpc.StatusCode, details: str = "", *_: object) -> None:
        self._code = code
        raise WireAbort(_Plain(code, details))


class _Plain(grpc.Status):  # type: ignore[misc]
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self.code, self.details, self.trailing_metadata = code, details, ()


def peer_of(sockaddr: object) -> str:
    """grpc's form of a peer address: ipv4:1.2.3.4:5, ipv6:[::1]:5 ("" when unknown)."""
    if not isinstance(sockaddr, tuple) or len(sockaddr) < 2:
        return ""
    host, port = str(sockaddr[0]), sockaddr[1]
    return f"ipv6:[{host}]:{port}" if ":" in host else f"ipv4:{host}:{port}"


def sigv4_identity(
    verify: Callable[[Any], Any], recheck: Callable[[Any], None]
) -> Callable[[Mapping[str, list[Any]]], str | None]:
    """The wire Guard's identity hook: the ARN of the principal `verify` (SigV4Verifier.verify)
    finds for the request's signature, verified once per request (wrap authenticates again
    after a Prepare; the replay guard would refuse a second verification). A later
    authentication of the same request calls `recheck` (SigV4Verifier.recheck: the request's
    access key still Active in the current IAM snapshot) before answering from the memo, so
    a key deactivated meanwhile is refused. A bad signature raises verify's ServiceError
    inside guard.authenticate: audited and counted as any refused call. None (no signed
    request): not a wire call."""

    def identity(auth_context: Mapping[str, list[Any]]) -> str | None:
        signed = auth_context.get(SIGV4)
        if not signed:
            return None
        done = auth_context.get(_VERIFIED)
        if done:
            recheck(signed[0])
            arn: str = done[0]
            return arn
        arn = verify(signed[0]).arn
        if isinstance(auth_context, dict):
            auth_context[_VERIFIED] = [arn]
        return arn

    return identity


def _aws_code(status: grpc.Status) -> str | None:
    """ErrorInfo.metadata["awsErrorCode"] of a status's details (None: it has none)."""
    for key, value in status.trailing_metadata or ():
        if key != _DETAILS or not isinstance(value, bytes):
            continue
        for detail in status_pb2.Status.FromString(value).details:
            if detail.TypeName() == _ERROR_INFO:
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                return info.metadata.get("awsErrorCode") or None
    return None


Answer = tuple[int, dict[str, str], bytes]


def error_body(code: str, message: str) -> bytes:
    return orjson.dumps({"__type": code, "Message": message, "message": message})


def answer(http: int, code: str, message: str, rid: str) -> Answer:
    """An AWS JSON error response: `X-Amzn-ErrorType`, `x-amzn-RequestId`, the body."""
    headers = {"Content-Type": CONTENT_TYPE, "x-amzn-RequestId": rid, "X-Amzn-ErrorType": code}
    return http, headers, error_body(code, message)


def error_answer(status: grpc.Status, rid: str) -> Answer:
    """The AWS error response of the status `wrap` ended a call with. A status without an
    ErrorInfo (not ours) is answered as an InternalServiceError, never with its text."""
    code = _aws_code(status)
    if code is None:
        return answer(500, INTERNAL, f"InternalServiceError (request id {rid})", rid)
    return answer(_HTTP.get(code, 400), code, str(status.details or ""), rid)


def ok_answer(body: bytes, rid: str) -> Answer:
    return 200, {"Content-Type": CONTENT_TYPE, "x-amzn-RequestId": rid}, body
