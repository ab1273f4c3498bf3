"""Operations declared in the contract but not built yet answer UNIMPLEMENTED with ErrorInfo.

The replication operations (and CreateSecret's AddReplicaRegions) answered UNIMPLEMENTED too
until replication landed; they are tested under tests/cluster now. The four resource-policy
operations are built (tests/api/test_resource_policy.py); rotation remains.
"""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from tests.api.helpers import create, describe
from tests.conftest import pb

CASES = [
    ("RotateSecret", pb.RotateSecretRequest(secret_id="s"), "Rotation (RotateSecret)"),
    (
        "CancelRotateSecret",
        pb.CancelRotateSecretRequest(secret_id="s"),
        "Rotation (CancelRotateSecret)",
    ),
]


def _error_info(exc: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    status = rpc_status.from_call(exc)  # type: ignore[arg-type]
    assert status is not None
    infos = []
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            infos.append(info)
    assert len(infos) == 1
    return infos[0]


@pytest.mark.parametrize(("method", "request_msg", "capability"), CASES, ids=[c[0] for c in CASES])
async def test_unimplemented_operation(
    stub, method: str, request_msg: object, capability: str
) -> None:
    await create(stub, "s", "v")
    try:
        await getattr(stub, method)(request_msg)
    except grpc.aio.AioRpcError as exc:
        assert exc.code() == grpc.StatusCode.UNIMPLEMENTED
        assert exc.details() == f"{capability} is not available in this smgrpc release yet."
        info = _error_info(exc)
        assert (info.reason, info.domain, dict(info.metadata)) == (
            "NOT_IMPLEMENTED",
            "smgrpc",
            {"awsErrorCode": "NotImplemented"},
        )
    else:
        raise AssertionError(f"{method} succeeded")
    # Nothing happened to the secret.
    d = await describe(stub, "s")
    assert not d.HasField("rotation_enabled") and len(d.replication_status) == 0
