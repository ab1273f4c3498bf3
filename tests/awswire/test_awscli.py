"""The real AWS CLI (`aws`, pip awscli v1) against a `smgrpc serve --aws-listen` process.

Each invocation costs about a second (the CLI loads its models), so this is a handful of
meaningful ones: `--endpoint-url` with `file://` inputs, `--cli-input-json`, `--query` with
`--output text`, automatic pagination, an error's exit code and stderr. The README's block
with nothing but the profile's variables: test_awscli_readme.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.awswire.conftest import ACCOUNT, REGION, AwsRegion

AWS = Path(sys.executable).parent / "aws"


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(AWS), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def clean_env(home: Path) -> dict[str, str]:
    """No AWS_* or SMGRPC_* from the outside, a HOME with no ~/.aws."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SMGRPC_"))}
    env["HOME"] = str(home)
    env["AWS_CONFIG_FILE"] = str(home / "no-config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(home / "no-credentials")
    return env


@pytest.fixture(scope="module")
def cli(aws: AwsRegion, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    home = tmp_path_factory.mktemp("cli")
    env = clean_env(home)
    env.update(
        AWS_ACCESS_KEY_ID=aws.admin.key_id,
        AWS_SECRET_ACCESS_KEY=aws.admin.secret,
        AWS_DEFAULT_REGION=REGION,
    )
    return home, env


def test_file_inputs_query_and_text_output(
    aws: AwsRegion, cli: tuple[Path, dict[str, str]]
) -> None:
    home, env = cli
    ep = ["--endpoint-url", aws.endpoint]
    value = {"username": "app", "password": "p@ss word\nwith a newline"}
    (home / "value.json").write_text(json.dumps(value))
    made = run(
        [
            "secretsmanager",
            "create-secret",
            *ep,
            "--name",
            "cli/db",
            "--secret-string",
            "file://value.json",
            "--tags",
            "Key=team,Value=payments",
        ],
        home,
        env,
    )
    assert made.returncode == 0, made.stderr
    out = json.loads(made.stdout)
    assert re.fullmatch(
        rf"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:cli/db-\w{{6}}", out["ARN"]
    )
    assert out["Name"] == "cli/db" and re.fullmatch(r"[-0-9a-f]{36}", out["VersionId"])

    got = run(
        [
            "secretsmanager",
            "get-secret-value",
            *ep,
            "--secret-id",
            "cli/db",
            "--query",
            "SecretString",
            "--output",
            "text",
        ],
        home,
        env,
    )
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout) == value

    # --cli-input-json: a whole request from a file (binary value base64 in the JSON).
    token = "0123456789abcdef0123456789abcdef"
    (home / "put.json").write_text(
        json.dumps(
            {
                "SecretId": "cli/db",
                "SecretString": "second",
                "ClientRequestToken": token,
                "VersionStages": ["AWSCURRENT"],
            }
        )
    )
    put = run(
        ["secretsmanager", "put-secret-value", *ep, "--cli-input-json", "file://put.json"],
        home,
        env,
    )
    assert put.returncode == 0, put.stderr
    assert json.loads(put.stdout)["VersionId"] == token
    assert json.loads(put.stdout)["VersionStages"] == ["AWSCURRENT"]

    described = run(
        [
            "secretsmanager",
            "describe-secret",
            *ep,
            "--secret-id",
            "cli/db",
            "--query",
            '[Name, Tags[0].Value, VersionIdsToStages."' + token + '"[0]]',
            "--output",
            "text",
        ],
        home,
        env,
    )
    assert described.returncode == 0, described.stderr
    assert described.stdout == "cli/db\tpayments\tAWSCURRENT\n"


def test_pagination_and_an_error(aws: AwsRegion, cli: tuple[Path, dict[str, str]]) -> None:
    home, env = cli
    sm = aws.client()
    names = [f"cli/page/{i}" for i in range(5)]
    for n in names:
        sm.create_secret(Name=n, SecretString="v")
    ep = ["--endpoint-url", aws.endpoint]
    # The CLI follows NextToken itself (--page-size 2: three calls) and merges the pages.
    listed = run(
        [
            "secretsmanager",
            "list-secrets",
            *ep,
            "--page-size",
            "2",
            "--filters",
            "Key=name,Values=cli/page/",
            "--query",
            "SecretList[].Name",
            "--output",
            "text",
        ],
        home,
        env,
    )
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == names

    missing = run(["secretsmanager", "get-secret-value", *ep, "--secret-id", "cli/nope"], home, env)
    # aws-cli v1 exits 255 on a service error (v2, and `smgrpc secretsmanager`, say 254)
    assert missing.returncode == 255 and missing.stdout == ""
    assert missing.stderr == (
        "\nAn error occurred (ResourceNotFoundException) when calling the GetSecretValue "
        "operation: Secrets Manager can't find the specified secret.\n"
    )
    env_bad = dict(env, AWS_SECRET_ACCESS_KEY="x" * 40)
    bad = run(["secretsmanager", "list-secrets", *ep], home, env_bad)
    assert bad.returncode == 255
    assert "(InvalidSignatureException) when calling the ListSecrets operation" in bad.stderr
    assert aws.admin.secret not in bad.stderr + bad.stdout
