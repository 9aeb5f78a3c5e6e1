package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkWindowAllow measures Allow on keys that already exist, with the
// system clock, so each call includes one time.Now. Every key's timestamp
// storage is filled before timing starts, so the timed calls mix admitted
// and rejected requests without growing any storage.
func BenchmarkWindowAllow(b *testing.B) {
	b.Run("single key", func(b *testing.B) {
		limit := Limit{Requests: 100, Window: time.Second}
		w := newBenchmarkWindow(b, limit)
		for range limit.Requests {
			w.Allow("client")
		}
		b.ReportAllocs()

		for b.Loop() {
			w.Allow("client")
		}
	})

	b.Run("single key parallel", func(b *testing.B) {
		limit := Limit{Requests: 100, Window: time.Second}
		w := newBenchmarkWindow(b, limit)
		for range limit.Requests {
			w.Allow("client")
		}
		b.ReportAllocs()
		b.ResetTimer()

		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				w.Allow("client")
			}
		})
	})

	b.Run("many keys parallel", func(b *testing.B) {
		limit := Limit{Requests: 100, Window: time.Second}
		w := newBenchmarkWindow(b, limit)
		keys := make([]string, 10_000)
		for i := range keys {
			keys[i] = fmt.Sprintf("203.0.%d.%d", i/256, i%256)
			for range limit.Requests {
				w.Allow(keys[i])
			}
		}
		b.ReportAllocs()
		b.ResetTimer()

		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				w.Allow(keys[i%len(keys)])
				i += 7
			}
		})
	})
}

// BenchmarkThrottleCheck measures Check on a stored key, the call every
// login attempt makes.
func BenchmarkThrottleCheck(b *testing.B) {
	throttle, err := NewThrottle(ThrottleOptions{Threshold: 5, Window: 15 * time.Minute, BaseDelay: time.Second, MaxDelay: 5 * time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	throttle.Fail("alice")
	b.ReportAllocs()
	b.ResetTimer()

	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			throttle.Check("alice")
		}
	})
}

func newBenchmarkWindow(b *testing.B, limit Limit) *Window {
	b.Helper()

	w, err := NewWindow(limit, WindowOptions{})
	if err != nil {
		b.Fatal(err)
	}

	return w
}
