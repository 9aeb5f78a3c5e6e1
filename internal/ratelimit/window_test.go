package ratelimit

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

// windowStep is one request in a scripted test. The clock advances, then
// key makes a request whose Decision must equal want.
type windowStep struct {
	advance time.Duration
	key     string
	want    Decision
}

func admitted(limit, remaining int, reset time.Duration) Decision {
	return Decision{Allowed: true, Limit: limit, Remaining: remaining, Reset: reset}
}

func rejected(limit int, retryAfter, reset time.Duration) Decision {
	return Decision{Limit: limit, RetryAfter: retryAfter, Reset: reset}
}

func penalized(limit int, retryAfter, reset time.Duration) Decision {
	return Decision{Penalized: true, Limit: limit, RetryAfter: retryAfter, Reset: reset}
}

func newTestWindow(t *testing.T, limit Limit, opts WindowOptions) (*Window, *fakeClock) {
	t.Helper()

	clock := newFakeClock()
	opts.Clock = clock
	w, err := NewWindow(limit, opts)
	if err != nil {
		t.Fatalf("NewWindow(%+v) returned error: %v", limit, err)
	}

	return w, clock
}

func runWindowSteps(t *testing.T, w *Window, clock *fakeClock, steps []windowStep) {
	t.Helper()

	for i, step := range steps {
		clock.Advance(step.advance)
		got := w.Allow(step.key)
		if got != step.want {
			t.Errorf("step %d (advance %v, key %q): got %+v, want %+v", i, step.advance, step.key, got, step.want)
		}
	}
}

func TestWindowDecisions(t *testing.T) {
	const ms = time.Millisecond

	tests := []struct {
		name  string
		limit Limit
		steps []windowStep
	}{
		{
			name:  "burst up to the limit, then rejected",
			limit: Limit{Requests: 3, Window: time.Second},
			steps: []windowStep{
				{0, "a", admitted(3, 2, time.Second)},
				{0, "a", admitted(3, 1, time.Second)},
				{0, "a", admitted(3, 0, time.Second)},
				{0, "a", rejected(3, time.Second, time.Second)},
			},
		},
		{
			name:  "slot frees exactly when the oldest request leaves",
			limit: Limit{Requests: 2, Window: time.Second},
			steps: []windowStep{
				{0, "a", admitted(2, 1, time.Second)},
				{400 * ms, "a", admitted(2, 0, time.Second)},
				{599 * ms, "a", rejected(2, 1*ms, 401*ms)},
				{1*ms - 1, "a", rejected(2, 1, 400*ms+1)},
				{1, "a", admitted(2, 0, time.Second)},
				{1 * ms, "a", rejected(2, 399*ms, 999*ms)},
			},
		},
		{
			name:  "rejected requests do not count",
			limit: Limit{Requests: 1, Window: time.Second},
			steps: []windowStep{
				{0, "a", admitted(1, 0, time.Second)},
				{500 * ms, "a", rejected(1, 500*ms, 500*ms)},
				{499 * ms, "a", rejected(1, 1*ms, 1*ms)},
				{1 * ms, "a", admitted(1, 0, time.Second)},
			},
		},
		{
			name:  "reset waits for the newest admitted request",
			limit: Limit{Requests: 2, Window: time.Second},
			steps: []windowStep{
				{0, "a", admitted(2, 1, time.Second)},
				{300 * ms, "a", admitted(2, 0, time.Second)},
				{200 * ms, "a", rejected(2, 500*ms, 800*ms)},
				{500 * ms, "a", admitted(2, 0, time.Second)},
				{300 * ms, "a", admitted(2, 0, time.Second)},
			},
		},
		{
			name:  "remaining grows back as requests leave",
			limit: Limit{Requests: 3, Window: time.Second},
			steps: []windowStep{
				{0, "a", admitted(3, 2, time.Second)},
				{100 * ms, "a", admitted(3, 1, time.Second)},
				{100 * ms, "a", admitted(3, 0, time.Second)},
				{950 * ms, "a", admitted(3, 1, time.Second)},
				{1000 * ms, "a", admitted(3, 2, time.Second)},
			},
		},
		{
			name:  "keys are independent",
			limit: Limit{Requests: 1, Window: time.Second},
			steps: []windowStep{
				{0, "a", admitted(1, 0, time.Second)},
				{0, "b", admitted(1, 0, time.Second)},
				{100 * ms, "a", rejected(1, 900*ms, 900*ms)},
				{100 * ms, "c", admitted(1, 0, time.Second)},
				{0, "b", rejected(1, 800*ms, 800*ms)},
			},
		},
		{
			name:  "empty key is an ordinary key",
			limit: Limit{Requests: 1, Window: time.Second},
			steps: []windowStep{
				{0, "", admitted(1, 0, time.Second)},
				{0, "", rejected(1, time.Second, time.Second)},
				{0, "a", admitted(1, 0, time.Second)},
			},
		},
		{
			name:  "window of one nanosecond",
			limit: Limit{Requests: 1, Window: 1},
			steps: []windowStep{
				{0, "a", admitted(1, 0, 1)},
				{0, "a", rejected(1, 1, 1)},
				{1, "a", admitted(1, 0, 1)},
			},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, clock := newTestWindow(t, tt.limit, WindowOptions{})
			runWindowSteps(t, w, clock, tt.steps)
		})
	}
}

