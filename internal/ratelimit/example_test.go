package ratelimit_test

import (
	"fmt"
	"time"

	"github.com/openguild/openguild/internal/ratelimit"
)

// manualClock is a Clock that moves only when the example sets it, so the
// printed durations are fixed.
type manualClock struct {
	now time.Time
}

func (c *manualClock) Now() time.Time { return c.now }

func ExampleWindow() {
	clock := &manualClock{now: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)}
	limiter, err := ratelimit.NewWindow(
		ratelimit.Limit{Requests: 2, Window: time.Minute},
		ratelimit.WindowOptions{Clock: clock},
	)
	if err != nil {
		fmt.Println(err)
		return
	}

	for range 3 {
		d := limiter.Allow("203.0.113.7")
		fmt.Printf("allowed=%v remaining=%d retry_after=%v\n", d.Allowed, d.Remaining, d.RetryAfter)
		clock.now = clock.now.Add(10 * time.Second)
	}

	// Output:
	// allowed=true remaining=1 retry_after=0s
	// allowed=true remaining=0 retry_after=0s
	// allowed=false remaining=0 retry_after=40s
}

func ExampleWindow_penalty() {
	clock := &manualClock{now: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)}
	limiter, err := ratelimit.NewWindow(
		ratelimit.Limit{Requests: 1, Window: time.Second},
		ratelimit.WindowOptions{
			Clock:   clock,
			Penalty: ratelimit.Penalty{Base: 5 * time.Second, Max: time.Minute, DecayAfter: 10 * time.Minute},
		},
	)
	if err != nil {
		fmt.Println(err)
		return
	}

	// The client ignores RetryAfter, so from its second rejection on it
	// serves a penalty that doubles each time.
	for range 5 {
		d := limiter.Allow("user-42")
		fmt.Printf("allowed=%v penalized=%v retry_after=%v\n", d.Allowed, d.Penalized, d.RetryAfter)
	}

	// Output:
	// allowed=true penalized=false retry_after=0s
	// allowed=false penalized=false retry_after=1s
	// allowed=false penalized=true retry_after=5s
	// allowed=false penalized=true retry_after=10s
	// allowed=false penalized=true retry_after=20s
}

func ExampleThrottle() {
	clock := &manualClock{now: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)}
	logins, err := ratelimit.NewThrottle(ratelimit.ThrottleOptions{
		Threshold: 2,
		Window:    15 * time.Minute,
		BaseDelay: time.Second,
		MaxDelay:  5 * time.Minute,
		Clock:     clock,
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// A login handler calls Check before it verifies the password, Fail
	// when the password is wrong and Reset when it is right.
	for range 4 {
		if wait := logins.Check("alice"); wait > 0 {
			fmt.Printf("wait %v before trying again\n", wait)
			clock.now = clock.now.Add(wait)
		}
		fmt.Printf("wrong password, wait now %v\n", logins.Fail("alice"))
	}

	logins.Reset("alice")
	fmt.Printf("after a successful login, wait %v\n", logins.Check("alice"))

	// Output:
	// wrong password, wait now 0s
	// wrong password, wait now 0s
	// wrong password, wait now 1s
	// wait 1s before trying again
	// wrong password, wait now 2s
	// after a successful login, wait 0s
}
