"""Checks shared by the use cases: lookup, replica refusal, deletion state."""

from __future__ import annotations

import datetime as _dt
from functools import lru_cache

from smgrpc.core.errors import (
    MARKED_DELETED,
    REPLICA_READ_ONLY,
    SECRET_NOT_FOUND,
    InvalidParameter,
    InvalidRequest,
    ResourceNotFound,
)
from smgrpc.core.model import Secret


def found(secret: Secret | None, secret_id: str) -> Secret:
    if secret is None:
        raise ResourceNotFound(SECRET_NOT_FOUND, resource=secret_id)
    return secret


def not_replica(secret: Secret) -> None:
    if secret.is_replica:
        raise InvalidParameter(REPLICA_READ_ONLY, resource=secret.arn)


def not_deleted(secret: Secret, message: str = MARKED_DELETED) -> None:
    if secret.deleted_date is not None:
        raise InvalidRequest(message, resource=secret.arn)


_today: tuple[float, float, str] = (0.0, 0.0, "")  # [start, end) of the last day asked, its text


def day(ts: float) -> str:
    """Day resolution (LastAccessedDate is date-granular in AWS). Called on every read: a
    time within the last day asked for is two comparisons."""
    start, end, text = _today
    if start <= ts < end:
        return text
    return _day_of(ts)


def _day_of(ts: float) -> str:
    global _today
    n = int(ts // 86400)
    _today = (n * 86400.0, (n + 1) * 86400.0, _utc_day(n))
    return _today[2]


@lru_cache(maxsize=8)
def _utc_day(n: int) -> str:
    return _dt.datetime.fromtimestamp(n * 86400, _dt.UTC).strftime("%Y-%m-%d")
