package ratelimit

import "time"

// doubled returns base doubled n times, capped at limit. It stops at the
// cap, so a large n neither overflows nor loops long.
func doubled(base, limit time.Duration, n int) time.Duration {
	d := base
	for range n {
		if d > limit-d {
			return limit
		}
		d *= 2
	}

	return min(d, limit)
}

// doublingsToReach returns the smallest n for which doubled(base, limit, n)
// equals limit. base must be positive and at most limit.
func doublingsToReach(base, limit time.Duration) int {
	n := 0
	for d := base; d < limit; n++ {
		d = doubled(d, limit, 1)
	}

	return n
}
