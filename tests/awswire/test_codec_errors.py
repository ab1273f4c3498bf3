"""Every decode error of the AWS JSON codec, with AWS's code and text."""

from __future__ import annotations

import base64

import pytest

from smgrpc.api.errors import STATUS
from smgrpc.awswire import codec
from smgrpc.core.errors import InvalidRequest, SerializationError, ServiceError, ValidationError

LIST = "Start of list found where not expected"
MAP = "Start of structure or map found where not expected."
NULL = "failed to satisfy constraint: Member must not be null"
TOKEN = "t" * 32


def error(op: str, body: bytes) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        codec.decode(op, body)
    return info.value


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b"not json", b'{"SecretId":"x",}', b'{"SecretId":"x"} {}', b"\xef\xbb\xbf{}",
     b'{"SecretId":"\xff"}', b'{"SecretId":"\\ud800"}', b"NaN"],
)  # fmt: skip
def test_not_json(body: bytes) -> None:
    e = error("GetSecretValue", body)
    assert (type(e), e.aws_code, e.message) == (
        SerializationError, "SerializationException", codec.NOT_JSON,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"[]", LIST), (b'[{"SecretId":"x"}]', LIST), (b"null", codec.NOT_OBJECT),
     (b'"x"', codec.NOT_OBJECT), (b"1", codec.NOT_OBJECT), (b"true", codec.NOT_OBJECT)],
)  # fmt: skip
def test_not_an_object(body: bytes, message: str) -> None:
    e = error("GetSecretValue", body)
    assert (e.aws_code, e.message) == ("SerializationException", message)


@pytest.mark.parametrize(
    ("op", "body", "message"),
    [
        # String members.
        ("GetSecretValue", b'{"SecretId":1}', "NUMBER_VALUE can not be converted to a String"),
        ("GetSecretValue", b'{"SecretId":1.5}', "NUMBER_VALUE can not be converted to a String"),
        ("GetSecretValue", b'{"SecretId":true}', "TRUE_VALUE can not be converted to a String"),
        ("GetSecretValue", b'{"SecretId":false}', "FALSE_VALUE can not be converted to a String"),
        ("GetSecretValue", b'{"SecretId":["x"]}', LIST),
        ("GetSecretValue", b'{"SecretId":{"a":1}}', MAP),
        # Integer (int32) and Long (int64) members.
        ("ListSecrets", b'{"MaxResults":"1"}', "STRING_VALUE can not be converted to an Integer"),
        ("ListSecrets", b'{"MaxResults":true}', "TRUE_VALUE can not be converted to an Integer"),
        ("ListSecrets", b'{"MaxResults":false}', "FALSE_VALUE can not be converted to an Integer"),
        ("ListSecrets", b'{"MaxResults":[1]}', LIST),
        ("ListSecrets", b'{"MaxResults":{"a":1}}', MAP),
        ("ListSecrets", b'{"MaxResults":2147483648}',
         "NUMBER_VALUE can not be converted to an Integer"),
        ("DeleteSecret", b'{"SecretId":"s","RecoveryWindowInDays":"7"}',
         "STRING_VALUE can not be converted to a Long"),
        ("DeleteSecret", b'{"SecretId":"s","RecoveryWindowInDays":9223372036854775808}',
         "NUMBER_VALUE can not be converted to a Long"),
        ("DeleteSecret", b'{"SecretId":"s","RecoveryWindowInDays":1e300}',
         "NUMBER_VALUE can not be converted to a Long"),
        # Boolean members.
        ("DeleteSecret", b'{"SecretId":"s","ForceDeleteWithoutRecovery":"true"}',
         "STRING_VALUE can not be converted to a Boolean"),
        ("DeleteSecret", b'{"SecretId":"s","ForceDeleteWithoutRecovery":1}',
         "NUMBER_VALUE can not be converted to a Boolean"),
        # Blob members.
        ("PutSecretValue", b'{"SecretId":"s","SecretBinary":1}',
         "NUMBER_VALUE can not be converted to a Blob"),
        ("PutSecretValue", b'{"SecretId":"s","SecretBinary":[1]}', LIST),
        # Lists.
        ("UntagResource", b'{"SecretId":"s","TagKeys":"k"}', "Expected list or null"),
        ("UntagResource", b'{"SecretId":"s","TagKeys":1}', "Expected list or null"),
        ("UntagResource", b'{"SecretId":"s","TagKeys":true}', "Expected list or null"),
        ("UntagResource", b'{"SecretId":"s","TagKeys":{}}', MAP),
        ("UntagResource", b'{"SecretId":"s","TagKeys":[1]}',
         "NUMBER_VALUE can not be converted to a String"),
        ("UntagResource", b'{"SecretId":"s","TagKeys":[["a"]]}', LIST),
        ("TagResource", b'{"SecretId":"s","Tags":{"Key":"k"}}', MAP),
        ("TagResource", b'{"SecretId":"s","Tags":["k"]}', "Expected null"),
        ("TagResource", b'{"SecretId":"s","Tags":[[]]}', LIST),
        ("TagResource", b'{"SecretId":"s","Tags":[{"Key":1}]}',
         "NUMBER_VALUE can not be converted to a String"),
        # Structures.
        ("RotateSecret", b'{"SecretId":"s","RotationRules":"x"}', "Expected null"),
        ("RotateSecret", b'{"SecretId":"s","RotationRules":1}', "Expected null"),
        ("RotateSecret", b'{"SecretId":"s","RotationRules":true}', "Expected null"),
        ("RotateSecret", b'{"SecretId":"s","RotationRules":[]}', LIST),
        ("RotateSecret", b'{"SecretId":"s","RotationRules":{"AutomaticallyAfterDays":"1"}}',
         "STRING_VALUE can not be converted to a Long"),
        ("ListSecrets", b'{"Filters":[{"Key":"name","Values":"x"}]}', "Expected list or null"),
    ],
)  # fmt: skip
def test_member_of_the_wrong_json_type(op: str, body: bytes, message: str) -> None:
    e = error(op, body)
    assert (type(e), e.aws_code, e.message) == (
        SerializationError,
        "SerializationException",
        message,
    )


