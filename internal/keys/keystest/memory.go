// Package keystest provides an in-memory keys.Store and a conformance
// suite that every keys.Store implementation should pass.
package keystest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/openguild/openguild/internal/keys"
)

// MemoryStore is a keys.Store that keeps keys in memory, for tests. The
// zero value is an empty store, ready to use and safe for concurrent use.
type MemoryStore struct {
	mu sync.Mutex
	// mu guards the fields below.

	stored []keys.Key
}

// ListSigningKeys returns copies of every stored key, so callers never
// share memory with the store, as with a database.
func (s *MemoryStore) ListSigningKeys(ctx context.Context) ([]keys.Key, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	listed := make([]keys.Key, len(s.stored))
	for i, key := range s.stored {
		listed[i] = cloneKey(key)
	}

	return listed, nil
}

// InsertSigningKey stores k as the active key of its purpose, following
// the keys.Store contract. The whole check-and-write runs under one lock,
// which plays the part of a database transaction.
func (s *MemoryStore) InsertSigningKey(ctx context.Context, k keys.Key, replaceActive *keys.Retirement) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !k.Active() {
		return fmt.Errorf("insert key %s: key is already retired", k.ID)
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	if slices.ContainsFunc(s.stored, func(stored keys.Key) bool { return stored.ID == k.ID }) {
		return fmt.Errorf("insert key %s: duplicate key id", k.ID)
	}

	if err := s.retireLocked(k.Purpose, replaceActive); err != nil {
		return fmt.Errorf("insert key %s: %w", k.ID, err)
	}

	s.stored = append(s.stored, cloneKey(k))

	return nil
}

// retireLocked applies replaceActive to the active key of purpose, or
// checks that the purpose has no active key when replaceActive is nil.
func (s *MemoryStore) retireLocked(purpose keys.Purpose, replaceActive *keys.Retirement) error {
	i := slices.IndexFunc(s.stored, func(stored keys.Key) bool {
		return stored.Purpose == purpose && stored.Active()
	})

	if replaceActive == nil {
		if i >= 0 {
			return keys.ErrActiveKeyExists
		}
		return nil
	}

	if i < 0 || s.stored[i].ID != replaceActive.KeyID {
		return keys.ErrKeyChanged
	}
	if replaceActive.RetiredAt.IsZero() || replaceActive.VerifyUntil.Before(replaceActive.RetiredAt) {
		return errors.New("invalid retirement times")
	}

	s.stored[i].RetiredAt = replaceActive.RetiredAt
	s.stored[i].VerifyUntil = replaceActive.VerifyUntil

	return nil
}

// cloneKey copies a key together with its byte slices.
func cloneKey(k keys.Key) keys.Key {
	k.Public = slices.Clone(k.Public)
	k.Private = slices.Clone(k.Private)

	return k
}
