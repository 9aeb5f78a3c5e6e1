-- +goose Up
-- Messages are the readable projection of message events. A deleted
-- message keeps its row, with its content erased, so cursors and replies
-- that name it still resolve.
CREATE TABLE messages (
    id         TEXT PRIMARY KEY,
    channel_id TEXT NOT NULL REFERENCES channels (id),
    seq        INTEGER NOT NULL,       -- seq of its message_create event
    author_id  TEXT NOT NULL REFERENCES users (id),
    content    TEXT NOT NULL,
    nonce      TEXT,
    reply_to   TEXT,
    mentions   TEXT NOT NULL,          -- canonical JSON of the parsed mentions
    created_at INTEGER NOT NULL,
    edited_at  INTEGER,
    deleted_at INTEGER
) STRICT;
CREATE UNIQUE INDEX messages_channel_seq ON messages (channel_id, seq);

-- A nonce makes a send idempotent for 24 hours per author and channel.
CREATE TABLE message_nonces (
    author_id  TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    message_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (author_id, channel_id, nonce)
) STRICT;
CREATE INDEX message_nonces_created ON message_nonces (created_at);

CREATE TABLE reactions (
    message_id TEXT NOT NULL REFERENCES messages (id),
    emoji      TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
) STRICT;

-- subject_id names the message an event is about, so erasing a message
-- can find the events whose payload holds its content.
ALTER TABLE events ADD COLUMN subject_id TEXT;
CREATE INDEX events_subject ON events (subject_id) WHERE subject_id IS NOT NULL;

-- Operator bans: users and client addresses (CIDRs) refused before any
-- other work.
CREATE TABLE operator_bans (
    kind       TEXT NOT NULL,          -- user or ip
    value      TEXT NOT NULL,          -- a user id, or a CIDR
    reason     TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    PRIMARY KEY (kind, value)
) STRICT;

-- +goose Down
DROP TABLE operator_bans;
DROP INDEX events_subject;
ALTER TABLE events DROP COLUMN subject_id;
DROP TABLE reactions;
DROP TABLE message_nonces;
DROP TABLE messages;
