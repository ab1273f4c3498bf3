"""`smgrpc secretsmanager ...`: every operation against a real `smgrpc serve` process."""

from __future__ import annotations

import base64
import json
import re
import string
from pathlib import Path

from tests.cli.sm import Cli, server_env, subprocess_run
from tests.harness import Servers, free_port

ACCOUNT = "123456789012"
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?[+-]\d\d:\d\d")
PEM = (
    "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUXn0example0certificate0body0line0one\n"
    "c2Vjb25kIGxpbmUgb2YgdGhlIGNlcnRpZmljYXRl\n-----END CERTIFICATE-----\n"
)
BUILTIN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:smgrpc-builtin-password"
POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*",
        }
    ],
}


async def test_values_tags_versions_and_policies(servers: Servers, tmp_path: Path) -> None:
    srv = await servers.start()
    sm = Cli(server_env(srv))
    pem = tmp_path / "cert.pem"
    pem.write_text(PEM)
    made = sm(
        "create-secret",
        "--name",
        "prod/tls",
        "--secret-string",
        f"file://{pem}",
        "--description",
        "the cert",
        "--tags",
        "Key=env,Value=prod",
        "Key=team,Value=a=b",
    ).json()
    assert set(made) == {"ARN", "Name", "VersionId"}
    assert made["Name"] == "prod/tls"
    assert re.fullmatch(
        rf"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:prod/tls-\w{{6}}", made["ARN"]
    )
    v1 = made["VersionId"]

    got = sm("get-secret-value", "--secret-id", "prod/tls").json()
    assert got["SecretString"] == PEM and got["VersionStages"] == ["AWSCURRENT"]
    assert got["VersionId"] == v1 and ISO.fullmatch(got["CreatedDate"])
    text = sm(
        "get-secret-value",
        "--secret-id",
        made["ARN"],
        "--query",
        "SecretString",
        "--output",
        "text",
    )
    assert text.text() == PEM + "\n"  # aws-cli prints the value and a newline

    desc = sm("describe-secret", "--secret-id", "prod/tls").json()
    assert desc["Description"] == "the cert"
    assert desc["Tags"] == [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "a=b"}]
    assert desc["VersionIdsToStages"] == {v1: ["AWSCURRENT"]}
    assert ISO.fullmatch(desc["LastChangedDate"])

    put = sm("put-secret-value", "--secret-id", "prod/tls", "--secret-string", "v2").json()
    v2 = put["VersionId"]
    assert put["VersionStages"] == ["AWSCURRENT"] and v2 != v1
    versions = sm("list-secret-version-ids", "--secret-id", "prod/tls").json()
    assert (versions["ARN"], versions["Name"]) == (made["ARN"], "prod/tls")
    stages = {v["VersionId"]: v["VersionStages"] for v in versions["Versions"]}
    assert stages == {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]}

    moved = sm(
        "update-secret-version-stage",
        "--secret-id",
        "prod/tls",
        "--version-stage",
        "BLUE",
        "--move-to-version-id",
        v1,
    ).json()
    assert moved == {"ARN": made["ARN"], "Name": "prod/tls"}
    staged = sm("get-secret-value", "--secret-id", "prod/tls", "--version-stage", "BLUE").json()
    assert staged["SecretString"] == PEM

    upd = sm("update-secret", "--secret-id", "prod/tls", "--description", "renewed").json()
    assert upd["ARN"] == made["ARN"] and "VersionId" not in upd
    assert (
        sm("tag-resource", "--secret-id", "prod/tls", "--tags", '[{"Key": "k", "Value": "v"}]').out
        == ""
    )
    untag = sm("untag-resource", "--secret-id", "prod/tls", "--tag-keys", "team", "env")
    assert (untag.rc, untag.out, untag.err) == (0, "", "")
    after = sm(
        "describe-secret", "--secret-id", "prod/tls", "--query", "[Description, Tags]"
    ).json()
    assert after == ["renewed", [{"Key": "k", "Value": "v"}]]

    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(POLICY))
    valid = sm("validate-resource-policy", "--resource-policy", f"file://{policy}").json()
    assert valid == {"PolicyValidationPassed": True}
    attached = sm(
        "put-resource-policy",
        "--secret-id",
        "prod/tls",
        "--resource-policy",
        f"file://{policy}",
        "--block-public-policy",
    ).json()
    assert attached == {"ARN": made["ARN"], "Name": "prod/tls"}
    held = sm("get-resource-policy", "--secret-id", "prod/tls").json()
    assert json.loads(held["ResourcePolicy"]) == POLICY  # a string, as aws-cli shows it
    assert sm("delete-resource-policy", "--secret-id", "prod/tls").json()["Name"] == "prod/tls"
    assert "ResourcePolicy" not in sm("get-resource-policy", "--secret-id", "prod/tls").json()