// windowModel is a brute-force reference for a Window without penalties.
// It keeps every admitted timestamp of every key.
type windowModel struct {
	limit    Limit
	admitted map[string][]time.Duration
}

// countInWindow returns how many admitted requests of key lie in
// (at-Window, at].
func (m *windowModel) countInWindow(key string, at time.Duration) int {
	count := 0
	for _, ts := range m.admitted[key] {
		if ts > at-m.limit.Window && ts <= at {
			count++
		}
	}

	return count
}

func (m *windowModel) wouldAdmit(key string, at time.Duration) bool {
	return m.countInWindow(key, at) < m.limit.Requests
}

// retryAfter searches for the earliest time at or after now at which key
// would be admitted. That time is now or the moment an admitted request
// leaves the window, so only those candidates need checking.
func (m *windowModel) retryAfter(key string, now time.Duration) time.Duration {
	best := time.Duration(-1)
	candidates := []time.Duration{now}
	for _, ts := range m.admitted[key] {
		if ts+m.limit.Window > now {
			candidates = append(candidates, ts+m.limit.Window)
		}
	}

	for _, at := range candidates {
		if m.wouldAdmit(key, at) && (best < 0 || at < best) {
			best = at
		}
	}

	return best - now
}

// maxInAnySpan returns the largest number of admitted requests of key in
// any half-open span of Window. Such a span holds the most requests when it
// ends at an admitted request, so only those spans need checking.
func (m *windowModel) maxInAnySpan(key string) int {
	maxCount := 0
	for _, end := range m.admitted[key] {
		maxCount = max(maxCount, m.countInWindow(key, end))
	}

	return maxCount
}

func TestWindowMatchesBruteForceModel(t *testing.T) {
	for seed := range uint64(30) {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 1))
			limit := Limit{Requests: 1 + rng.IntN(6), Window: time.Duration(1+rng.IntN(1000)) * time.Millisecond}
			w, clock := newTestWindow(t, limit, WindowOptions{})
			model := &windowModel{limit: limit, admitted: map[string][]time.Duration{}}
			keys := []string{"a", "b", "c"}
			now := time.Duration(0)

			for step := range 3000 {
				advance := randomAdvance(rng, limit.Window)
				clock.Advance(advance)
				now += advance
				key := keys[rng.IntN(len(keys))]

				checkAgainstModel(t, step, w.Allow(key), model, key, now)
			}

			for _, key := range keys {
				if got := model.maxInAnySpan(key); got > limit.Requests {
					t.Errorf("key %q had %d admitted requests in one window, limit %d", key, got, limit.Requests)
				}
				if len(model.admitted[key]) < limit.Requests {
					t.Errorf("key %q had only %d admitted requests, the schedule did not reach the limit", key, len(model.admitted[key]))
				}
			}
		})
	}
}

// randomAdvance returns a clock step that is often zero, often tiny and
// sometimes longer than the window, so both bursts and expiry are covered.
func randomAdvance(rng *rand.Rand, window time.Duration) time.Duration {
	switch rng.IntN(4) {
	case 0:
		return 0
	case 1:
		return time.Duration(rng.IntN(3))
	case 2:
		return time.Duration(rng.Int64N(int64(window) / 4))
	default:
		return time.Duration(rng.Int64N(int64(window) * 3 / 2))
	}
}

