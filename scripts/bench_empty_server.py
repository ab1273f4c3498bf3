"""Baseline for scripts/bench: an empty grpc.aio unary handler with GetSecretValue's types.

Serves /smgrpc.secretsmanager.v1.SecretsManager/GetSecretValue (same request and response
classes, same path, same server options as smgrpc's build_server, plain asyncio loop, one
process) and returns one fixed GetSecretValueResponse shaped like smgrpc's answer for the
benchmark secret (ARN, name, version id, one label, a timestamp and a ~100-byte string). It does
no lookup, no decryption and no storage: the floor that any Python gRPC handler pays.

Usage: python scripts/bench_empty_server.py --listen 127.0.0.1:PORT [--value-size 100]
Prints "ready PORT" on stdout once serving; stops on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb  # noqa: E402

OFF = {"0", "off", "false", "no"}
SERVICE = "smgrpc.secretsmanager.v1.SecretsManager"
# Same list as smgrpc/api/server.py build_server (kept in step by hand: a baseline must not
# import the code it is the baseline for).
OPTIONS = [
    ("grpc.so_reuseport", 0),
    ("grpc.server.max_pending_requests", 1_000_000),
    ("grpc.server.max_pending_requests_hard_limit", 1_000_000),
    ("grpc.max_receive_message_length", 4 * 1024 * 1024),
    ("grpc.max_send_message_length", 8 * 1024 * 1024),
    ("grpc.keepalive_time_ms", 120_000),
    ("grpc.http2.min_ping_interval_without_data_ms", 60_000),
]


def fixed_response(value_size: int) -> pb.GetSecretValueResponse:
    out = pb.GetSecretValueResponse(
        arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:bench/value-AbCdEf",
        name="bench/value",
        version_id="00000000-0000-4000-8000-000000000000",
        secret_string="x" * value_size,
    )
    out.version_stages.append("AWSCURRENT")
    out.created_date.FromSeconds(1_700_000_000)
    return out


async def serve(listen: str, value_size: int) -> None:
    response = fixed_response(value_size)

    async def get_secret_value(
        request: pb.GetSecretValueRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetSecretValueResponse:
        return response

    handler = grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "GetSecretValue": grpc.unary_unary_rpc_method_handler(
                get_secret_value,
                request_deserializer=pb.GetSecretValueRequest.FromString,
                response_serializer=pb.GetSecretValueResponse.SerializeToString,
            ),
        },
    )
    server = grpc.aio.server(options=OPTIONS)
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port(listen)
    if port == 0:
        raise SystemExit(f"cannot bind {listen}")
    await server.start()
    print(f"ready {port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop(1)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--listen", required=True)
    p.add_argument("--value-size", type=int, default=100)
    args = p.parse_args()
    # Same event loop as `smgrpc serve` (uvloop unless SMGRPC_UVLOOP=off): a fair baseline.
    from smgrpc.cli.main import _loop_factory

    uvloop_on = os.environ.get("SMGRPC_UVLOOP", "on").strip().lower() not in OFF
    with asyncio.Runner(loop_factory=_loop_factory(uvloop_on)) as runner:
        runner.run(serve(args.listen, args.value_size))


if __name__ == "__main__":
    main()
