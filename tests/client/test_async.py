"""AsyncSecretsManagerClient: the same methods as coroutines, the same errors, its stream."""

from __future__ import annotations

import asyncio

import pytest

from smgrpc.client import AsyncSecretsManagerClient, errors
from tests.client.conftest import Served


def test_async_operations_errors_and_watch(served: Served) -> None:
    async def main() -> None:
        async with AsyncSecretsManagerClient(served.settings()) as c:
            stream = c.watch_secrets(SecretIds=["a/1"])
            assert (await anext(stream)).type == "Heartbeat"
            created = await c.create_secret(Name="a/1", SecretString="x")
            got = await c.get_secret_value(SecretId="a/1")
            assert (got.secret_string, got.arn) == ("x", created.arn)
            event = await asyncio.wait_for(anext(stream), 5)
            assert (event.type, event.arn) == ("Created", created.arn)
            await stream.aclose()  # type: ignore[attr-defined]
            desc = await c.describe_secret(SecretId=created.arn)
            assert desc.name == "a/1"
            with pytest.raises(c.exceptions.ResourceExistsException) as info:
                await c.create_secret(Name="a/1", SecretString="y")
            e = info.value
            assert isinstance(e, errors.ServiceError) and e.request_id
            assert str(e).startswith(
                "An error occurred (ResourceExistsException) when calling the CreateSecret"
            )

    asyncio.run(main())
