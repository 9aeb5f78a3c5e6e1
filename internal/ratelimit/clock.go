package ratelimit

import "time"

// Clock is a source of the current time. Tests pass a fake Clock so that
// they can move time forward without sleeping.
type Clock interface {
	Now() time.Time
}

// SystemClock is the Clock that reads the system time.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// elapsedClock measures time in nanoseconds since its creation. Readings of
// time.Now carry the monotonic clock, so their differences do not jump when
// the wall clock is set.
type elapsedClock struct {
	clock Clock
	start time.Time
}

// newElapsedClock starts an elapsedClock on c, or on SystemClock when c is nil.
func newElapsedClock(c Clock) elapsedClock {
	if c == nil {
		c = SystemClock{}
	}

	return elapsedClock{clock: c, start: c.Now()}
}

// now returns the nanoseconds elapsed since the clock was created.
func (c elapsedClock) now() int64 {
	return int64(c.clock.Now().Sub(c.start))
}
