package ratelimit

// initialRingSize is the number of slots a ring allocates for its first
// timestamp.
// Most keys never fill a large limit, so their storage stays small.
const initialRingSize = 4

// timeRing is a queue of nondecreasing timestamps in nanoseconds, oldest
// first. Its storage doubles on demand up to the capacity passed to push.
type timeRing struct {
	buf  []int64 // len(buf) is the current storage size
	head int     // index of the oldest timestamp
	n    int     // number of stored timestamps
}

func (r *timeRing) len() int { return r.n }

// oldest returns the oldest timestamp. The ring must not be empty.
func (r *timeRing) oldest() int64 { return r.buf[r.head] }

// newest returns the newest timestamp. The ring must not be empty.
func (r *timeRing) newest() int64 { return r.buf[r.index(r.n-1)] }

// index converts a position counted from the oldest timestamp into an
// index of buf.
func (r *timeRing) index(position int) int {
	i := r.head + position
	if i >= len(r.buf) {
		i -= len(r.buf)
	}

	return i
}

// dropThrough removes the timestamps at or before t.
func (r *timeRing) dropThrough(t int64) {
	for r.n > 0 && r.buf[r.head] <= t {
		r.head = r.index(1)
		r.n--
	}
}

// push appends t, which must not be before the newest timestamp. When the
// ring already holds capacity timestamps, t replaces the oldest one.
func (r *timeRing) push(t int64, capacity int) {
	if r.n == capacity {
		r.buf[r.head] = t
		r.head = r.index(1)
		return
	}

	if r.n == len(r.buf) {
		r.grow(capacity)
	}

	r.buf[r.index(r.n)] = t
	r.n++
}

// grow doubles the storage, up to capacity, and moves the oldest timestamp
// to index 0.
func (r *timeRing) grow(capacity int) {
	size := min(max(2*len(r.buf), initialRingSize), capacity)
	buf := make([]int64, size)
	for i := range r.n {
		buf[i] = r.buf[r.index(i)]
	}

	r.buf = buf
	r.head = 0
}

// clear empties the ring and keeps its storage for reuse.
func (r *timeRing) clear() {
	r.head = 0
	r.n = 0
}
