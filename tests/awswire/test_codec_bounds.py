"""codec.decode's cost bounds (it runs before authentication): list lengths checked before
conversion, the number of JSON values before parsing; legitimate bodies unaffected."""

from __future__ import annotations

import json

import pytest

from smgrpc.awswire import codec
from smgrpc.core.errors import SerializationError, ValidationError


def body(**members: object) -> bytes:
    return json.dumps(members).encode()


def test_a_list_over_the_cap_is_refused_before_conversion() -> None:
    flt = {"Key": "name", "Values": ["a"]}
    with pytest.raises(ValidationError) as info:
        codec.decode("ListSecrets", body(Filters=[flt] * 101))
    assert str(info.value) == (
        "1 validation error detected: Value at 'filters' failed to satisfy constraint: "
        "Member must have length less than or equal to 10"
    )
    assert len(codec.decode("ListSecrets", body(Filters=[flt] * 11)).filters) == 11  # gRPC's
    with pytest.raises(ValidationError, match="'filters.1.member.values'.* equal to 10$"):
        codec.decode("ListSecrets", body(Filters=[{"Key": "name", "Values": ["a"] * 101}]))
    with pytest.raises(ValidationError, match="'tagKeys'.* equal to 100$"):  # no model max
        codec.decode("UntagResource", body(SecretId="s", TagKeys=["k"] * 101))


def test_too_many_json_values_are_refused_before_parsing() -> None:
    with pytest.raises(SerializationError, match="more than 16384 JSON values"):
        codec.decode("ListSecrets", b'{"Unknown":[' + b",".join([b"[]"] * 20000) + b"]}")
    with pytest.raises(SerializationError, match="more than 16384 JSON values"):
        codec.decode("ListSecrets", b'{"Unknown":[' + b",".join([b'"a"'] * 20000) + b"]}")


def test_a_secret_full_of_commas_and_braces_is_not_refused() -> None:
    secret = json.dumps([[1, 2]] * 20000, separators=(",", ":"))[:65536]  # 32,000 of ,[
    got = codec.decode("PutSecretValue", body(SecretId="s", SecretString=secret,
                                              ClientRequestToken="t" * 32))  # fmt: skip
    assert got.secret_string == secret and codec.values_bound(body(s=secret)) > codec.MAX_VALUES
