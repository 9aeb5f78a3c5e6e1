package ratelimit

import (
	"fmt"
	"time"
)

// WindowOptions configures a Window. The zero value is valid.
type WindowOptions struct {
	// Clock supplies the time. Nil means SystemClock.
	Clock Clock

	// Penalty configures penalties for keys that keep sending requests
	// while rejected. The zero value disables penalties.
	Penalty Penalty

	// MaxKeys caps the number of keys held. Zero means DefaultMaxKeys.
	// Each of up to 64 shards holds an equal share, and keys are spread
	// over shards by hash, not evenly. Set MaxKeys well above the number
	// of keys expected to be active at once, or active keys get evicted.
	MaxKeys int
}

// Window is an exact sliding-window rate limiter keyed by string. A request
// of a key at time t is admitted when the key had fewer than Limit.Requests
// requests admitted in (t-Limit.Window, t] and is not serving a penalty.
// Rejected requests do not count, so no span of Limit.Window ever holds more
// than Limit.Requests admitted requests of one key.
//
// Memory is bounded by MaxKeys. When a new key arrives at a full shard, the
// Window evicts an idle key among the shard's 32 least recently used, or
// else the least recently used key. Evicting a key that is still in use
// discards its history, so that key may again be admitted Limit.Requests
// times at once. This is the price of keeping a flood of distinct keys from
// exhausting memory.
type Window struct {
	limit      Limit
	penalty    Penalty
	maxStrikes int // strikes beyond this cannot lengthen a penalty
	clock      elapsedClock
	keys       *keyTable[windowState]
}

// windowState is the history of one key. Times are nanoseconds of the
// Window's elapsedClock.
type windowState struct {
	admitted timeRing // admitted requests still inside the window

	// The fields below are used only when penalties are enabled.
	previousRejected bool  // the key's previous request was rejected
	strikes          int   // strikes not yet decayed
	penaltyUntil     int64 // end of the current penalty, if any
	decayFrom        int64 // start of the current period without strikes
}

// NewWindow returns a Window that admits limit.Requests requests per key in
// any span of limit.Window. It returns an error when limit, opts.Penalty or
// opts.MaxKeys is invalid.
func NewWindow(limit Limit, opts WindowOptions) (*Window, error) {
	if err := limit.Validate(); err != nil {
		return nil, fmt.Errorf("new window limiter: %w", err)
	}

	if err := opts.Penalty.Validate(); err != nil {
		return nil, fmt.Errorf("new window limiter: %w", err)
	}

	maxKeys, err := maxKeysOrDefault(opts.MaxKeys)
	if err != nil {
		return nil, fmt.Errorf("new window limiter: %w", err)
	}

	w := &Window{
		limit:   limit,
		penalty: opts.Penalty,
		clock:   newElapsedClock(opts.Clock),
	}
	if w.penalty.enabled() {
		w.maxStrikes = 1 + doublingsToReach(w.penalty.Base, w.penalty.Max)
	}
	w.keys = newKeyTable(maxKeys, w.isIdleLocked, resetWindowState)

	return w, nil
}

// Allow decides whether a request of key made now is admitted, and records
// it when it is.
func (w *Window) Allow(key string) Decision {
	now := w.clock.now()
	shard, state := w.keys.acquire(key, now)
	defer shard.mu.Unlock()

	now = w.advanceLocked(state, now)
	if state.penaltyUntil <= now && state.admitted.len() < w.limit.Requests {
		return w.admitLocked(state, now)
	}

	return w.rejectLocked(state, now)
}

// Sweep removes every idle key and returns how many it removed. A key is
// idle when it has no admitted request inside the window, serves no penalty
// and has no strikes left to decay. Each access already removes up to two
// idle keys of its shard, so Sweep matters for shards that see little
// traffic, such as after a burst of new keys ends.
// The owner may call it periodically, for example once per Limit.Window.
func (w *Window) Sweep() int {
	return w.keys.sweep(w.clock.now())
}

// Len returns the number of keys held.
func (w *Window) Len() int {
	return w.keys.len()
}

// advanceLocked brings state forward to now. It drops admitted requests that
// have left the window and decays strikes. It returns now, raised to the
// newest admitted timestamp when older. Goroutines read the clock before
// they take the lock, so a later request may carry an earlier reading.
func (w *Window) advanceLocked(state *windowState, now int64) int64 {
	if state.admitted.len() > 0 {
		now = max(now, state.admitted.newest())
	}

	state.admitted.dropThrough(now - int64(w.limit.Window))
	w.decayStrikesLocked(state, now)

	return now
}

// decayStrikesLocked halves the strikes once for each full
// Penalty.DecayAfter since the current period without strikes began.
func (w *Window) decayStrikesLocked(state *windowState, now int64) {
	if state.strikes == 0 || now < state.decayFrom {
		return
	}

	periods := (now - state.decayFrom) / int64(w.penalty.DecayAfter)
	if periods == 0 {
		return
	}

	// A shift by 64 or more yields 0, which is the intended result.
	state.strikes >>= periods
	state.decayFrom += periods * int64(w.penalty.DecayAfter)
}

func (w *Window) admitLocked(state *windowState, now int64) Decision {
	state.admitted.push(now, w.limit.Requests)
	state.previousRejected = false

	return Decision{
		Allowed:   true,
		Limit:     w.limit.Requests,
		Remaining: w.limit.Requests - state.admitted.len(),
		Reset:     w.resetLocked(state, now),
	}
}

func (w *Window) rejectLocked(state *windowState, now int64) Decision {
	if state.previousRejected && w.penalty.enabled() {
		w.strikeLocked(state, now)
	}
	state.previousRejected = true

	return Decision{
		Penalized:  state.penaltyUntil > now,
		Limit:      w.limit.Requests,
		RetryAfter: w.retryAfterLocked(state, now),
		Reset:      w.resetLocked(state, now),
	}
}

// strikeLocked records a strike and starts or lengthens the penalty.
func (w *Window) strikeLocked(state *windowState, now int64) {
	state.strikes = min(state.strikes+1, w.maxStrikes)
	length := doubled(w.penalty.Base, w.penalty.Max, state.strikes-1)

	state.penaltyUntil = max(state.penaltyUntil, now+int64(length))
	state.decayFrom = state.penaltyUntil
}

// retryAfterLocked returns the time until the key's next request would be
// admitted: when its penalty has ended and, if the window is full, its
// oldest admitted request has left the window.
func (w *Window) retryAfterLocked(state *windowState, now int64) time.Duration {
	wait := max(state.penaltyUntil-now, 0)
	if state.admitted.len() >= w.limit.Requests {
		wait = max(wait, state.admitted.oldest()+int64(w.limit.Window)-now)
	}

	return time.Duration(wait)
}

// resetLocked returns the time until the newest admitted request leaves the
// window and any penalty has ended.
func (w *Window) resetLocked(state *windowState, now int64) time.Duration {
	reset := max(state.penaltyUntil-now, 0)
	if state.admitted.len() > 0 {
		reset = max(reset, state.admitted.newest()+int64(w.limit.Window)-now)
	}

	return time.Duration(reset)
}

// isIdleLocked reports whether state can be dropped without changing any
// later decision.
func (w *Window) isIdleLocked(state *windowState, now int64) bool {
	now = w.advanceLocked(state, now)
	return state.admitted.len() == 0 && state.penaltyUntil <= now && state.strikes == 0
}

// resetWindowState turns state into that of a new key and keeps its
// timestamp storage.
func resetWindowState(state *windowState) {
	admitted := state.admitted
	admitted.clear()
	*state = windowState{admitted: admitted}
}
