package main

import (
	"sync/atomic"
	"time"
)

// Histogram resolution: 100 µs buckets up to 60 s take 4.8 MB, whatever
// the number of deliveries a run records.
const (
	histogramWidth = 100 * time.Microsecond
	histogramRange = 60 * time.Second
)

// latencyHistogram counts durations in fixed buckets so that goroutines
// can record concurrently without a lock and memory stays fixed.
// Percentiles are exact to histogramWidth; the maximum is exact.
type latencyHistogram struct {
	buckets []atomic.Int64 // bucket i counts [i, i+1) × histogramWidth; the last also counts everything longer
	count   atomic.Int64
	longest atomic.Int64 // nanoseconds
}

func newLatencyHistogram() *latencyHistogram {
	return &latencyHistogram{buckets: make([]atomic.Int64, histogramRange/histogramWidth+1)}
}

// record adds one duration. A negative duration, which only a step of
// the wall clock could cause, counts as 0.
func (h *latencyHistogram) record(d time.Duration) {
	d = max(d, 0)
	i := min(int(d/histogramWidth), len(h.buckets)-1)
	h.buckets[i].Add(1)
	h.count.Add(1)
	for longest := h.longest.Load(); int64(d) > longest && !h.longest.CompareAndSwap(longest, int64(d)); longest = h.longest.Load() {
	}
}

// percentile returns the upper edge of the bucket that holds the value
// at rank p×(count-1), as latencies.percentile ranks, capped at the
// maximum. A value in the last bucket, past histogramRange, returns the
// maximum. It returns 0 for an empty histogram. Call it once recording
// has stopped.
func (h *latencyHistogram) percentile(p float64) time.Duration {
	n := h.count.Load()
	if n == 0 {
		return 0
	}
	rank := int64(float64(n-1) * p)
	var seen int64
	for i := range h.buckets {
		seen += h.buckets[i].Load()
		if seen > rank && i < len(h.buckets)-1 {
			return min(time.Duration(i+1)*histogramWidth, h.max())
		}
	}
	return h.max()
}

func (h *latencyHistogram) max() time.Duration {
	return time.Duration(h.longest.Load())
}
