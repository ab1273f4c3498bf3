"""Shared by the RotateSecret / CancelRotateSecret tests (API and core)."""

from __future__ import annotations

from typing import Any

from smgrpc.core.rotation import BUILTIN_PASSWORD
from tests.conftest import pb

ACCOUNT = "123456789012"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{BUILTIN_PASSWORD}"


async def rotate(stub: Any, secret_id: str, **kw: Any) -> pb.RotateSecretResponse:
    kw.setdefault("rotation_lambda_arn", FUNCTION_ARN)
    if kw["rotation_lambda_arn"] is None:
        del kw["rotation_lambda_arn"]
    return await stub.RotateSecret(pb.RotateSecretRequest(secret_id=secret_id, **kw))  # type: ignore[no-any-return]


async def cancel(stub: Any, secret_id: str) -> pb.CancelRotateSecretResponse:
    return await stub.CancelRotateSecret(pb.CancelRotateSecretRequest(secret_id=secret_id))  # type: ignore[no-any-return]


def days(n: int) -> pb.RotationRulesType:
    return pb.RotationRulesType(automatically_after_days=n)