func checkAgainstModel(t *testing.T, step int, got Decision, model *windowModel, key string, now time.Duration) {
	t.Helper()

	wantAllowed := model.wouldAdmit(key, now)
	wantRetry := time.Duration(0)
	if wantAllowed {
		model.admitted[key] = append(model.admitted[key], now)
	} else {
		wantRetry = model.retryAfter(key, now)
	}

	if got.Allowed != wantAllowed {
		t.Fatalf("step %d, key %q at %v: Allowed = %v, want %v", step, key, now, got.Allowed, wantAllowed)
	}
	if got.RetryAfter != wantRetry {
		t.Fatalf("step %d, key %q at %v: RetryAfter = %v, want %v", step, key, now, got.RetryAfter, wantRetry)
	}
	if wantRemaining := model.limit.Requests - model.countInWindow(key, now); got.Remaining != wantRemaining {
		t.Fatalf("step %d, key %q at %v: Remaining = %d, want %d", step, key, now, got.Remaining, wantRemaining)
	}
	if !got.Allowed && model.wouldAdmit(key, now+got.RetryAfter-1) {
		t.Fatalf("step %d, key %q at %v: a request 1ns before RetryAfter %v would already be admitted", step, key, now, got.RetryAfter)
	}
}

func TestWindowPenalty(t *testing.T) {
	const s = time.Second
	limit := Limit{Requests: 1, Window: time.Second}
	penalty := Penalty{Base: 10 * s, Max: 80 * s, DecayAfter: time.Minute}

	tests := []struct {
		name  string
		steps []windowStep
	}{
		{
			name: "first rejection is not a strike",
			steps: []windowStep{
				{0, "a", admitted(1, 0, s)},
				{0, "a", rejected(1, s, s)},
				{s, "a", admitted(1, 0, s)},
			},
		},
		{
			name: "client that waits RetryAfter never gets a strike",
			steps: []windowStep{
				{0, "a", admitted(1, 0, s)},
				{s / 2, "a", rejected(1, s/2, s/2)},
				{s / 2, "a", admitted(1, 0, s)},
				{s / 4, "a", rejected(1, 3*s/4, 3*s/4)},
				{3 * s / 4, "a", admitted(1, 0, s)},
			},
		},
		{
			name: "penalty doubles per strike up to max",
			steps: []windowStep{
				{0, "a", admitted(1, 0, s)},
				{0, "a", rejected(1, s, s)},
				{0, "a", penalized(1, 10*s, 10*s)},
				{0, "a", penalized(1, 20*s, 20*s)},
				{0, "a", penalized(1, 40*s, 40*s)},
				{0, "a", penalized(1, 80*s, 80*s)},
				{0, "a", penalized(1, 80*s, 80*s)},
				{s, "a", penalized(1, 80*s, 80*s)},
			},
		},
		{
			name: "penalty rejects even with a free slot",
			steps: []windowStep{
				{0, "a", admitted(1, 0, s)},
				{0, "a", rejected(1, s, s)},
				{0, "a", penalized(1, 10*s, 10*s)},
				{10*s - 1, "a", penalized(1, 20*s, 20*s)},
			},
		},
		{
			name: "penalty ends exactly at RetryAfter",
			steps: []windowStep{
				{0, "a", admitted(1, 0, s)},
				{0, "a", rejected(1, s, s)},
				{0, "a", penalized(1, 10*s, 10*s)},
				{10 * s, "a", admitted(1, 0, s)},
			},
		},
		{
			name: "penalty of one key leaves others alone",
			steps: []windowStep{
				{0, "a", admitted(1, 0, s)},
				{0, "a", rejected(1, s, s)},
				{0, "a", penalized(1, 10*s, 10*s)},
				{0, "b", admitted(1, 0, s)},
				{0, "b", rejected(1, s, s)},
			},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, clock := newTestWindow(t, limit, WindowOptions{Penalty: penalty})
			runWindowSteps(t, w, clock, tt.steps)
		})
	}
}

