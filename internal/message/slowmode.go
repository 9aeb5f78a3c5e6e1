package message

import (
	"fmt"
	"sync"
	"time"

	"github.com/openguild/openguild/internal/ratelimit"
)

// SlowmodeError means the channel's slowmode makes the caller wait.
type SlowmodeError struct {
	RetryAfter time.Duration
}

func (e *SlowmodeError) Error() string {
	return fmt.Sprintf("slowmode: retry after %s", e.RetryAfter)
}

// slowmode enforces per-channel slowmode: one message per member per
// slowmode interval. Channels share one exact limiter per interval
// length, keyed by channel and user, so memory follows the active
// senders, not the number of channels.
type slowmode struct {
	clock ratelimit.Clock

	mu       sync.Mutex // guards limiters
	limiters map[int]*ratelimit.Window
}

func newSlowmode(clock ratelimit.Clock) *slowmode {
	return &slowmode{clock: clock, limiters: make(map[int]*ratelimit.Window)}
}

// allow admits a send or returns a *SlowmodeError.
func (s *slowmode) allow(channelID, userID string, seconds int) error {
	if seconds <= 0 {
		return nil
	}
	limiter, err := s.limiter(seconds)
	if err != nil {
		return err
	}
	d := limiter.Allow(channelID + "/" + userID)
	if !d.Allowed {
		return &SlowmodeError{RetryAfter: d.RetryAfter}
	}
	return nil
}

func (s *slowmode) limiter(seconds int) (*ratelimit.Window, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w, ok := s.limiters[seconds]; ok {
		return w, nil
	}
	w, err := ratelimit.NewWindow(ratelimit.Limit{Requests: 1, Window: time.Duration(seconds) * time.Second},
		ratelimit.WindowOptions{Clock: s.clock})
	if err != nil {
		return nil, fmt.Errorf("create slowmode limiter for %ds: %w", seconds, err)
	}
	s.limiters[seconds] = w
	return w, nil
}

// sweep frees idle keys of every limiter.
func (s *slowmode) sweep() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.limiters {
		w.Sweep()
	}
}
