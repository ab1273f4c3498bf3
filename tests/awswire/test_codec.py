"""The AWS JSON codec, operation by operation: what boto3 sends decodes to the gRPC request we
expect, and every gRPC response encodes to exactly AWS's JSON, which botocore's own parser reads
back as what the response means."""

from __future__ import annotations

import datetime as dt
from typing import Any

import botocore.session
import pytest
from botocore.parsers import JSONParser
from botocore.serialize import create_serializer

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc.awswire import codec
from tests.awswire.codec_cases import ARN, CASES, NAME, V1, Case, ts, when

MODEL = botocore.session.get_session().get_service_model("secretsmanager")
SERIALIZER = create_serializer("json", include_validation=True)


def boto_body(op: str, params: dict[str, Any]) -> bytes:
    """The body boto3 sends (botocore's serializer, with its client-side validation)."""
    body = SERIALIZER.serialize_to_request(params, MODEL.operation_model(op))["body"]
    return body if isinstance(body, bytes) else body.encode()


def boto_read(op: str, body: bytes) -> dict[str, Any]:
    """What botocore (so boto3 and the AWS CLI) reads from a response body."""
    shape = MODEL.operation_model(op).output_shape
    parsed = JSONParser().parse({"body": body, "headers": {}, "status_code": 200}, shape)
    parsed.pop("ResponseMetadata", None)
    return _utc(parsed)


def _utc(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    if isinstance(value, dict):
        return {k: _utc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_utc(v) for v in value]
    return value


def test_every_operation_has_a_case() -> None:
    assert len(codec.OPERATIONS) == 23
    assert "WatchSecrets" not in codec.OPERATIONS
    assert sorted(c.op for c in CASES) == sorted(codec.OPERATIONS)
    # A newer botocore models operations we do not serve (they answer UnknownOperation).
    assert codec.OPERATIONS <= frozenset(MODEL.operation_names)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.op)
def test_decode_what_boto3_sends(case: Case) -> None:
    got = codec.decode(case.op, boto_body(case.op, case.params))
    assert type(got) is type(case.request)
    assert got == case.request
    # Presence is part of the meaning (False / "" given vs absent).
    assert got.ListFields() == case.request.ListFields()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.op)
def test_encode_exact_json(case: Case) -> None:
    assert codec.encode(case.op, case.response) == case.wire


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.op)
def test_botocore_reads_what_we_meant(case: Case) -> None:
    assert boto_read(case.op, codec.encode(case.op, case.response)) == case.meant


def _describe(**kw: Any) -> pb.DescribeSecretResponse:
    return pb.DescribeSecretResponse(arn=ARN, name=NAME, created_date=ts(1700000000000), **kw)


def test_tags_absent_when_never_tagged_and_empty_list_when_all_removed() -> None:
    never = codec.encode("DescribeSecret", _describe())
    assert b"Tags" not in never
    assert "Tags" not in boto_read("DescribeSecret", never)
    emptied = codec.encode("DescribeSecret", _describe(tags_present=True))
    assert (
        emptied == b'{"ARN":"' + ARN.encode() + b'","CreatedDate":1.7E9,"Name":"prod/db","Tags":[]}'
    )
    assert boto_read("DescribeSecret", emptied)["Tags"] == []
    entry = pb.SecretListEntry(arn=ARN, name=NAME)
    listed = codec.encode("ListSecrets", pb.ListSecretsResponse(secret_list=[entry]))
    assert b"Tags" not in listed
    entry.tags_present = True
    listed = codec.encode("ListSecrets", pb.ListSecretsResponse(secret_list=[entry]))
    assert boto_read("ListSecrets", listed)["SecretList"][0]["Tags"] == []


