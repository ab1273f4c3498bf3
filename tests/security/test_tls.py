"""TLS on the public port, the mTLS port, the files' checks, and the non-loopback rule.

Real Regions on port 0 (and real `smgrpc serve` processes) with certificates made by
`smgrpc tls init`.
"""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import grpc
import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.app import Region
from smgrpc.cli.main import _parser
from smgrpc.config import ConfigError, from_args
from smgrpc.core.net import is_loopback
from smgrpc.crypto.cluster import ClusterKey
from smgrpc.replication.iam_operator import MoveRefused, iam_status
from tests.authn import metadata, policy
from tests.conftest import admin_token, make_config
from tests.harness import Servers, free_port
from tests.security.pki import ALICE, US, Pki, make_pki


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path / "pki")


@pytest.fixture
async def tls_region(tmp_path: Path, pki: Pki) -> AsyncIterator[Region]:
    files = pki.region(US)
    cfg = make_config(
        tmp_path,
        US,
        tls_cert=files["tls_cert"],
        tls_key=files["tls_key"],
        client_ca=files["client_ca"],
        mtls_listen="127.0.0.1:0",
    )
    r = Region(cfg)
    await r.start()
    yield r
    await r.stop(0)


async def _list(
    target: str, creds: grpc.ChannelCredentials | None, token: str | None = None
) -> int:
    """ListSecrets over the channel; `token`: a Bearer credential (else the certificate's)."""
    ch = (
        grpc.aio.secure_channel(target, creds)
        if creds is not None
        else grpc.aio.insecure_channel(target)
    )
    md = metadata(token) if token else None
    async with ch:
        stub = pbg.SecretsManagerStub(ch)
        out = await stub.ListSecrets(pb.ListSecretsRequest(), timeout=5, metadata=md)
    return len(out.secret_list)


async def _add_alice(region: Region, actions: list[str]) -> None:
    """IAM user alice (the client certificate's URI SAN) allowed `actions` on everything."""
    await region.iam.create_user("alice")
    doc = policy({"Effect": "Allow", "Action": actions, "Resource": "*"})
    await region.iam.put_user_policy("alice", "p", doc)


async def test_tls_client_works_and_plaintext_fails(tls_region: Region, pki: Pki) -> None:
    target = f"localhost:{tls_region.port}"
    md = metadata(admin_token(tls_region))
    async with grpc.aio.secure_channel(target, pki.channel_creds()) as ch:
        stub = pbg.SecretsManagerStub(ch)
        await stub.CreateSecret(pb.CreateSecretRequest(name="db", secret_string="v1"), metadata=md)
        got = await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="db"), metadata=md)
        assert got.secret_string == "v1"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _list(target, None, admin_token(tls_region))
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    # A client that does not trust the client CA refuses the server.
    other = grpc.ssl_channel_credentials((pki.root / "other-ca.pem").read_bytes())
    with pytest.raises(grpc.aio.AioRpcError):
        await _list(target, other)


async def test_mtls_port_accepts_client_ca_certs_and_refuses_others(
    tls_region: Region, pki: Pki
) -> None:
    target = f"localhost:{tls_region.mtls_port}"
    assert tls_region.mtls_port not in (0, tls_region.port)
    alice = pki.channel_creds("clients/user_alice")
    # The certificate names an IAM user that does not exist yet: not a credential.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _list(target, alice)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    await _add_alice(tls_region, ["secretsmanager:ListSecrets"])
    assert await _list(target, alice) == 0
    # The certificate's identity is the caller: alice may list, not create.
    async with grpc.aio.secure_channel(target, alice) as ch:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await pbg.SecretsManagerStub(ch).CreateSecret(
                pb.CreateSecretRequest(name="x", secret_string="v"), timeout=5
            )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert f"User: {ALICE} is not authorized" in (err.value.details() or "")
    for refused in (pki.channel_creds(), pki.channel_creds("clients/other_alice")):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await _list(target, refused)
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    # The public TLS port still serves Bearer clients without any certificate, and a
    # certificate-less call there needs the Bearer credential.
    plain_tls = f"localhost:{tls_region.port}"
    assert await _list(plain_tls, pki.channel_creds(), admin_token(tls_region)) == 0
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _list(plain_tls, pki.channel_creds())
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert tls_region.trust.client_ca is not None and tls_region.trust.peer_ca is None


