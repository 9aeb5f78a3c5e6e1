package permission

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

func TestCacheGetAfterPut(t *testing.T) {
	c := NewCache(100)
	k := Key{GuildID: "guild-1", UserID: "user-a", ChannelID: "channel-1"}

	if _, ok := c.Get(k); ok {
		t.Fatal("Get on an empty cache hit")
	}
	if !c.Put(k, c.Generation(k.GuildID), EveryoneDefault) {
		t.Fatal("Put under the current generation was not stored")
	}

	got, ok := c.Get(k)
	if !ok {
		t.Fatal("Get after Put missed")
	}
	if got != EveryoneDefault {
		t.Errorf("Get = %v, want %v", got, EveryoneDefault)
	}
}

func TestCacheKeyFieldsAreDistinct(t *testing.T) {
	c := NewCache(100)
	k := Key{GuildID: "guild-1", UserID: "user-a", ChannelID: "channel-1"}
	c.Put(k, c.Generation(k.GuildID), ViewChannel)

	others := []Key{
		{GuildID: "guild-1", UserID: "user-b", ChannelID: "channel-1"},
		{GuildID: "guild-1", UserID: "user-a", ChannelID: "channel-2"},
		{GuildID: "guild-2", UserID: "user-a", ChannelID: "channel-1"},
		{GuildID: "guild-1", UserID: "user-a"},
	}
	for _, other := range others {
		if _, ok := c.Get(other); ok {
			t.Errorf("Get(%+v) hit the entry stored for %+v", other, k)
		}
	}
}

func TestCacheInvalidateGuild(t *testing.T) {
	c := NewCache(100)
	k := Key{GuildID: "guild-1", UserID: "user-a", ChannelID: "channel-1"}
	other := Key{GuildID: "guild-2", UserID: "user-a", ChannelID: "channel-9"}
	c.Put(k, c.Generation(k.GuildID), EveryoneDefault)
	c.Put(other, c.Generation(other.GuildID), EveryoneDefault)

	c.InvalidateGuild(k.GuildID)

	if _, ok := c.Get(k); ok {
		t.Error("Get after InvalidateGuild hit")
	}
	if _, ok := c.Get(other); !ok {
		t.Error("InvalidateGuild of guild-1 made the entry of guild-2 miss")
	}

	if !c.Put(k, c.Generation(k.GuildID), ViewChannel) {
		t.Fatal("Put under the new generation was not stored")
	}
	if got, ok := c.Get(k); !ok || got != ViewChannel {
		t.Errorf("Get after Put under the new generation = %v, %v, want %v, true", got, ok, ViewChannel)
	}
}

func TestCacheStalePutNotServed(t *testing.T) {
	c := NewCache(100)
	k := Key{GuildID: "guild-1", UserID: "user-a", ChannelID: "channel-1"}

	// A request takes the generation and reads the guild, then the guild
	// changes and is invalidated before the request stores its result.
	gen := c.Generation(k.GuildID)
	c.InvalidateGuild(k.GuildID)

	if c.Put(k, gen, All) {
		t.Error("Put under a generation older than an invalidation reported it stored the set")
	}
	if got, ok := c.Get(k); ok {
		t.Errorf("Get returned %v stored under a stale generation", got)
	}
}

func TestCacheStalePutDoesNotReplaceCurrent(t *testing.T) {
	c := NewCache(100)
	k := Key{GuildID: "guild-1", UserID: "user-a", ChannelID: "channel-1"}
	stale := c.Generation(k.GuildID)
	c.InvalidateGuild(k.GuildID)
	c.Put(k, c.Generation(k.GuildID), ViewChannel)

	c.Put(k, stale, All)

	if got, ok := c.Get(k); !ok || got != ViewChannel {
		t.Errorf("Get = %v, %v, want the current %v, true", got, ok, ViewChannel)
	}
}

func TestCacheGetOrCompute(t *testing.T) {
	c := NewCache(100)
	k := Key{GuildID: "guild-1", UserID: "user-a", ChannelID: "channel-1"}
	calls := 0
	compute := func() (Set, error) {
		calls++
		return EveryoneDefault, nil
	}

	for range 3 {
		got, err := c.GetOrCompute(k, compute)
		if err != nil {
			t.Fatalf("GetOrCompute error: %v", err)
		}
		if got != EveryoneDefault {
			t.Errorf("GetOrCompute = %v, want %v", got, EveryoneDefault)
		}
	}
	if calls != 1 {
		t.Errorf("compute ran %d times for three lookups, want 1", calls)
	}

	c.InvalidateGuild(k.GuildID)
	if _, err := c.GetOrCompute(k, compute); err != nil {
		t.Fatalf("GetOrCompute after InvalidateGuild error: %v", err)
	}
	if calls != 2 {
		t.Errorf("compute ran %d times after InvalidateGuild, want 2", calls)
	}
}

