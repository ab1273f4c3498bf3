"""Every model limit of the 14 implemented operations, exercised through the API."""

from __future__ import annotations

import grpc
import pytest

from tests.api.helpers import (
    INVALID_NAME,
    TOKEN_LENGTH,
    create,
    describe,
    expect,
    flt,
    get,
    put,
    tok,
    validation_msg,
)
from tests.conftest import pb

BAD = grpc.StatusCode.INVALID_ARGUMENT
VALIDATION = "ValidationException"
INVALID = "InvalidParameterException"
MAX_LEN = "Member must have length less than or equal to {}"
MIN_LEN = "Member must have length greater than or equal to {}"


# ---- names and ids ----


async def test_name_512_ok_513_rejected(stub) -> None:
    ok = "n" * 512
    r = await create(stub, ok)
    assert r.name == ok
    assert (await describe(stub, ok)).name == ok
    await expect(
        create(stub, "n" * 513), BAD, VALIDATION, validation_msg("name", MAX_LEN.format(512))
    )


async def test_empty_name_rejected(stub) -> None:
    await expect(create(stub, ""), BAD, VALIDATION, validation_msg("name", MIN_LEN.format(1), ""))


@pytest.mark.parametrize(
    "name", ["Valid/_+=.@-Name", "Valid/_+=.@-Name-a1b2", "Valid-a1b2c3-", "A9"]
)
async def test_valid_names_accepted(stub, name: str) -> None:
    assert (await create(stub, name)).name == name


@pytest.mark.parametrize(
    "name",
    [
        "has space",
        "star*",
        "what?",
        "br]acket",
        "back\\slash",
        "caf\u00e9",
        "tab\tx",
        "colon:x",
        "semi;x",
    ],
)
async def test_invalid_name_characters(stub, name: str) -> None:
    await expect(create(stub, name), BAD, VALIDATION, INVALID_NAME)


async def test_invalid_name_as_secret_id(stub) -> None:
    await expect(describe(stub, "bad name"), BAD, VALIDATION, INVALID_NAME)
    await expect(get(stub, "x*y"), BAD, VALIDATION, INVALID_NAME)


async def test_secret_id_2048_ok_2049_rejected(stub) -> None:
    # 2048 characters is a valid id that simply names nothing.
    await expect(describe(stub, "a" * 2048), grpc.StatusCode.NOT_FOUND, "ResourceNotFoundException")
    await expect(
        describe(stub, "a" * 2049),
        BAD,
        VALIDATION,
        validation_msg("secretId", MAX_LEN.format(2048)),
    )
    await expect(get(stub, ""), BAD, VALIDATION, validation_msg("secretId", MIN_LEN.format(1), ""))
    await expect(
        stub.DeleteSecret(pb.DeleteSecretRequest(secret_id="a" * 2049)),
        BAD,
        VALIDATION,
        validation_msg("secretId", MAX_LEN.format(2048)),
    )


# ---- description ----


async def test_description_2048_ok_2049_rejected(stub) -> None:
    await create(stub, "d", description="x" * 2048)
    assert (await describe(stub, "d")).description == "x" * 2048
    await expect(
        create(stub, "d2", description="x" * 2049),
        BAD,
        VALIDATION,
        validation_msg("description", MAX_LEN.format(2048)),
    )
    await expect(
        stub.UpdateSecret(pb.UpdateSecretRequest(secret_id="d", description="x" * 2049)),
        BAD,
        VALIDATION,
        validation_msg("description", MAX_LEN.format(2048)),
    )


# ---- values ----

STRING_TOO_LONG = validation_msg("secretString", MAX_LEN.format(65536))
BINARY_TOO_LONG = validation_msg("secretBinary", MAX_LEN.format(65536))


async def test_value_65536_bytes_ok_65537_rejected(stub) -> None:
    await create(stub, "big", "x" * 65536)
    assert (await get(stub, "big")).secret_string == "x" * 65536
    await expect(create(stub, "big2", "x" * 65537), BAD, VALIDATION, STRING_TOO_LONG)
    await expect(put(stub, "big", "x" * 65537), BAD, VALIDATION, STRING_TOO_LONG)
    await expect(
        stub.UpdateSecret(pb.UpdateSecretRequest(secret_id="big", secret_string="y" * 65537)),
        BAD,
        VALIDATION,
        STRING_TOO_LONG,
    )


