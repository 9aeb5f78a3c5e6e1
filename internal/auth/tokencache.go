package auth

import (
	"crypto/sha256"
	"sync"
)

// cachedToken is a verify cache entry: a token's claims and the id of the
// key that signed it.
type cachedToken struct {
	claims AccessClaims
	keyID  string
}

// tokenDigest is the SHA-256 of a token. The cache is keyed by digest so
// that it never holds bearer tokens themselves.
type tokenDigest = [sha256.Size]byte

// verifyCache maps the digests of verified tokens to their claims. It
// holds at most its capacity of entries and, when full, evicts the entry
// inserted first. Lookups take only a read lock. Expired entries are not
// removed early: Verify ignores them on lookup, and later insertions push
// them out.
type verifyCache struct {
	capacity int

	mu sync.RWMutex
	// mu guards the fields below.

	entries map[tokenDigest]cachedToken
	order   []tokenDigest // the digests in entries, in a ring ordered by insertion
	next    int           // once order is full, the index of the oldest digest
}

// newVerifyCache returns a cache of the given size, or nil when size is
// negative. Zero selects DefaultVerifyCacheSize.
func newVerifyCache(size int) *verifyCache {
	if size < 0 {
		return nil
	}
	if size == 0 {
		size = DefaultVerifyCacheSize
	}

	// The map and ring grow as tokens arrive, so an idle server does not
	// reserve the memory of a full cache.
	return &verifyCache{capacity: size, entries: make(map[tokenDigest]cachedToken)}
}

// get returns the entry for digest. A nil cache holds nothing.
func (c *verifyCache) get(digest tokenDigest) (cachedToken, bool) {
	if c == nil {
		return cachedToken{}, false
	}

	c.mu.RLock()
	defer c.mu.RUnlock()

	entry, ok := c.entries[digest]

	return entry, ok
}

// add stores an entry for digest, evicting the oldest one when the cache
// is full. A nil cache does nothing.
func (c *verifyCache) add(digest tokenDigest, entry cachedToken) {
	if c == nil {
		return
	}

	c.mu.Lock()
	defer c.mu.Unlock()

	if _, ok := c.entries[digest]; ok {
		// Two goroutines verified the same token at once. The digest is
		// already in order, so only the entry is replaced.
		c.entries[digest] = entry
		return
	}

	if len(c.order) < c.capacity {
		c.order = append(c.order, digest)
	} else {
		delete(c.entries, c.order[c.next])
		c.order[c.next] = digest
		c.next = (c.next + 1) % c.capacity
	}
	c.entries[digest] = entry
}
