"""Authentication and authorization on the AWS wire, with boto3 and raw signed HTTP.

An IAM user made through the IAM gRPC API is allowed and denied by boto3 exactly where its
policy says (the wire goes through the same guard as gRPC); unsigned, badly signed, expired,
not-yet-valid and replayed requests are refused with AWS's codes and texts.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.auth
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.authn import altered, policy
from tests.awswire.conftest import ACCOUNT, REGION, AwsRegion, Key
from tests.awswire.raw import headers_for, post, signed

MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check "
    "your AWS Secret Access Key and signing method. Consult the service documentation for "
    "details."
)
UNRECOGNIZED = "The security token included in the request is invalid."
STAMP = r"(\d{8}T\d{6}Z)"
READER_POLICY = policy(
    {
        "Effect": "Allow",
        "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
        "Resource": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:auth/shared/*",
    },
    {
        "Effect": "Allow",
        "Action": ["secretsmanager:ListSecrets", "secretsmanager:BatchGetSecretValue"],
        "Resource": "*",
    },
)


def error(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = info.value.response["Error"]
    return err["Code"], err["Message"]


@pytest.fixture(scope="module")
def admin(aws: AwsRegion) -> Any:
    sm = aws.client()
    sm.create_secret(Name="auth/shared/a", SecretString="shared-a")
    sm.create_secret(Name="auth/private/b", SecretString="private-b")
    return sm


@pytest.fixture(scope="module")
def reader(aws: AwsRegion, admin: Any) -> Key:
    return aws.user("reader", READER_POLICY)


def stamp(t: datetime) -> str:
    return t.strftime("%Y%m%dT%H%M%SZ")


def test_iam_user_allowed_and_denied_by_its_policy(aws: AwsRegion, admin: Any, reader: Key) -> None:
    sm = aws.client(reader)
    assert sm.get_secret_value(SecretId="auth/shared/a")["SecretString"] == "shared-a"
    assert sm.describe_secret(SecretId="auth/shared/a")["Name"] == "auth/shared/a"
    private_arn = admin.describe_secret(SecretId="auth/private/b")["ARN"]
    with pytest.raises(ClientError) as info:
        sm.get_secret_value(SecretId="auth/private/b")
    assert error(info) == (
        "AccessDeniedException",
        f"User: arn:aws:iam::{ACCOUNT}:user/reader is not authorized to perform: "
        f"secretsmanager:GetSecretValue on resource: {private_arn} because no identity-based "
        "policy allows the secretsmanager:GetSecretValue action",
    )
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as info:  # a write it was never given
        sm.put_secret_value(SecretId="auth/shared/a", SecretString="mine now")
    assert error(info)[0] == "AccessDeniedException"
    assert "secretsmanager:PutSecretValue" in error(info)[1]
    assert admin.get_secret_value(SecretId="auth/shared/a")["SecretString"] == "shared-a"
    # ListSecrets shows only what the caller may DescribeSecret (same planner as gRPC).
    names = [
        s["Name"]
        for s in sm.list_secrets(Filters=[{"Key": "name", "Values": ["auth/"]}])["SecretList"]
    ]
    assert names == ["auth/shared/a"]
    # BatchGetSecretValue by id reports the denied one in Errors.
    got = sm.batch_get_secret_value(SecretIdList=["auth/shared/a", "auth/private/b"])
    assert [v["Name"] for v in got["SecretValues"]] == ["auth/shared/a"]
    assert [(e["SecretId"], e["ErrorCode"]) for e in got["Errors"]] == [
        ("auth/private/b", "AccessDeniedException")
    ]
    # A resource policy naming the user grants it the private secret too.
    admin.put_resource_policy(
        SecretId="auth/private/b",
        ResourcePolicy=json.dumps(
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
        ),
    )
    assert sm.get_secret_value(SecretId="auth/private/b")["SecretString"] == "private-b"


def test_unsigned_requests_are_refused(aws: AwsRegion, admin: Any) -> None:
    raw = post(aws.endpoint, headers_for("GetSecretValue"), b'{"SecretId":"auth/shared/a"}')
    assert raw.status == 400
    assert raw.headers["content-type"].startswith("application/x-amz-json-1.1")
    assert raw.headers["x-amzn-errortype"].startswith("MissingAuthenticationTokenException")
    assert raw.headers["x-amzn-requestid"]
    body = raw.json()
    assert body["__type"] == "MissingAuthenticationTokenException"
    assert body["message"] == body["Message"] == "Missing Authentication Token"
    assert b"shared-a" not in raw.body
    # botocore's own unsigned mode parses the same answer
    sm = aws.client(config=Config(signature_version=UNSIGNED))
    with pytest.raises(ClientError) as info:
        sm.get_secret_value(SecretId="auth/shared/a")
    assert error(info) == ("MissingAuthenticationTokenException", "Missing Authentication Token")


def test_bad_signatures_and_unknown_keys_are_refused(aws: AwsRegion, admin: Any) -> None:
    wrong = aws.client(Key(aws.admin.key_id, altered(aws.admin.secret)))
    with pytest.raises(ClientError) as info:
        wrong.get_secret_value(SecretId="auth/shared/a")
    assert error(info) == ("InvalidSignatureException", MISMATCH)
    with pytest.raises(ClientError) as info:  # a write is refused before anything is written
        wrong.put_secret_value(SecretId="auth/shared/a", SecretString="forged")
    assert error(info) == ("InvalidSignatureException", MISMATCH)
    assert admin.get_secret_value(SecretId="auth/shared/a")["SecretString"] == "shared-a"
    unknown = aws.client(Key("AKIAUNKNOWNUNKNOWN23", aws.admin.secret))
    with pytest.raises(ClientError) as info:
        unknown.get_secret_value(SecretId="auth/shared/a")
    assert error(info) == ("UnrecognizedClientException", UNRECOGNIZED)
    # A body altered after signing (the signature covers sha256(body)).
    headers, body = signed(aws.endpoint, aws.admin, "GetSecretValue", {"SecretId": "auth/shared/a"})
    tampered = body.replace(b"auth/shared/a", b"auth/private/b")
    got = post(aws.endpoint, headers, tampered)
    assert got.status == 400 and got.json()["__type"] == "InvalidSignatureException"
    assert b"private-b" not in got.body
    # Signed for another Region.
    other = aws._session.client(
        "secretsmanager",
        endpoint_url=aws.endpoint,
        region_name="eu-west-1",
        aws_access_key_id=aws.admin.key_id,
        aws_secret_access_key=aws.admin.secret,
    )
    with pytest.raises(ClientError) as info:
        other.get_secret_value(SecretId="auth/shared/a")
    assert error(info)[0] == "InvalidSignatureException"
    assert "Credential should be scoped to a valid region." in error(info)[1]


@pytest.mark.parametrize("offset", [-6, 6])
def test_a_clock_six_minutes_off_is_refused(
    aws: AwsRegion, admin: Any, monkeypatch: pytest.MonkeyPatch, offset: int
) -> None:
    """boto3 itself, its signing clock 6 minutes behind / ahead (botocore's clock, patched)."""
    when = datetime.now(UTC).replace(tzinfo=None, microsecond=0) + timedelta(minutes=offset)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda remove_tzinfo=True: when)
    sm = aws.client()
    with pytest.raises(ClientError) as info:
        sm.get_secret_value(SecretId="auth/shared/a")
    code, message = error(info)
    assert code == "InvalidSignatureException"
    if offset < 0:
        m = re.fullmatch(
            rf"Signature expired: {stamp(when)} is now earlier than {STAMP} \({STAMP} - 5 min\.\)",
            message,
        )
    else:
        m = re.fullmatch(
            rf"Signature not yet current: {stamp(when)} is still later than {STAMP} "
            rf"\({STAMP} \+ 5 min\.\)",
            message,
        )
    assert m, message
    bound, now = (datetime.strptime(g, "%Y%m%dT%H%M%SZ") for g in m.groups())
    assert bound - now == timedelta(minutes=5 if offset > 0 else -5)
    assert abs((now - datetime.now(UTC).replace(tzinfo=None)).total_seconds()) < 30