async def test_value_limit_counts_utf8_bytes(stub) -> None:
    two = "\u00e9" * 32768  # 2 bytes each: exactly 65536 bytes
    four = "\U0001f600" * 16384  # 4 bytes each: exactly 65536 bytes
    await create(stub, "two", two)
    await create(stub, "four", four)
    assert (await get(stub, "two")).secret_string == two
    assert (await get(stub, "four")).secret_string == four
    await expect(create(stub, "over", two + "x"), BAD, VALIDATION, STRING_TOO_LONG)
    # 21846 characters, but 65538 bytes.
    await expect(put(stub, "two", "\u20ac" * 21846), BAD, VALIDATION, STRING_TOO_LONG)


async def test_binary_65536_ok_65537_rejected(stub) -> None:
    blob = bytes(range(256)) * 256
    await create(stub, "b", None, secret_binary=blob)
    assert (await get(stub, "b")).secret_binary == blob
    await expect(
        create(stub, "b2", None, secret_binary=blob + b"x"), BAD, VALIDATION, BINARY_TOO_LONG
    )
    await expect(put(stub, "b", secret_binary=blob + b"x"), BAD, VALIDATION, BINARY_TOO_LONG)


async def test_too_long_value_message_does_not_echo_value(stub) -> None:
    err = await expect(create(stub, "leak", "SECRETPART" * 7000), BAD, VALIDATION)
    assert "SECRETPART" not in err.message


async def test_empty_values_rejected(stub) -> None:
    await expect(
        create(stub, "e", ""), BAD, VALIDATION, validation_msg("secretString", MIN_LEN.format(1))
    )
    await expect(
        create(stub, "e", None, secret_binary=b""),
        BAD,
        VALIDATION,
        validation_msg("secretBinary", MIN_LEN.format(1)),
    )
    await create(stub, "e", "v")
    # PutSecretValue: an empty value counts as no value (AWS: InvalidRequestException).
    neither = "You must provide either SecretString or SecretBinary."
    await expect(
        put(stub, "e", ""), grpc.StatusCode.FAILED_PRECONDITION, "InvalidRequestException", neither
    )
    await expect(
        put(stub, "e"), grpc.StatusCode.FAILED_PRECONDITION, "InvalidRequestException", neither
    )
    await expect(
        put(stub, "e", secret_binary=b""),
        grpc.StatusCode.FAILED_PRECONDITION,
        "InvalidRequestException",
        neither,
    )


async def test_both_values_rejected_on_put_and_update(stub) -> None:
    both = (
        "You can't specify both a binary secret value and a string secret value in the same secret."
    )
    await create(stub, "s")
    await expect(put(stub, "s", "a", secret_binary=b"b"), BAD, INVALID, both)
    await expect(
        stub.UpdateSecret(
            pb.UpdateSecretRequest(secret_id="s", secret_string="a", secret_binary=b"b")
        ),
        BAD,
        INVALID,
        both,
    )
    assert (await get(stub, "s")).secret_string == "v"


# ---- ClientRequestToken ----


@pytest.mark.parametrize("n", [31, 65, 1])
async def test_token_length_rejected(stub, n: int) -> None:
    await expect(create(stub, "t", client_request_token="t" * n), BAD, INVALID, TOKEN_LENGTH)
    await create(stub, "ok")
    await expect(put(stub, "ok", "v2", client_request_token="t" * n), BAD, INVALID, TOKEN_LENGTH)
    await expect(
        stub.UpdateSecret(
            pb.UpdateSecretRequest(secret_id="ok", secret_string="v3", client_request_token="t" * n)
        ),
        BAD,
        INVALID,
        TOKEN_LENGTH,
    )


@pytest.mark.parametrize("n", [32, 64])
async def test_token_length_bounds_accepted(stub, n: int) -> None:
    r = await create(stub, "t", client_request_token="a" * n)
    assert r.version_id == "a" * n
    p = await put(stub, "t", "v2", client_request_token="b" * n)
    assert p.version_id == "b" * n


