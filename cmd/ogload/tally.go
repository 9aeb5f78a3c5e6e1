package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// tally records the outcome of one worker's requests. Each worker owns
// its own tally, so recording takes no lock, and the scenario merges them
// once the workers have stopped.
type tally struct {
	ok       latencies      // durations of successful requests
	failures map[string]int // failed requests by statusKey or another short word
	firstErr error          // first failure, with the response body
	firstAt  time.Time      // when firstErr happened, to pick the earliest on merge
}

// recordOK adds a successful request that took elapsed.
func (t *tally) recordOK(elapsed time.Duration) {
	t.ok = append(t.ok, elapsed)
}

// recordFailure adds a failed request under key: a status code from
// statusKey, or a short word for failures without one.
func (t *tally) recordFailure(key string, err error) {
	if t.failures == nil {
		t.failures = make(map[string]int)
	}
	t.failures[key]++
	if t.firstErr == nil {
		t.firstErr, t.firstAt = err, time.Now()
	}
}

// statusKey names a failure by its HTTP status, or "transport" when no
// response arrived (status 0).
func statusKey(status int) string {
	if status == 0 {
		return "transport"
	}
	return strconv.Itoa(status)
}

// merge adds the counts of other to t.
func (t *tally) merge(other *tally) {
	t.ok = append(t.ok, other.ok...)
	for key, n := range other.failures {
		if t.failures == nil {
			t.failures = make(map[string]int)
		}
		t.failures[key] += n
	}
	if other.firstErr != nil && (t.firstErr == nil || other.firstAt.Before(t.firstAt)) {
		t.firstErr, t.firstAt = other.firstErr, other.firstAt
	}
}

func (t *tally) failureCount() int {
	n := 0
	for _, count := range t.failures {
		n += count
	}
	return n
}

// failureSummary formats the failures as "404=12,429=3", or "none".
func (t *tally) failureSummary() string {
	return failureSummary(t.failures)
}

// failureSummary formats counts by key as "404=12,429=3", or "none".
func failureSummary(failures map[string]int) string {
	if len(failures) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(failures))
	for _, key := range slices.Sorted(maps.Keys(failures)) {
		parts = append(parts, fmt.Sprintf("%s=%d", key, failures[key]))
	}
	return strings.Join(parts, ",")
}

// reportFailures prints the first failure, with its response body, and
// the hints of printHints.
func (t *tally) reportFailures(w io.Writer) {
	if t.firstErr == nil {
		return
	}
	fmt.Fprintln(w, "first failure:", t.firstErr)
	t.printHints(w)
}

// printHints prints, for each failure status with a known cause, what to
// do about it.
func (t *tally) printHints(w io.Writer) {
	if t.failures["404"] > 0 {
		fmt.Fprintln(w, "hint: 404 on the message routes means this server has no message API yet, or the channel id is wrong")
	}
	if t.failures["429"] > 0 {
		fmt.Fprintln(w, "hint: 429 means a rate limit capped the load; restart the server with", serverFlags)
	}
	if t.failures["401"] > 0 {
		fmt.Fprintln(w, "hint: 401 means the access token expired or was revoked; access tokens last 15m unless --auth-access-token-lifetime says otherwise")
	}
}
