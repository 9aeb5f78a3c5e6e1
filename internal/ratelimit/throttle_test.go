package ratelimit

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func newTestThrottle(t *testing.T, opts ThrottleOptions) (*Throttle, *fakeClock) {
	t.Helper()

	clock := newFakeClock()
	opts.Clock = clock
	throttle, err := NewThrottle(opts)
	if err != nil {
		t.Fatalf("NewThrottle(%+v) returned error: %v", opts, err)
	}

	return throttle, clock
}

// throttleStep is one call in a scripted test. The clock advances, then
// either Fail or Check runs on key and must return want.
type throttleStep struct {
	advance time.Duration
	fail    bool
	key     string
	want    time.Duration
}

func TestThrottleWaits(t *testing.T) {
	const s = time.Second
	opts := ThrottleOptions{Threshold: 3, Window: 15 * time.Minute, BaseDelay: s, MaxDelay: 8 * s}

	tests := []struct {
		name  string
		steps []throttleStep
	}{
		{
			name: "failures up to threshold cause no wait",
			steps: []throttleStep{
				{0, true, "a", 0},
				{0, true, "a", 0},
				{0, true, "a", 0},
				{0, false, "a", 0},
			},
		},
		{
			name: "wait doubles after threshold and stops at max",
			steps: []throttleStep{
				{0, true, "a", 0},
				{0, true, "a", 0},
				{0, true, "a", 0},
				{0, true, "a", s},
				{s, true, "a", 2 * s},
				{2 * s, true, "a", 4 * s},
				{4 * s, true, "a", 8 * s},
				{8 * s, true, "a", 8 * s},
				{8 * s, true, "a", 8 * s},
				{0, false, "a", 8 * s},
			},
		},
		{
			name: "check counts down the wait",
			steps: []throttleStep{
				{0, true, "a", 0},
				{0, true, "a", 0},
				{0, true, "a", 0},
				{0, true, "a", s},
				{0, true, "a", 2 * s},
				{0, false, "a", 2 * s},
				{1500 * time.Millisecond, false, "a", 500 * time.Millisecond},
				{500 * time.Millisecond, false, "a", 0},
			},
		},
		{
			name: "failure during a wait does not shorten it",
			steps: []throttleStep{
				{0, true, "a", 0},
				{0, true, "a", 0},
				{0, true, "a", 0},
				{0, true, "a", s},
				{0, true, "a", 2 * s},
				{0, true, "a", 4 * s},
				{0, true, "a", 8 * s},
				{14*time.Minute + 59*s, true, "a", 8 * s},
			},
		},
		{
			name: "failures leave the window one by one",
			steps: []throttleStep{
				{0, true, "a", 0},
				{time.Minute, true, "a", 0},
				{time.Minute, true, "a", 0},
				{time.Minute, true, "a", s},
				// The first failure expires exactly 15 minutes after it.
				{12*time.Minute - 1, true, "a", 2 * s},
				{1 + 2*s, true, "a", 2 * s},
				{time.Minute, true, "a", 2 * s},
			},
		},
		{
			name: "everything forgotten after the window",
			steps: []throttleStep{
				{0, true, "a", 0},
				{0, true, "a", 0},
				{0, true, "a", 0},
				{0, true, "a", s},
				{0, true, "a", 2 * s},
				{15 * time.Minute, false, "a", 0},
				{0, true, "a", 0},
			},
		},
		{
			name: "keys are independent",
			steps: []throttleStep{
				{0, true, "a", 0},
				{0, true, "a", 0},
				{0, true, "a", 0},
				{0, true, "a", s},
				{0, false, "b", 0},
				{0, true, "b", 0},
				{0, false, "a", s},
			},
		},
		{
			name: "unknown key may go ahead",
			steps: []throttleStep{
				{0, false, "nobody", 0},
			},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			throttle, clock := newTestThrottle(t, opts)
			runThrottleSteps(t, throttle, clock, tt.steps)
		})
	}
}

func runThrottleSteps(t *testing.T, throttle *Throttle, clock *fakeClock, steps []throttleStep) {
	t.Helper()

	for i, step := range steps {
		clock.Advance(step.advance)

		call := "Check"
		var got time.Duration
		if step.fail {
			call = "Fail"
			got = throttle.Fail(step.key)
		} else {
			got = throttle.Check(step.key)
		}

		if got != step.want {
			t.Errorf("step %d (advance %v): %s(%q) = %v, want %v", i, step.advance, call, step.key, got, step.want)
		}
		if step.fail {
			if check := throttle.Check(step.key); check != got {
				t.Errorf("step %d: Check(%q) after Fail = %v, want the %v that Fail returned", i, step.key, check, got)
			}
		}
	}
}