# ---- tags ----


def _tags(n: int) -> list[pb.Tag]:
    return [pb.Tag(key=f"k{i}", value=f"v{i}") for i in range(n)]


async def test_fifty_tags_ok_fifty_one_rejected(stub) -> None:
    await create(stub, "t50", tags=_tags(50))
    assert len((await describe(stub, "t50")).tags) == 50
    await expect(
        create(stub, "t51", tags=_tags(51)),
        BAD,
        VALIDATION,
        validation_msg("tags", MAX_LEN.format(50)),
    )
    await expect(describe(stub, "t51"), grpc.StatusCode.NOT_FOUND, "ResourceNotFoundException")


async def test_tag_resource_cannot_exceed_fifty(stub) -> None:
    await create(stub, "t", tags=_tags(49))
    await stub.TagResource(
        pb.TagResourceRequest(
            secret_id="t", tags=[pb.Tag(key="k0", value="new"), pb.Tag(key="extra", value="")]
        )
    )
    err = await expect(
        stub.TagResource(
            pb.TagResourceRequest(secret_id="t", tags=[pb.Tag(key="one-more", value="")])
        ),
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "LimitExceededException",
        "A secret can have at most 50 tags.",
    )
    assert err.reason == "LIMIT_EXCEEDED"
    assert len((await describe(stub, "t")).tags) == 50


async def test_tag_key_and_value_lengths(stub) -> None:
    await create(stub, "ok", tags=[pb.Tag(key="k" * 128, value="v" * 256)])
    d = await describe(stub, "ok")
    assert [(t.key, t.value) for t in d.tags] == [("k" * 128, "v" * 256)]
    await expect(
        create(stub, "k", tags=[pb.Tag(key="k" * 129, value="")]),
        BAD,
        VALIDATION,
        validation_msg("tags.1.member.key", MAX_LEN.format(128), "k" * 129),
    )
    await expect(
        create(stub, "v", tags=[pb.Tag(key="a", value="b"), pb.Tag(key="k", value="v" * 257)]),
        BAD,
        VALIDATION,
        validation_msg("tags.2.member.value", MAX_LEN.format(256)),
    )
    await expect(
        create(stub, "e", tags=[pb.Tag(key="", value="x")]),
        BAD,
        VALIDATION,
        validation_msg("tags.1.member.key", MIN_LEN.format(1), ""),
    )
    await expect(
        stub.TagResource(pb.TagResourceRequest(secret_id="ok", tags=[pb.Tag(key="k" * 129)])),
        BAD,
        VALIDATION,
        validation_msg("tags.1.member.key", MAX_LEN.format(128), "k" * 129),
    )


@pytest.mark.parametrize("key", ["aws:x", "AWS:team", "aws:secretsmanager:owningService"])
async def test_aws_prefix_reserved(stub, key: str) -> None:
    msg = "Invalid tag key: keys that start with 'aws:' are reserved for AWS use."
    await expect(create(stub, "p", tags=[pb.Tag(key=key, value="v")]), BAD, INVALID, msg)
    await create(stub, "q")
    await expect(
        stub.TagResource(pb.TagResourceRequest(secret_id="q", tags=[pb.Tag(key=key, value="v")])),
        BAD,
        INVALID,
        msg,
    )
    await expect(
        stub.UntagResource(pb.UntagResourceRequest(secret_id="q", tag_keys=[key])),
        BAD,
        INVALID,
        msg,
    )


async def test_tag_characters(stub) -> None:
    await create(stub, "ok", tags=[pb.Tag(key="a b_.:/=+-@\u00e9", value="Z 9_.:/=+-@")])
    await expect(create(stub, "bad", tags=[pb.Tag(key="semi;colon", value="")]), BAD, VALIDATION)
    await expect(create(stub, "bad", tags=[pb.Tag(key="k", value="star*")]), BAD, VALIDATION)


async def test_duplicate_tag_keys_on_create(stub) -> None:
    await expect(
        create(stub, "dup", tags=[pb.Tag(key="a", value="1"), pb.Tag(key="a", value="2")]),
        BAD,
        INVALID,
        "Duplicate tag keys are not allowed.",
    )


