-- WatchSecrets history (core.events): one row per event, written in the same transaction as the
-- change it reports. seq is the Region's position; AUTOINCREMENT keeps sqlite_sequence at the
-- highest ever used, so positions are never reused even once old rows are pruned.
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    type       TEXT NOT NULL,
    arn        TEXT NOT NULL,
    name       TEXT NOT NULL,
    version_id TEXT,
    at         REAL NOT NULL
)
