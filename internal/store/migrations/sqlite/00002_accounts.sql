-- +goose Up
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL,          -- as typed at registration
    username_key  TEXT,                   -- lower-cased; NULL once a deleted account's name is released
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,          -- PHC-encoded Argon2id; empty for deleted accounts
    is_admin      INTEGER NOT NULL DEFAULT 0,
    dm_policy     TEXT NOT NULL DEFAULT 'everyone',
    created_at    INTEGER NOT NULL,       -- Unix milliseconds, like every time column
    deleted_at    INTEGER
) STRICT;
CREATE UNIQUE INDEX users_username_key ON users (username_key);

CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id),
    device_id     TEXT NOT NULL,
    device_name   TEXT NOT NULL,
    user_agent    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    last_ip       TEXT NOT NULL,
    revoked_at    INTEGER,
    revoke_reason TEXT
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id, created_at);

-- Refresh tokens are stored only as SHA-256 hashes. A rotated token keeps
-- its row so a reuse can be recognised, and records what it was rotated
-- into so a retry within the grace window gets the same pair.
CREATE TABLE refresh_tokens (
    token_hash     BLOB PRIMARY KEY,
    session_id     TEXT NOT NULL REFERENCES sessions (id),
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    rotated_at     INTEGER,
    access_key_id  TEXT,                  -- signing key of the successor access token
    access_jti     TEXT                   -- id of the successor access token
) STRICT;
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE signing_keys (
    id           TEXT PRIMARY KEY,
    purpose      TEXT NOT NULL,
    public_key   BLOB NOT NULL,
    private_key  BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    retired_at   INTEGER,
    verify_until INTEGER
) STRICT;
-- At most one active key per purpose, even when two nodes race to create it.
CREATE UNIQUE INDEX signing_keys_active ON signing_keys (purpose) WHERE retired_at IS NULL;

CREATE TABLE registration_tokens (
    token_hash BLOB PRIMARY KEY,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    max_uses   INTEGER,
    uses       INTEGER NOT NULL DEFAULT 0
) STRICT;

-- +goose Down
DROP TABLE registration_tokens;
DROP TABLE signing_keys;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE users;