# ---- version stages ----


async def test_version_stages_20_items_256_chars(stub) -> None:
    await create(stub, "s")
    labels = [f"L{i}" for i in range(19)] + ["x" * 256]
    p = await put(stub, "s", "v", version_stages=labels)
    assert list(p.version_stages) == labels
    await expect(
        put(stub, "s", "v", version_stages=[f"L{i}" for i in range(21)]),
        BAD,
        VALIDATION,
        validation_msg("versionStages", MAX_LEN.format(20)),
    )
    await expect(
        put(stub, "s", "v", version_stages=["ok", "x" * 257]),
        BAD,
        VALIDATION,
        validation_msg("versionStages.2.member", MAX_LEN.format(256)),
    )
    await expect(
        put(stub, "s", "v", version_stages=[""]),
        BAD,
        VALIDATION,
        validation_msg("versionStages.1.member", MIN_LEN.format(1), ""),
    )


async def test_get_secret_value_version_id_and_stage_lengths(stub) -> None:
    await create(stub, "s")
    await expect(
        get(stub, "s", version_id="v" * 31),
        BAD,
        VALIDATION,
        validation_msg("versionId", MIN_LEN.format(32), "v" * 31),
    )
    await expect(
        get(stub, "s", version_id="v" * 65),
        BAD,
        VALIDATION,
        validation_msg("versionId", MAX_LEN.format(64), "v" * 65),
    )
    await expect(
        get(stub, "s", version_stage="x" * 257),
        BAD,
        VALIDATION,
        validation_msg("versionStage", MAX_LEN.format(256)),
    )
    await expect(
        get(stub, "s", version_stage=""),
        BAD,
        VALIDATION,
        validation_msg("versionStage", MIN_LEN.format(1), ""),
    )


async def test_update_secret_version_stage_lengths(stub) -> None:
    await create(stub, "s", client_request_token=tok(1))
    req = pb.UpdateSecretVersionStageRequest
    await expect(
        stub.UpdateSecretVersionStage(
            req(secret_id="s", version_stage="x" * 257, move_to_version_id=tok(1))
        ),
        BAD,
        VALIDATION,
        validation_msg("versionStage", MAX_LEN.format(256)),
    )
    await expect(
        stub.UpdateSecretVersionStage(
            req(secret_id="s", version_stage="L", move_to_version_id="m" * 31)
        ),
        BAD,
        VALIDATION,
        validation_msg("moveToVersionId", MIN_LEN.format(32), "m" * 31),
    )
    await expect(
        stub.UpdateSecretVersionStage(
            req(secret_id="s", version_stage="L", remove_from_version_id="r" * 65)
        ),
        BAD,
        VALIDATION,
        validation_msg("removeFromVersionId", MAX_LEN.format(64), "r" * 65),
    )


# ---- MaxResults / NextToken ranges ----


@pytest.mark.parametrize(
    ("value", "constraint"),
    [
        (0, "Member must have value greater than or equal to 1"),
        (101, "Member must have value less than or equal to 100"),
        (-5, "Member must have value greater than or equal to 1"),
    ],
)
async def test_list_secrets_max_results_range(stub, value: int, constraint: str) -> None:
    await expect(
        stub.ListSecrets(pb.ListSecretsRequest(max_results=value)),
        BAD,
        VALIDATION,
        validation_msg("maxResults", constraint, str(value)),
    )


async def test_list_secrets_max_results_bounds_accepted(stub) -> None:
    await create(stub, "a")
    for n in (1, 100):
        resp = await stub.ListSecrets(pb.ListSecretsRequest(max_results=n))
        assert [e.name for e in resp.secret_list] == ["a"]


async def test_list_secret_version_ids_max_results_range(stub) -> None:
    await create(stub, "s")
    for value, constraint in (
        (0, "Member must have value greater than or equal to 1"),
        (101, "Member must have value less than or equal to 100"),
    ):
        await expect(
            stub.ListSecretVersionIds(
                pb.ListSecretVersionIdsRequest(secret_id="s", max_results=value)
            ),
            BAD,
            VALIDATION,
            validation_msg("maxResults", constraint, str(value)),
        )