def test_a_wrong_type_is_reported_before_missing_members() -> None:
    # AWS deserializes the whole body first, then validates it.
    e = error("PutResourcePolicy", b'{"BlockPublicPolicy":"yes"}')
    assert e.aws_code == "SerializationException"


@pytest.mark.parametrize(
    ("op", "body", "paths"),
    [
        ("GetSecretValue", b"{}", ["secretId"]),
        ("GetSecretValue", b'{"SecretId":null}', ["secretId"]),
        ("GetSecretValue", b'{"secretId":"lower-case is another member"}', ["secretId"]),
        ("DescribeSecret", b'{"VersionId":"x"}', ["secretId"]),
        ("CreateSecret", b'{"ClientRequestToken":"' + TOKEN.encode() + b'"}', ["name"]),
        ("PutResourcePolicy", b"{}", ["secretId", "resourcePolicy"]),
        ("PutResourcePolicy", b'{"SecretId":"s"}', ["resourcePolicy"]),
        ("TagResource", b'{"SecretId":"s"}', ["tags"]),
        ("TagResource", b"{}", ["secretId", "tags"]),
        ("UntagResource", b'{"SecretId":"s","TagKeys":null}', ["tagKeys"]),
        ("UpdateSecretVersionStage", b'{"SecretId":"s"}', ["versionStage"]),
        ("RemoveRegionsFromReplication", b'{"SecretId":"s"}', ["removeReplicaRegions"]),
        ("ReplicateSecretToRegions", b'{"SecretId":"s"}', ["addReplicaRegions"]),
        ("ValidateResourcePolicy", b'{"SecretId":"s"}', ["resourcePolicy"]),
        ("CancelRotateSecret", b"{}", ["secretId"]),
        ("DeleteResourcePolicy", b"{}", ["secretId"]),
        ("DeleteSecret", b"{}", ["secretId"]),
        ("GetResourcePolicy", b"{}", ["secretId"]),
        ("ListSecretVersionIds", b"{}", ["secretId"]),
        ("PutSecretValue", b"{}", ["secretId"]),
        ("RestoreSecret", b"{}", ["secretId"]),
        ("RotateSecret", b"{}", ["secretId"]),
        ("StopReplicationToReplica", b"{}", ["secretId"]),
        ("UpdateSecret", b"{}", ["secretId"]),
    ],
)
def test_missing_required_members(op: str, body: bytes, paths: list[str]) -> None:
    e = error(op, body)
    parts = [f"Value null at '{p}' {NULL}" for p in paths]
    head = "1 validation error" if len(paths) == 1 else f"{len(paths)} validation errors"
    assert type(e) is ValidationError
    assert e.aws_code == "ValidationException"
    assert e.message == f"{head} detected: " + "; ".join(parts)
    assert e.field == paths[0]


