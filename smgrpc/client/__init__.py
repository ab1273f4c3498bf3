"""The typed Python client of smgrpc (sync and asyncio). Imports only grpc, protobuf, the
googleapis protos, grpc-status and the generated code in smgrpc._pb (never the server)."""

from smgrpc.client import errors
from smgrpc.client.aio import AsyncSecretsManagerClient
from smgrpc.client.errors import ClientError, ServiceError
from smgrpc.client.retry import RetryPolicy
from smgrpc.client.settings import ClientSettings, settings
from smgrpc.client.sync import EventStream, SecretsManagerClient

__all__ = [
    "AsyncSecretsManagerClient",
    "ClientError",
    "ClientSettings",
    "EventStream",
    "RetryPolicy",
    "SecretsManagerClient",
    "ServiceError",
    "errors",
    "settings",
]