@pytest.mark.parametrize("case", ["key_mode", "missing", "mismatch", "not_pem", "ca_not_ca"])
async def test_bad_tls_files_refuse_to_start_naming_the_file(
    tmp_path: Path, pki: Pki, case: str
) -> None:
    files = pki.region(US)
    cert, key, ca = files["tls_cert"], files["tls_key"], files["client_ca"]
    if case == "key_mode":
        key.chmod(0o640)
        bad, words = key, "mode 0640"
    elif case == "missing":
        bad, words = tmp_path / "nope.pem", "does not exist"
        cert = bad
    elif case == "mismatch":
        key = pki.root / "clients" / "user_alice.key"
        bad, words = key, "does not belong to"
    elif case == "not_pem":
        cert = tmp_path / "junk.pem"
        cert.write_text("not a certificate CANARY-CONTENT\n")
        bad, words = cert, "is not a PEM certificate"
    else:
        ca = files["tls_cert"]
        bad, words = ca, "is not a CA certificate"
    cfg = make_config(
        tmp_path, US, tls_cert=cert, tls_key=key, client_ca=ca, mtls_listen="127.0.0.1:0"
    )
    with pytest.raises(ConfigError) as err:
        await Region(cfg).start()
    assert str(bad) in str(err.value) and words in str(err.value)
    assert "CANARY" not in str(err.value) and "BEGIN" not in str(err.value)
    assert not cfg.data_dir.exists()  # checked before anything was created


async def test_the_client_ca_cannot_be_the_peer_ca(tmp_path: Path, pki: Pki) -> None:
    """One CA for both would let a client certificate push replication (review Low 9)."""
    files = pki.region(US)
    cfg = make_config(
        tmp_path,
        US,
        **{**files, "peer_ca": files["client_ca"]},
        mtls_listen="127.0.0.1:0",
    )
    with pytest.raises(ConfigError) as err:
        await Region(cfg).start()
    assert "are the same CA" in str(err.value)
    assert not cfg.data_dir.exists()


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1:1", True),
        ("127.9.8.7:1", True),
        ("[::1]:1", True),
        ("localhost:1", True),
        ("0.0.0.0:1", False),
        ("[::]:1", False),
        ("10.0.0.5:1", False),
        ("myhost:1", False),
        (":1", False),
    ],
)
def test_loopback_addresses(address: str, loopback: bool) -> None:
    assert is_loopback(address) is loopback


async def test_non_loopback_plaintext_refuses_unless_insecure(tmp_path: Path) -> None:
    cfg = replace(make_config(tmp_path, US), listen="0.0.0.0:0")
    with pytest.raises(ConfigError) as err:
        await Region(cfg).start()
    assert "refusing to serve plaintext on 0.0.0.0:0" in str(err.value)
    assert "--insecure" in str(err.value) and "--tls-cert" in str(err.value)
    assert not cfg.data_dir.exists()
    async with Region(replace(cfg, insecure=True)) as r:
        assert await _list(f"127.0.0.1:{r.port}", None, admin_token(r)) == 0


async def test_non_loopback_with_tls_starts(tmp_path: Path, pki: Pki) -> None:
    files = pki.region(US)
    cfg = replace(
        make_config(tmp_path, US, tls_cert=files["tls_cert"], tls_key=files["tls_key"]),
        listen="0.0.0.0:0",
    )
    async with Region(cfg) as r:
        assert await _list(f"localhost:{r.port}", pki.channel_creds(), admin_token(r)) == 0


