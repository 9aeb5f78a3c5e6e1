-- +goose Up
CREATE TABLE guilds (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    owner_id    TEXT NOT NULL REFERENCES users (id),
    created_at  BIGINT NOT NULL,
    deleted_at  BIGINT
);
CREATE INDEX guilds_owner ON guilds (owner_id) WHERE deleted_at IS NULL;

-- Guild channels have a guild_id; direct messages have none and list
-- their participants in dm_participants.
CREATE TABLE channels (
    id               TEXT PRIMARY KEY,
    guild_id         TEXT REFERENCES guilds (id),
    kind             TEXT NOT NULL,
    name             TEXT NOT NULL,
    topic            TEXT NOT NULL DEFAULT '',
    parent_id        TEXT,
    position         BIGINT NOT NULL DEFAULT 0,
    slowmode_seconds BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    deleted_at       BIGINT
);
CREATE INDEX channels_guild ON channels (guild_id, position) WHERE deleted_at IS NULL;

CREATE TABLE roles (
    id          TEXT PRIMARY KEY,
    guild_id    TEXT NOT NULL REFERENCES guilds (id),
    name        TEXT NOT NULL,
    permissions BIGINT NOT NULL,
    position    BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX roles_guild ON roles (guild_id, position);

CREATE TABLE members (
    guild_id  TEXT NOT NULL REFERENCES guilds (id),
    user_id   TEXT NOT NULL REFERENCES users (id),
    nickname  TEXT,
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);
CREATE INDEX members_user ON members (user_id);

CREATE TABLE member_roles (
    guild_id TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    role_id  TEXT NOT NULL REFERENCES roles (id),
    PRIMARY KEY (guild_id, user_id, role_id)
);
CREATE INDEX member_roles_role ON member_roles (role_id);

CREATE TABLE channel_overwrites (
    channel_id  TEXT NOT NULL REFERENCES channels (id),
    target_id   TEXT NOT NULL,
    target_type TEXT NOT NULL,
    allow       BIGINT NOT NULL,
    deny        BIGINT NOT NULL,
    PRIMARY KEY (channel_id, target_id)
);

CREATE TABLE invites (
    code       TEXT PRIMARY KEY,
    guild_id   TEXT NOT NULL REFERENCES guilds (id),
    inviter_id TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    max_uses   BIGINT,
    uses       BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX invites_guild ON invites (guild_id);

CREATE TABLE bans (
    guild_id   TEXT NOT NULL REFERENCES guilds (id),
    user_id    TEXT NOT NULL REFERENCES users (id),
    reason     TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);

CREATE TABLE dm_participants (
    channel_id TEXT NOT NULL REFERENCES channels (id),
    user_id    TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX dm_participants_user ON dm_participants (user_id);

-- One dm channel per pair of users: user_low < user_high.
CREATE TABLE dm_pairs (
    user_low   TEXT NOT NULL,
    user_high  TEXT NOT NULL,
    channel_id TEXT NOT NULL REFERENCES channels (id),
    PRIMARY KEY (user_low, user_high)
);

-- Every log (a channel's, or a guild's under the guild id) keeps its last
-- sequence number here. Appending bumps it in the same transaction as the
-- event, so sequences have no gaps even with concurrent writers.
CREATE TABLE event_logs (
    log_id   TEXT PRIMARY KEY,
    guild_id TEXT,
    last_seq BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE events (
    log_id     TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    type       TEXT NOT NULL,
    data       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (log_id, seq)
);

-- +goose Down
DROP TABLE events;
DROP TABLE event_logs;
DROP TABLE dm_pairs;
DROP TABLE dm_participants;
DROP TABLE bans;
DROP TABLE invites;
DROP TABLE channel_overwrites;
DROP TABLE member_roles;
DROP TABLE members;
DROP TABLE roles;
DROP TABLE channels;
DROP TABLE guilds;
