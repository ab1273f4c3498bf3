"""SecretCache with push invalidation: a change seen on the stream evicts at once; with the
stream down the cache serves by TTL and says so; it recovers (changes made meanwhile are
replayed and evict) when the link heals. And the race of a fetch overtaken by a change."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc.client import SecretsManagerClient
from smgrpc.client.cache import SecretCache, SecretCacheConfig
from smgrpc.client.cache.store import Store
from tests.api.authz_helpers import allow, user
from tests.client.conftest import Served, until
from tests.cluster.proxy import FaultProxy

FAST = SecretCacheConfig(watch_max_backoff=0.2)


def _live(cache: SecretCache) -> bool:
    return cache.stats().watch == "live"


def test_a_put_evicts_the_cached_value_at_once(client: SecretsManagerClient) -> None:
    client.create_secret(Name="db", SecretString="one")
    client.create_secret(Name="other", SecretString="o")
    with SecretCache(FAST, client) as cache:
        assert until(lambda: _live(cache))
        assert cache.stats().ttl_only is False
        assert cache.get_secret_string("db") == "one"
        assert cache.get_secret_string("other") == "o"
        client.put_secret_value(SecretId="db", SecretString="two")
        assert until(lambda: cache.stats().evictions == 1)
        assert cache.get_secret_string("db") == "two"
        s = cache.stats()
        assert (s.misses, s.evictions, s.size) == (3, 1, 2)
        cache.get_secret_string("other")  # untouched by the other secret's change
        assert cache.stats().hits == 1
        client.delete_secret(SecretId="other", ForceDeleteWithoutRecovery=True)
        assert until(lambda: cache.stats().evictions == 2)
    assert cache.stats().watch == "closed"


@pytest.fixture
def proxied(served: Served) -> Iterator[tuple[Served, FaultProxy]]:
    proxy = FaultProxy()
    proxy.target = ("127.0.0.1", served.region.port)
    served.loop.run(proxy.start())
    try:
        yield served, proxy
    finally:
        served.loop.run(proxy.close())


def test_stream_down_falls_back_to_ttl_and_recovers(
    proxied: tuple[Served, FaultProxy], client: SecretsManagerClient
) -> None:
    served, proxy = proxied
    via = SecretsManagerClient(served.settings(endpoint=f"127.0.0.1:{proxy.port}"), timeout=2)
    config = SecretCacheConfig(secret_refresh_interval=0.5, watch_max_backoff=0.2)
    client.create_secret(Name="k", SecretString="v0")
    with via, SecretCache(config, via) as cache:
        assert until(lambda: _live(cache))
        assert cache.get_secret_string("k") == "v0"
        proxy.cut()
        assert until(lambda: cache.stats().watch in ("down", "connecting"))
        assert cache.stats().ttl_only is True
        client.put_secret_value(SecretId="k", SecretString="v1")  # not seen: the link is down
        assert cache.get_secret_string("k") == "v0"  # served from cache within its TTL
        proxy.heal()
        # Back up: the change made while down is replayed from the last Sequence and evicts.
        assert until(lambda: _live(cache), within=10)
        assert until(lambda: cache.stats().evictions >= 1, within=5)
        assert cache.get_secret_string("k") == "v1"
        assert cache.stats().ttl_only is False


def test_ttl_alone_refreshes_while_the_stream_stays_down(
    proxied: tuple[Served, FaultProxy], client: SecretsManagerClient
) -> None:
    served, proxy = proxied
    via = SecretsManagerClient(served.settings(endpoint=f"127.0.0.1:{proxy.port}"), timeout=2)
    config = SecretCacheConfig(secret_refresh_interval=0.3, watch_max_backoff=0.2)
    client.create_secret(Name="t", SecretString="a")
    with via, SecretCache(config, via) as cache:
        assert until(lambda: _live(cache))
        assert cache.get_secret_string("t") == "a"
        proxy.cut()
        assert until(lambda: not _live(cache))
        client.put_secret_value(SecretId="t", SecretString="b")
        proxy.heal()  # the stream may come back, or not: the TTL bounds staleness either way
        assert until(lambda: cache.get_secret_string("t") == "b", within=2)


def _response(name: str, value: str) -> pb.GetSecretValueResponse:
    arn = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}-AbCdEf"
    return pb.GetSecretValueResponse(arn=arn, name=name, secret_string=value)


def _event(name: str, seq: int) -> pb.SecretEvent:
    arn = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}-AbCdEf"
    return pb.SecretEvent(sequence=seq, type="VersionAdded", arn=arn, name=name)


def test_a_fetch_overtaken_by_a_change_is_not_stored() -> None:
    store = Store(SecretCacheConfig())
    key = ("db", "AWSCURRENT")
    started = store.begin()  # GetSecretValue sent...
    store.event(_event("db", 7))  # ...a change arrives before its answer
    assert store.finish(key, started, _response("db", "old")) is False
    assert store.get(key) is None  # the answer is not kept: the caller fetches again
    again = store.begin()
    assert store.finish(key, again, _response("db", "new")) is True
    assert store.get(key) is not None and store.get(key).secret_string == "new"  # type: ignore[union-attr]
    # A change of another secret during a fetch does not spoil it.
    other = store.begin()
    store.event(_event("unrelated", 8))
    assert store.finish(("x", "AWSCURRENT"), other, _response("x", "v")) is True


def test_entries_read_before_a_fresh_stream_went_live_are_dropped() -> None:
    store = Store(SecretCacheConfig())
    key = ("db", "AWSCURRENT")
    store.finish(key, store.begin(), _response("db", "maybe-stale"))
    started = store.begin()
    store.fresh_stream = True
    store.state("live")  # changes before the subscription were not seen
    assert store.get(key) is None
    assert store.finish(key, started, _response("db", "x")) is False


def test_a_secret_the_stream_cannot_report_is_ttl_only(
    served: Served, client: SecretsManagerClient
) -> None:
    """WatchSecrets delivers only events of secrets the caller may DescribeSecret: a credential
    that may only GetSecretValue db-* gets a live stream but no event for db-1, so that entry
    is TTL-only and stats() says so (the describable one is invalidated by push)."""
    token = served.loop.run(
        user(
            served.region,
            "reader",
            allow("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:*:*:secret:db-*"),
            allow("secretsmanager:*", "arn:aws:secretsmanager:*:*:secret:app-*"),
        )
    )
    client.create_secret(Name="db-1", SecretString="one")
    client.create_secret(Name="app-1", SecretString="a")
    with (
        SecretsManagerClient(served.settings(token=token)) as reader,
        SecretCache(FAST, reader) as cache,
    ):
        assert until(lambda: _live(cache))
        assert cache.get_secret_string("db-1") == "one"
        assert cache.get_secret_string("app-1") == "a"
        s = cache.stats()
        assert (s.ttl_only, s.size, s.ttl_only_entries) == (False, 2, 1)
        client.put_secret_value(SecretId="app-1", SecretString="b")
        assert until(lambda: cache.stats().evictions == 1)
        assert cache.get_secret_string("app-1") == "b"
        assert cache.stats().ttl_only_entries == 1
    with SecretCache(FAST, client, watch=False) as plain:
        plain.get_secret_string("db-1")
        assert plain.stats().ttl_only_entries == 1
