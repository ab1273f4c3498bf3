"""aws-secretsmanager-caching's decorators: inject a cached secret into a function call."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

from smgrpc.client.cache.sync import SecretCache

F = TypeVar("F", bound=Callable[..., Any])


class InjectSecretString:
    """`@InjectSecretString("db", cache)`: the SecretString is the function's first argument."""

    def __init__(self, secret_id: str, cache: SecretCache) -> None:
        self.secret_id = secret_id
        self.cache = cache

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            secret = self.cache.get_secret_string(self.secret_id)
            return func(secret, *args, **kwargs)

        return wrapped  # type: ignore[return-value]


class InjectKeywordedSecretString:
    """`@InjectKeywordedSecretString("db", cache, user="username", password="password")`: the
    SecretString is a JSON object; each keyword argument gets the value of its JSON key."""

    def __init__(self, secret_id: str, cache: SecretCache, **kwargs: str) -> None:
        self.secret_id = secret_id
        self.cache = cache
        self.kwarg_map = kwargs

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            secret = _json(self.cache.get_secret_string(self.secret_id))
            if secret is None:
                raise RuntimeError(f"Cached secret {self.secret_id} is not a valid JSON object")
            for name, json_key in self.kwarg_map.items():
                if json_key not in secret:
                    raise KeyError(f"{json_key} not found in secret {self.secret_id}")
                kwargs[name] = secret[json_key]
            return func(*args, **kwargs)

        return wrapped  # type: ignore[return-value]


def _json(text: str | None) -> dict[str, Any] | None:
    """The JSON object, or None: the error is raised outside the except block, so no
    exception context (a JSONDecodeError carries the secret's text) is attached to it."""
    try:
        value = json.loads(text or "")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
