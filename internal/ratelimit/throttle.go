package ratelimit

import (
	"fmt"
	"time"
)

// ThrottleOptions configures a Throttle. Window, BaseDelay and MaxDelay have
// no defaults and must be set.
type ThrottleOptions struct {
	// Threshold is the number of failures within Window that cause no wait.
	// Zero makes the first failure wait BaseDelay.
	Threshold int

	// Window is how long a failure counts. Older failures are forgotten.
	Window time.Duration

	// BaseDelay is the wait after failure number Threshold+1 within Window.
	// Each further failure doubles the wait.
	BaseDelay time.Duration

	// MaxDelay is the maximum wait.
	MaxDelay time.Duration

	// MaxKeys caps the number of keys held. Zero means DefaultMaxKeys.
	// As for WindowOptions.MaxKeys, set it well above the number of keys
	// expected to be active at once.
	MaxKeys int

	// Clock supplies the time. Nil means SystemClock.
	Clock Clock
}

// Validate returns an error unless Threshold is not negative, Window and
// BaseDelay are positive, MaxDelay is at least BaseDelay and MaxKeys is
// not negative.
func (o ThrottleOptions) Validate() error {
	if o.Threshold < 0 {
		return fmt.Errorf("invalid throttle options: Threshold is %d, must be at least 0", o.Threshold)
	}

	if o.Window <= 0 {
		return fmt.Errorf("invalid throttle options: Window is %v, must be positive", o.Window)
	}

	if o.BaseDelay <= 0 {
		return fmt.Errorf("invalid throttle options: BaseDelay is %v, must be positive", o.BaseDelay)
	}

	if o.MaxDelay < o.BaseDelay {
		return fmt.Errorf("invalid throttle options: MaxDelay is %v, must be at least BaseDelay (%v)", o.MaxDelay, o.BaseDelay)
	}

	if _, err := maxKeysOrDefault(o.MaxKeys); err != nil {
		return fmt.Errorf("invalid throttle options: %w", err)
	}

	return nil
}

// Throttle slows down repeated failures per key, such as failed logins for
// one account name or from one IP address. Up to Threshold failures within
// Window cause no wait. Failure number Threshold+1 causes a wait of
// BaseDelay, and each further failure within Window doubles the wait, up to
// MaxDelay. Every failure counts for exactly Window, so the wait shrinks
// again as old failures expire.
//
// Memory is bounded by MaxKeys, as for Window. Evicting a key that is still
// in use discards its failures.
type Throttle struct {
	opts ThrottleOptions

	// maxFailures is the number of failure timestamps stored per key. With
	// that many failures the wait has reached MaxDelay, so counting more
	// would change nothing.
	maxFailures int

	clock elapsedClock
	keys  *keyTable[throttleState]
}

// throttleState is the failure history of one key. Times are nanoseconds
// of the Throttle's elapsedClock.
type throttleState struct {
	failures     timeRing // failures inside the window, up to maxFailures
	blockedUntil int64    // end of the current wait
}

// NewThrottle returns a Throttle configured by opts. It returns an error
// when opts is invalid.
func NewThrottle(opts ThrottleOptions) (*Throttle, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("new throttle: %w", err)
	}

	maxKeys, err := maxKeysOrDefault(opts.MaxKeys)
	if err != nil {
		return nil, fmt.Errorf("new throttle: %w", err)
	}

	t := &Throttle{
		opts:        opts,
		maxFailures: opts.Threshold + 1 + doublingsToReach(opts.BaseDelay, opts.MaxDelay),
		clock:       newElapsedClock(opts.Clock),
	}
	t.keys = newKeyTable(maxKeys, t.isIdleLocked, resetThrottleState)

	return t, nil
}

// Check returns how long the caller must still wait before an attempt for
// key may be evaluated. Zero means go ahead. Check records nothing.
func (t *Throttle) Check(key string) time.Duration {
	now := t.clock.now()
	shard, state := t.keys.find(key, now)
	defer shard.mu.Unlock()

	if state == nil {
		return 0
	}

	return time.Duration(max(state.blockedUntil-now, 0))
}

// Fail records a failure of key now and returns the resulting wait, the
// value Check returns from now on.
func (t *Throttle) Fail(key string) time.Duration {
	now := t.clock.now()
	shard, state := t.keys.acquire(key, now)
	defer shard.mu.Unlock()

	now = t.advanceLocked(state, now)
	state.failures.push(now, t.maxFailures)

	wait := t.waitAfter(state.failures.len())
	state.blockedUntil = max(state.blockedUntil, now+int64(wait))

	return time.Duration(state.blockedUntil - now)
}

// Reset deletes the failures recorded for key, for example after a
// successful login.
func (t *Throttle) Reset(key string) {
	t.keys.remove(key)
}

// Sweep removes every idle key and returns how many it removed. A key is
// idle when it has no failure inside Window and no wait left. Each
// access already removes up to two idle keys of its shard, so Sweep matters
// for shards that see little traffic, such as after a burst of new keys
// ends.
func (t *Throttle) Sweep() int {
	return t.keys.sweep(t.clock.now())
}

// Len returns the number of keys held.
func (t *Throttle) Len() int {
	return t.keys.len()
}

// waitAfter returns the wait caused by the failures-th failure within the
// window.
func (t *Throttle) waitAfter(failures int) time.Duration {
	if failures <= t.opts.Threshold {
		return 0
	}

	return doubled(t.opts.BaseDelay, t.opts.MaxDelay, failures-t.opts.Threshold-1)
}

// advanceLocked drops failures that have left the window. It returns now,
// raised to the newest failure when older, because goroutines read the
// clock before they take the lock.
func (t *Throttle) advanceLocked(state *throttleState, now int64) int64 {
	if state.failures.len() > 0 {
		now = max(now, state.failures.newest())
	}

	state.failures.dropThrough(now - int64(t.opts.Window))

	return now
}

func (t *Throttle) isIdleLocked(state *throttleState, now int64) bool {
	now = t.advanceLocked(state, now)
	return state.failures.len() == 0 && state.blockedUntil <= now
}

// resetThrottleState turns state into that of a new key and keeps its
// timestamp storage.
func resetThrottleState(state *throttleState) {
	failures := state.failures
	failures.clear()
	*state = throttleState{failures: failures}
}
