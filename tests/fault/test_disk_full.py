"""Disk full (§D row 11), simulated with a file-size limit on the server process.

`prlimit(RLIMIT_FSIZE)` on the running server makes any write past the limit fail (EFBIG;
Python ignores SIGXFSZ), which SQLite reports like a full disk; raising the limit again is
"space returns". A second connection's PRAGMA max_page_count would not bind the server's own
connection, and a small tmpfs needs privileges, so this is the practical way.
"""

from __future__ import annotations

import os
import re
import resource
import sys
import uuid

import grpc
import pytest

from tests.conftest import CANARY, aws_error, pb
from tests.harness import Servers, channel_stub

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prlimit is Linux")
VALUE = 60_000


async def test_full_disk_fails_writes_whole_keeps_reads_and_recovers(servers: Servers) -> None:
    server = await servers.start()
    assert server.proc is not None
    pid = server.proc.pid
    ch, stub = await channel_stub(server)
    try:
        await stub.CreateSecret(pb.CreateSecretRequest(name="full/other", secret_string="other"))
        first = await stub.CreateSecret(pb.CreateSecretRequest(name="full/s", secret_string="s0"))
        for name in ("full/other", "full/s"):  # today's LastAccessedDate is recorded up front
            await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id=name))
        acked = {first.version_id: b""}
        biggest = max(p.stat().st_size for p in server.data_dir.glob("secrets.db*"))
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (biggest + 8 * VALUE, resource.RLIM_INFINITY))
        try:
            for _ in range(50):
                token = str(uuid.uuid4())
                value = CANARY.encode() + os.urandom(VALUE)
                put = pb.PutSecretValueRequest(
                    secret_id="full/s", client_request_token=token, secret_binary=value
                )
                try:
                    await stub.PutSecretValue(put)
                except grpc.aio.AioRpcError:
                    break
                acked[token] = value
            else:
                raise AssertionError("the file-size limit never bit")
            err = await aws_error(stub.PutSecretValue(put))
            assert err.code == grpc.StatusCode.INTERNAL and err.aws_code == "InternalServiceError"
            assert re.fullmatch(r"InternalServiceError \(request id [0-9a-f-]{36}\)", err.message)
            # Metadata and already-read values keep being served while the disk is full.
            got = await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="full/other"))
            assert got.secret_string == "other"
            assert (
                await stub.DescribeSecret(pb.DescribeSecretRequest(secret_id="full/s"))
            ).name == "full/s"
            listed = await stub.ListSecrets(pb.ListSecretsRequest())
            assert sorted(s.name for s in listed.secret_list) == ["full/other", "full/s"]
        finally:
            resource.prlimit(
                pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
            )

        # Space is back: the failed request, retried with its token, succeeds exactly once.
        assert (await stub.PutSecretValue(put)).version_id == token
        acked[token] = value
        await _check(stub, acked, token)
    finally:
        await ch.close()
    assert await server.terminate() == 0
    log = server.output()
    assert b"internal error in PutSecretValue" in log
    assert re.search(rb"OperationalError SQLITE_(FULL|IOERR\w*)", log), log.decode()[-2000:]
    assert CANARY.encode() not in log

    # And it all survives a restart.
    server = await servers.start(server.data_dir)
    ch, stub = await channel_stub(server)
    try:
        await _check(stub, acked, token)
    finally:
        await ch.close()
    print(f"\ndisk full: {len(acked) - 2} writes of {VALUE} B acknowledged before the limit bit")


async def _check(stub: object, acked: dict[str, bytes], current: str) -> None:
    listed = await stub.ListSecretVersionIds(
        pb.ListSecretVersionIdsRequest(  # type: ignore[attr-defined]
            secret_id="full/s", include_deprecated=True
        )
    )
    stages = {v.version_id: list(v.version_stages) for v in listed.versions}
    assert set(stages) == set(acked), "a failed write left a version behind (or lost one)"
    assert [v for v, s in stages.items() if "AWSCURRENT" in s] == [current]
    assert sum("AWSPREVIOUS" in s for s in stages.values()) == 1
    for vid, value in acked.items():
        got = await stub.GetSecretValue(
            pb.GetSecretValueRequest(  # type: ignore[attr-defined]
                secret_id="full/s", version_id=vid
            )
        )
        assert got.secret_binary == value if value else got.secret_string == "s0"
