"""The aws-cli layer's pure parts: names, shorthand, request building, output formats, tokens.

The expected text and table output below was produced by aws-cli's own formatters for the same
data (awscli.formatter.TextFormatter / TableFormatter, 80 columns)."""

from __future__ import annotations

import argparse
import io

import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc.cli import output
from smgrpc.cli.awscli import Failure, kebab, to_json
from smgrpc.cli.secretsmanager import decode_token, encode_token, parse
from smgrpc.cli.shorthand import ShorthandError
from smgrpc.cli.shorthand import parse as shorthand
from smgrpc.cli.sm_commands import COMMANDS, build_request

RESPONSE = {
    "ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf",
    "Name": "prod/db",
    "VersionId": "EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE",
    "VersionStages": ["AWSCURRENT"],
    "CreatedDate": "2026-01-01T00:00:00.123000+00:00",
    "SecretString": "hunter2",
}
TABLE = """\
-----------------------------------------------------------------------------------------
|                                          Op                                           |
+--------------+------------------------------------------------------------------------+
|  ARN         |  arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf   |
|  CreatedDate |  2026-01-01T00:00:00.123000+00:00                                      |
|  Name        |  prod/db                                                               |
|  SecretString|  hunter2                                                               |
|  VersionId   |  EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE                                  |
+--------------+------------------------------------------------------------------------+
||                                    VersionStages                                    ||
|+-------------------------------------------------------------------------------------+|
||  AWSCURRENT                                                                         ||
|+-------------------------------------------------------------------------------------+|
"""
LIST = {
    "SecretList": [
        {"ARN": "a1", "Name": "n1", "Tags": [{"Key": "k", "Value": "v"}]},
        {"ARN": "a2", "Name": "n2", "LastChangedDate": "x"},
    ],
    "NextToken": "tok",
}
LIST_TEXT = "tok\nSECRETLIST\ta1\t\tn1\nTAGS\tk\tv\nSECRETLIST\ta2\tx\tn2\n"
LIST_TABLE = """\
--------------------------------------
|                 Op                 |
+-----------------------+------------+
|  NextToken            |  tok       |
+-----------------------+------------+
||            SecretList            ||
|+-----+-------------------+--------+|
|| ARN |  LastChangedDate  | Name   ||
|+-----+-------------------+--------+|
||  a1 |                   |  n1    ||
|+-----+-------------------+--------+|
|||              Tags              |||
||+-------------+------------------+||
|||     Key     |      Value       |||
||+-------------+------------------+||
|||  k          |  v               |||
||+-------------+------------------+||
||            SecretList            ||
|+-----+-------------------+--------+|
|| ARN |  LastChangedDate  | Name   ||
|+-----+-------------------+--------+|
||  a2 |  x                |  n2    ||
|+-----+-------------------+--------+|
"""


def render(fmt: str, data: object, query: str | None = None) -> str:
    out = io.StringIO()
    output.emit("Op", data, fmt, output.compile_query(query), out)
    return out.getvalue()


def test_names_are_aws_clis() -> None:
    assert len(COMMANDS) == 23 and "watch-secrets" not in COMMANDS
    assert kebab("RotationLambdaARN") == "rotation-lambda-arn"
    assert kebab("ListSecretVersionIds") == "list-secret-version-ids"
    assert kebab("SecretIdList") == "secret-id-list"
    assert {"batch-get-secret-value", "remove-regions-from-replication"} <= set(COMMANDS)


def test_shorthand() -> None:
    assert shorthand("Key=name,Values=prod,dev") == {"Key": "name", "Values": ["prod", "dev"]}
    assert shorthand("Key=owner,Value=a=b") == {"Key": "owner", "Value": "a=b"}
    assert shorthand("Key='a,b',Value=c\\,d") == {"Key": "a,b", "Value": "c,d"}
    assert shorthand("a=[1,{b=c}],d={e=f}") == {"a": ["1", {"b": "c"}], "d": {"e": "f"}}
    with pytest.raises(ShorthandError):
        shorthand("noequals")


