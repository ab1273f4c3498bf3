"""Forward-only schema migrations tracked in PRAGMA user_version."""

from __future__ import annotations

import sqlite3
from importlib import resources

import aiosqlite


def _scripts() -> list[tuple[int, str]]:
    folder = resources.files("smgrpc.storage") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text()))
    found.sort()
    # Numbered 1, 2, 3, ... with no gap or repeat: a script numbered below a database's
    # user_version would otherwise be skipped for good on that database.
    numbers = [n for n, _ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..N without gaps, found {numbers}")
    return found


def _statements(sql: str) -> list[str]:
    """Split a script into statements (a trigger's BEGIN ... END holds `;` of its own)."""
    out: list[str] = []
    pending = ""
    for line in sql.splitlines():
        if line.lstrip().startswith("--"):
            continue
        pending += line + "\n"
        if sqlite3.complete_statement(pending):
            out.append(pending.strip().rstrip(";"))
            pending = ""
    if pending.strip():
        out.append(pending.strip())
    return [s for s in out if s]


async def migrate(conn: aiosqlite.Connection) -> int:
    """Apply every script newer than user_version, each in its own transaction."""
    rows = await conn.execute_fetchall("PRAGMA user_version")
    current = int(list(rows)[0][0])
    for number, sql in _scripts():
        if number <= current:
            continue
        statements = _statements(sql)
        await conn.execute("BEGIN IMMEDIATE")
        try:
            for stmt in statements:
                await conn.execute(stmt)
            await conn.execute(f"PRAGMA user_version = {number}")
            await conn.execute("COMMIT")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        current = number
    return current
