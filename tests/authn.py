"""Credentials for tests: policy documents, Bearer metadata, and a channel interceptor that
sends a Bearer credential with every call."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import grpc

ADMIN_POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)


def policy(*statements: Mapping[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def altered(text: str) -> str:
    """`text` with its last character replaced by a different one: a credential that is
    wrong by exactly one character (appending a fixed letter would be a no-op 1 time in 64)."""
    return text[:-1] + ("A" if text[-1] != "A" else "B")


def altered_bytes(blob: bytes) -> bytes:
    """`blob` with its last byte changed (always different)."""
    return blob[:-1] + bytes([blob[-1] ^ 0x01])


def metadata(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


class _Bearer(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    """Adds `authorization: Bearer <token>` to every call that has none of its own."""

    def __init__(self, token: Callable[[], str | None]) -> None:
        self._token = token

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        token = self._token()
        md = list(details.metadata or ())
        if token and not any(k == "authorization" for k, _ in md):
            md.append(("authorization", f"Bearer {token}"))
            details = details._replace(metadata=grpc.aio.Metadata(*md))
        return await continuation(details, request)


def interceptor(token: str | Callable[[], str | None] | None) -> grpc.aio.ClientInterceptor:
    """The Bearer interceptor alone (for secure channels the test builds itself)."""
    return _Bearer(token if callable(token) else (lambda: token))


def channel(
    addr: str, token: str | Callable[[], str | None] | None, *, own_connection: bool = False
) -> grpc.aio.Channel:
    """An insecure channel to addr that sends the token (a string, or read per call).
    own_connection: a connection of its own (grpc otherwise shares one between the channels
    of a process), so its calls come from another peer address."""
    get = token if callable(token) else (lambda: token)
    options = [("grpc.use_local_subchannel_pool", 1)] if own_connection else []
    return grpc.aio.insecure_channel(addr, options=options, interceptors=[_Bearer(get)])
