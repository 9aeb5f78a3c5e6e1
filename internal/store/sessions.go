package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/openguild/openguild/internal/auth"
)

const sessionColumns = `id, user_id, device_id, device_name, user_agent, created_at, last_seen_at, last_ip, revoked_at`

func scanSession(row scanner) (auth.Session, error) {
	var s auth.Session
	var created, seen int64
	var revoked sql.NullInt64
	err := row.Scan(&s.ID, &s.UserID, &s.DeviceID, &s.DeviceName, &s.UserAgent, &created, &seen, &s.LastIP, &revoked)
	if err != nil {
		return auth.Session{}, err
	}
	s.CreatedAt = FromMillis(created)
	s.LastSeenAt = FromMillis(seen)
	s.RevokedAt = fromNullMillis(revoked)
	return s, nil
}

// CreateSession implements auth.Store.
func (a *Accounts) CreateSession(ctx context.Context, s auth.Session, token auth.RefreshToken) ([]string, error) {
	var replaced []string
	err := a.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := lockLiveUser(ctx, tx, a.db.dialect, s.UserID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx,
			`UPDATE sessions SET revoked_at = $1, revoke_reason = 'replaced_by_login'
			 WHERE user_id = $2 AND device_id = $3 AND revoked_at IS NULL
			 RETURNING id`, Millis(s.CreatedAt), s.UserID, s.DeviceID)
		if err != nil {
			return fmt.Errorf("revoke earlier session of device: %w", err)
		}
		replaced, err = collectStrings(rows)
		if err != nil {
			return fmt.Errorf("revoke earlier session of device: %w", err)
		}

		_, err = tx.ExecContext(ctx,
			`INSERT INTO sessions (id, user_id, device_id, device_name, user_agent, created_at, last_seen_at, last_ip)
			 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			s.ID, s.UserID, s.DeviceID, s.DeviceName, s.UserAgent, Millis(s.CreatedAt), Millis(s.LastSeenAt), s.LastIP)
		if err != nil {
			return fmt.Errorf("insert session %s: %w", s.ID, err)
		}
		return insertRefreshToken(ctx, tx, token)
	})
	return replaced, err
}

// lockLiveUser requires the user to exist and not be deleted, and holds
// their row until the transaction ends, so a login racing an account
// deletion cannot leave a live session behind. SQLite's single writer
// already serialises the two; PostgreSQL needs the row lock.
func lockLiveUser(ctx context.Context, tx *sql.Tx, dialect Dialect, userID string) error {
	query := `SELECT 1 FROM users WHERE id = $1 AND deleted_at IS NULL`
	if dialect == Postgres {
		query += ` FOR SHARE`
	}
	var one int
	err := tx.QueryRowContext(ctx, query, userID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("lock user %s: %w", userID, err)
	}
	return nil
}

func insertRefreshToken(ctx context.Context, tx *sql.Tx, t auth.RefreshToken) error {
	_, err := tx.ExecContext(ctx,
		`INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		t.Hash, t.SessionID, Millis(t.CreatedAt), Millis(t.ExpiresAt))
	if err != nil {
		return fmt.Errorf("insert refresh token of session %s: %w", t.SessionID, err)
	}
	return nil
}

// Session implements auth.Store.
func (a *Accounts) Session(ctx context.Context, id string) (auth.Session, error) {
	row := a.db.reader().QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = $1`, id)
	s, err := scanSession(row)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Session{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.Session{}, fmt.Errorf("read session %s: %w", id, err)
	}
	return s, nil
}

// Sessions implements auth.Store.
func (a *Accounts) Sessions(ctx context.Context, userID string) ([]auth.Session, error) {
	rows, err := a.db.reader().QueryContext(ctx,
		`SELECT `+sessionColumns+` FROM sessions WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list sessions of user %s: %w", userID, err)
	}
	sessions, err := scanAll(rows, scanSession)
	if err != nil {
		return nil, fmt.Errorf("list sessions of user %s: %w", userID, err)
	}
	return sessions, nil
}

// TouchSession implements auth.Store.
func (a *Accounts) TouchSession(ctx context.Context, id string, at time.Time, ip string) error {
	_, err := a.db.write.ExecContext(ctx,
		`UPDATE sessions SET last_seen_at = $1, last_ip = $2 WHERE id = $3 AND revoked_at IS NULL`, Millis(at), ip, id)
	if err != nil {
		return fmt.Errorf("touch session %s: %w", id, err)
	}
	return nil
}

