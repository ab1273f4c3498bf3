"""`smgrpc iam ...` as a subprocess against a real `smgrpc serve` process."""

from __future__ import annotations

import asyncio
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.harness import ROOT, SMGRPC, ServerProcess, Servers, free_port

ACCOUNT = "123456789012"
POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}],
}
TRUST = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
    '"Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}'
)
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00")


@dataclass
class Run:
    rc: int
    out: str
    err: str

    def json(self) -> Any:
        assert self.rc == 0, self.err
        return json.loads(self.out)


async def smgrpc_iam(
    *argv: str,
    cwd: Path = ROOT,
    env: dict[str, str] | None = None,
    server: ServerProcess | None = None,
) -> Run:
    """Run `smgrpc iam ARGV...` (with --endpoint/--token-file of `server` if given)."""
    args = list(argv)
    if server is not None:
        args += ["--endpoint", server.addr, "--token-file", str(server.data_dir / "admin.token")]
    base = {k: v for k, v in os.environ.items() if not k.startswith("SMGRPC_")}
    proc = await asyncio.create_subprocess_exec(
        *SMGRPC,
        "iam",
        *args,
        cwd=cwd,
        env={**base, **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return Run(proc.returncode, out.decode(), err.decode())


def no_traceback(run: Run) -> None:
    assert "Traceback" not in run.err and "Traceback" not in run.out


async def test_user_policy_and_key_walkthrough(servers: Servers, tmp_path: Path) -> None:
    srv = await servers.start()
    made = (
        await smgrpc_iam(
            "create-user",
            "--user-name",
            "bob",
            "--path",
            "/team/",
            "--tags",
            "Key=env,Value=prod",
            "Key=owner,Value=a=b",
            server=srv,
        )
    ).json()
    user = made["User"]
    assert set(made) == {"User"}
    assert set(user) == {"Path", "UserName", "UserId", "Arn", "CreateDate", "Tags"}
    assert user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/team/bob"
    assert user["Tags"] == [{"Key": "env", "Value": "prod"}, {"Key": "owner", "Value": "a=b"}]
    assert ISO.fullmatch(user["CreateDate"])
    assert (await smgrpc_iam("get-user", "--user-name", "bob", server=srv)).json() == made

    doc = tmp_path / "p.json"
    doc.write_text(json.dumps(POLICY))
    put = await smgrpc_iam(
        "put-user-policy",
        "--user-name",
        "bob",
        "--policy-name",
        "read",
        "--policy-document",
        f"file://{doc}",
        server=srv,
    )
    assert (put.rc, put.out) == (0, "")  # aws-cli prints nothing for these
    got = (
        await smgrpc_iam(
            "get-user-policy", "--user-name", "bob", "--policy-name", "read", server=srv
        )
    ).json()
    assert got == {"UserName": "bob", "PolicyName": "read", "PolicyDocument": POLICY}
    names = (await smgrpc_iam("list-user-policies", "--user-name", "bob", server=srv)).json()
    assert names == {"PolicyNames": ["read"]}

    key = (await smgrpc_iam("create-access-key", "--user-name", "bob", server=srv)).json()
    ak = key["AccessKey"]
    assert set(ak) == {"UserName", "AccessKeyId", "Status", "SecretAccessKey", "CreateDate"}
    assert ak["Status"] == "Active" and len(ak["SecretAccessKey"]) == 40
    listed = (await smgrpc_iam("list-access-keys", "--user-name", "bob", server=srv)).json()
    assert listed == {
        "AccessKeyMetadata": [
            {k: ak[k] for k in ("UserName", "AccessKeyId", "Status", "CreateDate")}
        ]
    }

    # bob's own credential: GetUser without --user-name is bob himself.
    token = tmp_path / "bob.token"
    token.write_text(f"{ak['AccessKeyId']}:{ak['SecretAccessKey']}\n")
    own = await smgrpc_iam("get-user", "--endpoint", srv.addr, "--token-file", str(token))
    assert own.json()["User"]["UserName"] == "bob"
    denied = await smgrpc_iam("list-users", "--endpoint", srv.addr, "--token-file", str(token))
    assert denied.rc == 254
    assert denied.err.strip().startswith(
        "An error occurred (AccessDenied) when calling the ListUsers operation: "
        f"User: arn:aws:iam::{ACCOUNT}:user/team/bob is not authorized to perform: iam:ListUsers"
    )
    assert ak["SecretAccessKey"] not in denied.err + srv.output().decode(errors="replace")

    upd = await smgrpc_iam(
        "update-access-key",
        "--user-name",
        "bob",
        "--access-key-id",
        ak["AccessKeyId"],
        "--status",
        "Inactive",
        server=srv,
    )
    assert (upd.rc, upd.out) == (0, "")
    gone = await smgrpc_iam("get-user", "--endpoint", srv.addr, "--token-file", str(token))
    assert gone.rc == 254 and "(InvalidClientTokenId)" in gone.err
    for argv in (
        ("delete-access-key", "--user-name", "bob", "--access-key-id", ak["AccessKeyId"]),
        ("delete-user-policy", "--user-name", "bob", "--policy-name", "read"),
        ("delete-user", "--user-name", "bob"),
    ):
        run = await smgrpc_iam(*argv, server=srv)
        assert (run.rc, run.out, run.err) == (0, "", "")


async def test_roles_and_paging(servers: Servers) -> None:
    srv = await servers.start()
    role = (
        await smgrpc_iam(
            "create-role",
            "--role-name",
            "app",
            "--assume-role-policy-document",
            TRUST,
            "--description",
            "the app",
            "--max-session-duration",
            "7200",
            "--tags",
            '[{"Key": "env", "Value": "dev"}]',
            server=srv,
        )
    ).json()["Role"]
    assert role["AssumeRolePolicyDocument"] == json.loads(TRUST)
    assert (role["Description"], role["MaxSessionDuration"]) == ("the app", 7200)
    assert role["Tags"] == [{"Key": "env", "Value": "dev"}]
    tag = await smgrpc_iam("tag-role", "--role-name", "app", "--tags", "Key=t,Value=1", server=srv)
    assert tag.rc == 0
    got = (await smgrpc_iam("get-role", "--role-name", "app", server=srv)).json()["Role"]
    assert {t["Key"] for t in got["Tags"]} == {"env", "t"}
    put = await smgrpc_iam(
        "put-role-policy",
        "--role-name",
        "app",
        "--policy-name",
        "p",
        "--policy-document",
        json.dumps(POLICY),
        server=srv,
    )
    assert put.rc == 0, put.err
    pol = await smgrpc_iam(
        "get-role-policy", "--role-name", "app", "--policy-name", "p", server=srv
    )
    assert pol.json()["PolicyDocument"] == POLICY
    assert (await smgrpc_iam("list-role-policies", "--role-name", "app", server=srv)).json() == {
        "PolicyNames": ["p"]
    }
    roles = (await smgrpc_iam("list-roles", server=srv)).json()["Roles"]
    assert [r["RoleName"] for r in roles] == ["app"] and "Tags" not in roles[0]
    conflict = await smgrpc_iam("delete-role", "--role-name", "app", server=srv)
    assert conflict.rc == 254 and "(DeleteConflict)" in conflict.err
    assert (
        await smgrpc_iam(
            "delete-role-policy", "--role-name", "app", "--policy-name", "p", server=srv
        )
    ).rc == 0
    assert (await smgrpc_iam("delete-role", "--role-name", "app", server=srv)).rc == 0

    for name in ("u1", "u2", "u3"):
        assert (await smgrpc_iam("create-user", "--user-name", name, server=srv)).rc == 0
    every = (await smgrpc_iam("list-users", "--page-size", "1", server=srv)).json()
    assert [u["UserName"] for u in every["Users"]] == ["admin", "u1", "u2", "u3"]
    assert "NextToken" not in every
    first = (await smgrpc_iam("list-users", "--max-items", "3", server=srv)).json()
    assert [u["UserName"] for u in first["Users"]] == ["admin", "u1", "u2"]
    rest = await smgrpc_iam("list-users", "--starting-token", first["NextToken"], server=srv)
    assert [u["UserName"] for u in rest.json()["Users"]] == ["u3"]


async def test_errors_exit_codes_and_messages(servers: Servers, tmp_path: Path) -> None:
    srv = await servers.start()
    missing = await smgrpc_iam("get-user", "--user-name", "ghost", server=srv)
    assert missing.rc == 254 and missing.out == ""
    assert missing.err.strip() == (
        "An error occurred (NoSuchEntity) when calling the GetUser operation: "
        "The user with name ghost cannot be found."
    )
    assert (await smgrpc_iam("create-user", "--user-name", "bob", server=srv)).rc == 0
    bad = await smgrpc_iam(
        "put-user-policy",
        "--user-name",
        "bob",
        "--policy-name",
        "p",
        "--policy-document",
        "{not json",
        server=srv,
    )
    assert bad.rc == 254 and "(MalformedPolicyDocument)" in bad.err
    status = await smgrpc_iam(
        "update-access-key",
        "--access-key-id",
        "AKIAAAAAAAAAAAAAAAAA",
        "--status",
        "Paused",
        server=srv,
    )
    assert status.rc == 254 and "(ValidationError)" in status.err

    usage = await smgrpc_iam("create-user", server=srv)
    assert usage.rc == 252 and "--user-name" in usage.err
    tags = await smgrpc_iam("tag-user", "--user-name", "bob", "--tags", "env=prod", server=srv)
    assert tags.rc == 252 and "--tags" in tags.err
    nofile = await smgrpc_iam(
        "put-user-policy",
        "--user-name",
        "bob",
        "--policy-name",
        "p",
        "--policy-document",
        f"file://{tmp_path / 'absent.json'}",
        server=srv,
    )
    assert nofile.rc == 252 and "absent.json" in nofile.err  # aws-cli: a usage error
    notoken = await smgrpc_iam(
        "list-users", "--endpoint", srv.addr, "--token-file", str(tmp_path / "none")
    )
    assert notoken.rc == 255 and "cannot read the credential file" in notoken.err
    closed = await smgrpc_iam(
        "list-users",
        "--endpoint",
        f"127.0.0.1:{free_port()}",
        "--token-file",
        str(srv.data_dir / "admin.token"),
        "--timeout",
        "5",
    )
    assert closed.rc == 255 and "Could not connect to the endpoint" in closed.err
    wrong = tmp_path / "wrong.token"
    wrong.write_text("AKIAAAAAAAAAAAAAAAAA:" + "x" * 40)
    unknown = await smgrpc_iam("list-users", "--endpoint", srv.addr, "--token-file", str(wrong))
    assert unknown.rc == 254 and "(InvalidClientTokenId)" in unknown.err
    assert "x" * 40 not in unknown.err
    for run in (missing, bad, status, usage, tags, nofile, notoken, closed, unknown):
        no_traceback(run)


async def test_environment_and_default_credential(servers: Servers, tmp_path: Path) -> None:
    # The embedded default's layout: ./smgrpc-data/us-east-1/admin.token under the cwd.
    srv = await servers.start(tmp_path / "smgrpc-data" / "us-east-1")
    env = {"SMGRPC_ENDPOINT": srv.addr}
    run = await smgrpc_iam("get-user", cwd=tmp_path, env=env)
    assert run.json()["User"]["UserName"] == "admin"
    token = srv.data_dir / "admin.token"
    other = tmp_path / "elsewhere"
    other.mkdir()
    run = await smgrpc_iam("list-users", cwd=other, env={**env, "SMGRPC_TOKEN_FILE": str(token)})
    assert [u["UserName"] for u in run.json()["Users"]] == ["admin"]
    run = await smgrpc_iam("list-users", cwd=other, env=env)
    assert run.rc == 255 and "smgrpc-data/us-east-1/admin.token" in run.err


async def test_aws_cli_connection_names_and_token_file_beats_the_environment(
    servers: Servers,
) -> None:
    srv = await servers.start()
    admin = str(srv.data_dir / "admin.token")
    wrong = {"SMGRPC_TOKEN": "AKIAAAAAAAAAAAAAAAAA:" + "w" * 40}  # loses to --token-file
    run = await smgrpc_iam(
        "list-users", "--endpoint-url", f"http://{srv.addr}", "--token-file", admin, env=wrong
    )
    assert [u["UserName"] for u in run.json()["Users"]] == ["admin"]
    bundle = await smgrpc_iam(
        "list-users", "--endpoint", srv.addr, "--token-file", admin, "--ca-bundle", "/nonexistent"
    )
    assert bundle.rc == 255 and "/nonexistent" in bundle.err  # --ca-bundle is --ca-file
    denied = await smgrpc_iam("list-users", "--endpoint", srv.addr, env=wrong)
    assert denied.rc == 254  # without the flag, the environment's credential is used
