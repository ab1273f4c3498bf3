"""The PostgreSQL rotation function against a real PostgreSQL and a real Region: Invoke driven
step by step over a real channel, as a Region's rotation engine does."""

from __future__ import annotations

import json
import secrets
from typing import Any

import grpc
import psycopg
import pytest

from smgrpc.app import Region
from smgrpc.rotators.postgresql import PostgresRotator
from tests.api.helpers import create, get, stage_map
from tests.conftest import CANARY, FakeClock
from tests.rotators import pg
from tests.rotators.conftest import begin_rotation, event, function_credential


def role(cluster: pg.Cluster, password: str) -> str:
    """A new login role with this password (and a table only it may read)."""
    name = f"app_{secrets.token_hex(4)}"
    cluster.psql(f"CREATE ROLE {name} WITH LOGIN PASSWORD '{password}'")
    cluster.psql(f"CREATE TABLE {name}_data (x int); GRANT SELECT ON {name}_data TO {name}")
    return name


def db_json(cluster: pg.Cluster, username: str, password: str, **extra: Any) -> str:
    return json.dumps(
        {
            "engine": "postgres",
            "host": "127.0.0.1",
            "port": cluster.port,
            "username": username,
            "password": password,
            "dbname": "postgres",
            **extra,
        }
    )


async def can_login(cluster: pg.Cluster, username: str, password: str) -> bool:
    try:
        conn = await psycopg.AsyncConnection.connect(
            host="127.0.0.1",
            port=cluster.port,
            user=username,
            password=password,
            dbname="postgres",
            sslmode="disable",
        )
    except psycopg.OperationalError as exc:
        assert "password authentication failed" in str(exc), exc  # refused, not unreachable
        return False
    await conn.close()
    return True


async def current(stub: Any, arn: str) -> dict[str, Any]:
    return json.loads((await get(stub, arn)).secret_string)  # type: ignore[no-any-return]


def leaked(caplog: pytest.LogCaptureFixture, *values: str) -> list[str]:
    text = "\n".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)
    return [v for v in values if v in text]


@pytest.fixture
async def pgfunc(region: Region, tmp_path: Any, serve_function: Any, postgres: pg.Cluster) -> Any:
    creds = await function_credential(region, tmp_path)
    return await serve_function(PostgresRotator, region, creds)


async def test_single_user_rotation_changes_the_password(
    region: Region, clock: FakeClock, stub: Any, postgres: pg.Cluster, pgfunc: Any, all_logs: Any
) -> None:
    old = f"{CANARY}-single"
    name = role(postgres, old)
    arn = (await create(stub, f"db/{name}", db_json(postgres, name, old))).arn
    first = await stage_map(stub, arn)
    ev = await begin_rotation(region, clock, arn)
    await pgfunc.rotate(ev)

    new = await current(stub, arn)
    assert new["username"] == name and new["password"] != old and len(new["password"]) == 32
    assert not set(new["password"]) & set(":/@\"'\\")
    assert {k: v for k, v in new.items() if k != "password"} == {
        k: v for k, v in json.loads(db_json(postgres, name, old)).items() if k != "password"
    }
    stages = await stage_map(stub, arn)
    assert "AWSCURRENT" in stages[ev.client_request_token]
    assert stages[next(iter(first))] == ["AWSPREVIOUS"]
    assert await can_login(postgres, name, new["password"])
    assert not await can_login(postgres, name, old)
    assert leaked(all_logs, old, new["password"]) == []
    # The password reached the server as a verifier, never in clear text.
    stored = postgres.psql(f"SELECT rolpassword FROM pg_authid WHERE rolname = '{name}'")
    assert stored.startswith("SCRAM-SHA-256$") and new["password"] not in stored


