-- +goose Up
-- server_info records facts about the deployment that must not change
-- silently, such as the server name the data was created under.
CREATE TABLE server_info (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- +goose Down
DROP TABLE server_info;