func TestCacheGetOrComputeErrorNotStored(t *testing.T) {
	c := NewCache(100)
	k := Key{GuildID: "guild-1", UserID: "user-a", ChannelID: "channel-1"}
	errLoad := errors.New("load guild: connection refused")

	_, err := c.GetOrCompute(k, func() (Set, error) { return All, errLoad })

	if !errors.Is(err, errLoad) {
		t.Errorf("GetOrCompute error = %v, want the compute error", err)
	}
	if got, ok := c.Get(k); ok {
		t.Errorf("Get after a failed compute hit %v", got)
	}
}

func TestCacheGetOrComputeInvalidatedDuringCompute(t *testing.T) {
	c := NewCache(100)
	k := Key{GuildID: "guild-1", UserID: "user-a", ChannelID: "channel-1"}

	got, err := c.GetOrCompute(k, func() (Set, error) {
		c.InvalidateGuild(k.GuildID)
		return All, nil
	})

	if err != nil {
		t.Fatalf("GetOrCompute error: %v", err)
	}
	if got != All {
		t.Errorf("GetOrCompute = %v, want the computed %v", got, All)
	}
	if _, ok := c.Get(k); ok {
		t.Error("set computed across an invalidation was stored")
	}
}

func TestCacheBoundedSize(t *testing.T) {
	tests := []struct {
		name       string
		maxEntries int
		wantMax    int
	}{
		{"size below shard count", 5, 5},
		{"size not a multiple of shard count", 1000, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCache(tt.maxEntries)
			for i := range tt.wantMax * 3 {
				guildID := fmt.Sprintf("guild-%d", i%50)
				k := Key{GuildID: guildID, UserID: fmt.Sprintf("user-%d", i), ChannelID: "channel-1"}
				c.Put(k, c.Generation(guildID), ViewChannel)
			}

			if n := c.Len(); n > tt.wantMax {
				t.Errorf("Len = %d after %d distinct keys, want at most %d", n, tt.wantMax*3, tt.wantMax)
			}
			if n := c.Len(); n == 0 {
				t.Error("Len = 0, want the cache to keep entries")
			}
		})
	}
}

func TestCacheOneGuildFillsWholeCache(t *testing.T) {
	c := NewCache(1600)
	guildID := "guild-large"

	for i := range 5000 {
		k := Key{GuildID: guildID, UserID: fmt.Sprintf("user-%d", i), ChannelID: "channel-1"}
		c.Put(k, c.Generation(guildID), ViewChannel)
	}

	if n := c.Len(); n != 1600 {
		t.Errorf("Len = %d after 5000 keys of one guild, want the full capacity 1600", n)
	}
}

func TestNewCacheCapacity(t *testing.T) {
	tests := []struct {
		name       string
		maxEntries int
		want       int
	}{
		{"one entry", 1, 1},
		{"fewer entries than shards", 5, 5},
		{"multiple of shard count", 1600, 1600},
		{"not a multiple of shard count", 1000, 992},
		{"zero means default", 0, DefaultCacheSize},
		{"negative means default", -1, DefaultCacheSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCache(tt.maxEntries)

			capacity := 0
			for i := range c.entries {
				capacity += c.entries[i].maxEntries
			}
			if capacity != tt.want {
				t.Errorf("total shard capacity = %d, want %d", capacity, tt.want)
			}
		})
	}
}

func TestCacheEvictionPrefersStaleEntries(t *testing.T) {
	// One shard of capacity 4 makes every eviction look at all entries.
	c := newCache(evictionSamples, 1)
	fresh := make([]Key, 0, evictionSamples-1)
	for i := range evictionSamples - 1 {
		k := Key{GuildID: "guild-fresh", UserID: fmt.Sprintf("user-%d", i)}
		c.Put(k, c.Generation(k.GuildID), ViewChannel)
		fresh = append(fresh, k)
	}
	stale := Key{GuildID: "guild-stale", UserID: "user-a"}
	c.Put(stale, c.Generation(stale.GuildID), ViewChannel)
	c.InvalidateGuild(stale.GuildID)

	added := Key{GuildID: "guild-fresh", UserID: "user-new"}
	c.Put(added, c.Generation(added.GuildID), ViewChannel)

	for _, k := range append(fresh, added) {
		if _, ok := c.Get(k); !ok {
			t.Errorf("current entry %+v was evicted while a stale entry was present", k)
		}
	}
}