def test_the_exact_text_of_a_missing_secret_id() -> None:
    assert error("GetSecretValue", b"{}").message == (
        "1 validation error detected: Value null at 'secretId' failed to satisfy constraint: "
        "Member must not be null"
    )


@pytest.mark.parametrize("op", ["BatchGetSecretValue", "GetRandomPassword", "ListSecrets"])
def test_operations_without_required_members_accept_an_empty_object(op: str) -> None:
    assert codec.decode(op, b"{}").ListFields() == []


@pytest.mark.parametrize(
    ("op", "body"),
    [
        ("CreateSecret", b'{"Name":"n","SecretString":"v"}'),
        ("CreateSecret", b'{"Name":"n","ClientRequestToken":null}'),
        ("UpdateSecret", b'{"SecretId":"s","Description":"d"}'),
        ("PutSecretValue", b'{"SecretId":"s","SecretString":"v"}'),
    ],
)
def test_client_request_token_is_required_on_the_wire(op: str, body: bytes) -> None:
    e = error(op, body)
    assert (type(e), e.aws_code, e.message) == (
        InvalidRequest, "InvalidRequestException",
        "You must provide a ClientRequestToken value. We recommend a UUID-type value.",
    )  # fmt: skip


def test_missing_members_are_reported_before_the_missing_token() -> None:
    assert error("PutSecretValue", b'{"SecretString":"v"}').aws_code == "ValidationException"


def test_rotate_secret_needs_no_token() -> None:
    got = codec.decode("RotateSecret", b'{"SecretId":"s"}')
    assert not got.HasField("client_request_token")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("AAE", "Base64 encoded length is expected a multiple of 4 bytes but found: 3"),
        ("AA E", "Invalid Base64 character"),
        ("AA*=", "Invalid Base64 character"),
        ("AA=A", "Invalid Base64 character"),
        ("====", "Invalid Base64 character"),
        ("AAé=", "Invalid Base64 character"),
        ("AAE_", "Invalid Base64 character"),  # URL-safe alphabet: not AWS's
        ("YR==", "Invalid last non-pad Base64 character dectected"),
    ],
)
def test_bad_base64_blob(value: str, reason: str) -> None:
    body = f'{{"SecretId":"s","ClientRequestToken":"{TOKEN}","SecretBinary":"{value}"}}'
    e = error("PutSecretValue", body.encode())
    assert e.aws_code == "SerializationException"
    assert e.message == f"A value (not shown) can not be converted to a Blob: {reason}"
    assert value not in e.message  # a SecretBinary is secret


def test_empty_blob_is_present_and_left_to_the_length_check() -> None:
    body = b'{"SecretId":"s","ClientRequestToken":"' + TOKEN.encode() + b'","SecretBinary":""}'
    got = codec.decode("PutSecretValue", body)
    assert got.HasField("secret_binary") and got.secret_binary == b""


def test_good_base64_round_trips_every_byte() -> None:
    raw = bytes(range(256)) * 3
    body = b'{"SecretId":"s","ClientRequestToken":"%s","SecretBinary":"%s"}' % (
        TOKEN.encode(), base64.b64encode(raw),
    )  # fmt: skip
    assert codec.decode("PutSecretValue", body).secret_binary == raw


def test_serialization_error_maps_to_invalid_argument() -> None:
    from google.rpc import code_pb2

    assert STATUS[SerializationError] == code_pb2.INVALID_ARGUMENT


def test_unknown_operation_is_the_callers_to_answer() -> None:
    with pytest.raises(KeyError):
        codec.decode("WatchSecrets", b"{}")
