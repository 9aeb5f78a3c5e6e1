package permission

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// Sizes of the benchmark guild.
const (
	benchmarkRoles        = 200 // including @everyone
	benchmarkChannels     = 500 // including categories
	benchmarkCategories   = 25
	benchmarkMemberRoles  = 10
	benchmarkUnsortedRate = 2 // one channel in this many is in no category
)

// benchmarkFixture is a guild, one member of it and every channel with its
// category, built once per benchmark.
type benchmarkFixture struct {
	guild    Guild
	member   Member
	channels []Channel
	parents  []*Channel // parents[i] is the category of channels[i], or nil
}

// newBenchmarkFixture builds a guild with 200 roles and 500 channels, 25 of
// them categories and about half the rest inside one. Every channel and
// category has an @everyone overwrite, which denies ViewChannel in one in
// five, and 2 to 5 role overwrites. One channel in ten has an overwrite for
// the benchmark member, and one in five has one for another member. The
// member holds 10 roles. The random numbers come from a fixed seed, so
// every run builds the same guild.
func newBenchmarkFixture(tb testing.TB) benchmarkFixture {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))

	f := benchmarkFixture{guild: benchmarkGuild(rng)}
	f.member = Member{UserID: "user-benchmark"}
	for _, i := range rng.Perm(benchmarkRoles - 1)[:benchmarkMemberRoles] {
		f.member.RoleIDs = append(f.member.RoleIDs, benchmarkRoleID(i+1))
	}

	categories := make([]*Channel, benchmarkCategories)
	for i := range categories {
		ch := benchmarkChannel(rng, fmt.Sprintf("category-%d", i), "", f.member)
		categories[i] = &ch
	}

	for i := range benchmarkChannels - benchmarkCategories {
		var parent *Channel
		if i%benchmarkUnsortedRate != 0 {
			parent = categories[rng.IntN(len(categories))]
		}
		parentID := ""
		if parent != nil {
			parentID = parent.ID
		}
		f.channels = append(f.channels, benchmarkChannel(rng, fmt.Sprintf("channel-%d", i), parentID, f.member))
		f.parents = append(f.parents, parent)
	}
	for _, category := range categories {
		f.channels = append(f.channels, *category)
		f.parents = append(f.parents, nil)
	}
	return f
}

func benchmarkGuild(rng *rand.Rand) Guild {
	g := Guild{ID: "guild-benchmark", OwnerID: "user-owner", Roles: make(map[string]Role, benchmarkRoles)}
	g.Roles[g.ID] = Role{ID: g.ID, Permissions: EveryoneDefault}

	// Roles carry a few moderation bits each, but none has Administrator,
	// which would skip the overwrites being measured.
	for i := 1; i < benchmarkRoles; i++ {
		id := benchmarkRoleID(i)
		perms := Set(rng.Uint64()) & (ManageMessages | KickMembers | MentionEveryone | MuteMembers | MoveMembers)
		g.Roles[id] = Role{ID: id, Position: i, Permissions: perms}
	}
	return g
}

func benchmarkChannel(rng *rand.Rand, id, parentID string, member Member) Channel {
	ch := Channel{ID: id, ParentID: parentID}

	// One channel in five is private: @everyone may not view it, and the
	// role overwrites below decide who may.
	everyoneDeny := SendMessages | AttachFiles
	if rng.IntN(5) == 0 {
		everyoneDeny |= ViewChannel
	}
	ch.Overwrites = append(ch.Overwrites, Overwrite{Kind: OverwriteRole, TargetID: "guild-benchmark", Deny: everyoneDeny})

	// Half the role overwrites target one of the member's roles, as
	// overwrites tend to target the few roles that most members hold.
	for range 2 + rng.IntN(4) {
		target := benchmarkRoleID(1 + rng.IntN(benchmarkRoles-1))
		if rng.IntN(2) == 0 {
			target = member.RoleIDs[rng.IntN(len(member.RoleIDs))]
		}
		ch.Overwrites = append(ch.Overwrites, Overwrite{
			Kind:     OverwriteRole,
			TargetID: target,
			Allow:    Set(rng.Uint64()) & overwritable,
			Deny:     Set(rng.Uint64()) & overwritable,
		})
	}

	if rng.IntN(10) == 0 {
		ch.Overwrites = append(ch.Overwrites, Overwrite{Kind: OverwriteMember, TargetID: member.UserID, Allow: SendMessages})
	}
	if rng.IntN(5) == 0 {
		ch.Overwrites = append(ch.Overwrites, Overwrite{Kind: OverwriteMember, TargetID: "user-other", Deny: ViewChannel})
	}
	return ch
}