async def test_alternating_users_switch_between_user_and_clone(
    region: Region, clock: FakeClock, stub: Any, postgres: pg.Cluster, pgfunc: Any, all_logs: Any
) -> None:
    # The test cluster serves no TLS: the master secret must say so (no fallback for it).
    admin = db_json(postgres, "postgres", postgres.password, ssl=False)
    master = (await create(stub, "db/master", admin)).arn
    old = f"{CANARY}-alt"
    name = role(postgres, old)
    arn = (await create(stub, f"db/{name}", db_json(postgres, name, old, masterarn=master))).arn

    await pgfunc.rotate(await begin_rotation(region, clock, arn))
    one = await current(stub, arn)
    clone = f"{name}_clone"
    assert one["username"] == clone and one["masterarn"] == master
    assert await can_login(postgres, clone, one["password"])
    assert await can_login(postgres, name, old)  # the previous user keeps working
    # The clone got the user's privileges through membership, as AWS's template grants them.
    assert (
        postgres.psql(
            f"SELECT pg_has_role('{clone}', '{name}', 'MEMBER'), "
            f"has_table_privilege('{clone}', '{name}_data', 'SELECT')"
        )
        == "t|t"
    )

    await pgfunc.rotate(await begin_rotation(region, clock, arn))
    two = await current(stub, arn)
    assert two["username"] == name and two["password"] not in (old, one["password"])
    assert await can_login(postgres, name, two["password"])
    assert not await can_login(postgres, name, old)
    assert await can_login(postgres, clone, one["password"])  # now the previous one

    await pgfunc.rotate(await begin_rotation(region, clock, arn))
    three = await current(stub, arn)
    assert three["username"] == clone
    assert await can_login(postgres, clone, three["password"])
    assert not await can_login(postgres, clone, one["password"])
    assert postgres.psql(f"SELECT count(*) FROM pg_roles WHERE rolname LIKE '{name}%'") == "2"
    assert leaked(all_logs, old, postgres.password, one["password"], two["password"]) == []


async def test_the_master_login_never_falls_back_to_plaintext(
    region: Region, clock: FakeClock, stub: Any, postgres: pg.Cluster, pgfunc: Any, all_logs: Any
) -> None:
    # A master secret without `ssl` is verify-full only: against a server without TLS (as a
    # network attacker's would be) the admin's password is never sent, and nothing changes.
    admin = db_json(postgres, "postgres", postgres.password)
    master = (await create(stub, "db/master-nossl", admin)).arn
    old = f"{CANARY}-alt-nossl"
    name = role(postgres, old)
    arn = (await create(stub, f"db/{name}", db_json(postgres, name, old, masterarn=master))).arn
    ev = await begin_rotation(region, clock, arn)
    await pgfunc.invoke(ev, "createSecret")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await pgfunc.invoke(ev, "setSecret")
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert info.value.details() == (
        f"unable to log into PostgreSQL at 127.0.0.1:{postgres.port} with the credentials of "
        f"the master secret {master}"
    )
    assert postgres.psql(f"SELECT count(*) FROM pg_roles WHERE rolname = '{name}_clone'") == "0"
    assert (await current(stub, arn))["password"] == old
    assert leaked(all_logs, old, postgres.password) == []


async def test_every_step_invoked_twice_is_idempotent(
    region: Region, clock: FakeClock, stub: Any, postgres: pg.Cluster, pgfunc: Any
) -> None:
    old = f"{CANARY}-twice"
    name = role(postgres, old)
    arn = (await create(stub, f"db/{name}", db_json(postgres, name, old))).arn
    ev = await begin_rotation(region, clock, arn)
    token = ev.client_request_token
    await pgfunc.invoke(ev, "createSecret")
    pending = (await get(stub, arn, version_id=token, version_stage="AWSPENDING")).secret_string
    await pgfunc.invoke(ev, "createSecret")
    again = (await get(stub, arn, version_id=token, version_stage="AWSPENDING")).secret_string
    assert again == pending
    password = json.loads(pending)["password"]
    for step in ("setSecret", "setSecret", "testSecret", "testSecret"):
        await pgfunc.invoke(ev, step)
    await pgfunc.invoke(ev, "finishSecret")
    after = await stage_map(stub, arn)
    await pgfunc.invoke(ev, "finishSecret")
    for step in ("createSecret", "setSecret", "testSecret"):  # after the end: nothing to do
        await pgfunc.invoke(ev, step)
    assert await stage_map(stub, arn) == after
    assert json.loads((await get(stub, arn)).secret_string)["password"] == password
    assert await can_login(postgres, name, password)


