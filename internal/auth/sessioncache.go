package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/openguild/openguild/internal/ratelimit"
)

// sessionCacheMax bounds the cache. Past it, the cache is cleared and
// refills from the store, which costs one query per active session.
const sessionCacheMax = 100_000

// sessionCache answers "is this session live?" for the bearer check
// without a query per request. Revocations made through the Service
// invalidate their entries at once; entries also expire after the check
// interval, so revocations by another node or process take effect within
// it.
type sessionCache struct {
	store    Store
	interval time.Duration
	clock    ratelimit.Clock
	onRevoke func(sessionIDs []string) // may be nil

	mu      sync.Mutex // guards entries
	entries map[string]sessionEntry
}

type sessionEntry struct {
	userID    string
	live      bool
	checkedAt time.Time
	touchedAt time.Time // last write of last_seen_at, zero if none by us
}

func newSessionCache(store Store, interval time.Duration, clock ratelimit.Clock, onRevoke func([]string)) *sessionCache {
	return &sessionCache{store: store, interval: interval, clock: clock, onRevoke: onRevoke, entries: make(map[string]sessionEntry)}
}

// check returns nil when sessionID is a live session of userID, and
// records its use from ip at most once per sessionTouchInterval.
func (c *sessionCache) check(ctx context.Context, userID, sessionID, ip string) error {
	now := c.clock.Now()
	c.mu.Lock()
	entry, ok := c.entries[sessionID]
	c.mu.Unlock()

	if !ok || now.Sub(entry.checkedAt) >= c.interval {
		fresh, err := c.load(ctx, sessionID, now)
		if err != nil {
			return err
		}
		fresh.touchedAt = entry.touchedAt
		entry = fresh
	}
	if !entry.live || entry.userID != userID {
		c.put(sessionID, entry)
		return ErrSessionRevoked
	}

	if now.Sub(entry.touchedAt) >= sessionTouchInterval {
		if err := c.store.TouchSession(ctx, sessionID, now, ip); err != nil {
			return err
		}
		entry.touchedAt = now
	}
	c.put(sessionID, entry)
	return nil
}

func (c *sessionCache) load(ctx context.Context, sessionID string, now time.Time) (sessionEntry, error) {
	s, err := c.store.Session(ctx, sessionID)
	if errors.Is(err, ErrNotFound) {
		return sessionEntry{live: false, checkedAt: now}, nil
	}
	if err != nil {
		return sessionEntry{}, fmt.Errorf("check session %s: %w", sessionID, err)
	}
	return sessionEntry{userID: s.UserID, live: s.RevokedAt.IsZero(), checkedAt: now}, nil
}

func (c *sessionCache) put(sessionID string, entry sessionEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= sessionCacheMax {
		clear(c.entries)
	}
	c.entries[sessionID] = entry
}

// invalidate marks sessions revoked in the cache at once.
func (c *sessionCache) invalidate(sessionIDs ...string) {
	if len(sessionIDs) == 0 {
		return
	}
	now := c.clock.Now()
	c.mu.Lock()
	for _, id := range sessionIDs {
		c.entries[id] = sessionEntry{live: false, checkedAt: now}
	}
	c.mu.Unlock()
	if c.onRevoke != nil {
		c.onRevoke(sessionIDs)
	}
}
