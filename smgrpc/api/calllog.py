"""What unary and streaming calls share: the access-log entry and the undecodable-request error
(api/handlers.py `wrap` and api/streams.py `wrap_stream` both use them; neither imports the
other's internals)."""

from __future__ import annotations

import time

import grpc

from smgrpc.api.access import AccessLog
from smgrpc.core.errors import InvalidParameter


def access_entry(
    log: AccessLog,
    method: str,
    request_id: str,
    code: grpc.StatusCode,
    aws_code: str,
    arn: str,
    started: float,
    peer: str,
    principal: str | None = None,
) -> None:
    """One access-log entry per call (only these fields: never a value or a credential)."""
    if log.enabled:
        log.record(
            (
                time.time(),
                request_id,
                method,
                code.name,
                aws_code or None,
                None if arn == "-" else arn,
                time.perf_counter() - started,
                peer or "-",
                principal,
            )
        )


def undecodable() -> InvalidParameter:
    return InvalidParameter(
        "The request could not be decoded: a string field holds invalid UTF-8 or "
        "the message is malformed. Send binary data in SecretBinary."
    )
