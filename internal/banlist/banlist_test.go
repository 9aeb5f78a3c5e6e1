package banlist

import (
	"context"
	"net/netip"
	"testing"
)

type fakeStore []Entry

func (f *fakeStore) OperatorBans(context.Context) ([]Entry, error) { return *f, nil }

func TestListCombinesConfigAndStore(t *testing.T) {
	stored := fakeStore{
		{Kind: KindUser, Value: "stored-user"},
		{Kind: KindIP, Value: "198.51.100.0/24"},
		{Kind: KindIP, Value: "2001:db8::1"},
	}
	l := New(&stored, []string{"config-user"}, []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")})

	if !l.UserBanned("config-user") || l.UserBanned("stored-user") {
		t.Error("before Reload only the configured user should be banned")
	}
	if err := l.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		got  bool
		want bool
	}{
		{"configured user", l.UserBanned("config-user"), true},
		{"stored user", l.UserBanned("stored-user"), true},
		{"other user", l.UserBanned("someone"), false},
		{"configured range", l.AddrBanned(netip.MustParseAddr("203.0.113.77")), true},
		{"stored range", l.AddrBanned(netip.MustParseAddr("198.51.100.5")), true},
		{"stored single IPv6 address", l.AddrBanned(netip.MustParseAddr("2001:db8::1")), true},
		{"neighbouring IPv6 address", l.AddrBanned(netip.MustParseAddr("2001:db8::2")), false},
		{"loopback", l.AddrBanned(netip.MustParseAddr("127.0.0.1")), false},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: banned = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

func TestReloadDropsRemovedBans(t *testing.T) {
	store := fakeStore{{Kind: KindUser, Value: "u"}}
	l := New(&store, nil, nil)
	l.Reload(context.Background())
	store = nil
	l.Reload(context.Background())
	if l.UserBanned("u") {
		t.Error("a ban removed from the store is still effective after Reload")
	}
}
