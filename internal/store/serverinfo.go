package store

import (
	"context"
	"fmt"
)

// ClaimServerInfo stores value under key unless the key already has one,
// and returns the value now stored. Callers use it to notice a setting
// that changed since the data was created.
func (db *DB) ClaimServerInfo(ctx context.Context, key, value string) (string, error) {
	_, err := db.write.ExecContext(ctx,
		`INSERT INTO server_info (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`,
		key, value)
	if err != nil {
		return "", fmt.Errorf("store server info %s: %w", key, err)
	}

	var stored string
	err = db.write.QueryRowContext(ctx, `SELECT value FROM server_info WHERE key = $1`, key).Scan(&stored)
	if err != nil {
		return "", fmt.Errorf("read server info %s: %w", key, err)
	}
	return stored, nil
}