async def test_an_outside_caller_cannot_force_a_password_change(
    region: Region, stub: Any, postgres: pg.Cluster, pgfunc: Any
) -> None:
    # Confused deputy: every step with a token RotateSecret did not make AWSPENDING fails
    # before it runs; no version is made and the database password stays as it is.
    old = f"{CANARY}-noplaceholder"
    name = role(postgres, old)
    arn = (await create(stub, f"db/{name}", db_json(postgres, name, old))).arn
    before = await stage_map(stub, arn)
    ev = event("createSecret", arn, secrets.token_hex(16))
    for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await pgfunc.invoke(ev, step)
        assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert info.value.details() == (
            f"secret version {ev.client_request_token} has no stage for rotation of {arn}"
        )
    assert await stage_map(stub, arn) == before
    assert (await current(stub, arn))["password"] == old
    assert await can_login(postgres, name, old)


async def test_failures_answer_clear_statuses_and_leave_awscurrent(
    region: Region, clock: FakeClock, stub: Any, postgres: pg.Cluster, pgfunc: Any, all_logs: Any
) -> None:
    old = f"{CANARY}-fail"
    name = role(postgres, old)
    arn = (await create(stub, f"db/{name}", db_json(postgres, name, old))).arn
    ev = await begin_rotation(region, clock, arn)

    # setSecret before createSecret: the AWSPENDING version has no value yet.
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await pgfunc.invoke(ev, "setSecret")
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "GetSecretValue failed: ResourceNotFoundException" in (info.value.details() or "")

    # A version that is not AWSPENDING.
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await pgfunc.invoke(event("testSecret", arn, "0" * 32))
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert info.value.details() == f"secret version {'0' * 32} has no stage for rotation of {arn}"

    # An unknown step.
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await pgfunc.invoke(ev, "rotateEverything")
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Step must be one of createSecret, setSecret" in (info.value.details() or "")

    # The database password was changed behind the secret's back: nothing can log in.
    await pgfunc.invoke(ev, "createSecret")
    postgres.psql(f"ALTER ROLE {name} WITH PASSWORD 'changed-elsewhere-{CANARY}'")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await pgfunc.invoke(ev, "setSecret")
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert info.value.details() == (
        f"unable to log into PostgreSQL at 127.0.0.1:{postgres.port} as {name} with the "
        "previous, current or pending password"
    )
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await pgfunc.invoke(ev, "testSecret")
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert json.loads((await get(stub, arn)).secret_string)["password"] == old
    pending = await get(stub, arn, version_id=ev.client_request_token, version_stage="AWSPENDING")
    assert leaked(all_logs, old, json.loads(pending.secret_string)["password"], CANARY) == []


async def test_unreachable_database_is_transient(
    region: Region, clock: FakeClock, stub: Any, pgfunc: Any
) -> None:
    port = pg._free_port()  # nothing listens there
    value = json.dumps(
        {"engine": "postgres", "host": "127.0.0.1", "port": port, "username": "u",
         "password": CANARY, "ssl": False}
    )  # fmt: skip
    arn = (await create(stub, "db/nowhere", value)).arn
    ev = await begin_rotation(region, clock, arn)
    await pgfunc.invoke(ev, "createSecret")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await pgfunc.invoke(ev, "setSecret")
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert info.value.details() == f"cannot connect to PostgreSQL at 127.0.0.1:{port} (as u)"


async def test_not_a_postgres_secret(
    region: Region, clock: FakeClock, stub: Any, pgfunc: Any
) -> None:
    value = {"engine": "mysql", "host": "h", "username": "u", "password": CANARY}
    arn = (await create(stub, "db/mysql", json.dumps(value))).arn
    ev = await begin_rotation(region, clock, arn)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await pgfunc.invoke(ev)
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert info.value.details() == (
        f"the AWSCURRENT value of {arn}: engine must be one of postgres, aurora-postgresql"
    )