async def test_binary_batch_password_rotation_replication_deletion(
    servers: Servers, tmp_path: Path
) -> None:
    srv = await servers.start()
    sm = Cli(server_env(srv))
    blob = bytes(range(256))
    (tmp_path / "blob.bin").write_bytes(blob)
    sm(
        "create-secret", "--name", "bin", "--secret-binary", f"fileb://{tmp_path / 'blob.bin'}"
    ).json()
    got = sm("get-secret-value", "--secret-id", "bin").json()
    assert base64.b64decode(got["SecretBinary"]) == blob and "SecretString" not in got
    b64 = sm(
        "get-secret-value", "--secret-id", "bin", "--query", "SecretBinary", "--output", "text"
    )
    assert base64.b64decode(b64.text()) == blob
    # Inline blobs are base64, as aws-cli v2 reads them.
    sm(
        "put-secret-value",
        "--secret-id",
        "bin",
        "--secret-binary",
        base64.b64encode(b"raw").decode(),
    ).json()
    assert (
        base64.b64decode(sm("get-secret-value", "--secret-id", "bin").json()["SecretBinary"])
        == b"raw"
    )

    sm("create-secret", "--name", "db", "--secret-string", '{"username":"u","password":"p"}').json()
    batch = sm("batch-get-secret-value", "--secret-id-list", "db", "bin", "ghost").json()
    assert sorted(v["Name"] for v in batch["SecretValues"]) == ["bin", "db"]
    assert batch["Errors"] == [
        {
            "SecretId": "ghost",
            "ErrorCode": "ResourceNotFoundException",
            "Message": "Secrets Manager can't find the specified secret.",
        }
    ]

    pw = sm(
        "get-random-password",
        "--password-length",
        "24",
        "--exclude-punctuation",
        "--no-include-space",
        "--output",
        "text",
    ).text()
    assert pw.endswith("\n") and len(pw.strip()) == 24
    assert not set(pw.strip()) & set(string.punctuation + " ")

    rot = sm(
        "rotate-secret",
        "--secret-id",
        "db",
        "--rotation-lambda-arn",
        BUILTIN,
        "--rotation-rules",
        "AutomaticallyAfterDays=30",
        "--no-rotate-immediately",
    ).json()
    assert rot["Name"] == "db"
    desc = sm("describe-secret", "--secret-id", "db").json()
    assert desc["RotationEnabled"] is True and desc["RotationLambdaARN"] == BUILTIN
    assert desc["RotationRules"] == {"AutomaticallyAfterDays": 30}
    assert sm("cancel-rotate-secret", "--secret-id", "db").json()["Name"] == "db"
    assert sm("describe-secret", "--secret-id", "db", "--query", "RotationEnabled").json() is False

    # One Region without peers: the replication calls answer with the service's errors.
    rep = sm(
        "replicate-secret-to-regions",
        "--secret-id",
        "db",
        "--add-replica-regions",
        "Region=us-west-2",
    )
    assert rep.rc == 254 and rep.out == ""
    assert rep.err.strip() == (
        "An error occurred (InvalidParameterException) when calling the ReplicateSecretToRegions "
        "operation: Invalid replica region: us-west-2 is not a peer Region of us-east-1."
    )
    removed = sm(
        "remove-regions-from-replication",
        "--secret-id",
        "db",
        "--remove-replica-regions",
        "us-west-2",
    )
    assert removed.json()["ARN"] == desc["ARN"]
    stop = sm("stop-replication-to-replica", "--secret-id", "db")
    assert (
        stop.rc == 254
        and "(InvalidParameterException) when calling the StopReplicationToReplica" in stop.err
    )

    deleted = sm("delete-secret", "--secret-id", "db", "--recovery-window-in-days", "7").json()
    assert deleted["Name"] == "db" and ISO.fullmatch(deleted["DeletionDate"])
    hidden = sm("list-secrets", "--query", "SecretList[].Name").json()
    assert hidden == ["bin"]
    planned = sm(
        "list-secrets", "--include-planned-deletion", "--query", "SecretList[].Name"
    ).json()
    assert sorted(planned) == ["bin", "db"]
    assert sm("restore-secret", "--secret-id", "db").json() == {"ARN": desc["ARN"], "Name": "db"}
    sm("delete-secret", "--secret-id", "db", "--force-delete-without-recovery").json()
    gone = sm("describe-secret", "--secret-id", "db")
    assert gone.rc == 254 and "(ResourceNotFoundException)" in gone.err


