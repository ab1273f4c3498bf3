"""The grpc.aio server of one Region: servicers, reflection, health."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import grpc
from google.rpc import error_details_pb2  # noqa: F401  (registers detail types for reflection)
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc.api.access import AccessLog
from smgrpc.api.descriptors import CommentedPool
from smgrpc.api.handlers import CallGuard, CallObserver, Gate
from smgrpc.api.services import generic_handler
from smgrpc.crypto.tls import TlsMaterial
from smgrpc.replication.limits import MAX_MESSAGE as MAX_REPLICATION_MESSAGE

SERVICE = pb.DESCRIPTOR.services_by_name["SecretsManager"]
# Receive limit above the API's own limits (64 KiB values, 20 KiB policies), so an oversized
# value is answered with the AWS error by the server, not a transport error; and at least the
# replication limit both ends share, so no batch a peer's shipper builds is refused for its size.
MAX_RECEIVE = max(4 * 1024 * 1024, MAX_REPLICATION_MESSAGE)
MAX_SEND = 8 * 1024 * 1024
PENDING_LIMIT = 100_000  # a bound, so a flood costs bounded memory before admission


def public_service(servicer: Any) -> tuple[Any, Any, Any]:
    """The SecretsManager service entry for build_server (callers need not know _pb)."""
    return (SERVICE, pb, servicer)


def build_server(
    servicers: list[tuple[Any, Any, Any]],
    gate: Gate | None = None,
    access: AccessLog | None = None,
    guards: Mapping[str, CallGuard] | None = None,
    reflection_on: bool = True,
    audit: Any = None,
    observer: CallObserver | None = None,
) -> tuple[grpc.aio.Server, health.aio.HealthServicer]:
    """servicers: (service descriptor, pb module, servicer object); gate: see handlers.Gate;
    guards: service full name → its guard (a service without one is not IAM-guarded: the
    replication service authenticates its peers itself). Health is always served and open;
    reflection is served (open, no credential) unless reflection_on is False (--no-reflection):
    then its method answers UNIMPLEMENTED like any unknown method. Reflection serves the
    descriptors with the protos' comments (api/descriptors.py)."""
    server = grpc.aio.server(
        options=[
            ("grpc.so_reuseport", 0),  # a port clash between Regions must fail loudly
            # grpc core cancels (CANCELLED, no details) calls it holds beyond a soft limit of 1000
            # not yet taken by the application. Let core hold the burst instead: our own
            # admission control (handlers.Gate) then refuses the excess with a retryable
            # RESOURCE_EXHAUSTED + RetryInfo, having done nothing.
            ("grpc.server.max_pending_requests", PENDING_LIMIT),
            ("grpc.server.max_pending_requests_hard_limit", PENDING_LIMIT),
            ("grpc.max_receive_message_length", MAX_RECEIVE),
            ("grpc.max_send_message_length", MAX_SEND),
            ("grpc.keepalive_time_ms", 120_000),
            ("grpc.http2.min_ping_interval_without_data_ms", 60_000),
        ]
    )
    names = []
    for descriptor, module, servicer in servicers:
        server.add_generic_rpc_handlers(
            (
                generic_handler(
                    descriptor,
                    module,
                    servicer,
                    gate,
                    access,
                    (guards or {}).get(descriptor.full_name),
                    audit,
                    observer,
                ),
            )
        )
        names.append(descriptor.full_name)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    if reflection_on:
        reflection.enable_server_reflection(
            (*names, health.SERVICE_NAME, reflection.SERVICE_NAME), server, pool=CommentedPool()
        )
    return server, health_servicer


async def set_serving(h: health.aio.HealthServicer, names: list[str]) -> None:
    for name in ("", *names):
        await h.set(name, health_pb2.HealthCheckResponse.SERVING)


def server_credentials(tls: TlsMaterial, *, mutual: bool) -> grpc.ServerCredentials:
    """TLS for the public port; mutual: the mTLS port, which requires a client certificate
    chaining to the client CA or the peer CA (which of the two is checked per call), and also
    serves the peer certificate to shippers that ask for `<region>.region.smgrpc` by SNI."""
    assert tls.server is not None
    pairs = [(tls.server.key_pem, tls.server.cert_pem)]
    if not mutual:
        return grpc.ssl_server_credentials(pairs)
    if tls.peer is not None:
        pairs.append((tls.peer.key_pem, tls.peer.cert_pem))
    roots = b"".join(pem for pem in (tls.client_ca_pem, tls.peer_ca_pem) if pem)
    return grpc.ssl_server_credentials(pairs, root_certificates=roots, require_client_auth=True)