async def test_batch_get_max_results_range(stub) -> None:
    await create(stub, "s")
    for value, constraint in (
        (0, "Member must have value greater than or equal to 1"),
        (21, "Member must have value less than or equal to 20"),
    ):
        await expect(
            stub.BatchGetSecretValue(
                pb.BatchGetSecretValueRequest(filters=[flt("name", "s")], max_results=value)
            ),
            BAD,
            VALIDATION,
            validation_msg("maxResults", constraint, str(value)),
        )


async def test_batch_get_20_ids_ok_21_rejected(stub) -> None:
    for i in range(20):
        await create(stub, f"s{i}", f"v{i}")
    ok = await stub.BatchGetSecretValue(
        pb.BatchGetSecretValueRequest(secret_id_list=[f"s{i}" for i in range(20)])
    )
    assert [v.secret_string for v in ok.secret_values] == [f"v{i}" for i in range(20)]
    await expect(
        stub.BatchGetSecretValue(
            pb.BatchGetSecretValueRequest(secret_id_list=[f"s{i}" for i in range(21)])
        ),
        BAD,
        VALIDATION,
        validation_msg("secretIdList", MAX_LEN.format(20)),
    )


async def test_next_token_length(stub) -> None:
    await expect(
        stub.ListSecrets(pb.ListSecretsRequest(next_token="")),
        BAD,
        VALIDATION,
        validation_msg("nextToken", MIN_LEN.format(1), ""),
    )
    await expect(
        stub.ListSecrets(pb.ListSecretsRequest(next_token="x" * 4097)),
        BAD,
        VALIDATION,
        validation_msg("nextToken", MAX_LEN.format(4096)),
    )


async def test_kms_key_id_length(stub) -> None:
    await expect(
        create(stub, "k", kms_key_id="k" * 2049),
        BAD,
        VALIDATION,
        validation_msg("kmsKeyId", MAX_LEN.format(2048)),
    )


async def test_rotation_token_length_on_put(stub) -> None:
    await create(stub, "s")
    await expect(
        put(stub, "s", "v2", rotation_token="r" * 35),
        BAD,
        VALIDATION,
        validation_msg("rotationToken", MIN_LEN.format(36)),
    )


# ---- an invalid long value must still get its AWS error, not a transport error ----
# gRPC clients refuse trailers over 8 KiB (randomly) / 16 KiB (always) by default; a message
# that echoes a long value (twice: grpc-message and the BadRequest detail) then reaches the
# client as RESOURCE_EXHAUSTED "received metadata size exceeds ... limit". These cases use values
# far above that limit, so an echo would fail deterministically.

SORT_ENUM = (
    "Member must satisfy enum value set: "
    "[created-date, last-accessed-date, last-changed-date, name]"
)


async def test_long_invalid_sort_values_not_echoed(stub) -> None:
    await expect(
        stub.ListSecrets(pb.ListSecretsRequest(sort_by="x" * 5000)),
        BAD,
        VALIDATION,
        validation_msg("sortBy", SORT_ENUM),
    )
    await expect(
        stub.ListSecrets(pb.ListSecretsRequest(sort_order="d" * 5000)),
        BAD,
        VALIDATION,
        validation_msg("sortOrder", "Member must satisfy enum value set: [asc, desc]"),
    )


@pytest.mark.parametrize(
    "request_msg",
    [
        pb.ListSecretsRequest(filters=[flt("name", "x" * 20000)]),
        pb.ListSecretsRequest(filters=[flt("k" * 20000, "x")]),
        pb.ListSecretsRequest(filters=[flt("name", *["x" * 512] * 11)]),
        pb.GetRandomPasswordRequest(exclude_characters="x" * 20000),
    ],
    ids=["filter-value", "filter-key", "filter-values-list", "exclude-characters"],
)
async def test_long_invalid_values_get_an_aws_error(stub, request_msg) -> None:
    method = (
        "GetRandomPassword"
        if isinstance(request_msg, pb.GetRandomPasswordRequest)
        else "ListSecrets"
    )
    await expect(getattr(stub, method)(request_msg), BAD, VALIDATION)
