"""Persistence: aiosqlite, WAL, synchronous=FULL; it only ever sees ciphertext."""
