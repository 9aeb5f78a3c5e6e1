package ratelimit

import (
	"fmt"
	"hash/maphash"
	"strings"
	"sync"
)

// DefaultMaxKeys is the number of keys a Window or Throttle holds when its
// options leave MaxKeys at zero.
const DefaultMaxKeys = 1 << 16

// maxKeysOrDefault returns maxKeys, or DefaultMaxKeys when maxKeys is 0.
func maxKeysOrDefault(maxKeys int) (int, error) {
	if maxKeys < 0 {
		return 0, fmt.Errorf("invalid MaxKeys %d: must be positive, or 0 for the default of %d", maxKeys, DefaultMaxKeys)
	}

	if maxKeys == 0 {
		return DefaultMaxKeys, nil
	}

	return maxKeys, nil
}

// maxShards caps the number of shards in a key table. Each shard has its
// own lock, so more shards mean less contention between goroutines, while
// fewer shards make each shard's LRU order closer to a global one.
const maxShards = 64

// evictionScanLength is how many of a full shard's least recently used keys
// an insert examines for an idle one before it evicts the least recently
// used key. The bound keeps each insert O(1) during a flood of new keys.
const evictionScanLength = 32

// idleDropsPerAccess is how many idle keys each access may remove from the
// least recently used end of its shard. An access adds at most one key, so
// removing up to two keeps idle keys from piling up between sweeps.
const idleDropsPerAccess = 2

// keyTable maps string keys to per-key state of type V. It is split into
// shards by a hash of the key, and each shard has its own lock, key limit
// and list of keys ordered by last access.
type keyTable[V any] struct {
	seed   maphash.Seed
	shards []tableShard[V]

	// isIdle reports whether a state may be dropped at the time now without
	// changing any later decision. It runs with the shard locked and may
	// update the state, for example to drop expired timestamps.
	isIdle func(state *V, now int64) bool

	// reset turns a state taken from an evicted key into that of a new key.
	// It may keep allocated storage for reuse.
	reset func(state *V)
}

// tableShard is one lock's share of a keyTable.
type tableShard[V any] struct {
	maxKeys int // fixed at construction, at least 1

	mu sync.Mutex
	// mu guards the fields below and the state of every entry in entries.
	entries map[string]*tableEntry[V]
	newest  *tableEntry[V] // most recently used entry, nil when empty
	oldest  *tableEntry[V] // least recently used entry, nil when empty

	// spare is an entry dropped as idle during an access, kept so that the
	// next insert can reuse it and its storage. Nil when there is none.
	spare *tableEntry[V]

	// The padding keeps the locks of neighbouring shards on different cache
	// lines, so goroutines working on different shards do not slow each
	// other down.
	_ [64]byte
}

// tableEntry is one key's state and its links in the LRU list.
type tableEntry[V any] struct {
	key   string
	newer *tableEntry[V]
	older *tableEntry[V]
	state V
}

// newKeyTable returns a table that holds at most maxKeys keys, which must be
// at least 1.
func newKeyTable[V any](maxKeys int, isIdle func(*V, int64) bool, reset func(*V)) *keyTable[V] {
	count := shardCount(maxKeys)
	t := &keyTable[V]{
		seed:   maphash.MakeSeed(),
		shards: make([]tableShard[V], count),
		isIdle: isIdle,
		reset:  reset,
	}

	for i := range t.shards {
		// Spreading the remainder makes the shard limits add up to maxKeys.
		s := &t.shards[i]
		s.maxKeys = maxKeys / count
		if i < maxKeys%count {
			s.maxKeys++
		}
		s.entries = make(map[string]*tableEntry[V])
	}

	return t
}

// shardCount returns the largest power of two that is at most maxShards and
// at most maxKeys, so that every shard has room for at least one key.
func shardCount(maxKeys int) int {
	count := 1
	for count*2 <= maxShards && count*2 <= maxKeys {
		count *= 2
	}

	return count
}

func (t *keyTable[V]) shardFor(key string) *tableShard[V] {
	hash := maphash.String(t.seed, key)
	return &t.shards[hash&uint64(len(t.shards)-1)]
}

// acquire locks the shard of key and returns it with the key's state,
// inserting a new state when the key is missing. The caller must unlock the
// shard. Inserting into a full shard evicts another key first.
func (t *keyTable[V]) acquire(key string, now int64) (*tableShard[V], *V) {
	s := t.shardFor(key)
	s.mu.Lock()
	t.dropIdleOldestLocked(s, now)

	e, ok := s.entries[key]
	if !ok {
		e = t.insertLocked(s, key, now)
	}
	s.moveToNewestLocked(e)

	return s, &e.state
}

