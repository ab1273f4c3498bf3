"""Leak canary for access keys over a real `smgrpc serve` process (issue 7: "a SecretAccessKey
never in logs, errors or the raw database").

The server runs at --log-level DEBUG with the access log on. Access keys are made through the
IAM service and the `smgrpc iam` CLI, used for allowed and denied calls, deactivated and
deleted; credentials holding a canary secret are sent in every malformed shape. Afterwards no
SecretAccessKey and no canary may be found in the server's output (process log and access
log), in anything the client was told about a failed call, in the raw bytes of any file of the
data dir (the bootstrap admin.token, 0600, is the one place a secret belongs), nor in the CLI's
output except create-access-key's own response.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import os
import stat
import subprocess
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from smgrpc._pb.iam.v1 import iam_pb2 as ipb
from smgrpc._pb.iam.v1 import iam_pb2_grpc as ipbg
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from tests.authn import channel as authed_channel
from tests.authn import policy
from tests.harness import ROOT, SMGRPC, ServerProcess, Servers
from tests.security.test_canary import Seen

ACCOUNT = "123456789012"
# A well-formed SecretAccessKey (40 of [A-Za-z0-9+/]) that no key has: the canary.
CANARY = "CanaryAccessKeySecretDoNotLeak0123456789"
UNKNOWN_ID = "AKIACANARYCANARY2345"
UNAUTH = grpc.StatusCode.UNAUTHENTICATED
DENIED = grpc.StatusCode.PERMISSION_DENIED
APP_POLICY = policy(
    {
        "Effect": "Allow",
        "Action": ["secretsmanager:CreateSecret", "secretsmanager:GetSecretValue"],
        "Resource": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:app/*",
    },
    {
        "Effect": "Allow",
        "Action": ["iam:GetUser", "iam:ListAccessKeys"],
        "Resource": f"arn:aws:iam::{ACCOUNT}:user/app",
    },
)


def forms(secret: str) -> list[bytes]:
    """The secret and the encodings a leak would most likely take (halves: a truncated echo)."""
    raw = secret.encode()
    out = [raw, raw[:16], raw[-16:], base64.b64encode(raw), raw.hex().encode()]
    out.append(secret.encode("utf-16-le"))
    try:
        out.append(base64.b64decode(raw, validate=True))  # the 30 bytes the text encodes
    except binascii.Error:
        pass
    return out


def assert_clean(where: str, data: bytes, secrets: dict[str, str]) -> None:
    for name, secret in secrets.items():
        for form in forms(secret):
            assert form not in data, f"{name} found in {where}"


def malformed(key_id: str) -> list[tuple[tuple[str, str | bytes], ...]]:
    """Call metadata holding the canary in every shape the Bearer parser must refuse."""
    good = f"Bearer {key_id}:{CANARY}"
    shapes = [
        good,  # well formed: wrong secret for a real key
        f"bearer {key_id}:{CANARY}",  # scheme case-insensitive: still the wrong secret
        f"Bearer {UNKNOWN_ID}:{CANARY}",
        f"Bearer {CANARY}",
        f"Bearer {CANARY}:{key_id}",
        f"Basic {key_id}:{CANARY}",
        f"Bearer  {key_id}:{CANARY}",
        f" {good}",
        f"{good} ",
        f"{good}=",
        good[:-1],
        f"Bearer {key_id}{CANARY}",
        f"Bearer {key_id}:{CANARY}:{CANARY}",
        f"{key_id}:{CANARY}",
        f"Bearer {key_id}:{CANARY[::-1]}",
        f"Bearer {key_id.lower()}:{CANARY}",
        f"Bearer {base64.b64encode(f'{key_id}:{CANARY}'.encode()).decode()}",
        good * 40,  # over the length bound
        "",
    ]
    out: list[tuple[tuple[str, str | bytes], ...]] = [(("authorization", s),) for s in shapes]
    out.append((("authorization", good), ("authorization", good)))  # two entries
    out.append((("authorization-bin", CANARY.encode()),))  # not the authorization key
    out.append((("x-authorization", good),))
    return out


async def cli(*argv: str, token_file: Path, server: ServerProcess) -> tuple[int, bytes, bytes]:
    """`smgrpc iam ARGV` against server with the credential in token_file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMGRPC_")}
    args = [*SMGRPC, "iam", *argv, "--endpoint", server.addr, "--token-file", str(token_file)]

    def run() -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(args, capture_output=True, cwd=ROOT, env=env, timeout=60, check=False)

    done = await asyncio.to_thread(run)
    assert b"Traceback" not in done.stderr + done.stdout, done.stderr
    return done.returncode, done.stdout, done.stderr


class Client:
    """The two stubs over one channel with a given credential (None: no metadata)."""

    def __init__(self, addr: str, token: str | None) -> None:
        self.channel = authed_channel(addr, token) if token else grpc.aio.insecure_channel(addr)
        self.sm = pbg.SecretsManagerStub(self.channel)
        self.iam = ipbg.IAMStub(self.channel)  # type: ignore[no-untyped-call]


