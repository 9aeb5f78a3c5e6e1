// Package ratelimit provides exact sliding-window rate limiters and a
// failure throttle, both keyed by string and bounded in memory.
//
// # Window
//
// A [Window] admits a request of a key at time t when the key had fewer
// than N requests admitted in (t-W, t] and is not serving a penalty. It
// stores the timestamps of admitted requests, so the limit is exact: no
// span of W ever holds more than N admitted requests of one key, and
// [Decision.RetryAfter] is the exact time until the next request would be
// admitted. An optional [Penalty] rejects every request of a key that keeps
// sending requests while rejected, for a time that doubles with each strike.
//
// # Throttle
//
// A [Throttle] counts failures, such as failed logins, per key. Failures
// beyond a threshold within a window make the caller wait, and the wait
// doubles with each further failure up to a maximum.
//
// # Memory
//
// Both types split their keys into shards, each with its own lock and its
// own share of MaxKeys (default [DefaultMaxKeys]). Keys whose history no
// longer affects any decision are idle. Each access removes up to two idle
// keys of its shard, and Sweep removes all of them. A new key that arrives
// at a full shard evicts an idle key among the 32 least recently used of
// that shard, or else the least recently used key, whose history is then
// lost. The eviction keeps a flood of distinct keys from exhausting memory.
//
// A key's timestamp storage grows on demand, up to N timestamps of 8 bytes
// each for a Window and up to the count that reaches the maximum delay for
// a Throttle. On top of that, each key costs roughly 150 to 200 bytes for
// its map entry, list links, state and a copy of the key. That figure is
// an estimate from heap statistics for 100,000 keys of 7 bytes on Go 1.26,
// linux/amd64. At the default MaxKeys and N = 300, a full table therefore
// takes on the order of 170 MB.
//
// # Time
//
// Every type reads time from a [Clock] passed in its options, [SystemClock]
// by default. Durations are measured as differences of Clock readings, so
// with SystemClock they follow the monotonic clock and ignore changes to
// the wall clock.
//
// # Concurrency
//
// All types are safe for concurrent use by multiple goroutines. The package
// starts no goroutines: an owner that wants idle keys removed while traffic
// is quiet calls Sweep itself, for example from a ticker it owns.
package ratelimit
