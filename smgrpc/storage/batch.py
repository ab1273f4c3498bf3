"""One write batch on a raw sqlite3 connection: BEGIN IMMEDIATE, statements, COMMIT."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

Op = tuple[str, Any, bool]  # (sql, params, executemany)


def run_batch(
    raw: sqlite3.Connection,
    ops: Sequence[Op],
    check: Callable[[sqlite3.Connection], None] | None = None,
) -> None:
    """On the connection's thread: BEGIN IMMEDIATE, `check` (may raise), every op, COMMIT.

    Anything raised rolls the transaction back and propagates: all of it, or nothing.
    """
    raw.execute("BEGIN IMMEDIATE")
    try:
        if check is not None:
            check(raw)
        for sql, params, many in ops:
            if many:
                raw.executemany(sql, params)
            else:
                raw.execute(sql, params)
        raw.execute("COMMIT")
    except BaseException:
        if raw.in_transaction:
            raw.execute("ROLLBACK")
        raise