// RevokeSession implements auth.Store.
func (a *Accounts) RevokeSession(ctx context.Context, userID, sessionID, reason string, at time.Time) error {
	res, err := a.db.write.ExecContext(ctx,
		`UPDATE sessions SET revoked_at = $1, revoke_reason = $2
		 WHERE id = $3 AND user_id = $4 AND revoked_at IS NULL`, Millis(at), reason, sessionID, userID)
	if err != nil {
		return fmt.Errorf("revoke session %s: %w", sessionID, err)
	}
	return expectOneRow(res, auth.ErrNotFound)
}

// RevokeOtherSessions implements auth.Store.
func (a *Accounts) RevokeOtherSessions(ctx context.Context, userID, keep, reason string, at time.Time) ([]string, error) {
	var revoked []string
	err := a.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		revoked, err = revokeSessions(ctx, tx, userID, keep, reason, at)
		return err
	})
	return revoked, err
}

// revokeSessions revokes every live session of userID but keep ("" keeps
// none) and returns their ids.
func revokeSessions(ctx context.Context, tx *sql.Tx, userID, keep, reason string, at time.Time) ([]string, error) {
	rows, err := tx.QueryContext(ctx,
		`UPDATE sessions SET revoked_at = $1, revoke_reason = $2
		 WHERE user_id = $3 AND id <> $4 AND revoked_at IS NULL
		 RETURNING id`, Millis(at), reason, userID, keep)
	if err != nil {
		return nil, fmt.Errorf("revoke sessions of user %s: %w", userID, err)
	}
	ids, err := collectStrings(rows)
	if err != nil {
		return nil, fmt.Errorf("revoke sessions of user %s: %w", userID, err)
	}
	return ids, nil
}

// RefreshToken implements auth.Store.
func (a *Accounts) RefreshToken(ctx context.Context, hash []byte) (auth.RefreshToken, error) {
	var t auth.RefreshToken
	var created, expires int64
	var rotated sql.NullInt64
	var keyID, jti sql.NullString
	err := a.db.reader().QueryRowContext(ctx,
		`SELECT token_hash, session_id, created_at, expires_at, rotated_at, access_key_id, access_jti
		 FROM refresh_tokens WHERE token_hash = $1`, hash).
		Scan(&t.Hash, &t.SessionID, &created, &expires, &rotated, &keyID, &jti)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.RefreshToken{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.RefreshToken{}, fmt.Errorf("read refresh token: %w", err)
	}
	t.CreatedAt = FromMillis(created)
	t.ExpiresAt = FromMillis(expires)
	t.RotatedAt = fromNullMillis(rotated)
	t.AccessKeyID = keyID.String
	t.AccessJTI = jti.String
	return t, nil
}

// RotateRefreshToken implements auth.Store.
func (a *Accounts) RotateRefreshToken(ctx context.Context, r auth.Rotation) error {
	return a.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE refresh_tokens SET rotated_at = $1, access_key_id = $2, access_jti = $3
			 WHERE token_hash = $4 AND rotated_at IS NULL`,
			Millis(r.RotatedAt), r.AccessKeyID, r.AccessJTI, r.OldHash)
		if err != nil {
			return fmt.Errorf("mark refresh token rotated: %w", err)
		}
		if err := expectOneRow(res, auth.ErrAlreadyRotated); err != nil {
			return refreshTokenExists(ctx, tx, r.OldHash, err)
		}
		if err := insertRefreshToken(ctx, tx, r.Successor); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $1, last_ip = $2 WHERE id = $3`,
			Millis(r.RotatedAt), r.SeenIP, r.Successor.SessionID)
		if err != nil {
			return fmt.Errorf("touch session %s: %w", r.Successor.SessionID, err)
		}
		return nil
	})
}

// CreateRegistrationToken implements auth.Store.
func (a *Accounts) CreateRegistrationToken(ctx context.Context, hash []byte, createdAt, expiresAt time.Time, maxUses int) error {
	var uses any
	if maxUses > 0 {
		uses = maxUses
	}
	_, err := a.db.write.ExecContext(ctx,
		`INSERT INTO registration_tokens (token_hash, created_at, expires_at, max_uses) VALUES ($1, $2, $3, $4)`,
		hash, Millis(createdAt), nullMillis(expiresAt), uses)
	if err != nil {
		return fmt.Errorf("insert registration token: %w", err)
	}
	return nil
}

func collectStrings(rows *sql.Rows) ([]string, error) {
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// refreshTokenExists returns ifExists when the token is stored and
// auth.ErrNotFound when it is not, so a rotation of an unknown token is
// not mistaken for a lost race.
func refreshTokenExists(ctx context.Context, tx *sql.Tx, hash []byte, ifExists error) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM refresh_tokens WHERE token_hash = $1`, hash).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("look up refresh token: %w", err)
	}
	return ifExists
}
