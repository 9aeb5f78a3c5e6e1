package ratelimit

import (
	"math"
	"testing"
	"time"
)

func TestDoubled(t *testing.T) {
	tests := []struct {
		name  string
		base  time.Duration
		limit time.Duration
		n     int
		want  time.Duration
	}{
		{"no doubling", time.Second, time.Minute, 0, time.Second},
		{"three doublings", time.Second, time.Minute, 3, 8 * time.Second},
		{"capped at limit", time.Second, 10 * time.Second, 4, 10 * time.Second},
		{"exactly reaching limit", time.Second, 8 * time.Second, 3, 8 * time.Second},
		{"odd limit is not undershot", 5, 11, 1, 10},
		{"odd limit reached", 5, 11, 2, 11},
		{"huge n near max duration", time.Second, math.MaxInt64, 1000, math.MaxInt64},
		{"base equals limit", time.Minute, time.Minute, 5, time.Minute},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := doubled(tt.base, tt.limit, tt.n); got != tt.want {
				t.Errorf("doubled(%v, %v, %d) = %v, want %v", tt.base, tt.limit, tt.n, got, tt.want)
			}
		})
	}
}

func TestDoublingsToReach(t *testing.T) {
	tests := []struct {
		name  string
		base  time.Duration
		limit time.Duration
		want  int
	}{
		{"base equals limit", time.Second, time.Second, 0},
		{"power of two", time.Second, 8 * time.Second, 3},
		{"between powers of two", time.Second, 5 * time.Minute, 9},
		{"max duration", 1, math.MaxInt64, 63},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := doublingsToReach(tt.base, tt.limit)
			if got != tt.want {
				t.Fatalf("doublingsToReach(%v, %v) = %d, want %d", tt.base, tt.limit, got, tt.want)
			}
			if d := doubled(tt.base, tt.limit, got); d != tt.limit {
				t.Errorf("doubled after %d doublings = %v, want the limit %v", got, d, tt.limit)
			}
			if got > 0 {
				if d := doubled(tt.base, tt.limit, got-1); d >= tt.limit {
					t.Errorf("doubled after %d doublings = %v, already at the limit", got-1, d)
				}
			}
		})
	}
}