async def test_filters_paging_and_formats(servers: Servers) -> None:
    srv = await servers.start()
    sm = Cli(server_env(srv))
    for name in ("prod/a", "prod/b", "prod/c", "dev/a", "dev/b"):
        sm(
            "create-secret",
            "--name",
            name,
            "--secret-string",
            "x",
            "--tags",
            f"Key=env,Value={name[:3]}",
        ).json()
    names = sm(
        "list-secrets", "--filters", "Key=name,Values=prod", "--query", "SecretList[].Name"
    ).json()
    assert sorted(names) == ["prod/a", "prod/b", "prod/c"]
    tagged = sm(
        "list-secrets",
        "--filters",
        "Key=tag-key,Values=env",
        "Key=tag-value,Values=dev",
        "--query",
        "SecretList[].Name",
        "--output",
        "text",
    )
    assert sorted(tagged.text().split()) == ["dev/a", "dev/b"]
    json_filter = sm("list-secrets", "--filters", '[{"Key": "name", "Values": ["dev/"]}]')
    assert len(json_filter.json()["SecretList"]) == 2

    every = sm(
        "list-secrets", "--page-size", "2", "--sort-order", "asc", "--query", "SecretList[].Name"
    ).json()
    assert len(every) == 5
    first = sm("list-secrets", "--max-items", "3", "--page-size", "2").json()
    assert len(first["SecretList"]) == 3 and "NextToken" in first
    rest = sm("list-secrets", "--starting-token", first["NextToken"], "--page-size", "2").json()
    assert "NextToken" not in rest
    seen = [s["Name"] for s in first["SecretList"] + rest["SecretList"]]
    assert sorted(seen) == sorted(every)  # nothing lost or repeated across the cut page
    one_call = sm("list-secrets", "--no-paginate", "--max-results", "2").json()
    assert len(one_call["SecretList"]) == 2 and "NextToken" in one_call  # the service's token

    text = sm("list-secret-version-ids", "--secret-id", "dev/a", "--output", "text").text()
    lines = text.splitlines()
    assert lines[0].startswith("arn:aws:secretsmanager:") and lines[0].endswith("\tdev/a")
    assert lines[1].startswith("VERSIONS\t") and "VERSIONSTAGES\tAWSCURRENT" in lines
    table = sm("get-secret-value", "--secret-id", "dev/a", "--output", "table").text().splitlines()
    assert table[0] == "-" * len(table[0]) and table[1].strip("| ") == "GetSecretValue"
    assert any(re.fullmatch(r"\|  SecretString\s*\|  x\s*\|", line) for line in table)
    assert table[-2].strip("|") == "  AWSCURRENT".ljust(len(table[-2]) - 4)


