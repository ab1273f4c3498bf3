-- Secrets of this Region. `meta` is the JSON of the secret's metadata (no secret material).
CREATE TABLE secrets (
    arn  TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    seq  INTEGER NOT NULL,
    meta TEXT NOT NULL
);
-- One row per version; wrapped_key/ciphertext are the envelope (NULL for a value-less version).
CREATE TABLE versions (
    arn         TEXT NOT NULL REFERENCES secrets(arn) ON DELETE CASCADE,
    version_id  TEXT NOT NULL,
    created_at  REAL NOT NULL,
    stages      TEXT NOT NULL,
    kms_key_id  TEXT NOT NULL,
    has_value   INTEGER NOT NULL,
    last_access TEXT,
    wrapped_key BLOB,
    ciphertext  BLOB,
    PRIMARY KEY (arn, version_id)
);
CREATE TABLE kms_keys (
    key_id      TEXT PRIMARY KEY,
    arn         TEXT NOT NULL UNIQUE,
    alias       TEXT UNIQUE,
    description TEXT NOT NULL,
    enabled     INTEGER NOT NULL,
    created_at  REAL NOT NULL,
    material    BLOB NOT NULL
);
CREATE TABLE meta (
    k TEXT PRIMARY KEY,
    v BLOB NOT NULL
);
