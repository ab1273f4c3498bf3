"""Retries: RESOURCE_EXHAUSTED (the admission gate's ThrottlingException + RetryInfo) and
UNAVAILABLE (a cut link) are retried with backoff for reads and writes with a
ClientRequestToken; a write without one is never retried."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from smgrpc.client import AsyncSecretsManagerClient, RetryPolicy, SecretsManagerClient, errors
from tests.api.helpers import tok
from tests.client.conftest import Served, serve
from tests.cluster.proxy import FaultProxy

T = TypeVar("T")
RETRY_LINE = re.compile(r"(\w+): retrying after (\w+) in ([0-9.]+) s")


@pytest.fixture
def gated(tmp_path: Path) -> Iterator[Served]:
    yield from serve(tmp_path, max_inflight=1)  # a second concurrent call is refused


def _retries(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str, float]]:
    out = []
    for r in caplog.records:
        m = RETRY_LINE.match(r.getMessage())
        if r.name == "smgrpc.client" and m:
            out.append((m[1], m[2], float(m[3])))
    return out


async def _outcome(call: Awaitable[T]) -> T | errors.ServiceError:
    try:
        return await call
    except errors.ServiceError as e:
        return e


def _async_client(served: Served, **kw: Any) -> AsyncSecretsManagerClient:
    kw.setdefault("retries", RetryPolicy(max_attempts=30))
    kw.setdefault("timeout", 30)
    return AsyncSecretsManagerClient(served.settings(), **kw)


def test_throttled_calls_are_retried_after_the_retry_info_delay(
    gated: Served, caplog: pytest.LogCaptureFixture
) -> None:
    """Reads and writes with a ClientRequestToken, refused by the admission gate while
    writes without a token keep it busy, are retried after the RetryInfo delay and succeed."""
    caplog.set_level(logging.INFO, logger="smgrpc.client")

    async def main() -> tuple[list[Any], list[Any], list[Any]]:
        async with _async_client(gated) as c:
            await c.create_secret(Name="busy", SecretString="0")
            await c.create_secret(Name="hot", SecretString="v")
            plain = [c.put_secret_value(SecretId="busy", SecretString=str(i)) for i in range(60)]
            reads = [c.get_secret_value(SecretId="hot") for _ in range(60)]
            tokened = [
                c.put_secret_value(SecretId="hot", SecretString="v", ClientRequestToken=tok(i))
                for i in range(20)
            ]
            out = await asyncio.gather(*(_outcome(x) for x in [*plain, *reads, *tokened]))
            return out[:60], out[60:120], out[120:]

    plain, reads, tokened = asyncio.run(main())
    assert [r.secret_string for r in reads] == ["v"] * 60  # type: ignore[union-attr]
    assert [r.version_id for r in tokened] == [tok(i) for i in range(20)]  # type: ignore[union-attr]
    refused_plain = [r for r in plain if isinstance(r, errors.ServiceError)]
    retries = _retries(caplog)
    # which calls the gate refuses is up to timing: reads and tokened writes, never the others
    assert retries and {op for op, _, _ in retries} <= {"GetSecretValue", "PutSecretValue"}
    assert {code for _, code, _ in retries} == {"RESOURCE_EXHAUSTED"}
    # every refusal was either retried or (a write without token) raised
    assert len(retries) + len(refused_plain) == gated.region.gate.refused
    # RetryInfo says 0.25 s: no retry came back sooner; none waited beyond max_delay
    assert all(0.25 <= d <= 2.0 for _, _, d in retries), retries


def test_a_write_without_client_request_token_is_never_retried(
    gated: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="smgrpc.client")

    async def main() -> tuple[list[Any], int]:
        async with _async_client(gated) as c:
            await c.create_secret(Name="w", SecretString="0")
            out = await asyncio.gather(
                *(
                    _outcome(c.put_secret_value(SecretId="w", SecretString=str(i)))
                    for i in range(100)
                )
            )
            listed = await c.list_secret_version_ids(SecretId="w", IncludeDeprecated=True)
            return out, len(listed.versions)

    results, versions = asyncio.run(main())
    refused = [r for r in results if isinstance(r, errors.ServiceError)]
    assert refused, "the burst must exceed the in-flight limit"
    assert all(isinstance(r, errors.ThrottlingException) for r in refused)
    e = refused[0]
    assert (e.code, e.message, e.retry_delay) == ("ThrottlingException", "Rate exceeded", 0.25)
    assert e.request_id and str(e).startswith(
        "An error occurred (ThrottlingException) when calling the PutSecretValue operation"
    )
    assert _retries(caplog) == []
    assert len(refused) == gated.region.gate.refused  # one attempt per refused call
    assert versions == 100 - len(refused) + 1  # nothing half-done, nothing done twice


@pytest.fixture
def proxied(served: Served) -> Iterator[tuple[Served, FaultProxy]]:
    proxy = FaultProxy()
    proxy.target = ("127.0.0.1", served.region.port)
    served.loop.run(proxy.start())
    try:
        yield served, proxy
    finally:
        served.loop.run(proxy.close())


def test_unavailable_is_retried_for_reads_until_the_link_heals(
    proxied: tuple[Served, FaultProxy], caplog: pytest.LogCaptureFixture
) -> None:
    served, proxy = proxied
    caplog.set_level(logging.INFO, logger="smgrpc.client")
    policy = RetryPolicy(max_attempts=50, base_delay=0.05, max_delay=0.2)
    s = served.settings(endpoint=f"127.0.0.1:{proxy.port}")
    with SecretsManagerClient(s, retries=policy, timeout=20) as c:
        c.create_secret(Name="u", SecretString="ok")
        proxy.cut()
        served.loop.loop.call_later(0.6, proxy.heal)
        assert c.get_secret_value(SecretId="u").secret_string == "ok"
    retries = _retries(caplog)
    assert retries and {(op, code) for op, code, _ in retries} == {
        ("GetSecretValue", "UNAVAILABLE")
    }


def test_unavailable_write_without_token_fails_at_once(
    proxied: tuple[Served, FaultProxy], caplog: pytest.LogCaptureFixture
) -> None:
    served, proxy = proxied
    caplog.set_level(logging.INFO, logger="smgrpc.client")
    s = served.settings(endpoint=f"127.0.0.1:{proxy.port}")
    with SecretsManagerClient(s, retries=RetryPolicy(max_attempts=50), timeout=20) as c:
        c.create_secret(Name="u", SecretString="ok")
        proxy.cut()
        with pytest.raises(errors.EndpointConnectionError) as info:
            c.put_secret_value(SecretId="u", SecretString="new")
        assert info.value.status is not None and info.value.status.name == "UNAVAILABLE"
        assert _retries(caplog) == []
        proxy.heal()
        got = c.get_secret_value(SecretId="u")
        assert got.secret_string == "ok"  # the refused write did not happen
