"""Every one of the 23 operations through boto3 against a real `smgrpc serve --aws-listen`
process, with value assertions (AWS semantics: /work/shared/docs/api-behaviors.md).

One server for the module; each test works on its own secret names. The multi-Region three
(ReplicateSecretToRegions, RemoveRegionsFromReplication, StopReplicationToReplica) run against
two real Regions in test_boto3_replication.py.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.awswire.conftest import ACCOUNT, REGION, AwsRegion
from tests.awswire.raw import eventually

ARN_RE = rf"^arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{{name}}-[A-Za-z0-9]{{{{6}}}}$"
BUILTIN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:smgrpc-builtin-password"
NOT_FOUND = "Secrets Manager can't find the specified secret."
OTHER_ACCOUNT_ARN = f"arn:aws:secretsmanager:{REGION}:210987654321:secret:x-AbCdEf"
WORDS = ["zero", "one", "two", "three", "four", "five", "six"]
MARKED_DELETED = "You tried to perform the operation on a secret that's currently marked deleted."


def arn_re(name: str) -> str:
    return ARN_RE.format(name=re.escape(name))


def error(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    """(code, message) as botocore parsed them from the error body."""
    err = info.value.response["Error"]
    return err["Code"], err["Message"]


def token() -> str:
    return str(uuid.uuid4())


def stages(sm: Any, sid: str) -> dict[str, list[str]]:
    return dict(sm.describe_secret(SecretId=sid)["VersionIdsToStages"])


@pytest.fixture(scope="module")
def sm(aws: AwsRegion) -> Any:
    return aws.client()


def test_create_describe_get(sm: Any) -> None:
    before = time.time()
    tok = token()
    made = sm.create_secret(
        Name="ops/app/db",
        SecretString='{"user":"app","password":"p1"}',
        Description="the app's database",
        ClientRequestToken=tok,
        Tags=[{"Key": "team", "Value": "payments"}, {"Key": "env", "Value": "prod"}],
    )
    assert made["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert re.match(arn_re("ops/app/db"), made["ARN"]), made["ARN"]
    assert made["Name"] == "ops/app/db" and made["VersionId"] == tok
    assert made["ResponseMetadata"]["RequestId"]  # x-amzn-RequestId

    d = sm.describe_secret(SecretId="ops/app/db")
    assert d["ARN"] == made["ARN"] and d["Name"] == "ops/app/db"
    assert d["Description"] == "the app's database"
    assert d["Tags"] == [{"Key": "team", "Value": "payments"}, {"Key": "env", "Value": "prod"}]
    assert d["VersionIdsToStages"] == {tok: ["AWSCURRENT"]}
    assert isinstance(d["CreatedDate"], datetime)  # epoch seconds parsed by botocore
    assert before - 1 <= d["CreatedDate"].timestamp() <= time.time() + 1
    assert d["LastChangedDate"].timestamp() >= d["CreatedDate"].timestamp() - 1
    assert "DeletedDate" not in d and "RotationEnabled" not in d or not d["RotationEnabled"]

    got = sm.get_secret_value(SecretId="ops/app/db")
    assert json.loads(got["SecretString"]) == {"user": "app", "password": "p1"}
    assert got["VersionId"] == tok and got["VersionStages"] == ["AWSCURRENT"]
    assert got["ARN"] == made["ARN"] and got["Name"] == "ops/app/db"
    assert "SecretBinary" not in got
    # By full ARN, and by partial ARN (no suffix), as AWS resolves them.
    assert sm.get_secret_value(SecretId=made["ARN"])["VersionId"] == tok
    partial = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:ops/app/db"
    assert sm.describe_secret(SecretId=partial)["ARN"] == made["ARN"]


def test_put_update_stages_and_versions(sm: Any) -> None:
    v1 = sm.create_secret(Name="ops/versions", SecretString="one")["VersionId"]
    v2 = token()
    put = sm.put_secret_value(SecretId="ops/versions", SecretString="two", ClientRequestToken=v2)
    assert put["VersionId"] == v2 and put["VersionStages"] == ["AWSCURRENT"]
    assert put["Name"] == "ops/versions"
    assert stages(sm, "ops/versions") == {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]}
    assert (
        sm.get_secret_value(SecretId="ops/versions", VersionStage="AWSPREVIOUS")["SecretString"]
        == "one"
    )
    assert sm.get_secret_value(SecretId="ops/versions", VersionId=v1)["SecretString"] == "one"

    # A custom label on a new version, without moving AWSCURRENT.
    v3 = sm.put_secret_value(SecretId="ops/versions", SecretString="three", VersionStages=["blue"])[
        "VersionId"
    ]
    assert sm.get_secret_value(SecretId="ops/versions")["SecretString"] == "two"
    assert sm.get_secret_value(SecretId="ops/versions", VersionStage="blue")["VersionId"] == v3

    # UpdateSecret: description and a new current value.
    up = sm.update_secret(SecretId="ops/versions", Description="now described", SecretString="4")
    v4 = up["VersionId"]
    assert up["Name"] == "ops/versions" and v4 not in (v1, v2, v3)
    d = sm.describe_secret(SecretId="ops/versions")
    assert d["Description"] == "now described"
    assert d["VersionIdsToStages"][v4] == ["AWSCURRENT"]
    assert d["VersionIdsToStages"][v2] == ["AWSPREVIOUS"]
    assert d["VersionIdsToStages"][v3] == ["blue"]
    # A metadata-only UpdateSecret makes no version.
    up2 = sm.update_secret(SecretId="ops/versions", Description="again")
    assert "VersionId" not in up2 and up2["Name"] == "ops/versions"

    # UpdateSecretVersionStage: AWSCURRENT back to v1 (AWSPREVIOUS follows to v4).
    moved = sm.update_secret_version_stage(
        SecretId="ops/versions",
        VersionStage="AWSCURRENT",
        MoveToVersionId=v1,
        RemoveFromVersionId=v4,
    )
    assert moved["Name"] == "ops/versions" and moved["ARN"] == d["ARN"]
    assert sm.get_secret_value(SecretId="ops/versions")["SecretString"] == "one"
    now = stages(sm, "ops/versions")
    assert now[v1] == ["AWSCURRENT"] and now[v4] == ["AWSPREVIOUS"]
    with pytest.raises(ClientError) as info:  # the label is elsewhere: RemoveFromVersionId needed
        sm.update_secret_version_stage(
            SecretId="ops/versions", VersionStage="blue", MoveToVersionId=v1
        )
    assert error(info)[0] == "InvalidParameterException"

    # ListSecretVersionIds: newest first; deprecated (label-less) v2... only with IncludeDeprecated.
    listed = sm.list_secret_version_ids(SecretId="ops/versions")
    assert listed["Name"] == "ops/versions" and listed["ARN"] == d["ARN"]
    by_id = {v["VersionId"]: v for v in listed["Versions"]}
    assert set(by_id) == {v1, v3, v4}  # v2 lost its labels: deprecated
    assert by_id[v1]["VersionStages"] == ["AWSCURRENT"]
    assert isinstance(by_id[v1]["CreatedDate"], datetime)
    every = sm.list_secret_version_ids(SecretId="ops/versions", IncludeDeprecated=True)
    assert {v["VersionId"] for v in every["Versions"]} == {v1, v2, v3, v4}
    page = sm.list_secret_version_ids(SecretId="ops/versions", MaxResults=2, IncludeDeprecated=True)
    assert len(page["Versions"]) == 2 and page["NextToken"]
    rest = sm.list_secret_version_ids(
        SecretId="ops/versions", MaxResults=2, IncludeDeprecated=True, NextToken=page["NextToken"]
    )
    assert {v["VersionId"] for v in page["Versions"] + rest["Versions"]} == {v1, v2, v3, v4}
    assert "NextToken" not in rest


def test_idempotent_retry_with_client_request_token(sm: Any) -> None:
    tok = token()
    first = sm.create_secret(Name="ops/idem", SecretString="v", ClientRequestToken=tok)
    again = sm.create_secret(Name="ops/idem", SecretString="v", ClientRequestToken=tok)
    assert again["VersionId"] == first["VersionId"] == tok and again["ARN"] == first["ARN"]
    with pytest.raises(ClientError) as info:  # same name, another token: exists
        sm.create_secret(Name="ops/idem", SecretString="v")
    assert error(info) == (
        "ResourceExistsException",
        "The operation failed because the secret ops/idem already exists.",
    )
    t2 = token()
    p1 = sm.put_secret_value(SecretId="ops/idem", SecretString="w", ClientRequestToken=t2)
    p2 = sm.put_secret_value(SecretId="ops/idem", SecretString="w", ClientRequestToken=t2)
    assert p1["VersionId"] == p2["VersionId"] == t2
    assert p2["VersionStages"] == ["AWSCURRENT"]
    assert stages(sm, "ops/idem") == {tok: ["AWSPREVIOUS"], t2: ["AWSCURRENT"]}
    with pytest.raises(ClientError) as info:  # same token, other value
        sm.put_secret_value(SecretId="ops/idem", SecretString="other", ClientRequestToken=t2)
    code, message = error(info)
    assert code == "ResourceExistsException"
    assert message.startswith(f"You can't use ClientRequestToken {t2} because that value is")


def test_max_size_values_string_and_binary(sm: Any) -> None:
    big = "x" * 65536
    sm.create_secret(Name="ops/big-string", SecretString=big)
    assert sm.get_secret_value(SecretId="ops/big-string")["SecretString"] == big
    blob = bytes(range(256)) * 256  # 65,536 bytes, every byte value
    sm.create_secret(Name="ops/big-binary", SecretBinary=blob)
    got = sm.get_secret_value(SecretId="ops/big-binary")
    assert got["SecretBinary"] == blob and "SecretString" not in got
    with pytest.raises(ClientError) as info:  # botocore checks no max: the server does
        sm.put_secret_value(SecretId="ops/big-string", SecretString=big + "y")
    assert error(info) == (
        "ValidationException",
        "1 validation error detected: Value at 'secretString' failed to satisfy constraint: "
        "Member must have length less than or equal to 65536",
    )
    with pytest.raises(ClientError) as info:
        sm.put_secret_value(SecretId="ops/big-binary", SecretBinary=blob + b"\0")
    assert error(info)[0] == "ValidationException"
    assert "'secretBinary'" in error(info)[1]
    assert sm.get_secret_value(SecretId="ops/big-binary")["SecretBinary"] == blob  # unchanged


def test_not_found_and_other_errors_parsed_by_botocore(sm: Any) -> None:
    with pytest.raises(sm.exceptions.ResourceNotFoundException) as nf:  # modelled exception
        sm.get_secret_value(SecretId="ops/nope")
    assert nf.value.response["Error"] == {"Code": "ResourceNotFoundException", "Message": NOT_FOUND}
    assert nf.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert nf.value.operation_name == "GetSecretValue"
    text = str(nf.value)  # botocore 1.44 adds "(reached max retries: 0)" before the colon
    assert text.startswith(
        "An error occurred (ResourceNotFoundException) when calling the GetSecretValue operation"
    )
    assert text.endswith(f": {NOT_FOUND}")
    for call in (
        lambda: sm.describe_secret(SecretId="ops/nope"),
        lambda: sm.put_secret_value(SecretId="ops/nope", SecretString="v"),
        lambda: sm.delete_secret(SecretId="ops/nope"),
        lambda: sm.tag_resource(SecretId="ops/nope", Tags=[{"Key": "k", "Value": "v"}]),
    ):
        with pytest.raises(ClientError) as info:
            call()
        assert error(info) == ("ResourceNotFoundException", NOT_FOUND)
    sm.create_secret(Name="ops/errors", SecretString="v")
    with pytest.raises(ClientError) as info:
        sm.get_secret_value(SecretId="ops/errors", VersionStage="AWSPENDING")
    assert error(info) == (
        "ResourceNotFoundException",
        "Secrets Manager can't find the specified secret value for staging label: AWSPENDING",
    )
    with pytest.raises(ClientError) as info:  # both values
        sm.put_secret_value(SecretId="ops/errors", SecretString="a", SecretBinary=b"b")
    assert error(info)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as info:  # a name botocore lets through, the server refuses
        sm.create_secret(Name="bad name*", SecretString="v")
    assert error(info) == (
        "ValidationException",
        "Invalid name. Must be a valid name containing alphanumeric characters, or any of the "
        "following: -/_+=.@!",
    )
    with pytest.raises(ClientError) as info:
        sm.delete_secret(SecretId="ops/errors", RecoveryWindowInDays=3)
    code, message = error(info)
    assert code == "InvalidParameterException"
    assert "RecoveryWindowInDays value must be between 7 and 30 days (inclusive)." in message
    with pytest.raises(ClientError) as info:
        sm.list_secrets(NextToken="not-a-token")
    assert error(info)[0] == "InvalidNextTokenException"


def test_delete_restore_and_the_deleted_state(sm: Any) -> None:
    sm.create_secret(Name="ops/deleted", SecretString="v")
    before = time.time()
    gone = sm.delete_secret(SecretId="ops/deleted", RecoveryWindowInDays=7)
    assert gone["Name"] == "ops/deleted" and re.match(arn_re("ops/deleted"), gone["ARN"])
    assert abs(gone["DeletionDate"].timestamp() - (before + 7 * 86400)) < 60
    d = sm.describe_secret(SecretId="ops/deleted")
    assert abs(d["DeletedDate"].timestamp() - gone["DeletionDate"].timestamp()) < 2
    with pytest.raises(ClientError) as info:
        sm.get_secret_value(SecretId="ops/deleted")
    assert error(info)[0] == "InvalidRequestException" and MARKED_DELETED in error(info)[1]
    names = [
        s["Name"]
        for s in sm.list_secrets(Filters=[{"Key": "name", "Values": ["ops/del"]}])["SecretList"]
    ]
    assert names == []
    listed = sm.list_secrets(
        IncludePlannedDeletion=True, Filters=[{"Key": "name", "Values": ["ops/del"]}]
    )["SecretList"]
    assert [s["Name"] for s in listed] == ["ops/deleted"] and "DeletedDate" in listed[0]

    back = sm.restore_secret(SecretId="ops/deleted")
    assert back == {
        "ARN": gone["ARN"],
        "Name": "ops/deleted",
        **{"ResponseMetadata": back["ResponseMetadata"]},
    }
    assert "DeletedDate" not in sm.describe_secret(SecretId="ops/deleted")
    assert sm.get_secret_value(SecretId="ops/deleted")["SecretString"] == "v"

    forced = sm.delete_secret(SecretId="ops/deleted", ForceDeleteWithoutRecovery=True)
    assert forced["Name"] == "ops/deleted"
    with pytest.raises(ClientError) as info:
        sm.describe_secret(SecretId="ops/deleted")
    assert error(info) == ("ResourceNotFoundException", NOT_FOUND)
    again = sm.create_secret(Name="ops/deleted", SecretString="new")  # the name is free at once
    assert again["ARN"] != gone["ARN"]


def test_tags_and_untag_to_empty_list(sm: Any) -> None:
    sm.create_secret(Name="ops/tags", SecretString="v")
    assert "Tags" not in sm.describe_secret(SecretId="ops/tags")
    out = sm.tag_resource(
        SecretId="ops/tags", Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    )
    assert set(out) == {"ResponseMetadata"}  # no output members
    sm.tag_resource(SecretId="ops/tags", Tags=[{"Key": "a", "Value": "9"}])  # merge by key
    tags = {t["Key"]: t["Value"] for t in sm.describe_secret(SecretId="ops/tags")["Tags"]}
    assert tags == {"a": "9", "b": "2"}
    sm.untag_resource(SecretId="ops/tags", TagKeys=["a", "absent"])
    assert sm.describe_secret(SecretId="ops/tags")["Tags"] == [{"Key": "b", "Value": "2"}]
    out = sm.untag_resource(SecretId="ops/tags", TagKeys=["b"])
    assert set(out) == {"ResponseMetadata"}
    d = sm.describe_secret(SecretId="ops/tags")
    assert d["Tags"] == []  # present and empty, as AWS sends it after untagging all
    listed = sm.list_secrets(Filters=[{"Key": "name", "Values": ["ops/tags"]}])["SecretList"]
    assert listed[0]["Tags"] == []
    with pytest.raises(ClientError) as info:
        sm.tag_resource(SecretId="ops/tags", Tags=[{"Key": "aws:mine", "Value": "x"}])
    assert error(info)[0] == "InvalidParameterException"


def test_list_secrets_filters_sort_and_paginator(sm: Any) -> None:
    names = [f"ops/list/s{i:02d}" for i in range(7)]
    for i, n in enumerate(names):
        sm.create_secret(
            Name=n,
            SecretString="v",
            Description=f"listed number {WORDS[i]}",
            Tags=[{"Key": "parity", "Value": "even" if i % 2 == 0 else "odd"}],
        )
    flt = [{"Key": "name", "Values": ["ops/list/"]}]
    paginator = sm.get_paginator("list_secrets")
    pages = list(paginator.paginate(Filters=flt, PaginationConfig={"PageSize": 3}))
    assert [len(p["SecretList"]) for p in pages] == [3, 3, 1]
    assert [s["Name"] for p in pages for s in p["SecretList"]] == names  # created order
    assert all("NextToken" in p for p in pages[:-1]) and "NextToken" not in pages[-1]
    # MaxItems stops early and hands back a resume token; StartingToken resumes there.
    first = paginator.paginate(
        Filters=flt, PaginationConfig={"PageSize": 2, "MaxItems": 4}
    ).build_full_result()
    assert [s["Name"] for s in first["SecretList"]] == names[:4] and first["NextToken"]
    rest = paginator.paginate(
        Filters=flt, PaginationConfig={"PageSize": 2, "StartingToken": first["NextToken"]}
    ).build_full_result()
    assert [s["Name"] for s in rest["SecretList"]] == names[4:]
    # A JMESPath search over the pages (botocore's PageIterator.search).
    odd = list(
        paginator.paginate(Filters=flt + [{"Key": "tag-value", "Values": ["odd"]}]).search(
            "SecretList[].Name"
        )
    )
    assert odd == names[1::2]
    desc = sm.list_secrets(Filters=flt, SortOrder="desc", SortBy="name")["SecretList"]
    assert [s["Name"] for s in desc] == names[::-1]
    neg = sm.list_secrets(Filters=flt + [{"Key": "name", "Values": ["!ops/list/s0"]}])
    assert [s["Name"] for s in neg["SecretList"]] == []  # every name starts with ops/list/s0
    words = sm.list_secrets(Filters=[{"Key": "description", "Values": ["Number thr"]}])
    assert [s["Name"] for s in words["SecretList"]] == ["ops/list/s03"]
    entry = sm.list_secrets(Filters=[{"Key": "name", "Values": [names[0]]}])["SecretList"][0]
    assert entry["Description"] == "listed number zero"
    assert entry["Tags"] == [{"Key": "parity", "Value": "even"}]
    assert list(entry["SecretVersionsToStages"].values()) == [["AWSCURRENT"]]
    with pytest.raises(ClientError) as info:
        sm.list_secrets(Filters=[{"Key": "colour", "Values": ["x"]}])  # botocore checks no enum
    assert error(info)[0] == "ValidationException"


def test_batch_get_secret_value(sm: Any) -> None:
    sm.create_secret(Name="ops/batch/a", SecretString="A")
    sm.create_secret(Name="ops/batch/b", SecretBinary=b"\x00B")
    got = sm.batch_get_secret_value(SecretIdList=["ops/batch/a", "ops/batch/b", "ops/batch/no"])
    values = {v["Name"]: v for v in got["SecretValues"]}
    assert values["ops/batch/a"]["SecretString"] == "A"
    assert values["ops/batch/b"]["SecretBinary"] == b"\x00B"
    assert values["ops/batch/a"]["VersionStages"] == ["AWSCURRENT"]
    assert got["Errors"] == [
        {"SecretId": "ops/batch/no", "ErrorCode": "ResourceNotFoundException", "Message": NOT_FOUND}
    ]
    by_filter = sm.batch_get_secret_value(Filters=[{"Key": "name", "Values": ["ops/batch/"]}])
    assert sorted(v["Name"] for v in by_filter["SecretValues"]) == ["ops/batch/a", "ops/batch/b"]
    assert by_filter.get("Errors", []) == []


def test_get_random_password(sm: Any) -> None:
    default = sm.get_random_password()["RandomPassword"]
    assert len(default) == 32
    pw = sm.get_random_password(
        PasswordLength=50, ExcludeCharacters="abc", ExcludePunctuation=True, IncludeSpace=False
    )["RandomPassword"]
    assert len(pw) == 50 and not set(pw) & set("abc") and pw.isalnum()
    digits = sm.get_random_password(
        PasswordLength=12, ExcludeUppercase=True, ExcludeLowercase=True, ExcludePunctuation=True
    )["RandomPassword"]
    assert len(digits) == 12 and digits.isdigit()
    with pytest.raises(ClientError) as info:  # botocore checks no max
        sm.get_random_password(PasswordLength=4097)
    assert error(info)[0] == "ValidationException"
    assert "Member must have value less than or equal to 4096" in error(info)[1]


def test_resource_policies(sm: Any) -> None:
    arn = sm.create_secret(Name="ops/policy", SecretString="v")["ARN"]
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId="ops/policy")
    doc = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/reader"},
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": "*",
                }
            ],
        }
    )
    ok = sm.validate_resource_policy(SecretId="ops/policy", ResourcePolicy=doc)
    assert ok["PolicyValidationPassed"] is True and ok["ValidationErrors"] == []
    put = sm.put_resource_policy(SecretId="ops/policy", ResourcePolicy=doc, BlockPublicPolicy=True)
    assert put["ARN"] == arn and put["Name"] == "ops/policy"
    got = sm.get_resource_policy(SecretId="ops/policy")
    assert got["ResourcePolicy"] == doc and got["ARN"] == arn  # verbatim
    public = doc.replace(f'{{"AWS": "arn:aws:iam::{ACCOUNT}:user/reader"}}', '"*"')
    assert public != doc
    with pytest.raises(ClientError) as info:
        sm.put_resource_policy(SecretId="ops/policy", ResourcePolicy=public, BlockPublicPolicy=True)
    assert error(info)[0] == "PublicPolicyException"
    bad = sm.validate_resource_policy(ResourcePolicy=public)
    assert bad["PolicyValidationPassed"] is False
    assert [e["CheckName"] for e in bad["ValidationErrors"]] == ["BROAD_ACCESS_CHECK"]
    with pytest.raises(ClientError) as info:
        sm.put_resource_policy(SecretId="ops/policy", ResourcePolicy="{not json")
    assert error(info)[0] == "MalformedPolicyDocumentException"
    deleted = sm.delete_resource_policy(SecretId="ops/policy")
    assert deleted["ARN"] == arn and deleted["Name"] == "ops/policy"
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId="ops/policy")
    assert sm.delete_resource_policy(SecretId="ops/policy")["Name"] == "ops/policy"  # idempotent


def test_rotate_and_cancel_with_the_builtin_rotator(sm: Any) -> None:
    sm.create_secret(
        Name="ops/rotated",
        SecretString='{"username":"app","password":"old"}',
        Tags=[{"Key": "smgrpc:password:PasswordLength", "Value": "24"}],
    )
    old = sm.get_secret_value(SecretId="ops/rotated")["VersionId"]
    out = sm.rotate_secret(
        SecretId="ops/rotated",
        RotationLambdaARN=BUILTIN,
        RotationRules={"AutomaticallyAfterDays": 30},
    )
    new = out["VersionId"]
    assert out["Name"] == "ops/rotated" and new != old
    current = eventually(
        lambda: sm.get_secret_value(SecretId="ops/rotated"), lambda v: v["VersionId"] == new, 15
    )
    value = json.loads(current["SecretString"])
    assert value["username"] == "app" and len(value["password"]) == 24
    d = sm.describe_secret(SecretId="ops/rotated")
    assert d["RotationEnabled"] is True and d["RotationLambdaARN"] == BUILTIN
    assert d["RotationRules"]["AutomaticallyAfterDays"] == 30
    assert isinstance(d["LastRotatedDate"], datetime)
    assert isinstance(d["NextRotationDate"], datetime)
    assert d["VersionIdsToStages"][old] == ["AWSPREVIOUS"]

    cancelled = sm.cancel_rotate_secret(SecretId="ops/rotated")
    assert cancelled["Name"] == "ops/rotated" and cancelled["ARN"] == d["ARN"]
    d = sm.describe_secret(SecretId="ops/rotated")
    assert d["RotationEnabled"] is False and "NextRotationDate" not in d
    assert d["RotationLambdaARN"] == BUILTIN  # kept, as AWS does

    sm.create_secret(Name="ops/never-rotated", SecretString="v")
    with pytest.raises(ClientError) as info:
        sm.cancel_rotate_secret(SecretId="ops/never-rotated")
    assert error(info)[0] == "InvalidRequestException"
    with pytest.raises(ClientError) as info:
        sm.rotate_secret(
            SecretId="ops/never-rotated",
            RotationLambdaARN=BUILTIN.replace("smgrpc-builtin-password", "nope"),
        )
    assert error(info)[0] == "AccessDeniedException"


def test_operations_newer_than_the_23_answer_unknown_operation(sm: Any) -> None:
    """botocore 1.44's model has three operations smgrpc does not serve; boto3 gets a clean
    UnknownOperationException for each (and for the ListResourcePolicies paginator)."""
    calls = {
        "ListResourcePolicies": lambda: sm.list_resource_policies(SecretId="ops/app/db"),
        "AssociateCrossAccountReplica": lambda: sm.associate_cross_account_replica(
            SecretId="ops/app/db", CrossAccountReplicaARN=OTHER_ACCOUNT_ARN
        ),
        "DisassociateCrossAccountReplica": lambda: sm.disassociate_cross_account_replica(
            SecretId="ops/app/db", CrossAccountReplicaARN=OTHER_ACCOUNT_ARN
        ),
        "paginator": lambda: (
            sm.get_paginator("list_resource_policies")
            .paginate(SecretId="ops/app/db")
            .build_full_result()
        ),
    }
    for name, call in calls.items():
        with pytest.raises(ClientError) as info:
            call()
        assert error(info)[0] == "UnknownOperationException", name
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
