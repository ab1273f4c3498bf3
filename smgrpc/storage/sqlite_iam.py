"""SQLite persistence of the account's IAM snapshot (core.ports.IamRecords), migration 0005.

A commit writes only what differs between `before` and `after` (entities that are the very
same objects are skipped), checks the stored generation and writes everything in one BEGIN
IMMEDIATE .. COMMIT on the connection's thread (one hop): all of it, or nothing. A load reads
every table in one read transaction, so it sees one committed generation. Access keys are
stored sealed and as a digest only: the plaintext secret never reaches this module.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Mapping
from functools import partial
from typing import Any

import aiosqlite

from smgrpc.core.aio import settle
from smgrpc.core.errors import CONCURRENT_MODIFICATION, IamConflict
from smgrpc.core.iam.model import AccessKey, IamState, Role, User
from smgrpc.storage.batch import Op, run_batch

_USER_UPSERT = (
    "INSERT INTO iam_users(name, name_key, user_id, arn, path, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET name_key = excluded.name_key, "
    "user_id = excluded.user_id, arn = excluded.arn, path = excluded.path, "
    "created_at = excluded.created_at"
)
_ROLE_UPSERT = (
    "INSERT INTO iam_roles(name, name_key, role_id, arn, path, created_at, assume_role_policy, "
    "description, max_session_duration) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(name) DO UPDATE SET name_key = excluded.name_key, role_id = excluded.role_id, "
    "arn = excluded.arn, path = excluded.path, created_at = excluded.created_at, "
    "assume_role_policy = excluded.assume_role_policy, description = excluded.description, "
    "max_session_duration = excluded.max_session_duration"
)
_KEY_UPSERT = (
    "INSERT INTO iam_access_keys(access_key_id, user_name, status, created_at, sealed, digest) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(access_key_id) DO UPDATE SET "
    "user_name = excluded.user_name, status = excluded.status, "
    "created_at = excluded.created_at, sealed = excluded.sealed, digest = excluded.digest"
)
_META_UPSERT = (
    "INSERT INTO iam_meta(one, account, holder, epoch, generation) VALUES (1, ?, ?, ?, ?) "
    "ON CONFLICT(one) DO UPDATE SET account = excluded.account, holder = excluded.holder, "
    "epoch = excluded.epoch, generation = excluded.generation"
)


def _user_row(u: User) -> tuple[object, ...]:
    return (u.name, u.name.lower(), u.user_id, u.arn, u.path, u.created_at)


def _role_row(r: Role) -> tuple[object, ...]:
    return (
        r.name,
        r.name.lower(),
        r.role_id,
        r.arn,
        r.path,
        r.created_at,
        r.assume_role_policy,
        r.description,
        r.max_session_duration,
    )


def _entity_ops(
    table: str,
    owner: str,
    upsert: str,
    before: Mapping[str, User] | Mapping[str, Role],
    after: Mapping[str, User] | Mapping[str, Role],
) -> tuple[list[Op], list[Op]]:
    """(deletes, upserts) turning `before`'s rows of one entity kind into `after`'s."""
    deletes: list[Op] = []
    upserts: list[Op] = []
    gone = [(name,) for name in before if name not in after]
    if gone:
        deletes.append((f"DELETE FROM iam_{table}s WHERE name = ?", gone, True))
    for name, new in after.items():
        old = before.get(name)
        if old is new:
            continue
        row = _user_row(new) if isinstance(new, User) else _role_row(new)
        old_row = (
            None if old is None else (_user_row(old) if isinstance(old, User) else _role_row(old))
        )
        if row != old_row:
            upserts.append((upsert, row, False))
        if old is None or old.policies != new.policies:
            upserts.append((f"DELETE FROM iam_{table}_policies WHERE {owner} = ?", (name,), False))
            prows = [(name, n, d) for n, d in new.policies]
            upserts.append((f"INSERT INTO iam_{table}_policies VALUES (?, ?, ?)", prows, True))
        if old is None or old.tags != new.tags:
            upserts.append((f"DELETE FROM iam_{table}_tags WHERE {owner} = ?", (name,), False))
            trows = [(name, i, k, v) for i, (k, v) in enumerate(new.tags)]
            upserts.append((f"INSERT INTO iam_{table}_tags VALUES (?, ?, ?, ?)", trows, True))
    return deletes, upserts


def diff(before: IamState, after: IamState) -> list[Op]:
    """The statements that turn the stored `before` into `after` (deletes first)."""
    u_del, u_up = _entity_ops("user", "user_name", _USER_UPSERT, before.users, after.users)
    r_del, r_up = _entity_ops("role", "role_name", _ROLE_UPSERT, before.roles, after.roles)
    ops: list[Op] = []
    gone = [(k,) for k in before.keys if k not in after.keys]
    if gone:
        ops.append(("DELETE FROM iam_access_keys WHERE access_key_id = ?", gone, True))
    ops += u_del + r_del + u_up + r_up
    keys = [
        (k.access_key_id, k.user_name, k.status, k.created_at, k.sealed, k.digest)
        for k in after.keys.values()
        if before.keys.get(k.access_key_id) is not k and before.keys.get(k.access_key_id) != k
    ]
    if keys:
        ops.append((_KEY_UPSERT, keys, True))
    ops.append((_META_UPSERT, (after.account, after.holder, after.epoch, after.generation), False))
    return [op for op in ops if not op[2] or op[1]]


def _check_generation(raw: sqlite3.Connection, expected: int) -> None:
    """Inside the write transaction: IamConflict unless the stored generation is `expected`."""
    row = raw.execute("SELECT generation FROM iam_meta WHERE one = 1").fetchone()
    stored = 0 if row is None else int(row[0])
    if stored != expected:
        raise IamConflict(CONCURRENT_MODIFICATION)


def _run_load(raw: sqlite3.Connection, account: str, holder: str) -> IamState:
    """On the connection's thread: every IAM table in one read transaction, as a snapshot."""
    raw.execute("BEGIN")
    try:
        meta = raw.execute("SELECT account, holder, epoch, generation FROM iam_meta").fetchone()
        if meta is None:
            return IamState(account, holder)
        policies: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for kind, table, owner in (("user", "user", "user_name"), ("role", "role", "role_name")):
            for name, pname, doc in raw.execute(
                f"SELECT {owner}, name, document FROM iam_{table}_policies ORDER BY {owner}, name"
            ):
                policies.setdefault((kind, name), []).append((pname, doc))
        tags: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for kind, table, owner in (("user", "user", "user_name"), ("role", "role", "role_name")):
            for name, k, v in raw.execute(
                f"SELECT {owner}, key, value FROM iam_{table}_tags ORDER BY {owner}, position"
            ):
                tags.setdefault((kind, name), []).append((k, v))
        users = {
            name: User(
                name,
                uid,
                arn,
                path,
                created,
                tuple(tags.get(("user", name), ())),
                tuple(policies.get(("user", name), ())),
            )
            for name, uid, arn, path, created in raw.execute(
                "SELECT name, user_id, arn, path, created_at FROM iam_users ORDER BY rowid"
            )
        }
        roles = {
            name: Role(
                name,
                rid,
                arn,
                path,
                created,
                trust,
                description,
                int(duration),
                tuple(tags.get(("role", name), ())),
                tuple(policies.get(("role", name), ())),
            )
            for name, rid, arn, path, created, trust, description, duration in raw.execute(
                "SELECT name, role_id, arn, path, created_at, assume_role_policy, description, "
                "max_session_duration FROM iam_roles ORDER BY rowid"
            )
        }
        keys = {
            kid: AccessKey(kid, user, status, created, bytes(sealed), bytes(digest))
            for kid, user, status, created, sealed, digest in raw.execute(
                "SELECT access_key_id, user_name, status, created_at, sealed, digest "
                "FROM iam_access_keys ORDER BY rowid"
            )
        }
        return IamState(meta[0], meta[1], int(meta[2]), int(meta[3]), users, roles, keys)
    finally:
        raw.execute("COMMIT")


class SqliteIam:
    """IamRecords on the store's own write connection (a mixin of SqliteStore)."""

    _conn: aiosqlite.Connection
    _lock: asyncio.Lock

    async def iam_load(self, account: str, holder: str) -> IamState:
        """The committed IAM snapshot; an empty IamState(account, holder) if none is stored."""
        async with self._lock:  # never inside another writer's open transaction
            state: IamState = await self._hop(lambda raw: _run_load(raw, account, holder))
        return state

    async def iam_commit(self, before: IamState, after: IamState) -> None:
        """Persist `after` (diffed against `before`); IamConflict if the stored generation
        is not before.generation. Cancellation-safe like SqliteStore.transaction."""
        ops = diff(before, after)
        async with self._lock:
            check = partial(_check_generation, expected=before.generation)
            await settle(self._hop(lambda raw: run_batch(raw, ops, check)))

    async def _hop(self, fn: Any) -> Any:
        # aiosqlite has no public "run this on the connection thread"; _execute is what its own
        # methods use (pinned version), as in SqliteStore._commit.
        return await self._conn._execute(lambda: fn(self._conn._conn))  # type: ignore[no-untyped-call]
