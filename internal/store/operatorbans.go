package store

import (
	"context"
	"fmt"

	"github.com/openguild/openguild/internal/banlist"
)

// OperatorBans implements banlist.Store.
func (db *DB) OperatorBans(ctx context.Context) ([]banlist.Entry, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT kind, value, reason, created_at FROM operator_bans ORDER BY created_at, kind, value`)
	if err != nil {
		return nil, fmt.Errorf("list operator bans: %w", err)
	}
	defer rows.Close()
	var out []banlist.Entry
	for rows.Next() {
		var e banlist.Entry
		var created int64
		if err := rows.Scan(&e.Kind, &e.Value, &e.Reason, &created); err != nil {
			return nil, fmt.Errorf("list operator bans: %w", err)
		}
		e.CreatedAt = FromMillis(created)
		out = append(out, e)
	}
	return out, rows.Err()
}

// AddOperatorBan stores a ban, replacing the reason of an existing one.
func (db *DB) AddOperatorBan(ctx context.Context, e banlist.Entry) error {
	_, err := db.write.ExecContext(ctx,
		`INSERT INTO operator_bans (kind, value, reason, created_at) VALUES ($1, $2, $3, $4)
		 ON CONFLICT (kind, value) DO UPDATE SET reason = excluded.reason`,
		e.Kind, e.Value, e.Reason, Millis(e.CreatedAt))
	if err != nil {
		return fmt.Errorf("add %s ban %s: %w", e.Kind, e.Value, err)
	}
	return nil
}

// RemoveOperatorBan deletes a ban and reports whether there was one.
func (db *DB) RemoveOperatorBan(ctx context.Context, kind, value string) (bool, error) {
	res, err := db.write.ExecContext(ctx, `DELETE FROM operator_bans WHERE kind = $1 AND value = $2`, kind, value)
	if err != nil {
		return false, fmt.Errorf("remove %s ban %s: %w", kind, value, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

var _ banlist.Store = (*DB)(nil)