@pytest.mark.parametrize(
    ("op", "response", "wire"),
    [
        ("ListSecrets", pb.ListSecretsResponse(), b'{"SecretList":[]}'),
        (
            "BatchGetSecretValue",
            pb.BatchGetSecretValueResponse(),
            b'{"Errors":[],"SecretValues":[]}',
        ),
        (
            "ListSecretVersionIds",
            pb.ListSecretVersionIdsResponse(arn=ARN, name=NAME),
            b'{"ARN":"' + ARN.encode() + b'","Name":"prod/db","Versions":[]}',
        ),
        (
            "ValidateResourcePolicy",
            pb.ValidateResourcePolicyResponse(policy_validation_passed=True),
            b'{"PolicyValidationPassed":true,"ValidationErrors":[]}',
        ),
        (
            "RemoveRegionsFromReplication",
            pb.RemoveRegionsFromReplicationResponse(arn=ARN),
            b'{"ARN":"' + ARN.encode() + b'","ReplicationStatus":[]}',
        ),
        (
            "ReplicateSecretToRegions",
            pb.ReplicateSecretToRegionsResponse(arn=ARN),
            b'{"ARN":"' + ARN.encode() + b'","ReplicationStatus":[]}',
        ),
        # Lists AWS leaves out when empty.
        (
            "CreateSecret",
            pb.CreateSecretResponse(arn=ARN, name=NAME),
            b'{"ARN":"' + ARN.encode() + b'","Name":"prod/db"}',
        ),
        (
            "DescribeSecret",
            _describe(),
            b'{"ARN":"' + ARN.encode() + b'","CreatedDate":1.7E9,"Name":"prod/db"}',
        ),
        (
            "GetSecretValue",
            pb.GetSecretValueResponse(arn=ARN, name=NAME, version_id=V1, secret_string="x"),
            b'{"ARN":"'
            + ARN.encode()
            + b'","Name":"prod/db","SecretString":"x","VersionId":"'
            + V1.encode()
            + b'"}',
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_empty_lists_where_aws_sends_them(op: str, response: Any, wire: bytes) -> None:
    assert codec.encode(op, response) == wire
    boto_read(op, wire)  # parses


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (1523477145713, b"1.523477145713E9"),
        (1511974462360, b"1.51197446236E9"),
        (1700000000000, b"1.7E9"),
        (1700000000001, b"1.700000000001E9"),
        (10_000_000_000, b"1.0E7"),
        (9_999_999_999, b"9999999.999"),
        (1_500, b"1.5"),
        (0, b"0.0"),
    ],
)
def test_timestamps_as_java_doubles_of_epoch_seconds(ms: int, text: bytes) -> None:
    response = pb.DeleteSecretResponse(arn=ARN, name=NAME, deletion_date=ts(ms))
    body = codec.encode("DeleteSecret", response)
    assert body == b'{"ARN":"' + ARN.encode() + b'","DeletionDate":' + text + b',"Name":"prod/db"}'
    assert boto_read("DeleteSecret", body)["DeletionDate"] == when(ms)


def test_timestamps_round_to_the_millisecond() -> None:
    stamp = ts(0)
    stamp.seconds, stamp.nanos = 1700000000, 123_499_999
    body = codec.encode("DeleteSecret", pb.DeleteSecretResponse(deletion_date=stamp))
    assert body == b'{"DeletionDate":1.700000000123E9}'
    stamp.nanos = 999_600_000  # rounds up into the next second
    body = codec.encode("DeleteSecret", pb.DeleteSecretResponse(deletion_date=stamp))
    assert body == b'{"DeletionDate":1.700000001E9}'


def test_unknown_members_are_ignored_at_every_level() -> None:
    body = (
        b'{"Name":"n","ClientRequestToken":"' + b"t" * 32 + b'","Unknown":{"deep":[1]},'
        b'"Tags":[{"Key":"k","Colour":"red"}],"NewFeature":true}'
    )
    got = codec.decode("CreateSecret", body)
    assert got == pb.CreateSecretRequest(
        name="n", client_request_token="t" * 32, tags=[pb.Tag(key="k")]
    )


def test_null_is_absent_and_null_list_items_are_dropped() -> None:
    body = b'{"SecretId":"s","VersionId":null,"VersionStage":null}'
    got = codec.decode("GetSecretValue", body)
    assert got.ListFields() == pb.GetSecretValueRequest(secret_id="s").ListFields()
    got = codec.decode("UntagResource", b'{"SecretId":"s","TagKeys":["a",null,"b"]}')
    assert list(got.tag_keys) == ["a", "b"]


def test_empty_strings_and_false_are_present() -> None:
    got = codec.decode(
        "UpdateSecret",
        b'{"SecretId":"s","ClientRequestToken":"","Description":"","KmsKeyId":""}',
    )
    assert got.HasField("client_request_token") and got.client_request_token == ""
    assert got.HasField("description") and got.HasField("kms_key_id")
    got = codec.decode("DeleteSecret", b'{"SecretId":"s","ForceDeleteWithoutRecovery":false}')
    assert got.HasField("force_delete_without_recovery")
    assert not got.force_delete_without_recovery


def test_fractional_numbers_are_truncated_like_aws() -> None:
    got = codec.decode("DeleteSecret", b'{"SecretId":"s","RecoveryWindowInDays":7.9}')
    assert got.recovery_window_in_days == 7
    got = codec.decode("ListSecrets", b'{"MaxResults":1.0E1}')
    assert got.max_results == 10


def test_int64_members_travel_as_json_numbers() -> None:
    got = codec.decode("GetRandomPassword", b'{"PasswordLength":4096}')
    assert got.password_length == 4096
    response = pb.DescribeSecretResponse(arn=ARN, name=NAME)
    response.rotation_rules.automatically_after_days = 1000
    body = codec.encode("DescribeSecret", response)
    assert b'"RotationRules":{"AutomaticallyAfterDays":1000}' in body
    assert boto_read("DescribeSecret", body)["RotationRules"] == {"AutomaticallyAfterDays": 1000}
