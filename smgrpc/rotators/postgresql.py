"""The PostgreSQL rotation function: AWS's two strategies, with psycopg 3.

The secret's value is the JSON AWS's RDS PostgreSQL rotation templates use:
`{"engine": "postgres", "host": ..., "port": 5432, "username": ..., "password": ...,
"dbname": "postgres"}` (engine may also be "aurora-postgresql"; port and dbname are optional;
an optional `ssl` member: true = verify-full against the system CAs, false = no TLS, absent =
try verify-full, then without TLS, as AWS does, but: the fallback is for the user's own login
only, and asks libpq (16 and later) for require_auth=scram-sha-256 so that a downgraded
connection cannot elicit the password in clear text; the master secret's login follows its own
`ssl` member, and without one is verify-full only, so the admin's credentials never go out
without TLS unless that secret says so). The strategy follows from the value:

* single user (no `masterarn`): setSecret logs in as the user (with the AWSPENDING, else the
  AWSCURRENT, else the AWSPREVIOUS password) and runs ALTER ROLE <user> WITH PASSWORD; the old
  password stops working at once.
* alternating users (`masterarn`: the ARN of a secret whose AWSCURRENT holds an admin's
  credentials, same JSON): each rotation switches between `username` and `username_clone`
  and sets the password of the one not in use, logged in as the admin; the first rotation
  creates the clone (CREATE ROLE <clone> WITH LOGIN PASSWORD, then GRANT <user> TO <clone>, so
  the clone has the user's privileges through membership, as AWS's template does). The
  previous user keeps working until the next rotation.

Each step is idempotent as AWS's are: setSecret first tries the AWSPENDING password and does
nothing if it already works. Identifiers are quoted by psycopg's sql.Identifier; the new
password is sent as a SCRAM (or md5, whatever the server's password_encryption says)
verifier computed by libpq, so the clear password is never in the SQL text the server may log.
Log lines and status messages name users and hosts, never passwords.
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import dataclass
from typing import Any

import grpc
import psycopg
from psycopg import sql

from smgrpc.rotators.function import CURRENT, PENDING, PREVIOUS, Event, SecretsApi, StepFailed

log = logging.getLogger("smgrpc.rotators.postgresql")

ENGINES = ("postgres", "aurora-postgresql")
CLONE_SUFFIX = "_clone"
MAX_IDENTIFIER = 63  # PostgreSQL's NAMEDATALEN - 1
EXCLUDE_CHARACTERS = ":/@\"'\\"  # AWS's default for its database templates
# libpq reports no SQLSTATE for a failed connection, only its text: the server answered
# (refused the login) when the text carries its FATAL message, a TLS refusal or an
# authentication method that require_auth refused; these FATALs are passing states, worth a
# retry.
_SERVER_ANSWERED = ("FATAL:", "SSL", "certificate", "authentication method requirement")
_BUSY = ("too many connections", "starting up", "shutting down", "in recovery mode")
REQUIRE_AUTH_LIBPQ = 160000  # libpq 16 added require_auth


@dataclass(frozen=True, slots=True, repr=False)
class DbSecret:
    """A parsed secret value; `document` keeps every member (the next value is built from it)."""

    document: dict[str, Any]
    host: str
    port: int
    username: str
    password: str
    dbname: str
    masterarn: str | None
    sslmodes: tuple[str, ...]

    def __repr__(self) -> str:
        return f"DbSecret(username={self.username!r}, host={self.host!r}, <password redacted>)"

    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def with_dbname(self, dbname: str) -> DbSecret:
        return DbSecret(
            {**self.document, "dbname": dbname},
            self.host,
            self.port,
            self.username,
            self.password,
            dbname,
            self.masterarn,
            self.sslmodes,
        )


def _sslmodes(doc: dict[str, Any], fallback: bool) -> tuple[str, ...]:
    ssl = doc.get("ssl")
    if isinstance(ssl, str):
        ssl = {"true": True, "false": False}.get(ssl.lower())
    if ssl is True:
        return ("verify-full",)
    if ssl is False:
        return ("disable",)
    return ("verify-full", "disable") if fallback else ("verify-full",)


def parse_secret(text: str, what: str, *, plaintext_fallback: bool = True) -> DbSecret:
    """The value of `what` (e.g. "the AWSCURRENT value of <arn>"); StepFailed if unusable
    (the message names the member, never a value). Without an `ssl` member, the login tries
    verify-full, then (`plaintext_fallback`) no TLS."""
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        raise StepFailed(f"{what} is not a JSON object")
    for key in ("host", "username", "password", "engine"):
        if not isinstance(doc.get(key), str) or not doc[key]:
            raise StepFailed(f"{what} has no string member {key!r}")
    if doc["engine"] not in ENGINES:
        raise StepFailed(f"{what}: engine must be one of {', '.join(ENGINES)}")
    try:
        port = int(doc.get("port", 5432))
    except (TypeError, ValueError):
        raise StepFailed(f"{what}: port is not a number") from None
    dbname = doc.get("dbname") if isinstance(doc.get("dbname"), str) else None
    masterarn = doc.get("masterarn")
    if masterarn is not None and not isinstance(masterarn, str):
        raise StepFailed(f"{what}: masterarn is not a string")
    return DbSecret(
        doc,
        doc["host"],
        port,
        doc["username"],
        doc["password"],
        dbname or "postgres",
        masterarn,
        _sslmodes(doc, plaintext_fallback),
    )


def connection_params(
    s: DbSecret, connect_timeout: int, libpq: int | None = None
) -> list[dict[str, Any]]:
    """The libpq parameters of each login attempt, in order (`libpq`: its version, default
    the one psycopg loaded). A fallback to no TLS (the secret said nothing of `ssl`) accepts
    only SCRAM when libpq can say so: a server downgraded by an attacker cannot then ask for
    the password in clear text (`password`) or as md5."""
    libpq = psycopg.pq.version() if libpq is None else libpq
    attempts = []
    for mode in s.sslmodes:
        params: dict[str, Any] = {
            "host": s.host,
            "port": s.port,
            "user": s.username,
            "password": s.password,
            "dbname": s.dbname,
            "sslmode": mode,
            "connect_timeout": connect_timeout,
        }
        if mode == "verify-full":
            params["sslrootcert"] = "system"
        elif len(s.sslmodes) > 1 and libpq >= REQUIRE_AUTH_LIBPQ:
            params["require_auth"] = "scram-sha-256"
        attempts.append(params)
    return attempts


def alt_username(username: str) -> str:
    """AWS's alternation: `name` <-> `name_clone`."""
    if username.endswith(CLONE_SUFFIX):
        return username[: -len(CLONE_SUFFIX)]
    clone = username + CLONE_SUFFIX
    if len(clone.encode()) > MAX_IDENTIFIER:
        raise StepFailed(
            f"cannot clone user {username}: with {CLONE_SUFFIX} its name would exceed "
            f"{MAX_IDENTIFIER} bytes"
        )
    return clone


