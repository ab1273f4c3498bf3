-- Replica side: the highest push timestamp accepted from each peer Region, written in the same
-- transaction as the push's apply, so a captured push replayed after a restart is refused.
CREATE TABLE repl_replay (
    peer_region TEXT PRIMARY KEY,
    last_ts     REAL NOT NULL
)
