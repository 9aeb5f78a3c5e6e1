package keys

import (
	"cmp"
	"fmt"
	"slices"
)

// snapshot is an immutable view of the stored keys. A Keyring replaces its
// snapshot as a whole and never modifies one that readers may hold.
type snapshot struct {
	byID   map[string]Key
	active map[Purpose]Key
	all    []Key // ordered by CreatedAt, then ID
}

// newSnapshot indexes stored keys. It rejects malformed keys, duplicate
// ids and a second active key for one purpose, because each means that
// the store broke its contract and no choice between the keys is safe.
func newSnapshot(stored []Key) (*snapshot, error) {
	snap := &snapshot{
		byID:   make(map[string]Key, len(stored)),
		active: make(map[Purpose]Key),
		all:    slices.Clone(stored),
	}

	for _, key := range stored {
		if err := snap.add(key); err != nil {
			return nil, err
		}
	}

	slices.SortFunc(snap.all, compareCreation)

	return snap, nil
}

// add indexes one key while the snapshot is being built.
func (s *snapshot) add(key Key) error {
	if err := key.validate(); err != nil {
		return fmt.Errorf("check stored key %q: %w", key.ID, err)
	}

	if _, ok := s.byID[key.ID]; ok {
		return fmt.Errorf("check stored key %q: duplicate key id", key.ID)
	}
	s.byID[key.ID] = key

	if !key.Active() {
		return nil
	}

	if other, ok := s.active[key.Purpose]; ok {
		return fmt.Errorf("check stored key %q: purpose %s already has active key %q", key.ID, key.Purpose, other.ID)
	}
	s.active[key.Purpose] = key

	return nil
}

// compareCreation orders keys by creation time, oldest first, with the id
// breaking ties so the order is stable across loads.
func compareCreation(a, b Key) int {
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c
	}

	return cmp.Compare(a.ID, b.ID)
}