func TestThrottleZeroThreshold(t *testing.T) {
	throttle, _ := newTestThrottle(t, ThrottleOptions{Window: time.Minute, BaseDelay: time.Second, MaxDelay: time.Minute})

	if got := throttle.Fail("a"); got != time.Second {
		t.Errorf("first failure with threshold 0 waits %v, want 1s", got)
	}
}

// TestThrottleLoginPolicy runs the policy of "after 5 failures within 15
// minutes, double the wait per failure, capped at 5 minutes" as a server
// would configure it.
func TestThrottleLoginPolicy(t *testing.T) {
	throttle, clock := newTestThrottle(t, ThrottleOptions{
		Threshold: 5,
		Window:    15 * time.Minute,
		BaseDelay: time.Second,
		MaxDelay:  5 * time.Minute,
	})

	for i := range 5 {
		if got := throttle.Fail("alice"); got != 0 {
			t.Fatalf("failure %d waits %v, want 0", i+1, got)
		}
	}

	if got := throttle.Fail("alice"); got != time.Second {
		t.Errorf("failure 6 waits %v, want 1s", got)
	}

	// A client that always waits the returned time gets, at each failure, the wait
	// for the number of failures in the last 15 minutes, and never more
	// than the cap.
	failures := []time.Duration{0, 0, 0, 0, 0, 0}
	now := time.Duration(0)
	sawCap := false
	for i := range 200 {
		wait := throttle.Check("alice")
		clock.Advance(wait)
		now += wait
		failures = append(failures, now)

		got := throttle.Fail("alice")
		want := loginPolicyWait(failures, now)
		if got != want {
			t.Fatalf("round %d at %v: Fail returned %v, want %v", i, now, got, want)
		}
		sawCap = sawCap || got == 5*time.Minute
	}

	if !sawCap {
		t.Error("the wait never reached the 5m cap")
	}
}

// loginPolicyWait returns the wait after the newest of failures under the
// login policy, counting the failures in (now-15m, now].
func loginPolicyWait(failures []time.Duration, now time.Duration) time.Duration {
	count := 0
	for _, at := range failures {
		if at > now-15*time.Minute {
			count++
		}
	}
	if count <= 5 {
		return 0
	}

	wait := time.Second
	for range count - 6 {
		wait *= 2
	}

	return min(wait, 5*time.Minute)
}

func TestThrottleReset(t *testing.T) {
	throttle, _ := newTestThrottle(t, ThrottleOptions{Threshold: 1, Window: time.Minute, BaseDelay: time.Second, MaxDelay: time.Minute})

	throttle.Fail("a")
	throttle.Fail("a")
	throttle.Fail("b")
	if got := throttle.Check("a"); got != time.Second {
		t.Fatalf("Check before Reset = %v, want 1s", got)
	}

	throttle.Reset("a")

	if got := throttle.Check("a"); got != 0 {
		t.Errorf("Check after Reset = %v, want 0", got)
	}
	if got := throttle.Fail("a"); got != 0 {
		t.Errorf("first failure after Reset waits %v, want 0", got)
	}
	if got := throttle.Fail("b"); got != time.Second {
		t.Errorf("Reset of a changed b: second failure of b waits %v, want 1s", got)
	}

	throttle.Reset("never-seen")
}

func TestThrottleSweepRemovesIdleKeys(t *testing.T) {
	throttle, clock := newTestThrottle(t, ThrottleOptions{Threshold: 0, Window: time.Minute, BaseDelay: 2 * time.Minute, MaxDelay: 2 * time.Minute})
	for i := range 10 {
		throttle.Fail(fmt.Sprintf("key-%d", i))
	}

	// The failures leave the window after a minute, but the wait lasts two.
	clock.Advance(2*time.Minute - 1)
	if removed := throttle.Sweep(); removed != 0 {
		t.Errorf("Sweep during the wait removed %d keys, want 0", removed)
	}

	clock.Advance(1)
	if removed := throttle.Sweep(); removed != 10 {
		t.Errorf("Sweep after the wait removed %d keys, want 10", removed)
	}
	if n := throttle.Len(); n != 0 {
		t.Errorf("Len after Sweep = %d, want 0", n)
	}
}

