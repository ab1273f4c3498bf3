-- IAM of the Region's account (users, roles, inline policies, tags, access keys), normalised.
-- One iam_meta row: the account, the Region holding IAM writes, the fencing epoch and the
-- generation every commit checks and raises (core.ports.IamRecords).
-- Access keys keep the secret only sealed (AES-GCM under a key derived from the master key)
-- and as a keyed digest; never the plaintext.
CREATE TABLE iam_meta (
    one        INTEGER PRIMARY KEY CHECK (one = 1),
    account    TEXT NOT NULL,
    holder     TEXT NOT NULL,
    epoch      INTEGER NOT NULL,
    generation INTEGER NOT NULL
);
CREATE TABLE iam_users (
    name       TEXT PRIMARY KEY,
    name_key   TEXT NOT NULL UNIQUE,  -- lower(name): IAM names are unique regardless of case
    user_id    TEXT NOT NULL UNIQUE,
    arn        TEXT NOT NULL UNIQUE,
    path       TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE iam_roles (
    name                 TEXT PRIMARY KEY,
    name_key             TEXT NOT NULL UNIQUE,
    role_id              TEXT NOT NULL UNIQUE,
    arn                  TEXT NOT NULL UNIQUE,
    path                 TEXT NOT NULL,
    created_at           REAL NOT NULL,
    assume_role_policy   TEXT NOT NULL,
    description          TEXT,
    max_session_duration INTEGER NOT NULL
);
CREATE TABLE iam_user_policies (
    user_name TEXT NOT NULL REFERENCES iam_users(name) ON DELETE CASCADE ON UPDATE CASCADE,
    name      TEXT NOT NULL,
    document  TEXT NOT NULL,
    PRIMARY KEY (user_name, name)
) WITHOUT ROWID;
CREATE TABLE iam_role_policies (
    role_name TEXT NOT NULL REFERENCES iam_roles(name) ON DELETE CASCADE ON UPDATE CASCADE,
    name      TEXT NOT NULL,
    document  TEXT NOT NULL,
    PRIMARY KEY (role_name, name)
) WITHOUT ROWID;
CREATE TABLE iam_user_tags (
    user_name TEXT NOT NULL REFERENCES iam_users(name) ON DELETE CASCADE ON UPDATE CASCADE,
    position  INTEGER NOT NULL,
    key       TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (user_name, position)
) WITHOUT ROWID;
CREATE TABLE iam_role_tags (
    role_name TEXT NOT NULL REFERENCES iam_roles(name) ON DELETE CASCADE ON UPDATE CASCADE,
    position  INTEGER NOT NULL,
    key       TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (role_name, position)
) WITHOUT ROWID;
CREATE TABLE iam_access_keys (
    access_key_id TEXT PRIMARY KEY,
    user_name     TEXT NOT NULL REFERENCES iam_users(name) ON DELETE CASCADE ON UPDATE CASCADE,
    status        TEXT NOT NULL CHECK (status IN ('Active', 'Inactive')),
    created_at    REAL NOT NULL,
    sealed        BLOB NOT NULL,
    digest        BLOB NOT NULL
);
CREATE INDEX iam_access_keys_user ON iam_access_keys(user_name)
