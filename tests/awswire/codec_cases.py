"""One realistic request and response per AWS operation, for tests/awswire/test_codec*.py.

Each case: the boto3 parameters (botocore serializes them as boto3 would send them), the gRPC
request they must decode to, a gRPC response, the exact AWS JSON it must encode to, and what
botocore must read from that JSON (what the response means, written out by hand)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"
NAME = "prod/db"
V1 = "EXAMPLE1-90ab-cdef-fedc-ba987SECRET1"
V2 = "EXAMPLE2-90ab-cdef-fedc-ba987SECRET2"
TOKEN = "2f7c1d7e-51a4-4a0e-9a0b-3d1a7f5e9c21"
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:rotate-db"
POLICY = '{"Version":"2012-10-17","Statement":[]}'
T1 = 1523477145713  # ms: 1.523477145713E9 on the wire
T2 = 1700000000000  # ms: 1.7E9 on the wire


def ts(ms: int) -> Timestamp:
    out = Timestamp()
    out.FromMilliseconds(ms)
    return out


def when(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


@dataclass(frozen=True)
class Case:
    op: str
    params: dict[str, Any]
    request: Message
    response: Message
    wire: bytes
    meant: dict[str, Any]


def _gsv() -> Case:
    r = pb.GetSecretValueResponse(
        arn=ARN, name=NAME, version_id=V1, secret_string='{"user":"admin","password":"pw"}',
        version_stages=["AWSCURRENT"], created_date=ts(T1),
    )  # fmt: skip
    return Case(
        "GetSecretValue",
        {"SecretId": NAME, "VersionStage": "AWSCURRENT"},
        pb.GetSecretValueRequest(secret_id=NAME, version_stage="AWSCURRENT"),
        r,
        b'{"ARN":"' + ARN.encode() + b'","CreatedDate":1.523477145713E9,"Name":"prod/db",'
        b'"SecretString":"{\\"user\\":\\"admin\\",\\"password\\":\\"pw\\"}","VersionId":"'
        + V1.encode()
        + b'","VersionStages":["AWSCURRENT"]}',
        {
            "ARN": ARN, "Name": NAME, "VersionId": V1,
            "SecretString": '{"user":"admin","password":"pw"}',
            "VersionStages": ["AWSCURRENT"], "CreatedDate": when(T1),
        },
    )  # fmt: skip


def _describe() -> Case:
    r = pb.DescribeSecretResponse(
        arn=ARN, name=NAME, description="the db", kms_key_id="alias/db", rotation_enabled=True,
        rotation_lambda_arn=LAMBDA, last_rotated_date=ts(T1), last_changed_date=ts(T2),
        last_accessed_date=ts(1700006400000), next_rotation_date=ts(T2 + 86_400_000),
        created_date=ts(T1), tags=[pb.Tag(key="env", value="prod")], tags_present=True,
        owning_service="appflow", primary_region="us-east-1",
        replication_status=[pb.ReplicationStatusType(region="eu-west-1", status="InSync",
                                                     status_message="Replication succeeded")],
    )  # fmt: skip
    r.rotation_rules.automatically_after_days = 30
    r.rotation_rules.duration = "2h"
    r.version_ids_to_stages[V2].stages.append("AWSCURRENT")
    r.version_ids_to_stages[V1].stages.append("AWSPREVIOUS")
    return Case(
        "DescribeSecret",
        {"SecretId": ARN},
        pb.DescribeSecretRequest(secret_id=ARN),
        r,
        b'{"ARN":"' + ARN.encode() + b'","CreatedDate":1.523477145713E9,"Description":"the db",'
        b'"KmsKeyId":"alias/db","LastAccessedDate":1.7000064E9,"LastChangedDate":1.7E9,'
        b'"LastRotatedDate":1.523477145713E9,"Name":"prod/db","NextRotationDate":1.7000864E9,'
        b'"OwningService":"appflow","PrimaryRegion":"us-east-1","ReplicationStatus":[{"Region":'
        b'"eu-west-1","Status":"InSync","StatusMessage":"Replication succeeded"}],'
        b'"RotationEnabled":true,"RotationLambdaARN":"' + LAMBDA.encode() + b'",'
        b'"RotationRules":{"AutomaticallyAfterDays":30,"Duration":"2h"},'
        b'"Tags":[{"Key":"env","Value":"prod"}],"VersionIdsToStages":{"' + V1.encode()
        + b'":["AWSPREVIOUS"],"' + V2.encode() + b'":["AWSCURRENT"]}}',
        {
            "ARN": ARN, "Name": NAME, "Description": "the db", "KmsKeyId": "alias/db",
            "RotationEnabled": True, "RotationLambdaARN": LAMBDA,
            "RotationRules": {"AutomaticallyAfterDays": 30, "Duration": "2h"},
            "LastRotatedDate": when(T1), "LastChangedDate": when(T2),
            "LastAccessedDate": when(1700006400000), "NextRotationDate": when(T2 + 86_400_000),
            "CreatedDate": when(T1), "Tags": [{"Key": "env", "Value": "prod"}],
            "VersionIdsToStages": {V1: ["AWSPREVIOUS"], V2: ["AWSCURRENT"]},
            "OwningService": "appflow", "PrimaryRegion": "us-east-1",
            "ReplicationStatus": [
                {"Region": "eu-west-1", "Status": "InSync",
                 "StatusMessage": "Replication succeeded"}
            ],
        },
    )  # fmt: skip


def _arn_name(op: str, params: dict[str, Any], request: Message, **extra: Any) -> Case:
    """An operation answering {ARN, Name} (+ VersionId when given)."""
    response = getattr(pb, f"{op}Response")(arn=ARN, name=NAME, **extra)
    wire = b'{"ARN":"' + ARN.encode() + b'","Name":"prod/db"'
    meant: dict[str, Any] = {"ARN": ARN, "Name": NAME}
    if "version_id" in extra:
        wire += b',"VersionId":"' + extra["version_id"].encode() + b'"'
        meant["VersionId"] = extra["version_id"]
    return Case(op, params, request, response, wire + b"}", meant)


def _list_secrets() -> Case:
    entry = pb.SecretListEntry(
        arn=ARN, name=NAME, last_changed_date=ts(T2), created_date=ts(T1), tags_present=True,
    )  # fmt: skip
    entry.secret_versions_to_stages[V1].stages.append("AWSCURRENT")
    return Case(
        "ListSecrets",
        {
            "IncludePlannedDeletion": True, "MaxResults": 10, "NextToken": "tok",
            "Filters": [{"Key": "tag-key", "Values": ["env", "!team"]}],
            "SortOrder": "asc", "SortBy": "name",
        },
        pb.ListSecretsRequest(
            include_planned_deletion=True, max_results=10, next_token="tok",
            filters=[pb.Filter(key="tag-key", values=["env", "!team"])],
            sort_order="asc", sort_by="name",
        ),
        pb.ListSecretsResponse(secret_list=[entry], next_token="next"),
        b'{"NextToken":"next","SecretList":[{"ARN":"' + ARN.encode() + b'","CreatedDate":'
        b'1.523477145713E9,"LastChangedDate":1.7E9,"Name":"prod/db","SecretVersionsToStages":'
        b'{"' + V1.encode() + b'":["AWSCURRENT"]},"Tags":[]}]}',
        {
            "NextToken": "next",
            "SecretList": [
                {"ARN": ARN, "Name": NAME, "LastChangedDate": when(T2),
                 "CreatedDate": when(T1), "Tags": [],
                 "SecretVersionsToStages": {V1: ["AWSCURRENT"]}}
            ],
        },
    )  # fmt: skip


def _versions() -> Case:
    return Case(
        "ListSecretVersionIds",
        {"SecretId": NAME, "MaxResults": 2, "IncludeDeprecated": True},
        pb.ListSecretVersionIdsRequest(secret_id=NAME, max_results=2, include_deprecated=True),
        pb.ListSecretVersionIdsResponse(
            arn=ARN, name=NAME,
            versions=[
                pb.SecretVersionsListEntry(version_id=V2, version_stages=["AWSCURRENT"],
                                           created_date=ts(T2), last_accessed_date=ts(T2),
                                           kms_key_ids=["DefaultEncryptionKey"]),
                pb.SecretVersionsListEntry(version_id=V1, created_date=ts(T1),
                                           kms_key_ids=["DefaultEncryptionKey"]),
            ],
        ),
        b'{"ARN":"' + ARN.encode() + b'","Name":"prod/db","Versions":[{"CreatedDate":1.7E9,'
        b'"KmsKeyIds":["DefaultEncryptionKey"],"LastAccessedDate":1.7E9,"VersionId":"'
        + V2.encode() + b'","VersionStages":["AWSCURRENT"]},{"CreatedDate":1.523477145713E9,'
        b'"KmsKeyIds":["DefaultEncryptionKey"],"VersionId":"' + V1.encode() + b'"}]}',
        {
            "ARN": ARN, "Name": NAME,
            "Versions": [
                {"VersionId": V2, "VersionStages": ["AWSCURRENT"], "CreatedDate": when(T2),
                 "LastAccessedDate": when(T2), "KmsKeyIds": ["DefaultEncryptionKey"]},
                {"VersionId": V1, "CreatedDate": when(T1),
                 "KmsKeyIds": ["DefaultEncryptionKey"]},
            ],
        },
    )  # fmt: skip


def _batch() -> Case:
    return Case(
        "BatchGetSecretValue",
        {"SecretIdList": [NAME, "missing"]},
        pb.BatchGetSecretValueRequest(secret_id_list=[NAME, "missing"]),
        pb.BatchGetSecretValueResponse(
            secret_values=[pb.SecretValueEntry(arn=ARN, name=NAME, version_id=V1,
                                               secret_binary=b"\x00\xffbin",
                                               version_stages=["AWSCURRENT"],
                                               created_date=ts(T1))],
            errors=[pb.APIErrorType(secret_id="missing", error_code="ResourceNotFoundException",
                                    message="Secrets Manager can't find the specified secret.")],
        ),
        b'{"Errors":[{"ErrorCode":"ResourceNotFoundException","Message":"Secrets Manager '
        b"can't find the specified secret.\",\"SecretId\":\"missing\"}],\"SecretValues\":[{"
        b'"ARN":"' + ARN.encode() + b'","CreatedDate":1.523477145713E9,"Name":"prod/db",'
        b'"SecretBinary":"AP9iaW4=","VersionId":"' + V1.encode()
        + b'","VersionStages":["AWSCURRENT"]}]}',
        {
            "SecretValues": [
                {"ARN": ARN, "Name": NAME, "VersionId": V1, "SecretBinary": b"\x00\xffbin",
                 "VersionStages": ["AWSCURRENT"], "CreatedDate": when(T1)}
            ],
            "Errors": [
                {"SecretId": "missing", "ErrorCode": "ResourceNotFoundException",
                 "Message": "Secrets Manager can't find the specified secret."}
            ],
        },
    )  # fmt: skip


def _create() -> Case:
    status = pb.ReplicationStatusType(region="eu-west-1", status="InProgress")
    return Case(
        "CreateSecret",
        {
            "Name": NAME, "ClientRequestToken": TOKEN, "Description": "the db",
            "KmsKeyId": "alias/db", "SecretBinary": b"\x00\x01\x02\xff",
            "Tags": [{"Key": "env", "Value": "prod"}, {"Key": "empty"}],
            "AddReplicaRegions": [{"Region": "eu-west-1", "KmsKeyId": "alias/eu"}],
            "ForceOverwriteReplicaSecret": True,
        },
        pb.CreateSecretRequest(
            name=NAME, client_request_token=TOKEN, description="the db", kms_key_id="alias/db",
            secret_binary=b"\x00\x01\x02\xff",
            tags=[pb.Tag(key="env", value="prod"), pb.Tag(key="empty")],
            add_replica_regions=[pb.ReplicaRegionType(region="eu-west-1", kms_key_id="alias/eu")],
            force_overwrite_replica_secret=True,
        ),
        pb.CreateSecretResponse(arn=ARN, name=NAME, version_id=TOKEN, replication_status=[status]),
        b'{"ARN":"' + ARN.encode() + b'","Name":"prod/db","ReplicationStatus":[{"Region":'
        b'"eu-west-1","Status":"InProgress"}],"VersionId":"' + TOKEN.encode() + b'"}',
        {
            "ARN": ARN, "Name": NAME, "VersionId": TOKEN,
            "ReplicationStatus": [{"Region": "eu-west-1", "Status": "InProgress"}],
        },
    )  # fmt: skip


def _rotate() -> Case:
    return _arn_name(
        "RotateSecret",
        {
            "SecretId": NAME, "ClientRequestToken": TOKEN, "RotationLambdaARN": LAMBDA,
            "RotationRules": {"ScheduleExpression": "rate(10 days)", "Duration": "3h"},
            "RotateImmediately": False,
        },
        pb.RotateSecretRequest(
            secret_id=NAME, client_request_token=TOKEN, rotation_lambda_arn=LAMBDA,
            rotation_rules=pb.RotationRulesType(schedule_expression="rate(10 days)",
                                                duration="3h"),
            rotate_immediately=False,
        ),
        version_id=TOKEN,
    )  # fmt: skip


def _replication(op: str) -> Case:
    status = [
        pb.ReplicationStatusType(region="eu-west-1", kms_key_id="alias/eu", status="Failed",
                                 status_message="no", last_accessed_date=ts(1700006400000)),
    ]  # fmt: skip
    if op == "ReplicateSecretToRegions":
        params: dict[str, Any] = {
            "SecretId": NAME, "AddReplicaRegions": [{"Region": "eu-west-1"}],
            "ForceOverwriteReplicaSecret": False,
        }  # fmt: skip
        request: Message = pb.ReplicateSecretToRegionsRequest(
            secret_id=NAME, add_replica_regions=[pb.ReplicaRegionType(region="eu-west-1")],
            force_overwrite_replica_secret=False,
        )  # fmt: skip
    else:
        params = {"SecretId": NAME, "RemoveReplicaRegions": ["eu-west-1", "ap-south-1"]}
        request = pb.RemoveRegionsFromReplicationRequest(
            secret_id=NAME, remove_replica_regions=["eu-west-1", "ap-south-1"]
        )
    return Case(
        op, params, request,
        getattr(pb, f"{op}Response")(arn=ARN, replication_status=status),
        b'{"ARN":"' + ARN.encode() + b'","ReplicationStatus":[{"KmsKeyId":"alias/eu",'
        b'"LastAccessedDate":1.7000064E9,"Region":"eu-west-1","Status":"Failed",'
        b'"StatusMessage":"no"}]}',
        {
            "ARN": ARN,
            "ReplicationStatus": [
                {"Region": "eu-west-1", "KmsKeyId": "alias/eu", "Status": "Failed",
                 "StatusMessage": "no", "LastAccessedDate": when(1700006400000)}
            ],
        },
    )  # fmt: skip


def _empty(op: str, params: dict[str, Any], request: Message) -> Case:
    return Case(op, params, request, getattr(pb, f"{op}Response")(), b"{}", {})


CASES: list[Case] = [
    _batch(),
    _arn_name(
        "CancelRotateSecret",
        {"SecretId": NAME},
        pb.CancelRotateSecretRequest(secret_id=NAME),
        version_id=V1,
    ),  # fmt: skip
    _create(),
    _arn_name(
        "DeleteResourcePolicy", {"SecretId": NAME}, pb.DeleteResourcePolicyRequest(secret_id=NAME)
    ),
    Case(
        "DeleteSecret",
        {"SecretId": NAME, "RecoveryWindowInDays": 7},
        pb.DeleteSecretRequest(secret_id=NAME, recovery_window_in_days=7),
        pb.DeleteSecretResponse(arn=ARN, name=NAME, deletion_date=ts(T2 + 604_800_123)),
        b'{"ARN":"' + ARN.encode() + b'","DeletionDate":1.700604800123E9,"Name":"prod/db"}',
        {"ARN": ARN, "Name": NAME, "DeletionDate": when(T2 + 604_800_123)},
    ),
    _describe(),
    Case(
        "GetRandomPassword",
        {
            "PasswordLength": 40,
            "ExcludeCharacters": "'\"",
            "ExcludeNumbers": False,
            "ExcludePunctuation": True,
            "ExcludeUppercase": False,
            "ExcludeLowercase": False,
            "IncludeSpace": True,
            "RequireEachIncludedType": True,
        },
        pb.GetRandomPasswordRequest(
            password_length=40,
            exclude_characters="'\"",
            exclude_numbers=False,
            exclude_punctuation=True,
            exclude_uppercase=False,
            exclude_lowercase=False,
            include_space=True,
            require_each_included_type=True,
        ),
        pb.GetRandomPasswordResponse(random_password='a "quoted" \\ pass\u00e9'),
        b'{"RandomPassword":"a \\"quoted\\" \\\\ pass\xc3\xa9"}',
        {"RandomPassword": 'a "quoted" \\ pass\u00e9'},
    ),  # fmt: skip
    Case(
        "GetResourcePolicy",
        {"SecretId": NAME},
        pb.GetResourcePolicyRequest(secret_id=NAME),
        pb.GetResourcePolicyResponse(arn=ARN, name=NAME, resource_policy=POLICY),
        b'{"ARN":"' + ARN.encode() + b'","Name":"prod/db","ResourcePolicy":'
        b'"{\\"Version\\":\\"2012-10-17\\",\\"Statement\\":[]}"}',
        {"ARN": ARN, "Name": NAME, "ResourcePolicy": POLICY},
    ),
    _gsv(),
    _versions(),
    _list_secrets(),
    _arn_name(
        "PutResourcePolicy",
        {"SecretId": NAME, "ResourcePolicy": POLICY, "BlockPublicPolicy": True},
        pb.PutResourcePolicyRequest(
            secret_id=NAME, resource_policy=POLICY, block_public_policy=True
        ),
    ),
    Case(
        "PutSecretValue",
        {
            "SecretId": NAME,
            "ClientRequestToken": TOKEN,
            "SecretString": "s3cr3t",
            "VersionStages": ["AWSCURRENT", "mine"],
            "RotationToken": "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d",
        },
        pb.PutSecretValueRequest(
            secret_id=NAME,
            client_request_token=TOKEN,
            secret_string="s3cr3t",
            version_stages=["AWSCURRENT", "mine"],
            rotation_token="a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d",
        ),
        pb.PutSecretValueResponse(
            arn=ARN, name=NAME, version_id=TOKEN, version_stages=["AWSCURRENT", "mine"]
        ),
        b'{"ARN":"'
        + ARN.encode()
        + b'","Name":"prod/db","VersionId":"'
        + TOKEN.encode()
        + b'","VersionStages":["AWSCURRENT","mine"]}',
        {"ARN": ARN, "Name": NAME, "VersionId": TOKEN, "VersionStages": ["AWSCURRENT", "mine"]},
    ),  # fmt: skip
    _replication("RemoveRegionsFromReplication"),
    _replication("ReplicateSecretToRegions"),
    _arn_name("RestoreSecret", {"SecretId": NAME}, pb.RestoreSecretRequest(secret_id=NAME)),
    _rotate(),
    Case(
        "StopReplicationToReplica",
        {"SecretId": NAME},
        pb.StopReplicationToReplicaRequest(secret_id=NAME),
        pb.StopReplicationToReplicaResponse(arn=ARN),
        b'{"ARN":"' + ARN.encode() + b'"}',
        {"ARN": ARN},
    ),
    _empty(
        "TagResource",
        {"SecretId": NAME, "Tags": [{"Key": "env", "Value": "prod"}]},
        pb.TagResourceRequest(secret_id=NAME, tags=[pb.Tag(key="env", value="prod")]),
    ),
    _empty(
        "UntagResource",
        {"SecretId": NAME, "TagKeys": ["env", "team"]},
        pb.UntagResourceRequest(secret_id=NAME, tag_keys=["env", "team"]),
    ),
    _arn_name(
        "UpdateSecret",
        {
            "SecretId": NAME,
            "ClientRequestToken": TOKEN,
            "Description": "",
            "KmsKeyId": "alias/db2",
            "SecretString": "new",
        },
        pb.UpdateSecretRequest(
            secret_id=NAME,
            client_request_token=TOKEN,
            description="",
            kms_key_id="alias/db2",
            secret_string="new",
        ),
        version_id=TOKEN,
    ),  # fmt: skip
    _arn_name(
        "UpdateSecretVersionStage",
        {
            "SecretId": NAME,
            "VersionStage": "AWSCURRENT",
            "RemoveFromVersionId": V1,
            "MoveToVersionId": V2,
        },
        pb.UpdateSecretVersionStageRequest(
            secret_id=NAME,
            version_stage="AWSCURRENT",
            remove_from_version_id=V1,
            move_to_version_id=V2,
        ),
    ),  # fmt: skip
    Case(
        "ValidateResourcePolicy",
        {"SecretId": NAME, "ResourcePolicy": POLICY},
        pb.ValidateResourcePolicyRequest(secret_id=NAME, resource_policy=POLICY),
        pb.ValidateResourcePolicyResponse(
            policy_validation_passed=False,
            validation_errors=[
                pb.ValidationErrorsEntry(check_name="BROAD_ACCESS", error_message="too broad")
            ],
        ),
        b'{"PolicyValidationPassed":false,"ValidationErrors":[{"CheckName":"BROAD_ACCESS",'
        b'"ErrorMessage":"too broad"}]}',
        {
            "PolicyValidationPassed": False,
            "ValidationErrors": [{"CheckName": "BROAD_ACCESS", "ErrorMessage": "too broad"}],
        },
    ),  # fmt: skip
]