func TestThrottleCheckDropsIdleKeys(t *testing.T) {
	throttle, clock := newTestThrottle(t, ThrottleOptions{Threshold: 3, Window: time.Minute, BaseDelay: time.Second, MaxDelay: time.Minute, MaxKeys: 1000})
	keys := keysInOneShard(throttle.keys, 3)
	throttle.Fail(keys[0])
	throttle.Fail(keys[1])

	clock.Advance(time.Minute)
	throttle.Check(keys[2])

	if n := throttle.Len(); n != 0 {
		t.Errorf("Len after a Check in the shard = %d, want 0", n)
	}
}

func TestThrottleMemoryBoundedUnderKeyFlood(t *testing.T) {
	const maxKeys = 1000
	throttle, _ := newTestThrottle(t, ThrottleOptions{Threshold: 5, Window: 15 * time.Minute, BaseDelay: time.Second, MaxDelay: 5 * time.Minute, MaxKeys: maxKeys})

	for i := range 100_000 {
		throttle.Fail(fmt.Sprintf("flood-%d", i))
		if i%1000 == 999 {
			if n := throttle.Len(); n > maxKeys {
				t.Fatalf("after %d keys Len = %d, want at most %d", i+1, n, maxKeys)
			}
		}
	}

	if n := throttle.Len(); n != maxKeys {
		t.Errorf("Len = %d, want exactly %d", n, maxKeys)
	}
}

func TestThrottleStoresBoundedFailures(t *testing.T) {
	throttle, _ := newTestThrottle(t, ThrottleOptions{Threshold: 5, Window: time.Hour, BaseDelay: time.Second, MaxDelay: 5 * time.Minute})

	for range 10_000 {
		throttle.Fail("a")
	}

	shard, state := throttle.keys.find("a", 0)
	stored, storage := state.failures.len(), len(state.failures.buf)
	shard.mu.Unlock()

	// 5 free failures, then 1s, 2s, ... 256s and the 300s cap: 15 failures.
	if stored != 15 {
		t.Errorf("stored failures = %d, want 15", stored)
	}
	if storage > 15 {
		t.Errorf("failure storage = %d slots, want at most 15", storage)
	}
}

func TestNewThrottleRejectsInvalidOptions(t *testing.T) {
	valid := ThrottleOptions{Threshold: 5, Window: time.Minute, BaseDelay: time.Second, MaxDelay: time.Minute}

	tests := []struct {
		name      string
		change    func(*ThrottleOptions)
		wantInErr string
	}{
		{"negative threshold", func(o *ThrottleOptions) { o.Threshold = -1 }, "Threshold is -1"},
		{"zero window", func(o *ThrottleOptions) { o.Window = 0 }, "Window is 0s"},
		{"zero base delay", func(o *ThrottleOptions) { o.BaseDelay = 0 }, "BaseDelay is 0s"},
		{"max delay below base", func(o *ThrottleOptions) { o.MaxDelay = time.Millisecond }, "MaxDelay is 1ms"},
		{"negative max keys", func(o *ThrottleOptions) { o.MaxKeys = -5 }, "MaxKeys -5"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := valid
			tt.change(&opts)

			_, err := NewThrottle(opts)
			if err == nil {
				t.Fatalf("NewThrottle(%+v) returned no error", opts)
			}
			if !strings.Contains(err.Error(), tt.wantInErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantInErr)
			}
		})
	}

	if _, err := NewThrottle(valid); err != nil {
		t.Errorf("NewThrottle with valid options returned error: %v", err)
	}
}

func TestThrottleConcurrentFailures(t *testing.T) {
	const goroutines = 32
	throttle, _ := newTestThrottle(t, ThrottleOptions{Threshold: 100, Window: time.Hour, BaseDelay: time.Second, MaxDelay: time.Hour})

	// With the clock stopped, 32 × 5 = 160 failures are failure 101 to 160
	// past the threshold of 100, so the wait is 1s doubled 59 times, which
	// the 1h cap cuts to 1h. 32 × 3 = 96 stay under the threshold.
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for range 5 {
				throttle.Fail("shared")
			}
			for range 3 {
				throttle.Fail(fmt.Sprintf("own-%d", g%4))
			}
			throttle.Check("shared")
			throttle.Sweep()
		})
	}
	wg.Wait()

	if got := throttle.Check("shared"); got != time.Hour {
		t.Errorf("Check(shared) = %v, want 1h", got)
	}
	for i := range 4 {
		if got := throttle.Check(fmt.Sprintf("own-%d", i)); got != 0 {
			t.Errorf("Check(own-%d) after 24 failures = %v, want 0", i, got)
		}
	}
}
