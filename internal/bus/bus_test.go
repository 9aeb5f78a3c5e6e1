package bus

import (
	"sync"
	"testing"

	"github.com/openguild/openguild/internal/event"
)

func ev(seq int64) event.Event { return event.Event{LogID: "c1", Seq: seq, Type: event.MessageCreate} }

func TestPublishReachesEverySubscriberInOrder(t *testing.T) {
	b := NewLocal()
	first, second := b.Subscribe(10), b.Subscribe(10)
	b.Publish(ev(1), ev(2))
	b.Publish(ev(3))

	for _, s := range []*Subscription{first, second} {
		for want := int64(1); want <= 3; want++ {
			if got := <-s.C(); got.Seq != want {
				t.Fatalf("got seq %d, want %d", got.Seq, want)
			}
		}
	}
}

func TestSlowSubscriberClosedWithoutBlocking(t *testing.T) {
	b := NewLocal()
	slow, fast := b.Subscribe(1), b.Subscribe(10)
	b.Publish(ev(1), ev(2), ev(3))

	if !slow.Overflowed() {
		t.Error("slow subscriber not marked overflowed")
	}
	if got := <-slow.C(); got.Seq != 1 {
		t.Errorf("slow subscriber's buffered event has seq %d, want 1", got.Seq)
	}
	if _, open := <-slow.C(); open {
		t.Error("slow subscriber's channel still open")
	}
	for want := int64(1); want <= 3; want++ {
		if got := <-fast.C(); got.Seq != want {
			t.Fatalf("fast subscriber got seq %d, want %d", got.Seq, want)
		}
	}
}

func TestCloseStopsDelivery(t *testing.T) {
	b := NewLocal()
	s := b.Subscribe(10)
	s.Close()
	s.Close()
	b.Publish(ev(1))
	if _, open := <-s.C(); open {
		t.Error("closed subscription received an event")
	}
	if s.Overflowed() {
		t.Error("closed subscription reported overflow")
	}
}

func TestConcurrentPublishAndSubscribe(t *testing.T) {
	b := NewLocal()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			b.Publish(ev(int64(i)))
		}()
		go func() {
			defer wg.Done()
			s := b.Subscribe(4)
			s.Close()
		}()
	}
	wg.Wait()
}
