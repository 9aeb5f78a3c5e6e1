package ratelimit

import (
	"fmt"
	"time"
)

// Limit is the number of requests a key may have admitted in any span of
// Window.
type Limit struct {
	Requests int
	Window   time.Duration
}

// Validate returns an error unless Requests is at least 1 and Window is
// positive.
func (l Limit) Validate() error {
	if l.Requests < 1 {
		return fmt.Errorf("invalid limit: Requests is %d, must be at least 1", l.Requests)
	}

	if l.Window <= 0 {
		return fmt.Errorf("invalid limit: Window is %v, must be positive", l.Window)
	}

	return nil
}

// Penalty configures how a Window punishes a key that keeps sending
// requests while it is rejected. The zero value disables penalties.
//
// A rejected request is a strike when the key's previous request was
// rejected as well, which means the client did not wait out the RetryAfter
// it was given. Concurrent requests of one key count one by one, so in a
// burst rejected at once every request after the first is a strike. Strike
// number n starts a penalty of Base
// doubled n-1 times, capped at Max. During a penalty every request of the
// key is rejected, and each of those rejections is a further strike.
//
// The strike count halves for each full DecayAfter that passes after the
// penalty ends without a new strike. Halving, rather than forgetting every
// strike at once, lets a key that returns to its old behaviour reach long
// penalties again sooner than a first offender.
//
// Penalties suit keys that stand for one client, such as a user id. When
// clients share a key, such as an IP address behind NAT, a rejection of one
// client followed by a request of another is a strike against the shared
// key, and so against every client behind it.
type Penalty struct {
	// Base is the length of the first penalty.
	Base time.Duration

	// Max is the maximum length of a penalty.
	Max time.Duration

	// DecayAfter is the time without strikes after which the strike count
	// halves.
	DecayAfter time.Duration
}

// Validate returns an error unless p is the zero value, or Base is
// positive, Max is at least Base and DecayAfter is positive.
func (p Penalty) Validate() error {
	if !p.enabled() {
		return nil
	}

	if p.Base <= 0 {
		return fmt.Errorf("invalid penalty: Base is %v, must be positive (or leave the whole Penalty zero to disable penalties)", p.Base)
	}

	if p.Max < p.Base {
		return fmt.Errorf("invalid penalty: Max is %v, must be at least Base (%v)", p.Max, p.Base)
	}

	if p.DecayAfter <= 0 {
		return fmt.Errorf("invalid penalty: DecayAfter is %v, must be positive", p.DecayAfter)
	}

	return nil
}

func (p Penalty) enabled() bool {
	return p != Penalty{}
}

// Decision is the outcome of one Window.Allow call.
type Decision struct {
	// Allowed reports whether the request was admitted.
	Allowed bool

	// Penalized reports whether the key is serving a penalty, during which
	// every request of the key is rejected.
	Penalized bool

	// Limit is the limiter's Limit.Requests.
	Limit int

	// Remaining is the number of further requests of the key that would be
	// admitted at this instant. It is 0 during a penalty.
	Remaining int

	// RetryAfter is 0 when the request was admitted. Otherwise it is the
	// exact time after which the key's next request will be admitted,
	// provided the key sends nothing before then. A request sent earlier is
	// rejected and, under a Penalty, extends the wait.
	RetryAfter time.Duration

	// Reset is the time until the window holds no admitted request of the
	// key and any penalty has ended, so that all of Limit is available.
	Reset time.Duration
}
