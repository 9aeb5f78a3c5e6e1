// Package bus provides publish and subscribe of committed events between
// the write path and the gateways.
//
// Local delivers within one process. Publish never blocks: a subscriber
// whose buffer is full is closed and marked as having overflowed, so one
// slow consumer cannot delay the others. A closed subscriber recovers by
// reading the event logs from the last sequence it saw.
//
// A Local is safe for concurrent use and starts no goroutines.
package bus

import (
	"sync"

	"github.com/openguild/openguild/internal/event"
)

// Local is an in-process bus.
type Local struct {
	mu   sync.RWMutex // guards subs
	subs map[*Subscription]struct{}
}

// NewLocal returns an empty bus.
func NewLocal() *Local {
	return &Local{subs: make(map[*Subscription]struct{})}
}

// Subscription receives every event published after it was created, in
// publish order, until it is closed.
type Subscription struct {
	bus *Local
	ch  chan event.Event

	mu         sync.Mutex // guards the fields below
	closed     bool
	overflowed bool
}

// Subscribe returns a subscription whose channel buffers up to buffer
// events.
func (b *Local) Subscribe(buffer int) *Subscription {
	s := &Subscription{bus: b, ch: make(chan event.Event, buffer)}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	return s
}

// Publish delivers events to every subscriber, in order. Callers publish
// only events whose transaction has committed.
func (b *Local) Publish(events ...event.Event) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for s := range b.subs {
		s.deliver(events)
	}
}

// C returns the channel events arrive on. It is closed when the
// subscription ends.
func (s *Subscription) C() <-chan event.Event { return s.ch }

// Overflowed reports whether the subscription ended because its buffer
// filled up.
func (s *Subscription) Overflowed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.overflowed
}

// Close ends the subscription. It is safe to call more than once.
func (s *Subscription) Close() {
	s.bus.mu.Lock()
	delete(s.bus.subs, s)
	s.bus.mu.Unlock()

	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeLocked()
}

func (s *Subscription) deliver(events []event.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	for _, e := range events {
		select {
		case s.ch <- e:
		default:
			s.overflowed = true
			s.closeLocked()
			return
		}
	}
}

// closeLocked closes the channel once. The caller holds s.mu.
func (s *Subscription) closeLocked() {
	if !s.closed {
		s.closed = true
		close(s.ch)
	}
}
