package ratelimit

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestTimeRingMatchesSlice runs random pushes and drops against a plain
// slice that does the same, including wraparound, growth and overwriting.
func TestTimeRingMatchesSlice(t *testing.T) {
	for _, capacity := range []int{1, 2, 3, 4, 5, 7, 16, 33} {
		rng := rand.New(rand.NewPCG(uint64(capacity), 7))
		var ring timeRing
		var model []int64
		now := int64(0)

		for step := range 2000 {
			now += rng.Int64N(3)

			if rng.IntN(3) == 0 {
				cutoff := now - rng.Int64N(10)
				ring.dropThrough(cutoff)
				model = slices.DeleteFunc(model, func(ts int64) bool { return ts <= cutoff })
			} else {
				ring.push(now, capacity)
				model = append(model, now)
				if len(model) > capacity {
					model = model[1:]
				}
			}

			got := ringContents(&ring)
			if !slices.Equal(got, model) {
				t.Fatalf("capacity %d, step %d: ring holds %v, want %v", capacity, step, got, model)
			}
			if len(ring.buf) > capacity {
				t.Fatalf("capacity %d, step %d: storage grew to %d", capacity, step, len(ring.buf))
			}
		}
	}
}

func TestTimeRingClearKeepsStorage(t *testing.T) {
	var ring timeRing
	for i := range 10 {
		ring.push(int64(i), 10)
	}
	storage := len(ring.buf)

	ring.clear()

	if ring.len() != 0 {
		t.Errorf("len after clear = %d, want 0", ring.len())
	}
	if len(ring.buf) != storage {
		t.Errorf("storage after clear = %d, want %d", len(ring.buf), storage)
	}
}

func ringContents(ring *timeRing) []int64 {
	var out []int64
	for i := range ring.len() {
		out = append(out, ring.buf[ring.index(i)])
	}
	if ring.len() > 0 {
		if out[0] != ring.oldest() {
			panic("oldest disagrees with position 0")
		}
		if out[len(out)-1] != ring.newest() {
			panic("newest disagrees with the last position")
		}
	}

	return out
}
