-- +goose Up
-- A media object is one stored file, named by the SHA-256 of its bytes,
-- shared by every upload of the same bytes. refs counts the media rows
-- that name it; the collector deletes an object only after marking it
-- deleting while refs is 0, so an upload racing the collector either
-- takes a reference first or waits for the deletion to finish.
CREATE TABLE media_objects (
    sha256      TEXT PRIMARY KEY,
    size        INTEGER NOT NULL,
    refs        INTEGER NOT NULL,
    deleting    INTEGER NOT NULL DEFAULT 0,
    released_at INTEGER NOT NULL       -- when refs last changed
) STRICT;
CREATE INDEX media_objects_unreferenced ON media_objects (released_at) WHERE refs = 0;

-- A media row is one upload: who sent it, under which name, and what
-- the server found in its bytes.
CREATE TABLE media (
    id           TEXT PRIMARY KEY,
    uploader_id  TEXT NOT NULL REFERENCES users (id),
    sha256       TEXT NOT NULL REFERENCES media_objects (sha256),
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,        -- sniffed from the bytes
    size         INTEGER NOT NULL,
    width        INTEGER,
    height       INTEGER,
    created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX media_uploader ON media (uploader_id);
CREATE INDEX media_created ON media (created_at);

CREATE TABLE message_attachments (
    message_id TEXT NOT NULL REFERENCES messages (id),
    media_id   TEXT NOT NULL REFERENCES media (id),
    position   INTEGER NOT NULL,
    PRIMARY KEY (message_id, media_id)
) STRICT;
CREATE INDEX message_attachments_media ON message_attachments (media_id);

-- +goose Down
DROP TABLE message_attachments;
DROP TABLE media;
DROP TABLE media_objects;
