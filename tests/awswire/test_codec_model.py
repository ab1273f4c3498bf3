"""The AWS JSON codec's tables: the generated service model agrees with botocore and with our
proto, the largest values AWS allows go through, and the Tags presence the proto now carries
comes out of a real server."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import botocore
import orjson
import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc.awswire import codec, model
from tests.api.helpers import create
from tests.awswire.codec_cases import ARN, NAME, V1, ts
from tests.awswire.test_codec import boto_body, boto_read
from tests.conftest import pb as conftest_pb

ROOT = Path(__file__).resolve().parents[2]
MAX = 65_536

SCALAR = {
    "string": FieldDescriptor.TYPE_STRING,
    "long": FieldDescriptor.TYPE_INT64,
    "integer": FieldDescriptor.TYPE_INT32,
    "boolean": FieldDescriptor.TYPE_BOOL,
    "blob": FieldDescriptor.TYPE_BYTES,
}


def test_model_table_is_generated_from_the_pinned_botocore() -> None:
    assert model.BOTOCORE_VERSION == botocore.__version__
    gen = [sys.executable, str(ROOT / "scripts" / "gen-awswire-model"), "--check"]
    assert subprocess.run(gen, capture_output=True, text=True).returncode == 0


def _check(structure: str, desc: Descriptor, seen: set[str]) -> None:
    if structure in seen:
        return
    seen.add(structure)
    members = {m: k for m, k, _ in model.STRUCTURES[structure]}
    fields = {f.json_name: f for f in desc.fields if f.name != "tags_present"}
    assert set(fields) == set(members), structure
    for name, kind in members.items():
        fd = fields[name]
        where = f"{structure}.{name}"
        repeated = kind.startswith(("L:", "M:"))
        assert fd.is_repeated == repeated, where
        item = kind[2:] if kind.startswith("L:") else kind
        if kind.startswith("M:"):  # map<string, StageList>: an object of string lists
            assert kind == "M:string:L:string", where
            value = fd.message_type.fields_by_name["value"].message_type
            assert value.full_name == "smgrpc.secretsmanager.v1.StageList", where
        elif item == "timestamp":
            assert fd.message_type.full_name == "google.protobuf.Timestamp", where
        elif item.startswith("S:"):
            _check(item[2:], fd.message_type, seen)
        else:
            assert fd.type == SCALAR[item], where
        # Optional AWS scalars must have proto presence, except the always-set identifiers.
        if not repeated and item in SCALAR and not fd.has_presence:
            assert name in {"ARN", "Name", "VersionId", "SecretId", "ResourcePolicy",
                            "VersionStage", "RandomPassword", "PolicyValidationPassed",
                            "Region", "Status", "ErrorCode", "Message"}, where  # fmt: skip


def test_every_model_member_is_a_proto_field_of_the_same_type() -> None:
    seen: set[str] = set()
    for op, (inp, out) in model.OPERATIONS.items():
        _check(inp, getattr(pb, inp).DESCRIPTOR, seen)
        if out is None:
            assert getattr(pb, f"{op}Response").DESCRIPTOR.fields == []
        else:
            _check(out, getattr(pb, out).DESCRIPTOR, seen)


def test_only_describe_and_list_entries_carry_tags_presence() -> None:
    have = [m.name for m in pb.DESCRIPTOR.message_types_by_name.values()
            if "tags_present" in m.fields_by_name]  # fmt: skip
    assert sorted(have) == ["DescribeSecretResponse", "SecretListEntry"]


def test_largest_secret_string_round_trips() -> None:
    # JSON escapes and two-byte UTF-8 characters: 65,536 bytes of UTF-8 in all.
    value = "\u00e9" * (MAX // 2 - 4) + '"\\\n\t{}[]'
    assert len(value.encode()) == MAX
    params = {"SecretId": NAME, "ClientRequestToken": V1, "SecretString": value}
    got = codec.decode("PutSecretValue", boto_body("PutSecretValue", params))
    assert got.secret_string == value
    response = pb.GetSecretValueResponse(
        arn=ARN, name=NAME, version_id=V1, secret_string=value, version_stages=["AWSCURRENT"],
        created_date=ts(1700000000000),
    )  # fmt: skip
    body = codec.encode("GetSecretValue", response)
    assert orjson.loads(body)["SecretString"] == value
    assert boto_read("GetSecretValue", body)["SecretString"] == value


def test_largest_secret_binary_round_trips() -> None:
    raw = bytes(range(256)) * (MAX // 256)
    assert len(raw) == MAX
    params = {"SecretId": NAME, "ClientRequestToken": V1, "SecretBinary": raw}
    body = boto_body("PutSecretValue", params)
    assert base64.b64encode(raw) in body
    assert codec.decode("PutSecretValue", body).secret_binary == raw
    response = pb.GetSecretValueResponse(arn=ARN, name=NAME, version_id=V1, secret_binary=raw)
    out = codec.encode("GetSecretValue", response)
    assert orjson.loads(out)["SecretBinary"] == base64.b64encode(raw).decode()
    assert boto_read("GetSecretValue", out)["SecretBinary"] == raw


async def test_tags_presence_from_a_real_server(stub) -> None:
    await create(stub, "never")
    await create(stub, "emptied", tags=[conftest_pb.Tag(key="env", value="prod")])
    await stub.UntagResource(
        conftest_pb.UntagResourceRequest(secret_id="emptied", tag_keys=["env"])
    )
    await create(stub, "tagged", tags=[conftest_pb.Tag(key="env", value="prod")])
    read = {}
    for name in ("never", "emptied", "tagged"):
        d = await stub.DescribeSecret(conftest_pb.DescribeSecretRequest(secret_id=name))
        read[name] = boto_read("DescribeSecret", codec.encode("DescribeSecret", d)).get("Tags")
    assert read == {"never": None, "emptied": [], "tagged": [{"Key": "env", "Value": "prod"}]}
    listed = await stub.ListSecrets(conftest_pb.ListSecretsRequest())
    parsed = boto_read("ListSecrets", codec.encode("ListSecrets", listed))
    tags = {e["Name"]: e.get("Tags") for e in parsed["SecretList"]}
    assert tags == read


@pytest.mark.parametrize("op", sorted(codec.OPERATIONS))
def test_every_request_message_decodes_from_an_empty_object_or_says_what_is_missing(
    op: str,
) -> None:
    required = [m for m, _, r in model.STRUCTURES[model.OPERATIONS[op][0]] if r]
    try:
        codec.decode(op, b"{}")
    except Exception as e:  # noqa: BLE001 - the error is the subject
        assert getattr(e, "aws_code", None) in {"ValidationException", "InvalidRequestException"}
        assert required or op in {"CreateSecret", "UpdateSecret", "PutSecretValue"}
    else:
        assert not required


def test_smgrpc_cli_shows_tags_presence_as_aws_cli_does() -> None:
    from smgrpc.cli.awscli import to_json

    never = to_json(pb.DescribeSecretResponse(arn=ARN, name=NAME))
    emptied = to_json(pb.DescribeSecretResponse(arn=ARN, name=NAME, tags_present=True))
    assert "Tags" not in never and "TagsPresent" not in never
    assert emptied == {"ARN": ARN, "Name": NAME, "Tags": []}
