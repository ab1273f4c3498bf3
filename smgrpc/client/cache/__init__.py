"""A caching client in aws-secretsmanager-caching's shape, with push invalidation."""

from smgrpc.client.cache.config import SecretCacheConfig
from smgrpc.client.cache.decorators import InjectKeywordedSecretString, InjectSecretString
from smgrpc.client.cache.store import CacheStats
from smgrpc.client.cache.sync import SecretCache

__all__ = [
    "CacheStats",
    "InjectKeywordedSecretString",
    "InjectSecretString",
    "SecretCache",
    "SecretCacheConfig",
]