// find locks the shard of key and returns it with the key's state, or with
// nil when the key is not stored. The caller must unlock the shard.
func (t *keyTable[V]) find(key string, now int64) (*tableShard[V], *V) {
	s := t.shardFor(key)
	s.mu.Lock()
	t.dropIdleOldestLocked(s, now)

	e, ok := s.entries[key]
	if !ok {
		return s, nil
	}
	s.moveToNewestLocked(e)

	return s, &e.state
}

// remove deletes key and its state, if stored.
func (t *keyTable[V]) remove(key string) {
	s := t.shardFor(key)
	s.mu.Lock()
	defer s.mu.Unlock()

	if e, ok := s.entries[key]; ok {
		s.removeLocked(e)
	}
}

// sweep removes every idle key and returns how many it removed. It locks one
// shard at a time, so other goroutines keep working on the other shards.
func (t *keyTable[V]) sweep(now int64) int {
	removed := 0
	for i := range t.shards {
		removed += t.sweepShard(&t.shards[i], now)
	}

	return removed
}

func (t *keyTable[V]) sweepShard(s *tableShard[V], now int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()

	// Sweep runs to free memory, so it releases the spare entry as well.
	s.spare = nil

	removed := 0
	for e := s.oldest; e != nil; {
		next := e.newer
		if t.isIdle(&e.state, now) {
			s.removeLocked(e)
			removed++
		}
		e = next
	}

	return removed
}

// len returns the number of stored keys.
func (t *keyTable[V]) len() int {
	total := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		total += len(s.entries)
		s.mu.Unlock()
	}

	return total
}

// dropIdleOldestLocked removes up to idleDropsPerAccess idle keys from the
// least recently used end of s. It stops at the first key still in use.
// The last entry removed becomes the shard's spare.
func (t *keyTable[V]) dropIdleOldestLocked(s *tableShard[V], now int64) {
	for range idleDropsPerAccess {
		e := s.oldest
		if e == nil || !t.isIdle(&e.state, now) {
			return
		}
		s.removeLocked(e)
		s.spare = e
	}
}

// insertLocked adds key to s with a new state. It reuses the entry of an
// evicted key when s is full, or else the spare entry, so that keys that
// come and go do not allocate each time. The key is cloned so that the
// table does not keep alive a larger buffer that the caller's string may
// point into.
func (t *keyTable[V]) insertLocked(s *tableShard[V], key string, now int64) *tableEntry[V] {
	e := t.evictLocked(s, now)
	if e == nil && s.spare != nil {
		e = s.spare
		s.spare = nil
	}

	if e == nil {
		e = new(tableEntry[V])
	} else {
		t.reset(&e.state)
	}

	e.key = strings.Clone(key)
	s.entries[e.key] = e

	return e
}

// evictLocked removes one key when s is full and returns its entry for
// reuse, or returns nil when s has room. It prefers an idle key among the
// evictionScanLength least recently used. Otherwise it evicts the least
// recently used key, which may still be in use and so loses its history.
func (t *keyTable[V]) evictLocked(s *tableShard[V], now int64) *tableEntry[V] {
	if len(s.entries) < s.maxKeys {
		return nil
	}

	victim := s.oldest
	e := s.oldest
	for range evictionScanLength {
		if e == nil {
			break
		}
		if t.isIdle(&e.state, now) {
			victim = e
			break
		}
		e = e.newer
	}

	s.removeLocked(victim)

	return victim
}

// moveToNewestLocked makes e, which may be unlinked, the most recently used
// entry of s.
func (s *tableShard[V]) moveToNewestLocked(e *tableEntry[V]) {
	if s.newest == e {
		return
	}

	s.unlinkLocked(e)
	e.older = s.newest
	if s.newest != nil {
		s.newest.newer = e
	}
	s.newest = e
	if s.oldest == nil {
		s.oldest = e
	}
}

// removeLocked deletes e from the map and the LRU list of s.
func (s *tableShard[V]) removeLocked(e *tableEntry[V]) {
	delete(s.entries, e.key)
	s.unlinkLocked(e)
}

// unlinkLocked takes e out of the LRU list of s. It does nothing to an entry
// that is not linked.
func (s *tableShard[V]) unlinkLocked(e *tableEntry[V]) {
	if e.newer != nil {
		e.newer.older = e.older
	} else if s.newest == e {
		s.newest = e.older
	}

	if e.older != nil {
		e.older.newer = e.newer
	} else if s.oldest == e {
		s.oldest = e.newer
	}

	e.newer = nil
	e.older = nil
}