func benchmarkRoleID(i int) string {
	return fmt.Sprintf("role-%03d", i)
}

// BenchmarkInChannel measures the effective permissions of a member with
// 10 roles in a guild with 200 roles and 500 channels. Each iteration
// takes the next channel in turn. The cold case computes every time, and
// the cached case reads a Cache filled with every channel beforehand.
func BenchmarkInChannel(b *testing.B) {
	f := newBenchmarkFixture(b)

	b.Run("cold", func(b *testing.B) {
		b.ReportAllocs()
		var sink Set
		i := 0
		for b.Loop() {
			sink |= InChannel(f.guild, f.member, f.channels[i], f.parents[i])
			i = (i + 1) % len(f.channels)
		}
		if sink == 0 {
			b.Fatal("the member sees no channel, so the overwrites were not measured")
		}
	})

	b.Run("cached", func(b *testing.B) {
		c := NewCache(0)
		keys := make([]Key, len(f.channels))
		for i, ch := range f.channels {
			keys[i] = Key{GuildID: f.guild.ID, UserID: f.member.UserID, ChannelID: ch.ID}
			c.Put(keys[i], c.Generation(f.guild.ID), InChannel(f.guild, f.member, ch, f.parents[i]))
		}
		b.ReportAllocs()

		i := 0
		for b.Loop() {
			if _, ok := c.Get(keys[i]); !ok {
				b.Fatalf("cache miss for %+v", keys[i])
			}
			i = (i + 1) % len(keys)
		}
	})

	b.Run("cached parallel", func(b *testing.B) {
		c := NewCache(0)
		keys := make([]Key, len(f.channels))
		for i, ch := range f.channels {
			keys[i] = Key{GuildID: f.guild.ID, UserID: f.member.UserID, ChannelID: ch.ID}
			c.Put(keys[i], c.Generation(f.guild.ID), InChannel(f.guild, f.member, ch, f.parents[i]))
		}
		b.ReportAllocs()
		b.ResetTimer()

		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				c.Get(keys[i])
				i = (i + 1) % len(keys)
			}
		})
	})
}

// BenchmarkBase measures the guild-level permissions of the same member.
func BenchmarkBase(b *testing.B) {
	f := newBenchmarkFixture(b)
	b.ReportAllocs()

	var sink Set
	for b.Loop() {
		sink |= Base(f.guild, f.member)
	}
	if sink == 0 {
		b.Fatal("Base returned no permissions")
	}
}

// TestBenchmarkFixtureShape checks that the benchmark guild matches the
// description on newBenchmarkFixture.
func TestBenchmarkFixtureShape(t *testing.T) {
	f := newBenchmarkFixture(t)

	if n := len(f.guild.Roles); n != benchmarkRoles {
		t.Errorf("guild has %d roles, want %d", n, benchmarkRoles)
	}
	if n := len(f.channels); n != benchmarkChannels {
		t.Errorf("guild has %d channels, want %d", n, benchmarkChannels)
	}
	if n := len(f.member.RoleIDs); n != benchmarkMemberRoles {
		t.Errorf("member has %d roles, want %d", n, benchmarkMemberRoles)
	}
	if Base(f.guild, f.member).Has(Administrator) {
		t.Error("member holds Administrator, so InChannel would skip the overwrites")
	}

	visible, inCategory := 0, 0
	for i, ch := range f.channels {
		if InChannel(f.guild, f.member, ch, f.parents[i]) != 0 {
			visible++
		}
		if f.parents[i] != nil {
			inCategory++
		}
	}
	if visible == 0 || visible == len(f.channels) {
		t.Errorf("member sees %d of %d channels, want some hidden and some visible", visible, len(f.channels))
	}
	if inCategory == 0 {
		t.Error("no channel is in a category")
	}
	t.Logf("%d of %d channels visible, %d in a category", visible, len(f.channels), inCategory)
}