func TestWindowPenaltyDecay(t *testing.T) {
	const s = time.Second
	limit := Limit{Requests: 1, Window: time.Second}
	penalty := Penalty{Base: 10 * s, Max: 80 * s, DecayAfter: time.Minute}

	// Each case first earns four strikes, the last one starting an 80s
	// penalty, then waits out the penalty plus some good behaviour, then
	// earns one more strike and checks how long that penalty is.
	tests := []struct {
		name        string
		goodTime    time.Duration
		wantPenalty time.Duration
	}{
		{"no decay just before DecayAfter", time.Minute - 1, 80 * s},
		{"halved after DecayAfter", time.Minute, 40 * s},
		{"halved twice after two DecayAfter", 2 * time.Minute, 20 * s},
		{"forgotten after three DecayAfter", 3 * time.Minute, 10 * s},
		{"forgotten after a long time", 24 * time.Hour, 10 * s},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, clock := newTestWindow(t, limit, WindowOptions{Penalty: penalty})
			runWindowSteps(t, w, clock, []windowStep{
				{0, "a", admitted(1, 0, s)},
				{0, "a", rejected(1, s, s)},
				{0, "a", penalized(1, 10*s, 10*s)},
				{0, "a", penalized(1, 20*s, 20*s)},
				{0, "a", penalized(1, 40*s, 40*s)},
				{0, "a", penalized(1, 80*s, 80*s)},
			})

			clock.Advance(80*s + tt.goodTime)
			runWindowSteps(t, w, clock, []windowStep{
				{0, "a", admitted(1, 0, s)},
				{0, "a", rejected(1, s, s)},
				{0, "a", penalized(1, tt.wantPenalty, tt.wantPenalty)},
			})
		})
	}
}

func TestWindowKeyWithStrikesStaysUntilDecayed(t *testing.T) {
	limit := Limit{Requests: 1, Window: time.Second}
	penalty := Penalty{Base: time.Second, Max: time.Second, DecayAfter: time.Minute}
	w, clock := newTestWindow(t, limit, WindowOptions{Penalty: penalty})

	w.Allow("a")
	w.Allow("a")
	if d := w.Allow("a"); !d.Penalized {
		t.Fatalf("third request within the window: %+v, want a penalty", d)
	}

	clock.Advance(time.Second + time.Minute - 1)
	if removed := w.Sweep(); removed != 0 {
		t.Errorf("Sweep before the strike decayed removed %d keys, want 0", removed)
	}

	clock.Advance(1)
	if removed := w.Sweep(); removed != 1 {
		t.Errorf("Sweep after the strike decayed removed %d keys, want 1", removed)
	}
	if n := w.Len(); n != 0 {
		t.Errorf("Len after Sweep = %d, want 0", n)
	}
}

// TestWindowPenaltyKeepsLimitExact checks the sliding-window promise on a
// random schedule with penalties enabled, where the brute-force model does
// not predict each decision.
func TestWindowPenaltyKeepsLimitExact(t *testing.T) {
	for seed := range uint64(10) {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 2))
			limit := Limit{Requests: 1 + rng.IntN(5), Window: 100 * time.Millisecond}
			penalty := Penalty{Base: time.Millisecond, Max: 50 * time.Millisecond, DecayAfter: 20 * time.Millisecond}
			w, clock := newTestWindow(t, limit, WindowOptions{Penalty: penalty})
			model := &windowModel{limit: limit, admitted: map[string][]time.Duration{}}
			now := time.Duration(0)
			sawPenalty := false

			for range 5000 {
				advance := randomAdvance(rng, limit.Window/4)
				clock.Advance(advance)
				now += advance
				key := []string{"a", "b"}[rng.IntN(2)]

				d := w.Allow(key)
				sawPenalty = sawPenalty || d.Penalized
				if d.Allowed {
					if !model.wouldAdmit(key, now) {
						t.Fatalf("key %q admitted at %v with %d admitted in the window", key, now, model.countInWindow(key, now))
					}
					model.admitted[key] = append(model.admitted[key], now)
				}
			}

			if !sawPenalty {
				t.Error("the schedule never caused a penalty")
			}
			for key := range model.admitted {
				if got := model.maxInAnySpan(key); got > limit.Requests {
					t.Errorf("key %q had %d admitted requests in one window, limit %d", key, got, limit.Requests)
				}
			}
		})
	}
}

func TestWindowSweepRemovesIdleKeys(t *testing.T) {
	w, clock := newTestWindow(t, Limit{Requests: 2, Window: time.Second}, WindowOptions{})
	for i := range 10 {
		w.Allow(fmt.Sprintf("key-%d", i))
	}

	clock.Advance(time.Second - 1)
	if removed := w.Sweep(); removed != 0 {
		t.Errorf("Sweep inside the window removed %d keys, want 0", removed)
	}
	if n := w.Len(); n != 10 {
		t.Errorf("Len inside the window = %d, want 10", n)
	}

	clock.Advance(1)
	if removed := w.Sweep(); removed != 10 {
		t.Errorf("Sweep after the window removed %d keys, want 10", removed)
	}
	if n := w.Len(); n != 0 {
		t.Errorf("Len after Sweep = %d, want 0", n)
	}
}