func TestCacheGenerationsBounded(t *testing.T) {
	c := NewCache(32)
	k := Key{GuildID: "guild-kept", UserID: "user-a", ChannelID: "channel-1"}
	gen := c.Generation(k.GuildID)
	c.Put(k, gen, All)

	for i := range 10_000 {
		c.InvalidateGuild(fmt.Sprintf("guild-%d", i))
	}

	for i := range c.generations {
		sh := &c.generations[i]
		if len(sh.generations) > sh.maxGuilds {
			t.Errorf("shard %d tracks %d guild generations, want at most %d", i, len(sh.generations), sh.maxGuilds)
		}
	}

	// With room for 2 guilds per shard, the shard of guild-kept saw far
	// more than 2 other guilds invalidated and reset. The reset made the
	// entry and the generation taken before it stale, although guild-kept
	// itself was never invalidated.
	if got, ok := c.Get(k); ok {
		t.Errorf("Get = %v after its shard reset, want a miss", got)
	}
	if c.Put(k, gen, All) {
		t.Error("Put under the generation from before the reset was stored")
	}
}

func TestCacheResetMakesOldGenerationsStale(t *testing.T) {
	c := newCache(2, 1)
	k := Key{GuildID: "guild-kept", UserID: "user-a"}
	c.Put(k, c.Generation(k.GuildID), ViewChannel)
	invalidated := "guild-1"
	oldGen := c.Generation(invalidated)
	c.InvalidateGuild(invalidated)
	keptGen := c.Generation(k.GuildID)

	// Two more guilds fill the generations table and force a reset.
	c.InvalidateGuild("guild-2")
	c.InvalidateGuild("guild-3")

	if _, ok := c.Get(k); ok {
		t.Error("entry is still current after a reset of its guild's generation shard")
	}
	if c.Put(k, keptGen, All) {
		t.Error("Put under the generation from before the reset was stored")
	}
	if c.Put(Key{GuildID: invalidated}, oldGen, All) {
		t.Error("Put under a generation the guild left before the reset was stored")
	}
	if !c.Put(k, c.Generation(k.GuildID), ViewChannel) {
		t.Error("Put under the generation after the reset was not stored")
	}
}

func TestCacheConcurrentUse(t *testing.T) {
	c := NewCache(256)
	const (
		workers    = 8
		operations = 2000
	)

	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range operations {
				guildID := fmt.Sprintf("guild-%d", i%7)
				k := Key{GuildID: guildID, UserID: fmt.Sprintf("user-%d", w), ChannelID: fmt.Sprintf("channel-%d", i%40)}
				switch i % 10 {
				case 0:
					c.InvalidateGuild(guildID)
				case 1, 2, 3:
					c.Put(k, c.Generation(guildID), Set(w))
				case 4:
					_, _ = c.GetOrCompute(k, func() (Set, error) { return Set(w), nil })
				default:
					if got, ok := c.Get(k); ok && got != Set(w) {
						t.Errorf("Get(%+v) = %d, want the %d that worker stored", k, got, w)
					}
				}
			}
		})
	}
	wg.Wait()

	if n := c.Len(); n > 256 {
		t.Errorf("Len = %d after concurrent use, want at most 256", n)
	}
}

// TestCacheRevocationSeenByNextRequest runs requests that each read the
// guild's permissions and cache them, while another goroutine revokes a
// permission. Every request that starts after the revocation returned
// must see it.
func TestCacheRevocationSeenByNextRequest(t *testing.T) {
	c := NewCache(100)
	k := Key{GuildID: "guild-1", UserID: "user-a", ChannelID: "channel-1"}

	var mu sync.Mutex
	stored := All // the permissions in the "database"
	load := func() (Set, error) {
		mu.Lock()
		defer mu.Unlock()
		return stored, nil
	}

	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := c.GetOrCompute(k, load); err != nil {
					t.Errorf("GetOrCompute error: %v", err)
					return
				}
			}
		})
	}

	for range 200 {
		if _, err := c.GetOrCompute(k, load); err != nil {
			t.Fatalf("GetOrCompute error: %v", err)
		}
	}

	mu.Lock()
	stored = ViewChannel
	mu.Unlock()
	c.InvalidateGuild(k.GuildID)

	for range 200 {
		got, err := c.GetOrCompute(k, load)
		if err != nil {
			t.Fatalf("GetOrCompute error: %v", err)
		}
		if got != ViewChannel {
			t.Fatalf("GetOrCompute after the revocation = %v, want %v", got.Names(), ViewChannel.Names())
		}
	}
	close(stop)
	wg.Wait()
}
