// Package banlist provides the operator's ban list: users and client
// addresses that the server refuses before doing any other work.
//
// Entries come from the configuration and from the database, where
// `openguild admin ban` writes them. Lookups read an immutable snapshot
// through an atomic pointer and take no lock; Reload swaps in a new one.
// A List is safe for concurrent use and starts no goroutines.
package banlist

import (
	"context"
	"fmt"
	"net/netip"
	"sync/atomic"
	"time"
)

// Kinds of entry.
const (
	KindUser = "user"
	KindIP   = "ip"
)

// Entry is one ban.
type Entry struct {
	Kind      string // KindUser or KindIP
	Value     string // a user id, or a CIDR
	Reason    string
	CreatedAt time.Time
}

// Store persists the bans made with the admin command.
type Store interface {
	OperatorBans(ctx context.Context) ([]Entry, error)
}

// List answers whether a user or an address is banned.
type List struct {
	store        Store
	staticUsers  []string
	staticRanges []netip.Prefix
	current      atomic.Pointer[snapshot]
}

type snapshot struct {
	users  map[string]bool
	ranges []netip.Prefix
}

// New returns a list holding the configured entries until the first
// Reload adds the stored ones.
func New(store Store, users []string, ranges []netip.Prefix) *List {
	l := &List{store: store, staticUsers: users, staticRanges: ranges}
	l.current.Store(l.build(nil))
	return l
}

// Reload reads the stored bans and makes them effective together with
// the configured ones.
func (l *List) Reload(ctx context.Context) error {
	entries, err := l.store.OperatorBans(ctx)
	if err != nil {
		return fmt.Errorf("read operator bans: %w", err)
	}
	l.current.Store(l.build(entries))
	return nil
}

func (l *List) build(entries []Entry) *snapshot {
	s := &snapshot{users: make(map[string]bool), ranges: append([]netip.Prefix(nil), l.staticRanges...)}
	for _, u := range l.staticUsers {
		s.users[u] = true
	}
	for _, e := range entries {
		switch e.Kind {
		case KindUser:
			s.users[e.Value] = true
		case KindIP:
			if p, err := ParsePrefix(e.Value); err == nil {
				s.ranges = append(s.ranges, p)
			}
		}
	}
	return s
}

// UserBanned reports whether the user is banned.
func (l *List) UserBanned(userID string) bool {
	return l.current.Load().users[userID]
}

// AddrBanned reports whether the address falls in a banned range.
func (l *List) AddrBanned(addr netip.Addr) bool {
	for _, p := range l.current.Load().ranges {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// ParsePrefix accepts a CIDR or a single address.
func ParsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("parse %q: want a CIDR such as 203.0.113.0/24 or an address", s)
	}
	addr = addr.Unmap()
	return netip.PrefixFrom(addr, addr.BitLen()), nil
}
