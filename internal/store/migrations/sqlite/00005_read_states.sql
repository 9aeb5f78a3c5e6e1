-- +goose Up
-- A read state is how far a user has read a channel: the highest seq of
-- the channel's log that they marked as read. The store only ever raises
-- seq, so a late request from another device cannot move it back.
CREATE TABLE read_states (
    user_id    TEXT NOT NULL REFERENCES users (id),
    channel_id TEXT NOT NULL REFERENCES channels (id),
    seq        INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,       -- when seq last rose
    PRIMARY KEY (user_id, channel_id)
) STRICT;

-- +goose Down
DROP TABLE read_states;