def test_requests_from_the_command_line(tmp_path: object) -> None:
    args = parse(
        [
            "--output",
            "text",
            "list-secrets",
            "--filters",
            "Key=name,Values=prod",
            "Key=tag-key,Values=a,b",
            "--include-planned-deletion",
        ]
    )
    assert args.output == "text"
    req = build_request(COMMANDS["list-secrets"], args)
    assert req == pb.ListSecretsRequest(
        include_planned_deletion=True,
        filters=[
            pb.Filter(key="name", values=["prod"]),
            pb.Filter(key="tag-key", values=["a", "b"]),
        ],
    )
    args = parse(["delete-secret", "--secret-id", "x", "--no-force-delete-without-recovery"])
    req = build_request(COMMANDS["delete-secret"], args)
    assert req.HasField("force_delete_without_recovery") and not req.force_delete_without_recovery
    args = parse(
        ["rotate-secret", "--secret-id", "x", "--rotation-rules", '{"AutomaticallyAfterDays": 7}']
    )
    assert (
        build_request(COMMANDS["rotate-secret"], args).rotation_rules.automatically_after_days == 7
    )
    args = parse(["rotate-secret", "--secret-id", "x", "--rotation-rules", "Duration=2h,Nope=1"])
    with pytest.raises(Failure) as err:
        build_request(COMMANDS["rotate-secret"], args)
    assert (
        err.value.code == 252 and 'Unknown parameter in RotationRules: "Nope"' in err.value.message
    )


def test_response_shape() -> None:
    resp = pb.DescribeSecretResponse(
        name="n", version_ids_to_stages={"v1": pb.StageList(stages=["AWSCURRENT"])}
    )
    assert to_json(resp) == {"Name": "n", "VersionIdsToStages": {"v1": ["AWSCURRENT"]}}
    assert to_json(pb.GetSecretValueResponse(secret_binary=b"\x00\xff"))["SecretBinary"] == "AP8="
    assert to_json(pb.ValidateResourcePolicyResponse()) == {"PolicyValidationPassed": False}


def test_json_text_and_table_as_aws_cli() -> None:
    assert render("json", {}) == ""
    assert render("json", {"A": "é"}) == '{\n    "A": "é"\n}\n'
    assert render("json", RESPONSE, "Nothing") == "null\n"
    assert render("text", RESPONSE, "SecretString") == "hunter2\n"
    assert render("text", RESPONSE, "Nothing") == "None\n"
    assert render("text", RESPONSE).splitlines()[1] == "VERSIONSTAGES\tAWSCURRENT"
    assert render("text", LIST) == LIST_TEXT
    assert render("text", ["a", "b"]) == "a\tb\n"
    assert render("table", RESPONSE) == TABLE
    assert render("table", LIST).startswith(
        LIST_TABLE.split("||       SecretList       ||\n|+------")[0]
    )


def test_resume_tokens_are_botocores() -> None:
    token = encode_token(None, 2)
    assert token == "eyJOZXh0VG9rZW4iOiBudWxsLCAiYm90b190cnVuY2F0ZV9hbW91bnQiOiAyfQ=="
    assert decode_token(token) == (None, 2)
    assert decode_token(encode_token("abc")) == ("abc", 0)
    assert decode_token("raw-service-token") == ("raw-service-token", 0)


def test_bad_query_is_a_usage_error() -> None:
    with pytest.raises(Failure) as err:
        output.compile_query("SecretList[")
    assert err.value.code == 252


def test_global_options_anywhere() -> None:
    a = parse(
        ["get-secret-value", "--secret-id", "x", "--query", "SecretString", "--output", "table"]
    )
    b = parse(
        ["--query", "SecretString", "--output", "table", "get-secret-value", "--secret-id", "x"]
    )
    assert (
        (a.query, a.output, a.secret_id)
        == (b.query, b.output, b.secret_id)
        == ("SecretString", "table", "x")
    )
    assert isinstance(a, argparse.Namespace)
