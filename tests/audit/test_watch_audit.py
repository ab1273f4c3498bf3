"""WatchSecrets is audited and counted like every call: one audit Event per stream (written
before its first message, as a read's; or its errorCode when it is refused: denied,
unauthenticated, over a limit), and its end counted in smgrpc_calls and the denial and
authentication-failure counters."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import grpc

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.config import Config
from tests.api.authz_helpers import allow, user, user_arn
from tests.api.helpers import create
from tests.api.watch_helpers import open_stream, watching
from tests.audit.helpers import events
from tests.authn import altered
from tests.conftest import admin_channel, make_config, running
from tests.metrics.scrape import scrape

DESCRIBE = "secretsmanager:DescribeSecret"
WATCH = {"service": "SecretsManager", "operation": "WatchSecrets"}


def config(tmp: Path, **kw: Any) -> Config:
    kw.setdefault("audit_log", tmp / "audit.log")
    return make_config(tmp, metrics_listen="127.0.0.1:0", watch_heartbeat=0.2, **kw)


def outcome(e: dict[str, Any]) -> tuple[str, str | None, str | None]:
    return (
        e["userIdentity"].get("arn", e["userIdentity"]["type"]),
        e.get("errorCode"),
        (e["requestParameters"] or {}).get("SecretIds", [None])[0],
    )


async def test_allowed_denied_and_unauthenticated_streams_each_leave_one_event(
    tmp_path: Path,
) -> None:
    log = tmp_path / "audit.log"
    async with running(config(tmp_path, watch_max_streams_per_principal=1)) as region:
        async with admin_channel(region) as ch:
            stub = pbg.SecretsManagerStub(ch)
            await create(stub, "app/a")
            await create(stub, "secret/b")
            token = await user(
                region, "u", allow(DESCRIBE, "arn:aws:secretsmanager:*:*:secret:app/*")
            )
            async with watching(region, token, secret_ids=["app/a"]) as w:
                # Live: its Event is written before the first message (the heartbeat) left.
                assert [outcome(e) for e in events(log, "WatchSecrets")] == [
                    (user_arn("u"), None, "app/a")
                ]
                assert events(log, "WatchSecrets")[0]["readOnly"] is True
                # A second stream of the same principal is over its limit.
                err = await open_stream(stub, token, secret_ids=["app/x"]).error()
                assert err.aws_code == "LimitExceededException"
                await w.next()  # heartbeats go on: no further record
            err = await open_stream(stub, token, secret_ids=["secret/b"]).error()
            assert (err.code, err.aws_code) == (
                grpc.StatusCode.PERMISSION_DENIED,
                "AccessDeniedException",
            )
            err = await open_stream(stub, None, secret_ids=["app/n"]).error()
            assert err.aws_code == "UnrecognizedClientException"
            err = await open_stream(stub, altered(token), secret_ids=["app/m"]).error()
            assert err.aws_code == "UnrecognizedClientException"
            m = await scrape(region.metrics_port)
    assert sorted(map(outcome, events(log, "WatchSecrets")), key=str) == sorted(
        [
            (user_arn("u"), None, "app/a"),
            (user_arn("u"), "LimitExceededException", "app/x"),
            (user_arn("u"), "AccessDeniedException", "secret/b"),
            ("Unknown", "UnrecognizedClientException", "app/n"),
            ("Unknown", "UnrecognizedClientException", "app/m"),
        ],
        key=str,
    )
    assert m.value("smgrpc_calls_total", **WATCH, code="OK", aws_code="") == 0  # still open
    assert m.value("smgrpc_calls_total", **WATCH, code="CANCELLED", aws_code="") == 1
    assert m.value("smgrpc_calls_total", **WATCH, code="PERMISSION_DENIED") == 1
    assert m.value("smgrpc_calls_total", **WATCH, code="UNAUTHENTICATED") == 2
    limit = {"code": "RESOURCE_EXHAUSTED", "aws_code": "LimitExceededException"}
    assert m.value("smgrpc_calls_total", **WATCH, **limit) == 1
    assert m.value("smgrpc_authorization_denials_total", **WATCH) == 1
    assert m.value("smgrpc_authentication_failures_total", **WATCH) == 2
    assert m.value("smgrpc_call_duration_seconds_count", **WATCH) == 5


async def test_a_stream_is_refused_when_its_event_cannot_be_written(tmp_path: Path) -> None:
    audit_dir = tmp_path / "audit"
    audit_dir.mkdir()
    cfg = config(tmp_path, audit_log=audit_dir / "audit.log")
    async with running(cfg) as region, admin_channel(region) as ch:
        stub = pbg.SecretsManagerStub(ch)
        await create(stub, "app/a")
        shutil.rmtree(audit_dir)
        stream = open_stream(stub, region.admin_token_path.read_text().strip())
        err = await asyncio.wait_for(stream.error(), 10)  # not a heartbeat stream without end
        assert (err.code, err.aws_code) == (grpc.StatusCode.UNAVAILABLE, "InternalServiceError")
        m = await scrape(region.metrics_port)
        assert m.value("smgrpc_calls_total", **WATCH, code="UNAVAILABLE",
                       aws_code="InternalServiceError") == 1  # fmt: skip