func TestWindowAccessDropsIdleKeys(t *testing.T) {
	w, clock := newTestWindow(t, Limit{Requests: 1, Window: time.Second}, WindowOptions{MaxKeys: 1000})
	keys := keysInOneShard(w.keys, 5)
	for _, key := range keys[:4] {
		w.Allow(key)
	}

	clock.Advance(time.Second)
	w.Allow(keys[4])
	if n := w.Len(); n != 3 {
		t.Errorf("Len after one access = %d, want 3 (two idle keys dropped, one added)", n)
	}

	w.Allow(keys[4])
	if n := w.Len(); n != 1 {
		t.Errorf("Len after two accesses = %d, want 1", n)
	}
}

func TestWindowEvictionPrefersIdleKey(t *testing.T) {
	// 64 shards with room for 2 keys each.
	w, clock := newTestWindow(t, Limit{Requests: 1, Window: time.Second}, WindowOptions{MaxKeys: 128})
	keys := keysInOneShard(w.keys, 3)
	idle, busy, newcomer := keys[0], keys[1], keys[2]

	w.Allow(idle)
	clock.Advance(500 * time.Millisecond)
	w.Allow(busy)
	clock.Advance(100 * time.Millisecond)
	w.Allow(idle) // rejected, but moves idle ahead of busy in LRU order

	clock.Advance(500 * time.Millisecond)
	if d := w.Allow(newcomer); !d.Allowed {
		t.Fatalf("newcomer: %+v, want admitted", d)
	}

	if d := w.Allow(busy); d.Allowed {
		t.Errorf("busy key was admitted again, so its history was evicted instead of the idle key")
	}
	if n := w.Len(); n != 2 {
		t.Errorf("Len = %d, want 2", n)
	}
}

func TestWindowEvictionForgetsActiveKey(t *testing.T) {
	// One shard with room for one key.
	w, _ := newTestWindow(t, Limit{Requests: 1, Window: time.Minute}, WindowOptions{MaxKeys: 1})

	w.Allow("a")
	w.Allow("b")

	if d := w.Allow("a"); !d.Allowed {
		t.Errorf("evicted key a: %+v, want admitted because its history was evicted", d)
	}
	if n := w.Len(); n != 1 {
		t.Errorf("Len = %d, want 1", n)
	}
}

func TestWindowMemoryBoundedUnderKeyFlood(t *testing.T) {
	const maxKeys = 1000
	w, clock := newTestWindow(t, Limit{Requests: 3, Window: time.Minute}, WindowOptions{MaxKeys: maxKeys})

	for i := range 100_000 {
		if d := w.Allow(fmt.Sprintf("flood-%d", i)); !d.Allowed {
			t.Fatalf("new key %d: %+v, want admitted", i, d)
		}
		if i%1000 == 999 {
			clock.Advance(time.Millisecond)
			if n := w.Len(); n > maxKeys {
				t.Fatalf("after %d keys Len = %d, want at most %d", i+1, n, maxKeys)
			}
		}
	}

	if n := w.Len(); n != maxKeys {
		t.Errorf("Len = %d, want exactly %d", n, maxKeys)
	}
}

func TestShardLimitsAddUpToMaxKeys(t *testing.T) {
	for _, maxKeys := range []int{1, 2, 3, 63, 64, 65, 100, 1000, DefaultMaxKeys} {
		table := newKeyTable(maxKeys, func(*windowState, int64) bool { return false }, resetWindowState)
		total := 0
		for i := range table.shards {
			if table.shards[i].maxKeys < 1 {
				t.Errorf("MaxKeys %d: shard %d has room for %d keys", maxKeys, i, table.shards[i].maxKeys)
			}
			total += table.shards[i].maxKeys
		}
		if total != maxKeys {
			t.Errorf("MaxKeys %d: shard limits add up to %d", maxKeys, total)
		}
	}
}

