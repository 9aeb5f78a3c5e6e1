package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/openguild/openguild/internal/auth"
)

// Accounts implements auth.Store on a DB.
type Accounts struct{ db *DB }

// Accounts returns the account, session and refresh-token store.
func (db *DB) Accounts() *Accounts { return &Accounts{db: db} }

var _ auth.Store = (*Accounts)(nil)

const userColumns = `id, username, display_name, is_admin, dm_policy, created_at, deleted_at`

func scanUser(row interface{ Scan(...any) error }, extra ...any) (auth.User, error) {
	var u auth.User
	var created int64
	var deleted sql.NullInt64
	dest := append([]any{&u.ID, &u.Username, &u.DisplayName, &u.IsAdmin, &u.DMPolicy, &created, &deleted}, extra...)
	if err := row.Scan(dest...); err != nil {
		return auth.User{}, err
	}
	u.CreatedAt = FromMillis(created)
	u.DeletedAt = fromNullMillis(deleted)
	return u, nil
}

// CreateUser implements auth.Store.
func (a *Accounts) CreateUser(ctx context.Context, u auth.NewUser) (auth.User, error) {
	err := a.db.Tx(ctx, func(tx *sql.Tx) error {
		if u.RegistrationTokenHash != nil {
			if err := consumeRegistrationToken(ctx, tx, u.RegistrationTokenHash, u.CreatedAt); err != nil {
				return err
			}
		}

		// A deleted account's name is free once its quarantine is over.
		_, err := tx.ExecContext(ctx,
			`UPDATE users SET username_key = NULL
			 WHERE username_key = $1 AND deleted_at IS NOT NULL AND deleted_at < $2`,
			u.UsernameKey, Millis(u.ReleaseDeletedBefore))
		if err != nil {
			return fmt.Errorf("release quarantined username: %w", err)
		}

		_, err = tx.ExecContext(ctx,
			`INSERT INTO users (id, username, username_key, display_name, password_hash, is_admin, created_at)
			 VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			u.ID, u.Username, u.UsernameKey, u.DisplayName, u.PasswordHash, u.IsAdmin, Millis(u.CreatedAt))
		if IsUniqueViolation(err) {
			return auth.ErrUsernameTaken
		}
		if err != nil {
			return fmt.Errorf("insert user %s: %w", u.ID, err)
		}
		return nil
	})
	if err != nil {
		return auth.User{}, err
	}
	return auth.User{
		ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, IsAdmin: u.IsAdmin,
		DMPolicy: auth.DMPolicyEveryone, CreatedAt: FromMillis(Millis(u.CreatedAt)),
	}, nil
}

func consumeRegistrationToken(ctx context.Context, tx *sql.Tx, hash []byte, now time.Time) error {
	res, err := tx.ExecContext(ctx,
		`UPDATE registration_tokens SET uses = uses + 1
		 WHERE token_hash = $1
		   AND (expires_at IS NULL OR expires_at > $2)
		   AND (max_uses IS NULL OR uses < max_uses)`,
		hash, Millis(now))
	if err != nil {
		return fmt.Errorf("consume registration token: %w", err)
	}
	return expectOneRow(res, auth.ErrInvalidRegistrationToken)
}

// User implements auth.Store.
func (a *Accounts) User(ctx context.Context, id string) (auth.User, error) {
	row := a.db.reader().QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id)
	u, err := scanUser(row)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.User{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.User{}, fmt.Errorf("read user %s: %w", id, err)
	}
	return u, nil
}

// UserCredentials implements auth.Store.
func (a *Accounts) UserCredentials(ctx context.Context, usernameKey string) (auth.User, string, error) {
	var hash string
	row := a.db.reader().QueryRowContext(ctx,
		`SELECT `+userColumns+`, password_hash FROM users WHERE username_key = $1 AND deleted_at IS NULL`, usernameKey)
	u, err := scanUser(row, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.User{}, "", auth.ErrNotFound
	}
	if err != nil {
		return auth.User{}, "", fmt.Errorf("read credentials of %q: %w", usernameKey, err)
	}
	return u, hash, nil
}

// PasswordHash implements auth.Store.
func (a *Accounts) PasswordHash(ctx context.Context, userID string) (string, error) {
	var hash string
	err := a.db.reader().QueryRowContext(ctx,
		`SELECT password_hash FROM users WHERE id = $1 AND deleted_at IS NULL`, userID).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return "", auth.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("read password hash of user %s: %w", userID, err)
	}
	return hash, nil
}

// SetPasswordHash implements auth.Store.
func (a *Accounts) SetPasswordHash(ctx context.Context, userID, hash string) error {
	res, err := a.db.write.ExecContext(ctx,
		`UPDATE users SET password_hash = $1 WHERE id = $2 AND deleted_at IS NULL`, hash, userID)
	if err != nil {
		return fmt.Errorf("update password hash of user %s: %w", userID, err)
	}
	return expectOneRow(res, auth.ErrNotFound)
}

// UpdateProfile implements auth.Store.
func (a *Accounts) UpdateProfile(ctx context.Context, userID string, u auth.ProfileUpdate) (auth.User, error) {
	var user auth.User
	err := a.db.Tx(ctx, func(tx *sql.Tx) error {
		if u.DisplayName != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET display_name = $1 WHERE id = $2 AND deleted_at IS NULL`,
				*u.DisplayName, userID); err != nil {
				return fmt.Errorf("update display name of user %s: %w", userID, err)
			}
		}
		if u.DMPolicy != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET dm_policy = $1 WHERE id = $2 AND deleted_at IS NULL`,
				*u.DMPolicy, userID); err != nil {
				return fmt.Errorf("update DM policy of user %s: %w", userID, err)
			}
		}
		row := tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1 AND deleted_at IS NULL`, userID)
		var err error
		user, err = scanUser(row)
		if errors.Is(err, sql.ErrNoRows) {
			return auth.ErrNotFound
		}
		return err
	})
	return user, err
}

// DeleteUser implements auth.Store.
func (a *Accounts) DeleteUser(ctx context.Context, userID string, at time.Time) ([]string, error) {
	var revoked []string
	err := a.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE users SET deleted_at = $1, password_hash = '', display_name = ''
			 WHERE id = $2 AND deleted_at IS NULL`, Millis(at), userID)
		if err != nil {
			return fmt.Errorf("mark user %s deleted: %w", userID, err)
		}
		if err := expectOneRow(res, auth.ErrNotFound); err != nil {
			return err
		}
		revoked, err = revokeSessions(ctx, tx, userID, "", "account_deleted", at)
		return err
	})
	return revoked, err
}

func expectOneRow(res sql.Result, notFound error) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("count affected rows: %w", err)
	}
	if n == 0 {
		return notFound
	}
	return nil
}

// nullMillis stores a zero time as NULL.
func nullMillis(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return Millis(t)
}

func fromNullMillis(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return FromMillis(v.Int64)
}
