"""Every operation through the sync client, with AWS member names, against a real Region."""

from __future__ import annotations

import json

import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc.client import SecretsManagerClient, errors

ACCOUNT = "123456789012"
FUNCTION = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:smgrpc-builtin-password"
TOKEN = "tok-client-1".ljust(32, "0")
POLICY = json.dumps(
    {
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
)


def test_values_versions_and_stages(client: SecretsManagerClient) -> None:
    c = client.create_secret(
        Name="app/db",
        SecretString="v1",
        Description="the db",
        Tags=[{"Key": "team", "Value": "core"}],
        ClientRequestToken=TOKEN,
    )
    assert c.name == "app/db" and c.version_id == TOKEN
    assert c.arn.startswith(f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:app/db-")
    put = client.put_secret_value(SecretId="app/db", SecretBinary=b"\x00\x01")
    assert list(put.version_stages) == ["AWSCURRENT"]
    got = client.get_secret_value(SecretId=c.arn)
    assert got.secret_binary == b"\x00\x01" and not got.HasField("secret_string")
    prev = client.get_secret_value(SecretId="app/db", VersionStage="AWSPREVIOUS")
    assert prev.secret_string == "v1" and prev.version_id == TOKEN
    ids = client.list_secret_version_ids(SecretId="app/db")
    assert {v.version_id: sorted(v.version_stages) for v in ids.versions} == {
        TOKEN: ["AWSPREVIOUS"],
        put.version_id: ["AWSCURRENT"],
    }
    moved = client.update_secret_version_stage(
        SecretId="app/db", VersionStage="BLUE", MoveToVersionId=TOKEN
    )
    assert moved.name == "app/db"
    assert client.get_secret_value(SecretId="app/db", VersionStage="BLUE").secret_string == "v1"
    upd = client.update_secret(SecretId="app/db", Description="new", SecretString="v3")
    assert upd.version_id and upd.version_id != put.version_id
    d = client.describe_secret(SecretId="app/db")
    assert d.description == "new"
    assert [(t.key, t.value) for t in d.tags] == [("team", "core")]
    assert sorted(d.version_ids_to_stages[upd.version_id].stages) == ["AWSCURRENT"]


def test_listing_batch_tags_and_password(client: SecretsManagerClient) -> None:
    for name in ("prod/a", "prod/b", "dev/c"):
        client.create_secret(Name=name, SecretString=name.upper())
    listed = client.list_secrets(Filters=[{"Key": "name", "Values": ["prod/"]}], MaxResults=1)
    assert [e.name for e in listed.secret_list] == ["prod/a"] and listed.next_token
    rest = client.list_secrets(
        Filters=[{"Key": "name", "Values": ["prod/"]}], NextToken=listed.next_token
    )
    assert [e.name for e in rest.secret_list] == ["prod/b"]
    batch = client.batch_get_secret_value(SecretIdList=["prod/a", "dev/c", "missing"])
    assert {v.name: v.secret_string for v in batch.secret_values} == {
        "prod/a": "PROD/A",
        "dev/c": "DEV/C",
    }
    assert [(e.secret_id, e.error_code) for e in batch.errors] == [
        ("missing", "ResourceNotFoundException")
    ]
    client.tag_resource(SecretId="dev/c", Tags=[{"Key": "k", "Value": "v"}, {"Key": "x"}])
    client.untag_resource(SecretId="dev/c", TagKeys=["x"])
    tags = client.describe_secret(SecretId="dev/c").tags
    assert [(t.key, t.value) for t in tags] == [("k", "v")]
    pw = client.get_random_password(PasswordLength=40, ExcludePunctuation=True)
    assert len(pw.random_password) == 40 and pw.random_password.isalnum()


def test_resource_policy_round_trip(client: SecretsManagerClient) -> None:
    client.create_secret(Name="p", SecretString="x")
    valid = client.validate_resource_policy(ResourcePolicy=POLICY)
    assert valid.policy_validation_passed is True
    put = client.put_resource_policy(SecretId="p", ResourcePolicy=POLICY)
    assert put.name == "p"
    assert json.loads(client.get_resource_policy(SecretId="p").resource_policy) == json.loads(
        POLICY
    )
    client.delete_resource_policy(SecretId="p")
    assert not client.get_resource_policy(SecretId="p").HasField("resource_policy")


def test_delete_restore_and_rotation(client: SecretsManagerClient) -> None:
    client.create_secret(Name="r", SecretString="start")
    deleted = client.delete_secret(SecretId="r", RecoveryWindowInDays=7)
    assert deleted.name == "r" and deleted.HasField("deletion_date")
    with pytest.raises(errors.InvalidRequestException) as info:
        client.get_secret_value(SecretId="r")
    assert "marked deleted" in info.value.message
    assert client.restore_secret(SecretId="r").name == "r"
    rot = client.rotate_secret(
        SecretId="r",
        RotationLambdaARN=FUNCTION,
        RotationRules={"AutomaticallyAfterDays": 30},
        RotateImmediately=False,
    )
    assert rot.name == "r"
    assert client.describe_secret(SecretId="r").rotation_enabled is True
    assert client.cancel_rotate_secret(SecretId="r").name == "r"
    assert client.describe_secret(SecretId="r").rotation_enabled is False


def test_replication_operations_in_a_single_region(client: SecretsManagerClient) -> None:
    arn = client.create_secret(Name="solo", SecretString="x").arn
    with pytest.raises(errors.InvalidParameterException) as rep:
        client.replicate_secret_to_regions(
            SecretId="solo", AddReplicaRegions=[{"Region": "eu-west-1"}]
        )
    assert (
        rep.value.message == "Invalid replica region: eu-west-1 is not a peer Region of us-east-1."
    )
    removed = client.remove_regions_from_replication(
        SecretId="solo", RemoveReplicaRegions=["eu-west-1"]
    )
    assert removed.arn == arn and list(removed.replication_status) == []
    with pytest.raises(errors.InvalidParameterException, match="not a replica"):
        client.stop_replication_to_replica(SecretId="solo")


def test_call_takes_request_messages(client: SecretsManagerClient) -> None:
    client.call("CreateSecret", pb.CreateSecretRequest(name="m", secret_string="mv"))
    got = client.call("GetSecretValue", pb.GetSecretValueRequest(secret_id="m"), timeout=5)
    assert isinstance(got, pb.GetSecretValueResponse) and got.secret_string == "mv"
    with pytest.raises(errors.ParamValidationError, match="takes a GetSecretValueRequest"):
        client.call("GetSecretValue", pb.DescribeSecretRequest(secret_id="m"))
    with pytest.raises(errors.ParamValidationError, match="unknown operation"):
        client.call("GetSecret", pb.GetSecretValueRequest(secret_id="m"))
    with pytest.raises(errors.ParamValidationError, match='Unknown parameter.*"SecretID"'):
        client.get_secret_value(SecretID="m")
    with pytest.raises(errors.ParamValidationError, match="GetSecretValueRequest.SecretId"):
        client.get_secret_value(SecretId=5)
