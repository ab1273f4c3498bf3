"""Client settings (argument > SMGRPC_* > default), TLS and mTLS with generated certificates,
and credentials that never show in a repr, an error or a log line."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from smgrpc.client import ClientError, SecretsManagerClient, errors, settings
from smgrpc.client.settings import DEFAULT_ENDPOINT
from tests.authn import policy
from tests.client.conftest import Served, serve
from tests.conftest import CANARY
from tests.security.pki import US, Pki, make_pki


def test_arguments_win_over_the_environment_which_wins_over_defaults(tmp_path: Path) -> None:
    token_file = tmp_path / "t.token"
    token_file.write_text("AKIAFROMFILE:file-secret\n")
    env = {
        "SMGRPC_ENDPOINT": "127.0.0.1:6000",
        "SMGRPC_TOKEN_FILE": str(token_file),
        "SMGRPC_CA_FILE": str(tmp_path / "ca.pem"),
        "SMGRPC_CERT_FILE": str(tmp_path / "c.pem"),
        "SMGRPC_KEY_FILE": str(tmp_path / "c.key"),
    }
    s = settings(env=env)
    assert s.endpoint == "127.0.0.1:6000" and s.token is None
    assert s.token_file == token_file and s.credential() == "AKIAFROMFILE:file-secret"
    assert (s.ca_file, s.cert_file, s.key_file) == (
        tmp_path / "ca.pem",
        tmp_path / "c.pem",
        tmp_path / "c.key",
    )
    assert s.tls
    s = settings(endpoint="localhost:7000", token="AKIAARG:arg-secret", env=env)
    assert s.endpoint == "localhost:7000" and s.credential() == "AKIAARG:arg-secret"
    assert s.token_file is None  # an explicit token wins over every token file
    s = settings(env={"SMGRPC_TOKEN": "AKIAENV:env-secret", "SMGRPC_TOKEN_FILE": str(token_file)})
    assert s.credential() == "AKIAENV:env-secret" and s.endpoint == DEFAULT_ENDPOINT
    assert not s.tls


def test_default_token_file_is_used_when_present(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert settings(env={}).token_file is None
    path = tmp_path / "smgrpc-data" / "us-east-1" / "admin.token"
    path.parent.mkdir(parents=True)
    path.write_text("AKIADEFAULT:default-secret\n")
    assert settings(env={}).credential() == "AKIADEFAULT:default-secret"


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        ({"endpoint": "nohostport"}, "HOST:PORT"),
        ({"endpoint": "10.1.2.3:50051"}, "refusing plaintext to 10.1.2.3:50051"),
        ({"cert_file": "c.pem"}, "needs its key"),
        ({"cert_file": "c.pem", "key_file": "c.key"}, "needs TLS"),
    ],
)
def test_settings_that_cannot_work_are_refused(kw: dict[str, str], words: str) -> None:
    with pytest.raises(ClientError, match=words):
        settings(env={}, **kw)


def test_plaintext_to_another_host_needs_insecure() -> None:
    assert settings(endpoint="10.1.2.3:50051", env={}, insecure=True).endpoint == "10.1.2.3:50051"
    assert settings(endpoint="[::1]:50051", env={}).endpoint == "[::1]:50051"


def test_unreadable_token_file_is_a_client_error(tmp_path: Path) -> None:
    s = settings(token_file=tmp_path / "missing", env={})
    with pytest.raises(ClientError, match="cannot read token file"):
        SecretsManagerClient(s)


def test_env_settings_reach_the_server(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMGRPC_ENDPOINT", served.endpoint)
    monkeypatch.setenv("SMGRPC_TOKEN", served.token)
    with SecretsManagerClient() as c:
        c.create_secret(Name="from-env", SecretString="e")
        assert c.get_secret_value(SecretId="from-env").secret_string == "e"


def test_wrong_credential_is_unrecognized_client(served: Served) -> None:
    with SecretsManagerClient(served.settings(token="AKIANOPE:nope")) as c:
        with pytest.raises(errors.UnrecognizedClientException) as info:
            c.list_secrets()
    assert info.value.status == grpc.StatusCode.UNAUTHENTICATED and info.value.request_id


def test_credentials_never_in_repr_str_errors_or_logs(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = f"AKIACANARY:{CANARY}"
    s = served.settings(token=secret)
    with SecretsManagerClient(s) as c:
        with pytest.raises(errors.ServiceError) as info:
            c.get_secret_value(SecretId="x")
        texts = [repr(s), str(s), repr(c), str(info.value), repr(info.value)]
        texts.append(str(info.value.response))
    texts += [r.getMessage() for r in caplog.records]
    assert all(CANARY not in t for t in texts), [t for t in texts if CANARY in t]


# ---- TLS -----------------------------------------------------------------------------------


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path / "pki")


@pytest.fixture
def tls_served(tmp_path: Path, pki: Pki) -> Iterator[Served]:
    files = pki.region(US)
    yield from serve(
        tmp_path,
        tls_cert=files["tls_cert"],
        tls_key=files["tls_key"],
        client_ca=files["client_ca"],
        mtls_listen="127.0.0.1:0",
    )


def test_tls_with_a_ca_file(tls_served: Served, pki: Pki) -> None:
    ca = pki.root / "client-ca.pem"
    s = settings(
        endpoint=f"localhost:{tls_served.region.port}", token=tls_served.token, ca_file=ca, env={}
    )
    with SecretsManagerClient(s) as c:
        c.create_secret(Name="tls", SecretString="over tls")
        assert c.get_secret_value(SecretId="tls").secret_string == "over tls"
    # Plaintext to the TLS port, or a CA that did not sign the server: cannot connect.
    plain = settings(endpoint=f"localhost:{tls_served.region.port}", token=tls_served.token, env={})
    other = settings(
        endpoint=f"localhost:{tls_served.region.port}",
        token=tls_served.token,
        ca_file=pki.root / "other-ca.pem",
        env={},
    )
    for bad in (plain, other):
        with (
            SecretsManagerClient(bad, timeout=3) as c,
            pytest.raises(errors.EndpointConnectionError),
        ):
            c.list_secrets()


def test_mtls_with_a_client_certificate(tls_served: Served, pki: Pki) -> None:
    tls_served.loop.run(tls_served.region.iam.create_user("alice"))
    doc = policy({"Effect": "Allow", "Action": "secretsmanager:ListSecrets", "Resource": "*"})
    tls_served.loop.run(tls_served.region.iam.put_user_policy("alice", "p", doc))
    s = settings(
        endpoint=f"localhost:{tls_served.region.mtls_port}",
        ca_file=pki.root / "client-ca.pem",
        cert_file=pki.root / "clients" / "user_alice.pem",
        key_file=pki.root / "clients" / "user_alice.key",
        env={},
    )
    with SecretsManagerClient(s) as c:
        assert list(c.list_secrets().secret_list) == []
        with pytest.raises(errors.AccessDeniedException) as info:
            c.create_secret(Name="x", SecretString="v")
    assert "user/alice is not authorized" in info.value.message
