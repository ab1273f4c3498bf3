"""SecretCache without the stream: hits, misses, TTL refresh, LRU, stages, decorators."""

from __future__ import annotations

import json
import time

import pytest

from smgrpc.client import SecretsManagerClient, errors
from smgrpc.client.cache import (
    InjectKeywordedSecretString,
    InjectSecretString,
    SecretCache,
    SecretCacheConfig,
)
from tests.conftest import CANARY


def test_hits_misses_and_versions(client: SecretsManagerClient) -> None:
    client.create_secret(Name="db", SecretString="one")
    client.create_secret(Name="bin", SecretBinary=b"\x01\x02")
    with SecretCache(client=client, watch=False) as cache:
        assert cache.get_secret_string("db") == "one"
        client.put_secret_value(SecretId="db", SecretString="two")
        assert cache.get_secret_string("db") == "one"  # cached: no stream, TTL of an hour
        assert cache.get_secret_string("db", "AWSPREVIOUS") == "one"
        assert cache.get_secret_binary("bin") == b"\x01\x02"
        assert cache.get_secret_string("bin") is None and cache.get_secret_binary("db") is None
        s = cache.stats()
        assert (s.hits, s.misses, s.size) == (3, 3, 3)
        assert (s.watch, s.ttl_only) == ("off", True)
        with pytest.raises(errors.ResourceNotFoundException):
            cache.get_secret_string("missing")
        assert cache.stats().size == 3


def test_entries_are_reread_after_the_refresh_interval(client: SecretsManagerClient) -> None:
    client.create_secret(Name="ttl", SecretString="old")
    config = SecretCacheConfig(secret_refresh_interval=0.2)
    with SecretCache(config, client, watch=False) as cache:
        assert cache.get_secret_string("ttl") == "old"
        client.put_secret_value(SecretId="ttl", SecretString="new")
        assert cache.get_secret_string("ttl") == "old"
        time.sleep(0.25)
        assert cache.get_secret_string("ttl") == "new"
        s = cache.stats()
        assert (s.hits, s.misses, s.refreshes) == (1, 1, 1)


def test_least_recently_used_is_evicted_first(client: SecretsManagerClient) -> None:
    for name in "abc":
        client.create_secret(Name=name, SecretString=name)
    with SecretCache(SecretCacheConfig(max_cache_size=2), client, watch=False) as cache:
        cache.get_secret_string("a")
        cache.get_secret_string("b")
        cache.get_secret_string("a")  # a is now the most recently used
        cache.get_secret_string("c")  # evicts b
        assert cache.stats().lru_evictions == 1 and cache.stats().size == 2
        before = cache.stats().misses
        cache.get_secret_string("a")
        assert cache.stats().misses == before
        cache.get_secret_string("b")
        assert cache.stats().misses == before + 1


def test_default_version_stage(client: SecretsManagerClient) -> None:
    client.create_secret(Name="s", SecretString="v1")
    client.put_secret_value(SecretId="s", SecretString="v2")
    config = SecretCacheConfig(default_version_stage="AWSPREVIOUS")
    with SecretCache(config, client, watch=False) as cache:
        assert cache.get_secret_string("s") == "v1"


def test_decorators_inject_the_cached_secret(client: SecretsManagerClient) -> None:
    client.create_secret(Name="plain", SecretString="pw")
    creds = {"username": "app", "password": "hunter2"}
    client.create_secret(Name="json", SecretString=json.dumps(creds))
    client.create_secret(Name="notjson", SecretString=CANARY)
    with SecretCache(client=client, watch=False) as cache:

        @InjectSecretString("plain", cache)
        def connect(secret: str, host: str) -> str:
            return f"{host}:{secret}"

        @InjectKeywordedSecretString("json", cache, user="username", pw="password")
        def login(user: str, pw: str, *, db: str) -> str:
            return f"{user}/{pw}@{db}"

        @InjectKeywordedSecretString("notjson", cache, user="username")
        def broken(user: str) -> str:
            return user

        @InjectKeywordedSecretString("json", cache, user="nokey")
        def missing(user: str) -> str:
            return user

        assert connect("h") == "h:pw"
        assert login(db="main") == "app/hunter2@main"
        with pytest.raises(RuntimeError) as info:
            broken()
        assert CANARY not in str(info.value) and info.value.__cause__ is None
        assert info.value.__context__ is None  # the decode error holds the secret's text
        with pytest.raises(KeyError, match="nokey"):
            missing()


def test_config_is_validated() -> None:
    for bad in ({"max_cache_size": 0}, {"secret_refresh_interval": 0}):
        with pytest.raises(ValueError):
            SecretCacheConfig(**bad)  # type: ignore[arg-type]