class PostgresRotator:
    """The four steps for a PostgreSQL user's secret (see the module docstring)."""

    def __init__(
        self,
        api: SecretsApi,
        *,
        connect_timeout: int = 5,
        exclude_characters: str = EXCLUDE_CHARACTERS,
        password_length: int = 32,
    ) -> None:
        self.api = api
        self.connect_timeout = max(2, connect_timeout)  # libpq's minimum
        self.exclude_characters = exclude_characters
        self.password_length = password_length

    # ---- reading the secrets ----

    async def _read(
        self, secret_id: str, stage: str, version_id: str | None = None, *, master: bool = False
    ) -> DbSecret:
        text = await self.api.get_string(secret_id, stage, version_id)
        what = f"the {stage} value of {secret_id}"
        return parse_secret(text, what, plaintext_fallback=not master)

    async def _pending(self, event: Event) -> DbSecret:
        return await self._read(event.secret_id, PENDING, event.token)

    async def _previous(self, secret_id: str) -> DbSecret | None:
        try:
            return await self._read(secret_id, PREVIOUS)
        except StepFailed:  # none yet (first rotation), or not a usable value
            return None

    # ---- connecting ----

    async def login(self, s: DbSecret) -> psycopg.AsyncConnection[Any] | None:
        """A connection as the secret's user; None if the server refused the password.
        StepFailed(UNAVAILABLE) if the server could not be reached at all."""
        answered = False
        for params in connection_params(s, self.connect_timeout):
            try:
                return await psycopg.AsyncConnection.connect(**params, autocommit=True)
            except psycopg.OperationalError as exc:
                text = str(exc)
                if any(b in text for b in _BUSY):
                    raise StepFailed(
                        f"PostgreSQL at {s.where()} is busy or not ready",
                        grpc.StatusCode.UNAVAILABLE,
                    ) from None
                answered = answered or any(a in text for a in _SERVER_ANSWERED)
        if answered:
            return None
        raise StepFailed(
            f"cannot connect to PostgreSQL at {s.where()} (as {s.username})",
            grpc.StatusCode.UNAVAILABLE,
        )

    async def _verifier(self, conn: psycopg.AsyncConnection[Any], user: str, password: str) -> str:
        """The password as the server would store it (SCRAM or md5), computed here."""
        cur = await conn.execute("SHOW password_encryption")
        row = await cur.fetchone()
        algorithm = str(row[0]) if row else "scram-sha-256"
        return conn.pgconn.encrypt_password(
            password.encode(), user.encode(), algorithm.encode()
        ).decode()

    async def _set_password(
        self, conn: psycopg.AsyncConnection[Any], user: str, password: str, create_from: str | None
    ) -> None:
        """ALTER ROLE user WITH PASSWORD; with `create_from`, first CREATE ROLE user WITH LOGIN
        and GRANT create_from TO user if the role does not exist yet (one transaction)."""
        verifier = sql.Literal(await self._verifier(conn, user, password))
        async with conn.transaction():
            if create_from is not None:
                cur = await conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,))
                if await cur.fetchone() is None:
                    await conn.execute(
                        sql.SQL("CREATE ROLE {} WITH LOGIN PASSWORD {}").format(
                            sql.Identifier(user), verifier
                        )
                    )
                    await conn.execute(
                        sql.SQL("GRANT {} TO {}").format(
                            sql.Identifier(create_from), sql.Identifier(user)
                        )
                    )
                    log.info("setSecret: created role", extra={"user": user, "from": create_from})
                    return
            await conn.execute(
                sql.SQL("ALTER ROLE {} WITH PASSWORD {}").format(sql.Identifier(user), verifier)
            )

    # ---- the steps ----

    async def create_secret(self, event: Event) -> None:
        current = await self._read(event.secret_id, CURRENT)
        if await self.api.pending(event) is not None:
            return  # put by an earlier invocation
        new = dict(current.document)
        if current.masterarn is not None:
            new["username"] = alt_username(current.username)
        new["password"] = await self.api.random_password(
            exclude_characters=self.exclude_characters, password_length=self.password_length
        )
        await self.api.put_pending(event, json.dumps(new))
        log.info("createSecret: new password put", extra={"user": new["username"]})

    async def set_secret(self, event: Event) -> None:
        current = await self._read(event.secret_id, CURRENT)
        pending = await self._pending(event)
        conn = await self.login(pending)
        if conn is not None:
            await conn.close()
            log.info("setSecret: the AWSPENDING password works already", extra=_who(pending))
            return
        if pending.host != current.host:
            raise StepFailed(
                f"the AWSPENDING host {pending.host} is not the AWSCURRENT host {current.host}"
            )
        if current.masterarn is None:
            await self._set_single(event, current, pending)
        else:
            await self._set_alternating(current, pending)
        log.info("setSecret: password set", extra=_who(pending))

    async def _set_single(self, event: Event, current: DbSecret, pending: DbSecret) -> None:
        if pending.username != current.username:
            raise StepFailed(
                f"attempting to modify user {pending.username} other than the current user "
                f"{current.username}"
            )
        conn = await self.login(current)
        if conn is None:
            previous = await self._previous(event.secret_id)
            if previous is not None and (previous.username, previous.host) == (
                pending.username,
                pending.host,
            ):
                conn = await self.login(previous)
        if conn is None:
            raise StepFailed(
                f"unable to log into PostgreSQL at {pending.where()} as {pending.username} with "
                "the previous, current or pending password"
            )
        async with conn:
            await self._set_password(conn, pending.username, pending.password, None)

    async def _set_alternating(self, current: DbSecret, pending: DbSecret) -> None:
        if pending.username != alt_username(current.username):
            raise StepFailed(
                f"attempting to modify user {pending.username} other than the current user "
                f"{current.username}'s alternate"
            )
        # Log in as the current user first (AWS: guards against a confused deputy: the secret
        # must hold working credentials before its master's power is used for it).
        conn = await self.login(current)
        if conn is None:
            raise StepFailed(
                f"unable to log into PostgreSQL at {current.where()} as {current.username} with "
                "the current password"
            )
        await conn.close()
        assert current.masterarn is not None
        master = await self._read(current.masterarn, CURRENT, master=True)
        master = master.with_dbname(current.dbname)
        if master.host != current.host:
            raise StepFailed(
                f"the master secret's host {master.host} is not the current host {current.host}"
            )
        conn = await self.login(master)
        if conn is None:
            raise StepFailed(
                f"unable to log into PostgreSQL at {master.where()} with the credentials of the "
                f"master secret {current.masterarn}"
            )
        async with conn:
            await self._set_password(conn, pending.username, pending.password, current.username)

    async def test_secret(self, event: Event) -> None:
        pending = await self._pending(event)
        conn = await self.login(pending)
        if conn is None:
            raise StepFailed(
                f"unable to log into PostgreSQL at {pending.where()} as {pending.username} with "
                "the pending password"
            )
        async with conn:
            await conn.execute("SELECT now()")
        log.info("testSecret: logged in with the AWSPENDING password", extra=_who(pending))

    async def finish_secret(self, event: Event) -> None:
        await self.api.finish(event)


def _who(s: DbSecret) -> dict[str, Any]:
    return {"user": s.username, "host": s.where()}


def make_handler(api: SecretsApi, args: argparse.Namespace) -> PostgresRotator:
    return PostgresRotator(api, connect_timeout=int(getattr(args, "connect_timeout", 5)))
