package keys

import (
	"context"
	"time"
)

// Store persists signing keys. The database package implements it, and
// keystest provides an in-memory implementation and a conformance suite
// that every implementation should pass.
//
// A Store must keep at most one active key per purpose (one whose
// RetiredAt is zero) and must be safe for concurrent use, including by
// several processes sharing one database.
type Store interface {
	// ListSigningKeys returns every stored key, retired ones included.
	ListSigningKeys(ctx context.Context) ([]Key, error)

	// InsertSigningKey stores a new active key. It returns
	// ErrActiveKeyExists when purpose already has an active key and
	// replaceActive is nil; with replaceActive set, it retires that key
	// (setting RetiredAt and VerifyUntil) in the same transaction as the
	// insert, and returns ErrKeyChanged if that key is no longer the active
	// one.
	InsertSigningKey(ctx context.Context, k Key, replaceActive *Retirement) error
}

// Retirement names the active key that an insert replaces and the times
// to record on it.
type Retirement struct {
	// KeyID is the id of the key expected to be active.
	KeyID string

	// RetiredAt is when the key stops signing.
	RetiredAt time.Time

	// VerifyUntil is when the key stops verifying.
	VerifyUntil time.Time
}