func TestNewWindowRejectsInvalidOptions(t *testing.T) {
	valid := Limit{Requests: 1, Window: time.Second}
	validPenalty := Penalty{Base: time.Second, Max: time.Minute, DecayAfter: time.Minute}

	tests := []struct {
		name      string
		limit     Limit
		opts      WindowOptions
		wantInErr string
	}{
		{"zero requests", Limit{Requests: 0, Window: time.Second}, WindowOptions{}, "Requests is 0"},
		{"negative requests", Limit{Requests: -1, Window: time.Second}, WindowOptions{}, "Requests is -1"},
		{"zero window", Limit{Requests: 1}, WindowOptions{}, "Window is 0s"},
		{"negative window", Limit{Requests: 1, Window: -time.Second}, WindowOptions{}, "Window is -1s"},
		{"negative max keys", valid, WindowOptions{MaxKeys: -1}, "MaxKeys -1"},
		{"penalty without base", valid, WindowOptions{Penalty: Penalty{Max: time.Minute, DecayAfter: time.Minute}}, "Base is 0s"},
		{"penalty max below base", valid, WindowOptions{Penalty: Penalty{Base: time.Minute, Max: time.Second, DecayAfter: time.Minute}}, "Max is 1s"},
		{"penalty without decay", valid, WindowOptions{Penalty: Penalty{Base: time.Second, Max: time.Minute}}, "DecayAfter is 0s"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewWindow(tt.limit, tt.opts)
			if err == nil {
				t.Fatalf("NewWindow(%+v, %+v) returned no error", tt.limit, tt.opts)
			}
			if !strings.Contains(err.Error(), tt.wantInErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantInErr)
			}
		})
	}

	if _, err := NewWindow(valid, WindowOptions{Penalty: validPenalty}); err != nil {
		t.Errorf("NewWindow with valid options returned error: %v", err)
	}
}

func TestWindowConcurrentExactCount(t *testing.T) {
	const (
		requests   = 100
		keys       = 8
		goroutines = 32
		perRoutine = 200
	)
	w, clock := newTestWindow(t, Limit{Requests: requests, Window: time.Minute},
		WindowOptions{MaxKeys: 1000, Penalty: Penalty{Base: time.Second, Max: time.Minute, DecayAfter: time.Minute}})

	var admittedCount [keys]int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			var local [keys]int
			for i := range perRoutine {
				key := (g + i) % keys
				if w.Allow(fmt.Sprintf("key-%d", key)).Allowed {
					local[key]++
				}
				if i%50 == 0 {
					w.Sweep()
					w.Len()
				}
			}

			mu.Lock()
			defer mu.Unlock()
			for k := range keys {
				admittedCount[k] += local[k]
			}
		})
	}
	wg.Wait()

	for k, n := range admittedCount {
		if n != requests {
			t.Errorf("key-%d: %d requests admitted with the clock stopped, want exactly %d", k, n, requests)
		}
	}

	// Now the clock moves while requests run, so readings taken before the
	// lock arrive out of order. It moves 1s in total, far less than the
	// one-minute window, so no slot frees and nothing may be admitted.
	lateCount := 0
	wg.Go(func() {
		for range 1000 {
			clock.Advance(time.Millisecond)
		}
	})
	for g := range goroutines {
		wg.Go(func() {
			for i := range perRoutine {
				if w.Allow(fmt.Sprintf("key-%d", (g+i)%keys)).Allowed {
					mu.Lock()
					lateCount++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()

	if lateCount != 0 {
		t.Errorf("%d requests admitted while the window was still full", lateCount)
	}
}

// keysInOneShard returns count distinct keys that hash to the same shard.
func keysInOneShard[V any](table *keyTable[V], count int) []string {
	target := table.shardFor("key-0")
	keys := []string{"key-0"}
	for i := 1; len(keys) < count; i++ {
		key := fmt.Sprintf("key-%d", i)
		if table.shardFor(key) == target {
			keys = append(keys, key)
		}
	}

	return keys
}

func TestWindowAllowExistingKeyDoesNotAllocate(t *testing.T) {
	w, clock := newTestWindow(t, Limit{Requests: 10, Window: time.Second}, WindowOptions{
		Penalty: Penalty{Base: time.Second, Max: time.Minute, DecayAfter: time.Minute},
	})
	for range 10 {
		w.Allow("a")
	}

	allocs := testing.AllocsPerRun(1000, func() {
		clock.Advance(100 * time.Millisecond)
		w.Allow("a")
		w.Allow("a")
	})

	if allocs != 0 {
		t.Errorf("Allow on an existing key allocates %v times per run, want 0", allocs)
	}
}
