"""Region-to-Region links over TLS: the peer CA, and the Region named in the peer certificate.

Two real Regions (us-east-1 primary, eu-west-1 replica) with --peer-ca/--peer-cert/--peer-key,
each pushing to the other's --mtls-listen port. Before this change any holder of the shared
cluster key could push as any Region; now the caller's certificate must come from the peer CA
and name the batch's source Region.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from smgrpc._pb.replication.v1 import replication_pb2 as rpb
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.app import Region
from smgrpc.crypto import certs
from smgrpc.crypto.cluster import ClusterKey
from smgrpc.replication.messages import Batch
from smgrpc.replication.transport import (
    METHOD,
    PeerClient,
    PeerTls,
    PeerUnavailable,
    encode_batch,
)
from tests.authn import interceptor
from tests.cluster.conftest import eventually, write_cluster_secret
from tests.conftest import admin_token, make_config
from tests.harness import free_port
from tests.security.pki import AP, EU, US, Pki, make_pki


@dataclass
class Pair:
    pki: Pki
    key: ClusterKey
    regions: dict[str, Region]
    mtls: dict[str, int]

    def stub(self, name: str) -> tuple[grpc.aio.Channel, pbg.SecretsManagerStub]:
        """A TLS channel to the Region sending the cluster's admin credential (made by the
        IAM Region, us-east-1, and replicated to the other over the peer TLS link)."""
        ch = grpc.aio.secure_channel(
            f"localhost:{self.regions[name].port}",
            self.pki.channel_creds(),
            interceptors=[interceptor(admin_token(self.regions[US]))],
        )
        return ch, pbg.SecretsManagerStub(ch)


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[Pair]:
    pki = make_pki(tmp_path / "pki")
    secret = write_cluster_secret(tmp_path / "cluster.secret")
    mtls = {US: free_port(), EU: free_port()}
    regions: dict[str, Region] = {}
    try:
        for name, other in ((US, EU), (EU, US)):
            cfg = make_config(
                tmp_path,
                name,
                **pki.region(name),
                mtls_listen=f"127.0.0.1:{mtls[name]}",
                peers=((other, f"127.0.0.1:{mtls[other]}"),),
                cluster_secret_file=secret,
                replication_max_backoff=0.2,
                iam_region=US,
            )
            regions[name] = Region(cfg)
            await regions[name].start()
        yield Pair(pki, ClusterKey.from_file(secret), regions, mtls)
    finally:
        for r in regions.values():
            await r.stop(0)


async def test_secrets_replicate_over_peer_tls(pair: Pair) -> None:
    ch_us, us = pair.stub(US)
    ch_eu, eu = pair.stub(EU)
    async with ch_us, ch_eu:
        await us.CreateSecret(
            pb.CreateSecretRequest(
                name="db",
                secret_string="s3cret",
                add_replica_regions=[pb.ReplicaRegionType(region=EU)],
            )
        )

        async def replicated() -> bool:
            got = await eu.GetSecretValue(pb.GetSecretValueRequest(secret_id="db"))
            return got.secret_string == "s3cret"

        assert await eventually(replicated, within=20.0, what="replica over TLS")


async def _push_as(pair: Pair, source: str, cert_stem: Path, port: int) -> None:
    """Push a correctly HMAC-signed batch claiming `source`, presenting the given cert."""
    tls = PeerTls(
        pair.pki.peer_ca,
        cert_stem.with_suffix(".pem").read_bytes(),
        cert_stem.with_suffix(".key").read_bytes(),
    )
    client = PeerClient(source, EU, f"127.0.0.1:{port}", pair.key, timeout=5.0, tls=tls)
    try:
        await client.push(Batch(source, EU, 0, 0))
    finally:
        await client.close()


def _refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if "refused a replication push" in r.getMessage()
    ]


async def test_a_peer_certificate_naming_another_region_is_refused(
    pair: Pair, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="smgrpc.replication")
    # ap-southeast-2's genuine peer certificate, plus the cluster key, claiming us-east-1.
    with pytest.raises(PeerUnavailable, match="UNAUTHENTICATED"):
        await _push_as(pair, US, pair.pki.root / AP / "peer", pair.mtls[EU])
    assert any("peer certificate names Region ap-southeast-2" in m for m in _refusals(caplog))


async def test_a_client_ca_certificate_cannot_push_replication(
    pair: Pair, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="smgrpc.replication")
    # Issued by the client CA but shaped exactly like us-east-1's peer certificate.
    pair.pki.add("clients/fake_peer_us", certs.peer_cert(pair.pki.issuer("client-ca"), US, 2))
    with pytest.raises(PeerUnavailable, match="UNAUTHENTICATED"):
        await _push_as(pair, US, pair.pki.root / "clients" / "fake_peer_us", pair.mtls[EU])
    assert any("no peer certificate from the peer CA" in m for m in _refusals(caplog))


async def test_a_push_without_a_certificate_is_refused(
    pair: Pair, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="smgrpc.replication")
    # The public TLS port asks for no client certificate: a signed push there is refused.
    body = rpb.PushEnvelope(batch=encode_batch(Batch(US, EU, 0, 0))).SerializeToString()
    ts = time.time()
    inner = rpb.PushEnvelope.FromString(body).batch
    metadata = (
        ("smgrpc-peer-region", US),
        ("smgrpc-timestamp", repr(ts)),
        ("smgrpc-signature", pair.key.sign(METHOD, US, EU, ts, inner)),
    )
    creds = grpc.ssl_channel_credentials(pair.pki.client_ca)
    async with grpc.aio.secure_channel(f"localhost:{pair.regions[EU].port}", creds) as ch:
        call = ch.unary_unary(METHOD, request_serializer=None, response_deserializer=None)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call(body, metadata=metadata, timeout=5)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert any("no peer certificate from the peer CA" in m for m in _refusals(caplog))


async def test_the_shipper_checks_the_target_is_that_region(pair: Pair) -> None:
    # Dialing us-east-1's mTLS port while expecting eu-west-1: the server cannot present a
    # peer certificate naming eu-west-1, so the handshake fails before anything is sent.
    with pytest.raises(PeerUnavailable, match="UNAVAILABLE"):
        await _push_as(pair, US, pair.pki.root / US / "peer", pair.mtls[US])
