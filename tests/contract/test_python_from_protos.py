"""The README's Python recipe: code generated from protos/ with grpcio-tools, the google.rpc
import resolved from googleapis-common-protos alone, calling a real server."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import google.rpc

from smgrpc.app import Region

ROOT = Path(__file__).resolve().parents[2]
SITE = os.path.dirname(os.path.dirname(list(google.rpc.__path__)[0]))  # the README's GOOGLEAPIS

CLIENT = textwrap.dedent(
    """
    import json, sys
    gen, site, endpoint, token = sys.argv[1:5]
    sys.path[:0] = [gen, site]  # python -S: no .pth files, so not this repository's smgrpc
    import grpc
    from google.rpc import error_details_pb2
    from grpc_status import rpc_status
    from smgrpc.secretsmanager.v1 import secretsmanager_pb2 as pb, secretsmanager_pb2_grpc as pbg
    assert pb.__file__.startswith(gen), pb.__file__
    md = (("authorization", "Bearer " + token),)
    with grpc.insecure_channel(endpoint) as ch:
        stub = pbg.SecretsManagerStub(ch)
        req = pb.CreateSecretRequest(name="py/gen", secret_string="v1")
        made = stub.CreateSecret(req, metadata=md)
        got = stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="py/gen"), metadata=md)
        try:
            stub.DescribeSecret(pb.DescribeSecretRequest(secret_id="py/none"), metadata=md)
        except grpc.RpcError as err:
            info = error_details_pb2.ErrorInfo()
            [d for d in rpc_status.from_call(err).details if d.Unpack(info)]
    code = info.metadata["awsErrorCode"]
    print(json.dumps({"arn": made.arn, "value": got.secret_string, "code": code}))
    """
)


async def test_generated_python_code_calls_the_server(region: Region, tmp_path: Path) -> None:
    gen = tmp_path / "gen"
    gen.mkdir()
    protoc = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{ROOT / 'protos'}",
            f"-I{SITE}",
            f"--python_out={gen}",
            f"--grpc_python_out={gen}",
            "smgrpc/secretsmanager/v1/secretsmanager.proto",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert protoc.returncode == 0, protoc.stderr
    token = region.admin_token_path.read_text().strip()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-S",
        "-c",
        CLIENT,
        str(gen),
        SITE,
        f"127.0.0.1:{region.port}",
        token,
        cwd=tmp_path,  # not the repository root, whose smgrpc package would shadow gen/
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    result = json.loads(out)
    assert result["arn"].startswith("arn:aws:secretsmanager:us-east-1:123456789012:secret:py/gen-")
    assert result == {"arn": result["arn"], "value": "v1", "code": "ResourceNotFoundException"}