async def test_errors_exit_codes_and_no_credential_in_output(
    servers: Servers, tmp_path: Path
) -> None:
    srv = await servers.start()
    env = server_env(srv)
    token = (srv.data_dir / "admin.token").read_text().strip()
    missing = subprocess_run("secretsmanager", "get-secret-value", "--secret-id", "ghost", env=env)
    assert (missing.rc, missing.out) == (254, "")
    assert missing.err == (
        "\nAn error occurred (ResourceNotFoundException) when calling the GetSecretValue "
        "operation: Secrets Manager can't find the specified secret.\n"
    )
    usage = subprocess_run("secretsmanager", "get-secret-value", env=env)
    assert usage.rc == 252 and "the following arguments are required: --secret-id" in usage.err
    unknown = subprocess_run("secretsmanager", "get-secret", "--secret-id", "x", env=env)
    assert unknown.rc == 252 and "invalid choice: 'get-secret'" in unknown.err
    sm = Cli(env)
    bad_tags = sm("tag-resource", "--secret-id", "x", "--tags", "env=prod")
    assert bad_tags.rc == 252
    assert 'Unknown parameter in Tags[0]: "env", must be one of: Key, Value' in bad_tags.err
    bad_int = sm("delete-secret", "--secret-id", "x", "--recovery-window-in-days", "seven")
    assert bad_int.rc == 252 and "--recovery-window-in-days" in bad_int.err
    bad_query = sm("list-secrets", "--query", "SecretList[")
    assert bad_query.rc == 252 and "Bad value for --query" in bad_query.err
    bad_blob = sm("create-secret", "--name", "b", "--secret-binary", "not base64!")
    assert bad_blob.rc == 252 and "--secret-binary" in bad_blob.err
    no_file = sm("create-secret", "--name", "f", "--secret-string", f"file://{tmp_path / 'absent'}")
    assert no_file.rc == 252 and "absent" in no_file.err
    service_side = sm("delete-secret", "--secret-id", "x", "--recovery-window-in-days", "3")
    assert service_side.rc == 254 and "(InvalidParameterException)" in service_side.err

    port = free_port()
    down = subprocess_run(
        "secretsmanager", "list-secrets", "--endpoint-url", f"http://127.0.0.1:{port}", env=env
    )
    assert down.rc == 255 and down.out == ""
    assert down.err == f'\nCould not connect to the endpoint URL: "http://127.0.0.1:{port}"\n'
    wrong = tmp_path / "wrong.token"
    wrong.write_text("AKIAAAAAAAAAAAAAAAAA:" + "w" * 40)
    denied = sm("list-secrets", "--token-file", str(wrong))
    assert denied.rc == 254 and "when calling the ListSecrets operation" in denied.err
    by_env = Cli({"SMGRPC_ENDPOINT": srv.addr, "SMGRPC_TOKEN": token}, cwd=tmp_path)
    assert by_env("list-secrets").json() == {"SecretList": []}
    notoken = Cli({"SMGRPC_ENDPOINT": srv.addr}, cwd=tmp_path)("list-secrets")
    assert notoken.rc == 255 and "smgrpc-data/us-east-1/admin.token" in notoken.err
    runs = (missing, usage, unknown, bad_tags, bad_int, bad_query, bad_blob, no_file, down, denied)
    for run in (*runs, notoken, service_side):
        assert "Traceback" not in run.err + run.out
        assert token not in run.err + run.out and token.split(":")[1] not in run.err + run.out
        assert "w" * 40 not in run.err + run.out


async def test_version_and_entry_points() -> None:
    from smgrpc import __version__

    for argv in (["--version"],):
        run = subprocess_run(*argv)
        assert (run.rc, run.out) == (0, f"smgrpc {__version__}\n")
