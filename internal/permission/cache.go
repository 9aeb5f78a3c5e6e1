package permission

import (
	"hash/maphash"
	"sync"
)

// DefaultCacheSize is the maximum number of entries of a [Cache] that
// [NewCache] creates when given a size of 0 or less.
const DefaultCacheSize = 100_000

// cacheShards is the most shards a Cache splits its entries, and
// separately its guild generations, into. Each shard has its own lock, so
// concurrent lookups rarely wait for each other.
const cacheShards = 16

// evictionSamples is how many entries a full shard looks at for a stale one
// to evict before it evicts an arbitrary entry instead.
const evictionSamples = 4

// Key names one cached permission set: a user's permissions in a channel
// of a guild. A ChannelID of "" may hold the user's guild-level
// permissions from [Base].
type Key struct {
	GuildID   string
	UserID    string
	ChannelID string
}

// Generation is a guild's cache generation. [Cache.InvalidateGuild] moves
// a guild to a new generation, and entries stored under an older one are
// never returned again.
type Generation uint64

// Cache stores computed permission sets, bounded in size and invalidated
// per guild. Create one with [NewCache]. It is safe for concurrent use.
//
// A permission set must be computed from data read after taking the
// guild's generation with [Cache.Generation], and stored with [Cache.Put]
// under that generation. Every entry keeps the generation it was stored
// under, and a lookup returns it only while that generation is current, so
// a set computed from data that an invalidation has since replaced is
// never returned. [Cache.GetOrCompute] follows that rule by itself.
type Cache struct {
	seed        maphash.Seed
	entries     []entryShard
	generations []generationShard
}

// NewCache returns an empty Cache that holds at most maxEntries entries,
// or DefaultCacheSize entries when maxEntries is 0 or less. It also tracks
// the generations of at most that many invalidated guilds. When a shard of
// that table fills, the shard starts over at a new generation, which makes
// the entries of every guild in the shard stale.
func NewCache(maxEntries int) *Cache {
	if maxEntries <= 0 {
		maxEntries = DefaultCacheSize
	}
	return newCache(maxEntries, min(cacheShards, maxEntries))
}

// newCache returns a Cache with the given number of shards, each holding
// an equal share of maxEntries, rounded down.
func newCache(maxEntries, shards int) *Cache {
	c := &Cache{
		seed:        maphash.MakeSeed(),
		entries:     make([]entryShard, shards),
		generations: make([]generationShard, shards),
	}
	for i := range shards {
		c.entries[i] = entryShard{maxEntries: maxEntries / shards, entries: make(map[Key]cacheEntry)}
		c.generations[i] = generationShard{maxGuilds: maxEntries / shards, generations: make(map[string]Generation)}
	}
	return c
}

// Get returns the set stored for k, or false when there is none or the
// stored set belongs to an older generation of its guild.
func (c *Cache) Get(k Key) (Set, bool) {
	set, ok, _ := c.get(k)
	return set, ok
}

// Generation returns the guild's current generation, to pass to
// [Cache.Put] once the permission set is computed.
func (c *Cache) Generation(guildID string) Generation {
	return c.generationShard(guildID).current(guildID)
}

// Put stores set for k under gen, unless gen is no longer the current
// generation of k.GuildID, and reports whether it stored the set. A set
// stored while a concurrent InvalidateGuild runs is never returned either,
// because lookups compare the entry's generation with the current one.
// When the cache is full, Put evicts another entry, preferring one from an
// older generation.
func (c *Cache) Put(k Key, gen Generation, set Set) bool {
	if gen != c.Generation(k.GuildID) {
		return false
	}

	sh := c.entryShard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()

	if _, ok := sh.entries[k]; !ok && len(sh.entries) >= sh.maxEntries {
		c.evictLocked(sh)
	}
	sh.entries[k] = cacheEntry{set: set, gen: gen}
	return true
}

// GetOrCompute returns the set stored for k. On a miss it calls compute,
// stores its result under the generation taken before the call and
// returns it. An invalidation of the guild during compute leaves the result
// unstored, but GetOrCompute still returns it, because it is as fresh as
// the request that asked. A compute error is returned unchanged and
// nothing is stored.
//
// Concurrent misses on one key each call compute.
func (c *Cache) GetOrCompute(k Key, compute func() (Set, error)) (Set, error) {
	set, ok, gen := c.get(k)
	if ok {
		return set, nil
	}

	set, err := compute()
	if err != nil {
		return 0, err
	}
	c.Put(k, gen, set)
	return set, nil
}

