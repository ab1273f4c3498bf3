"""A rotation function over TLS both ways: it calls a TLS Region back trusting --ca-file, and
serves Invoke with its own certificate, requiring the caller's client certificate."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from smgrpc._pb.rotation.v1 import rotation_pb2_grpc as rpbg
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.app import Region
from smgrpc.rotators.function import FunctionServer, ServerTls, connect
from smgrpc.rotators.template import TemplateRotator
from tests.api.helpers import create, get
from tests.authn import interceptor
from tests.conftest import CANARY, FakeClock, admin_token, make_config
from tests.rotators.conftest import STEPS, begin_rotation, function_credential
from tests.security.pki import US, Pki, make_pki


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path / "pki")


@pytest.fixture
async def tls_region(tmp_path: Path, pki: Pki, clock: FakeClock) -> AsyncIterator[Region]:
    files = pki.region(US)
    r = Region(make_config(tmp_path, US, tls_cert=files["tls_cert"], tls_key=files["tls_key"]))
    await r.start()
    yield r
    await r.stop(0)


async def test_tls_to_the_region_and_mtls_to_the_function(
    tls_region: Region, clock: FakeClock, pki: Pki, tmp_path: Path
) -> None:
    addr = f"127.0.0.1:{tls_region.port}"
    admin = grpc.aio.secure_channel(
        addr, pki.channel_creds(), interceptors=[interceptor(admin_token(tls_region))]
    )
    stub = pbg.SecretsManagerStub(admin)  # type: ignore[no-untyped-call]
    arn = (await create(stub, "app/tls", CANARY)).arn
    ev = await begin_rotation(tls_region, clock, arn)

    creds = await function_credential(tls_region, tmp_path)
    api = connect(addr, creds, pki.root / "client-ca.pem")
    files = pki.region(US)  # the function reuses a server certificate of the same CA
    tls = ServerTls(files["tls_cert"].read_bytes(), files["tls_key"].read_bytes(), pki.client_ca)
    server = FunctionServer(TemplateRotator(api), api, "127.0.0.1:0", tls=tls, grace=0)
    port = await server.start()
    try:
        target = f"127.0.0.1:{port}"
        # Without a client certificate the handshake fails: no step runs.
        async with grpc.aio.secure_channel(target, pki.channel_creds()) as ch:
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await rpbg.RotationFunctionStub(ch).Invoke(ev, timeout=5)  # type: ignore[no-untyped-call]
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        async with grpc.aio.secure_channel(target, pki.channel_creds("clients/user_alice")) as ch:
            fn = rpbg.RotationFunctionStub(ch)  # type: ignore[no-untyped-call]
            for step in STEPS:
                ev.step = step
                await fn.Invoke(ev, timeout=10)
        got = await get(stub, arn)
        assert got.version_id == ev.client_request_token and got.secret_string != CANARY
    finally:
        await server.stop(0)
        await admin.close()


async def test_tls_without_a_client_ca_warns_that_anyone_can_invoke(
    tls_region: Region, pki: Pki, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    creds = await function_credential(tls_region, tmp_path)
    files = pki.region(US)
    cert, key = files["tls_cert"].read_bytes(), files["tls_key"].read_bytes()
    warned = "serves TLS without --tls-client-ca: any client that reaches the port can invoke it"
    for client_ca, expected in ((None, True), (pki.client_ca, False)):
        caplog.clear()
        api = connect(f"127.0.0.1:{tls_region.port}", creds, pki.root / "client-ca.pem")
        tls = ServerTls(cert, key, client_ca)
        server = FunctionServer(TemplateRotator(api), api, "127.0.0.1:0", tls=tls, grace=0)
        with caplog.at_level(logging.WARNING, logger="smgrpc.rotators"):
            await server.start()
        await server.stop(0)
        got = [r for r in caplog.records if r.levelno == logging.WARNING and warned in r.message]
        assert bool(got) is expected, caplog.records