async def test_secret_access_keys_and_canary_never_leak(servers: Servers, tmp_path: Path) -> None:
    server = await servers.start(None, "--log-level", "DEBUG")
    token = server.admin_token()
    assert token is not None
    admin_secret = token.split(":", 1)[1]
    seen = Seen()
    admin = Client(server.addr, token)
    bare = Client(server.addr, None)
    clients = [admin, bare]
    try:
        # ---- keys made through the IAM service, used for allowed and denied calls ----
        await admin.iam.CreateUser(ipb.CreateUserRequest(user_name="app"))
        await admin.iam.CreateUser(ipb.CreateUserRequest(user_name="cli"))
        await admin.iam.PutUserPolicy(
            ipb.PutUserPolicyRequest(user_name="app", policy_name="p", policy_document=APP_POLICY)
        )
        made = []
        for _ in range(2):
            got = await admin.iam.CreateAccessKey(ipb.CreateAccessKeyRequest(user_name="app"))
            made.append(got.access_key)
        active, spare = made
        assert len(active.secret_access_key) == 40 and active.status == "Active"
        await admin.sm.CreateSecret(pb.CreateSecretRequest(name="other/x", secret_string="v"))

        app = Client(server.addr, f"{active.access_key_id}:{active.secret_access_key}")
        clients.append(app)
        await app.sm.CreateSecret(pb.CreateSecretRequest(name="app/db", secret_string="v"))
        got_value = await app.sm.GetSecretValue(pb.GetSecretValueRequest(secret_id="app/db"))
        assert got_value.secret_string == "v"
        me = await app.iam.GetUser(ipb.GetUserRequest())
        assert me.user.user_name == "app"
        listed = await app.iam.ListAccessKeys(ipb.ListAccessKeysRequest())
        assert {k.access_key_id for k in listed.access_key_metadata} == {
            active.access_key_id,
            spare.access_key_id,
        }
        await seen.expect(
            app.sm.GetSecretValue(pb.GetSecretValueRequest(secret_id="other/x")),
            DENIED,
            "AccessDeniedException",
        )
        await seen.expect(app.iam.ListUsers(ipb.ListUsersRequest()), DENIED, "AccessDenied")
        await seen.expect(
            app.iam.CreateAccessKey(ipb.CreateAccessKeyRequest()), DENIED, "AccessDenied"
        )
        # ---- IAM errors around keys ----
        await seen.expect(
            admin.iam.CreateAccessKey(ipb.CreateAccessKeyRequest(user_name="app")),
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            "LimitExceeded",
        )
        await seen.expect(
            admin.iam.UpdateAccessKey(
                ipb.UpdateAccessKeyRequest(
                    user_name="app", access_key_id=UNKNOWN_ID, status="Inactive"
                )
            ),
            grpc.StatusCode.NOT_FOUND,
            "NoSuchEntity",
        )
        # The canary pasted into the AccessKeyId member: never echoed back.
        for wrong_member in (CANARY, f"AKIA{CANARY}", f"{CANARY}/+", CANARY * 4):
            message = await seen.expect(
                admin.iam.UpdateAccessKey(
                    ipb.UpdateAccessKeyRequest(
                        user_name="app", access_key_id=wrong_member, status="Inactive"
                    )
                ),
                grpc.StatusCode.NOT_FOUND
                if wrong_member.isalnum() and len(wrong_member) <= 128
                else grpc.StatusCode.INVALID_ARGUMENT,
                "NoSuchEntity",
                "ValidationError",
            )
            assert "(not shown" in message or "Value at 'accessKeyId'" in message, message
        await seen.expect(
            admin.iam.DeleteUser(ipb.DeleteUserRequest(user_name="app")),
            grpc.StatusCode.FAILED_PRECONDITION,
            "DeleteConflict",
        )
        await seen.expect(
            admin.sm.GetSecretValue(pb.GetSecretValueRequest(secret_id="app/missing")),
            grpc.StatusCode.NOT_FOUND,
            "ResourceNotFoundException",
        )
        # ---- an inactive key, then a deleted one: refused with their real secrets ----
        await admin.iam.UpdateAccessKey(
            ipb.UpdateAccessKeyRequest(
                user_name="app", access_key_id=spare.access_key_id, status="Inactive"
            )
        )
        inactive = Client(server.addr, f"{spare.access_key_id}:{spare.secret_access_key}")
        clients.append(inactive)
        await seen.expect(
            inactive.sm.GetSecretValue(pb.GetSecretValueRequest(secret_id="app/db")),
            UNAUTH,
            "UnrecognizedClientException",
        )
        await admin.iam.DeleteAccessKey(
            ipb.DeleteAccessKeyRequest(user_name="app", access_key_id=spare.access_key_id)
        )
        await seen.expect(
            inactive.iam.GetUser(ipb.GetUserRequest()), UNAUTH, "InvalidClientTokenId"
        )
        # ---- no credential, and the canary in every malformed shape, at both services ----
        await seen.expect(
            bare.sm.ListSecrets(pb.ListSecretsRequest()), UNAUTH, "UnrecognizedClientException"
        )
        health = health_pb2_grpc.HealthStub(bare.channel)
        for key_id in (active.access_key_id, spare.access_key_id):
            for md in malformed(key_id):
                await seen.expect(
                    bare.sm.GetSecretValue(
                        pb.GetSecretValueRequest(secret_id="app/db"), metadata=md
                    ),
                    UNAUTH,
                    "UnrecognizedClientException",
                )
                await seen.expect(
                    bare.iam.GetUser(ipb.GetUserRequest(), metadata=md),
                    UNAUTH,
                    "InvalidClientTokenId",
                )
            # health is open whatever the metadata says
            up = await health.Check(health_pb2.HealthCheckRequest(), metadata=md)
            assert up.status == health_pb2.HealthCheckResponse.SERVING
        live = {
            str(p.relative_to(server.data_dir)): p.read_bytes()
            for p in server.data_dir.rglob("*")
            if p.is_file()
        }
        assert "secrets.db-wal" in live  # the running server's WAL is read too

        # ---- the CLI: only create-access-key prints a secret ----
        admin_file = server.data_dir / "admin.token"
        rc, out, err = await cli(
            "create-access-key", "--user-name", "cli", token_file=admin_file, server=server
        )
        assert rc == 0, err
        cli_key = json.loads(out)["AccessKey"]
        cli_secret = cli_key["SecretAccessKey"]
        assert cli_key["Status"] == "Active" and len(cli_secret) == 40
        assert cli_secret.encode() in out and cli_secret.encode() not in err
        cli_file = tmp_path / "cli.token"
        cli_file.write_text(f"{cli_key['AccessKeyId']}:{cli_secret}\n")
        outputs: dict[str, bytes] = {}
        shapes = {
            "wrong secret": f"{cli_key['AccessKeyId']}:{CANARY}\n",
            "no key id": f"{CANARY}\n",
            "whitespace": f"{cli_key['AccessKeyId']}: {CANARY}\n",
            "non-ASCII": f"{cli_key['AccessKeyId']}:{CANARY}\u00e9\n",
            "too long": f"{cli_key['AccessKeyId']}:{CANARY * 3}\n",
        }
        for name, text in shapes.items():
            path = tmp_path / "bad.token"
            path.write_text(text)
            rc, out, err = await cli("get-user", token_file=path, server=server)
            assert rc != 0 and out == b"", (name, err)
            outputs[f"get-user with a {name} token"] = out + err
        rc, out, err = await cli(
            "list-access-keys", "--user-name", "cli", token_file=admin_file, server=server
        )
        assert rc == 0 and cli_key["AccessKeyId"].encode() in out, err
        outputs["list-access-keys"] = out + err
        rc, out, err = await cli(
            "create-access-key", "--user-name", "nobody", token_file=admin_file, server=server
        )
        assert rc != 0 and b"NoSuchEntity" in err, err
        outputs["create-access-key for a missing user"] = out + err
        rc, out, err = await cli(
            "update-access-key",
            "--user-name",
            "cli",
            "--access-key-id",
            cli_key["AccessKeyId"],
            "--status",
            "Inactive",
            token_file=admin_file,
            server=server,
        )
        assert rc == 0, err
        outputs["update-access-key"] = out + err
        rc, out, err = await cli("get-user", token_file=cli_file, server=server)
        assert rc != 0 and b"InvalidClientTokenId" in err, err
        outputs["get-user with an inactive key"] = out + err
    finally:
        for client in clients:
            await client.channel.close()
    assert await server.terminate() == 0

    secrets = {
        "the canary": CANARY,
        "app's active SecretAccessKey": active.secret_access_key,
        "app's deactivated, deleted SecretAccessKey": spare.secret_access_key,
        "the SecretAccessKey made by the CLI": cli_secret,
        "the admin's SecretAccessKey": admin_secret,
    }
    for blob in seen.blobs:
        assert_clean("an error the client saw", blob, secrets)
    for where, data in outputs.items():
        assert_clean(f"the output of smgrpc iam {where}", data, secrets)

    log = server.output()
    assert b"DEBUG" in log, "the server did not log at DEBUG"
    access = [line for line in log.splitlines() if b"smgrpc.access" in line]
    assert any(b"principal=arn:aws:iam::123456789012:user/app" in a for a in access), access
    assert any(b"UnrecognizedClientException" in a for a in access), access
    assert_clean("the server's log", log, secrets)

    token_path = server.data_dir / "admin.token"
    assert stat.S_IMODE(token_path.stat().st_mode) == 0o600
    assert token_path.read_text() == token + "\n"
    for name, data in live.items():
        if name != "admin.token":
            assert_clean(f"{name} (while serving)", data, secrets)
    files = [p for p in server.data_dir.rglob("*") if p.is_file()]
    assert {"secrets.db", "admin.token", "master.key"} <= {p.name for p in files}
    for p in files:
        if p != token_path:
            assert_clean(f"{p.name} (after stop)", p.read_bytes(), secrets)