// InvalidateGuild moves the guild to a new generation, so that every entry
// stored for it before the call misses from then on, and so does every Put
// of a set computed under an earlier generation. Call it after each change
// that can alter the guild's permissions, such as a role, a role
// assignment, an overwrite or the owner.
func (c *Cache) InvalidateGuild(guildID string) {
	c.generationShard(guildID).invalidate(guildID)
}

// Len returns the number of stored entries, counting those of older
// generations that have not been evicted yet.
func (c *Cache) Len() int {
	n := 0
	for i := range c.entries {
		sh := &c.entries[i]
		sh.mu.RLock()
		n += len(sh.entries)
		sh.mu.RUnlock()
	}
	return n
}

// get returns the entry for k if it is current, and the current
// generation of k's guild either way. It reads the generation first, so a
// hit was current at that moment.
func (c *Cache) get(k Key) (Set, bool, Generation) {
	gen := c.Generation(k.GuildID)

	sh := c.entryShard(k)
	sh.mu.RLock()
	e, ok := sh.entries[k]
	sh.mu.RUnlock()

	if !ok || e.gen != gen {
		return 0, false, gen
	}
	return e.set, true, gen
}

// evictLocked deletes a stale entry among the first few that map iteration
// yields, or else the first of them. The Go runtime starts each map
// iteration at a random position, so the evicted entry is an arbitrary one.
// The caller holds sh.mu. Locks are always taken in the order entry shard,
// then generation shard.
func (c *Cache) evictLocked(sh *entryShard) {
	var victim Key
	seen := 0
	for k, e := range sh.entries {
		if seen == 0 {
			victim = k
		}
		if e.gen != c.Generation(k.GuildID) {
			victim = k
			break
		}
		seen++
		if seen == evictionSamples {
			break
		}
	}
	delete(sh.entries, victim)
}

// entryShard returns the shard of an entry. Entries spread over the shards
// by user, so that one large guild can use the whole cache. Hashing the
// user ID alone keeps a lookup to one hash for the shard.
func (c *Cache) entryShard(k Key) *entryShard {
	h := maphash.String(c.seed, k.UserID)
	return &c.entries[h%uint64(len(c.entries))]
}

func (c *Cache) generationShard(guildID string) *generationShard {
	h := maphash.String(c.seed, guildID)
	return &c.generations[h%uint64(len(c.generations))]
}

type cacheEntry struct {
	set Set
	gen Generation
}

// entryShard holds some of a Cache's entries.
type entryShard struct {
	maxEntries int

	// mu guards entries.
	mu      sync.RWMutex
	entries map[Key]cacheEntry
}

// generationShard holds the generations of some guilds.
type generationShard struct {
	// maxGuilds bounds generations, so that a stream of invalidations of
	// distinct guilds cannot grow the cache without limit.
	maxGuilds int

	// mu guards the fields below.
	mu sync.RWMutex

	// generations holds the generations of guilds invalidated since the
	// last reset. Every other guild is at floor.
	generations map[string]Generation
	floor       Generation

	// last is the newest generation handed out. Generations only grow, so
	// a guild never returns to a generation it has left.
	last Generation
}

func (sh *generationShard) current(guildID string) Generation {
	sh.mu.RLock()
	defer sh.mu.RUnlock()

	if gen, ok := sh.generations[guildID]; ok {
		return gen
	}
	return sh.floor
}

// invalidate moves the guild to a new generation. When generations is
// full, the shard cannot forget one guild's generation, because that guild
// would fall back to floor and its entries of the generation it left could
// become current again. The shard resets instead: it moves every guild it
// holds to a new floor, which makes all their entries stale.
func (sh *generationShard) invalidate(guildID string) {
	sh.mu.Lock()
	defer sh.mu.Unlock()

	sh.last++
	if _, ok := sh.generations[guildID]; !ok && len(sh.generations) >= sh.maxGuilds {
		clear(sh.generations)
		sh.floor = sh.last
		return
	}
	sh.generations[guildID] = sh.last
}
