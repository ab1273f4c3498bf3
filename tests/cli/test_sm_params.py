"""Parameter values as aws-cli takes them: an argument that is not UTF-8 and fileb:// for a text
parameter are usage errors (252) that never show the value; a file:// that cannot be read names
the parameter (252); writes get a generated ClientRequestToken (botocore's idempotency token)
when none is given, so they can be retried."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

from tests.cli.sm import Cli, server_env, subprocess_run
from tests.harness import Servers

NOT_UTF8 = os.fsdecode(b"zq\xffzq")  # what Python makes of the bytes in argv


def test_an_argument_that_is_not_utf8_is_a_usage_error() -> None:
    run = subprocess_run(
        "secretsmanager", "create-secret", "--name", "x", "--secret-string", NOT_UTF8
    )
    assert (run.rc, run.out) == (252, "")
    assert run.err == (
        "\nError parsing parameter '--secret-string': the value is not valid UTF-8 "
        "(binary data: fileb://PATH)\n"
    )
    sm = Cli({})
    assert sm("create-secret", "--name", "x", f"--secret-string={NOT_UTF8}").err == run.err
    watch = sm("watch", "--secret-ids", "a", NOT_UTF8)
    assert watch.rc == 252 and "'--secret-ids'" in watch.err
    iam = subprocess_run("iam", "create-user", "--user-name", NOT_UTF8)
    assert iam.rc == 252 and "'--user-name': the value is not valid UTF-8" in iam.err
    for r in (run, watch, iam):
        assert "Traceback" not in r.err and "zq" not in r.err


def test_fileb_for_a_text_parameter_and_unreadable_paramfiles(tmp_path: Path) -> None:
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"sec\xffret")
    sm = Cli({})
    run = sm("create-secret", "--name", "x", "--secret-string", f"fileb://{blob}")
    assert (run.rc, run.out) == (252, "")
    assert run.err == (
        "\nError parsing parameter '--secret-string': fileb:// gives bytes, and this "
        "parameter takes text: use file://\n"
    )
    absent = tmp_path / "absent.txt"
    run = sm("create-secret", "--name", "x", "--secret-string", f"file://{absent}")
    assert (run.rc, run.err) == (
        252,
        f"\nError parsing parameter '--secret-string': Unable to load paramfile "
        f"file://{absent}: [Errno 2] No such file or directory: '{absent}'\n",
    )
    run = sm("create-secret", "--name", "x", "--secret-string", f"file://{blob}")
    assert run.rc == 252 and run.err.startswith(
        f"\nError parsing parameter '--secret-string': Unable to load paramfile file://{blob}: "
        "'utf-8' codec can't decode byte 0xff"
    )
    iam = subprocess_run(
        "iam", "put-user-policy", "--user-name", "u", "--policy-name", "p",
        "--policy-document", f"file://{absent}", env={"SMGRPC_TOKEN": "AKIAEXAMPLE:x"},
    )  # fmt: skip
    assert iam.rc == 252 and "Error parsing parameter '--policy-document'" in iam.err


async def test_writes_get_a_generated_client_request_token(
    servers: Servers, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.log"
    srv = await servers.start(None, "--audit-log", str(audit))
    sm = Cli(server_env(srv))
    created = sm("create-secret", "--name", "app/db", "--secret-string", "v1").json()
    put = sm("put-secret-value", "--secret-id", "app/db", "--secret-string", "v2").json()
    updated = sm("update-secret", "--secret-id", "app/db", "--secret-string", "v3").json()
    sm("update-secret", "--secret-id", "app/db", "--description", "d").json()  # no value
    mine = str(uuid.uuid4())
    given = sm("put-secret-value", "--secret-id", "app/db", "--secret-string", "v4",
               "--client-request-token", mine).json()  # fmt: skip
    assert given["VersionId"] == mine
    assert await srv.terminate() == 0  # the audit log flushed and closed
    tokens = [
        (r["eventName"], (r["requestParameters"] or {}).get("ClientRequestToken"))
        for r in map(json.loads, audit.read_text().splitlines())
        if r.get("recordType") == "Event" and r["eventName"] != "ListSecrets"
    ]
    assert tokens == [
        ("CreateSecret", created["VersionId"]),
        ("PutSecretValue", put["VersionId"]),
        ("UpdateSecret", updated["VersionId"]),
        ("UpdateSecret", None),
        ("PutSecretValue", mine),
    ]
    for _op, token in tokens[:3]:
        assert token is not None and uuid.UUID(token).version == 4