async def test_serve_process_refuses_plaintext_on_0000_and_starts_with_insecure(
    servers: Servers,
) -> None:
    port = free_port()
    proc = servers.new(None, "--listen", f"0.0.0.0:{port}")
    proc.spawn(port)
    assert await proc.wait(20.0) == 2
    assert b"refusing to serve plaintext on 0.0.0.0" in proc.stderr()
    ok = servers.new(None, "--listen", f"0.0.0.0:{port}", "--insecure")
    ok.spawn(port)
    assert await ok.wait_ready()
    assert await _list(f"127.0.0.1:{port}", None, ok.admin_token()) == 0


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--tls-cert", "/c.pem"], "--tls-cert and --tls-key must be given together"),
        (["--peer-ca", "/p.pem"], "--peer-ca, --peer-cert and --peer-key must be given together"),
        (["--client-ca", "/c.pem"], "--client-ca needs --mtls-listen"),
        (["--mtls-listen", "127.0.0.1:1"], "--mtls-listen needs --tls-cert and --tls-key"),
        (
            ["--mtls-listen", "127.0.0.1:1", "--tls-cert", "/c", "--tls-key", "/k"],
            "--mtls-listen needs --client-ca or --peer-ca",
        ),
    ],
)
def test_tls_flags_that_need_each_other(argv: list[str], words: str) -> None:
    with pytest.raises(ConfigError) as err:
        from_args(_parser().parse_args(["serve", *argv]), env={})
    assert words in str(err.value)


def test_insecure_is_a_bare_flag_and_an_env_switch() -> None:
    assert from_args(_parser().parse_args(["serve", "--insecure"]), env={}).insecure is True
    cfg = from_args(_parser().parse_args(["serve"]), env={"SMGRPC_INSECURE": "1"})
    assert cfg.insecure is True
    assert from_args(_parser().parse_args(["serve"]), env={}).insecure is False


async def test_tls_init_command_makes_a_cluster_pki(servers: Servers, tmp_path: Path) -> None:
    out = tmp_path / "certs"
    argv = ["tls", "init", "--out", str(out), "--regions", "us-east-1,eu-west-1"]
    done = await asyncio.to_thread(
        servers.run_cli, *argv, "--client", ALICE, "--host", "db.internal"
    )
    assert done.returncode == 0, done.stderr
    for rel in (
        "client-ca",
        "peer-ca",
        "us-east-1/server",
        "us-east-1/peer",
        "eu-west-1/server",
        "eu-west-1/peer",
        "clients/user_alice",
    ):
        assert (out / f"{rel}.pem").is_file()
        assert stat.S_IMODE(os.stat(out / f"{rel}.key").st_mode) == 0o600
    before = (out / "client-ca.key").read_bytes()
    again = await asyncio.to_thread(servers.run_cli, *argv, "--regions", "us-east-1,ap-southeast-2")
    assert again.returncode == 0 and b"kept" in again.stdout
    assert (out / "client-ca.key").read_bytes() == before  # never overwritten
    assert (out / "ap-southeast-2" / "peer.pem").is_file()  # added under the same CAs
    assert b"PRIVATE" not in again.stdout + again.stderr
    bad = await asyncio.to_thread(servers.run_cli, *argv, "--client", "arn:aws:s3:::bucket")
    assert bad.returncode == 2 and b"IAM user or role ARN" in bad.stderr


async def test_iam_region_operator_calls_work_over_tls(tls_region: Region, pki: Pki) -> None:
    """`smgrpc iam-region status|move --ca-file`: the operator's signed call reaches a TLS
    port (this Region has no cluster secret, so it refuses the call after the handshake);
    without the CA the handshake itself fails."""
    key = ClusterKey(os.urandom(32))
    target = f"localhost:{tls_region.port}"
    ca = (pki.root / "client-ca.pem").read_bytes()
    with pytest.raises(MoveRefused) as err:
        await iam_status(target, US, key, wait=5.0, ca=ca)
    assert str(err.value).startswith("UNAUTHENTICATED")
    with pytest.raises(MoveRefused) as err:
        await iam_status(target, US, key, wait=5.0)
    assert str(err.value).startswith("UNAVAILABLE")