def test_four_minutes_off_is_still_accepted(aws: AwsRegion, admin: Any) -> None:
    when = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=4)
    headers, body = signed(
        aws.endpoint, aws.admin, "GetSecretValue", {"SecretId": "auth/shared/a"}, when
    )
    got = post(aws.endpoint, headers, body)
    assert got.status == 200 and got.json()["SecretString"] == "shared-a"


def test_a_replayed_request_is_refused(aws: AwsRegion, admin: Any) -> None:
    headers, body = signed(aws.endpoint, aws.admin, "GetSecretValue", {"SecretId": "auth/shared/a"})
    first = post(aws.endpoint, headers, body)
    assert first.status == 200 and first.json()["SecretString"] == "shared-a"
    again = post(aws.endpoint, headers, body)
    assert again.status == 400
    assert again.json()["__type"] == "InvalidSignatureException"
    assert again.json()["message"].startswith("This signed request was already accepted once")
    assert b"shared-a" not in again.body


def test_a_captured_boto3_request_sent_again_is_refused(aws: AwsRegion, admin: Any) -> None:
    """What boto3 really sent (its amz-sdk-invocation-id too), captured and sent verbatim."""
    sm = aws.client()
    captured: list[tuple[dict[str, str], bytes]] = []

    def capture(request: Any, **_: Any) -> None:
        captured.append((dict(request.headers.items()), bytes(request.body)))

    sm.create_secret(Name="auth/shared/replay", SecretString="v1")
    sm.meta.events.register("before-send.secrets-manager.PutSecretValue", capture)
    put = sm.put_secret_value(SecretId="auth/shared/replay", SecretString="v2")
    assert len(captured) == 1
    headers, body = captured[0]
    assert "amz-sdk-invocation-id" in {k.lower() for k in headers}
    again = post(aws.endpoint, headers, body)
    assert again.status == 400 and again.json()["__type"] == "InvalidSignatureException"
    versions = admin.list_secret_version_ids(SecretId="auth/shared/replay")["Versions"]
    assert len(versions) == 2 and put["VersionId"] in {v["VersionId"] for v in versions}
    # Two identical boto3 calls within one second are both answered (fresh invocation ids).
    for _ in range(3):
        assert sm.get_secret_value(SecretId="auth/shared/replay")["SecretString"] == "v2"
