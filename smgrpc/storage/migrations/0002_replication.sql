-- Primary side: one row per replicated change and replica Region, written in the same
-- transaction as the change. Payloads are not stored: the shipper sends the secret's current
-- state, so later rows for the same secret supersede earlier ones.
CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    region     TEXT NOT NULL,
    arn        TEXT NOT NULL,
    lineage    TEXT NOT NULL,
    kind       TEXT NOT NULL
);
CREATE INDEX outbox_region_seq ON outbox(region, seq);
-- Primary side: highest sequence number each replica Region has applied durably.
CREATE TABLE repl_cursor (
    region    TEXT PRIMARY KEY,
    acked_seq INTEGER NOT NULL
);
-- Replica side: highest sequence number applied from each source Region (same transaction as
-- the data it covers).
CREATE TABLE repl_applied (
    source_region TEXT PRIMARY KEY,
    applied_seq   INTEGER NOT NULL
)
