package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// client sends JSON requests to the server under test.
type client struct {
	base string
	http *http.Client
}

// newClient returns a client that keeps up to conns connections open to
// base. It dials loopback addresses only and follows no redirects, so a
// name that resolves elsewhere or a 3xx response cannot send load to
// another machine.
func newClient(base string, conns int) *client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, Control: requireLoopback}
	transport := &http.Transport{
		DialContext:         dialer.DialContext,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
	}
	return &client{
		base: strings.TrimRight(base, "/"),
		http: &http.Client{
			Transport:     transport,
			Timeout:       30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// requireLoopback is a net.Dialer Control function that rejects every
// address outside 127.0.0.0/8 and ::1, after name resolution.
func requireLoopback(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("parse dial address %q: %w", address, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.Unmap().IsLoopback() {
		return fmt.Errorf("dial %s %s rejected: ogload connects to loopback addresses only", network, address)
	}
	return nil
}

// statusError is a response outside 2xx. Body is the response body, which
// for the API is the JSON error envelope.
type statusError struct {
	Method string
	Path   string
	Status int
	Body   []byte
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: status %d: %s", e.Method, e.Path, e.Status, e.Body)
}

// statusOf returns the HTTP status of a *statusError in err's chain, or 0.
func statusOf(err error) int {
	var se *statusError
	if !errors.As(err, &se) {
		return 0
	}
	return se.Status
}

// retryAfter returns the wait that a 429 response requests in its
// retry_after_ms field, or 0 when err is not a 429.
func retryAfter(err error) time.Duration {
	var se *statusError
	if !errors.As(err, &se) || se.Status != http.StatusTooManyRequests {
		return 0
	}
	var body struct {
		RetryAfterMS int64 `json:"retry_after_ms"`
	}
	if json.Unmarshal(se.Body, &body) != nil || body.RetryAfterMS <= 0 {
		return time.Second
	}
	return time.Duration(body.RetryAfterMS) * time.Millisecond
}

// do sends body as JSON and decodes a 2xx response into out, if not nil.
// It returns the response status, or 0 when no response arrived. A
// status outside 2xx comes with a *statusError.
func (c *client) do(ctx context.Context, method, path, token string, body, out any) (int, error) {
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, reader)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}

	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, &statusError{Method: method, Path: path, Status: resp.StatusCode, Body: bytes.TrimSpace(data)}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode response: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// latencies summarises request durations.
type latencies []time.Duration

func (l latencies) percentile(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	sorted := slices.Clone(l)
	slices.Sort(sorted)
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

func (l latencies) max() time.Duration {
	if len(l) == 0 {
		return 0
	}
	return slices.Max(l)
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64)
}

// peakRSS returns the peak resident set size of a process in KiB, from
// VmHWM in /proc/PID/status, or 0 when pid is 0 or unreadable. The peak
// covers the whole life of the process, not only this run.
func peakRSS(pid int) int64 {
	return procStatusKiB(pid, "VmHWM:")
}

// residentRSS returns the current resident set size of a process in KiB,
// from VmRSS in /proc/PID/status, or 0 when pid is 0 or unreadable.
func residentRSS(pid int) int64 {
	return procStatusKiB(pid, "VmRSS:")
}

// procStatusKiB reads one "Name: N kB" field of /proc/PID/status.
func procStatusKiB(pid int, field string) int64 {
	if pid == 0 {
		return 0
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kib, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kib
		}
	}
	return 0
}
