"""Blocking, read-only figures about a Region's database for /metrics (called from the scrape
thread: they use their own short-lived read-only connection, never the store's, and never run
on the event loop)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path

# Counting a huge backlog is bounded: beyond this many rows a peer shows this many.
MAX_COUNTED = 10_000_000


def database_bytes(db: Path) -> dict[str, int]:
    """Sizes of the main database file and of its write-ahead log (0 when absent)."""
    sizes = {}
    for name, path in (("main", db), ("wal", db.with_name(db.name + "-wal"))):
        try:
            sizes[name] = os.stat(path).st_size
        except OSError:
            sizes[name] = 0
    return sizes


def outbox_pending(db: Path, after: Mapping[str, int]) -> dict[str, int]:
    """Outbox rows per peer Region after its acknowledged position (a WAL reader: it never
    waits for or blocks the store's writes)."""
    if not after:
        return {}
    out: dict[str, int] = {}  # a peer whose count failed is left out (no sample)
    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=1.0)
    except sqlite3.Error:
        return out
    with contextlib.closing(conn):
        for region, seq in after.items():
            try:
                row = conn.execute(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM outbox WHERE region = ? AND seq > ? "
                    "LIMIT ?)",
                    (region, seq, MAX_COUNTED),
                ).fetchone()
            except sqlite3.Error:
                continue
            out[region] = int(row[0])
    return out
