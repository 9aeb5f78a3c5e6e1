package store

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"fmt"

	"github.com/openguild/openguild/internal/keys"
)

// SigningKeys implements keys.Store on a DB. Private keys live in the
// database rather than in files, so every node of a deployment signs with
// the same keyring and a rotation reaches all of them.
type SigningKeys struct{ db *DB }

// SigningKeys returns the keyring's store.
func (db *DB) SigningKeys() *SigningKeys { return &SigningKeys{db: db} }

var _ keys.Store = (*SigningKeys)(nil)

// ListSigningKeys implements keys.Store.
func (s *SigningKeys) ListSigningKeys(ctx context.Context) ([]keys.Key, error) {
	rows, err := s.db.read.QueryContext(ctx,
		`SELECT id, purpose, public_key, private_key, created_at, retired_at, verify_until
		 FROM signing_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	defer rows.Close()

	var out []keys.Key
	for rows.Next() {
		var k keys.Key
		var public, private []byte
		var created int64
		var retired, verifyUntil sql.NullInt64
		if err := rows.Scan(&k.ID, &k.Purpose, &public, &private, &created, &retired, &verifyUntil); err != nil {
			return nil, fmt.Errorf("list signing keys: %w", err)
		}
		k.Public = ed25519.PublicKey(public)
		k.Private = ed25519.PrivateKey(private)
		k.CreatedAt = FromMillis(created)
		k.RetiredAt = fromNullMillis(retired)
		k.VerifyUntil = fromNullMillis(verifyUntil)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	return out, nil
}

// InsertSigningKey implements keys.Store. The partial unique index on
// active keys per purpose decides races between nodes.
func (s *SigningKeys) InsertSigningKey(ctx context.Context, k keys.Key, replace *keys.Retirement) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if replace != nil {
			res, err := tx.ExecContext(ctx,
				`UPDATE signing_keys SET retired_at = $1, verify_until = $2
				 WHERE id = $3 AND purpose = $4 AND retired_at IS NULL`,
				Millis(replace.RetiredAt), Millis(replace.VerifyUntil), replace.KeyID, string(k.Purpose))
			if err != nil {
				return fmt.Errorf("retire signing key %s: %w", replace.KeyID, err)
			}
			if err := expectOneRow(res, keys.ErrKeyChanged); err != nil {
				return err
			}
		}

		_, err := tx.ExecContext(ctx,
			`INSERT INTO signing_keys (id, purpose, public_key, private_key, created_at) VALUES ($1, $2, $3, $4, $5)`,
			k.ID, string(k.Purpose), []byte(k.Public), []byte(k.Private), Millis(k.CreatedAt))
		if IsUniqueViolation(err) {
			if replace != nil {
				return keys.ErrKeyChanged
			}
			return keys.ErrActiveKeyExists
		}
		if err != nil {
			return fmt.Errorf("insert signing key %s: %w", k.ID, err)
		}
		return nil
	})
}
