package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openguild/openguild/internal/config"
	"github.com/openguild/openguild/internal/servertest"
)

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		name   string
		server string
		ok     bool
	}{
		{"ipv4 loopback", "http://127.0.0.1:8080", true},
		{"other 127/8 address", "http://127.1.2.3:8080", true},
		{"ipv6 loopback", "http://[::1]:8080", true},
		{"localhost", "https://localhost:8443", true},
		{"name starting with 127", "http://127.example.com:8080", false},
		{"private address", "http://10.0.0.1:8080", false},
		{"unspecified address", "http://0.0.0.0:8080", false},
		{"other scheme", "ftp://127.0.0.1", false},
		{"no scheme", "127.0.0.1:8080", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkLoopback(tt.server)
			if tt.ok && err != nil {
				t.Errorf("checkLoopback(%q) = %v, want nil", tt.server, err)
			}
			if !tt.ok && err == nil {
				t.Errorf("checkLoopback(%q) = nil, want an error", tt.server)
			}
		})
	}
}

// The dialer guard is checked as a function: calling it opens no socket.
func TestRequireLoopback(t *testing.T) {
	tests := []struct {
		address string
		ok      bool
	}{
		{"127.0.0.1:80", true},
		{"[::1]:80", true},
		{"[::ffff:127.0.0.1]:80", true},
		{"192.0.2.1:80", false},
		{"[2001:db8::1]:80", false},
		{"localhost:80", false}, // the dialer passes resolved addresses only
	}
	for _, tt := range tests {
		t.Run(tt.address, func(t *testing.T) {
			err := requireLoopback("tcp", tt.address, nil)
			if tt.ok != (err == nil) {
				t.Errorf("requireLoopback(%q) = %v, want ok %v", tt.address, err, tt.ok)
			}
		})
	}
}

func TestCheckPage(t *testing.T) {
	at := &cursor{ID: "m50", Seq: 50}
	page := func(seqs ...int64) []cursor {
		var p []cursor
		for _, s := range seqs {
			p = append(p, cursor{ID: "m" + strconv.FormatInt(s, 10), Seq: s})
		}
		return p
	}
	tests := []struct {
		name  string
		page  []cursor
		at    *cursor
		after bool
		ok    bool
	}{
		{"before page oldest first", page(47, 48, 49), at, false, true},
		{"after page oldest first", page(51, 52), at, true, true},
		{"empty page", nil, at, false, true},
		{"no cursor", page(1, 2, 3), nil, false, true},
		{"newest first", page(49, 48), at, false, false},
		{"repeated seq", page(48, 48), at, false, false},
		{"before page holds cursor", page(49, 50), at, false, false},
		{"after page holds older", page(49, 51), at, true, false},
		{"more than limit", page(45, 46, 47, 48, 49), at, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkPage(tt.page, 4, tt.at, tt.after)
			if tt.ok != (err == nil) {
				t.Errorf("checkPage = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestReservoirBounded(t *testing.T) {
	r := &reservoir{size: 100}
	for i := range 10_000 {
		r.add(cursor{ID: strconv.Itoa(i), Seq: int64(i)})
	}
	items := r.snapshot()
	if len(items) != 100 {
		t.Fatalf("sample contains %d items, want 100", len(items))
	}
	late := 0
	for _, c := range items {
		if c.Seq >= 100 {
			late++
		}
	}
	// A uniform sample of 100 from 10,000 keeps about 99 items past the
	// first 100; keeping fewer than 90 means the sample never refreshed.
	if late < 90 {
		t.Errorf("sample contains %d items past the first 100, want at least 90", late)
	}
}

func TestTallyMerge(t *testing.T) {
	var a, b tally
	a.recordOK(time.Millisecond)
	a.recordFailure(statusKey(429), errFillFailed)
	b.recordFailure(statusKey(0), context.Canceled)
	b.recordFailure(statusKey(429), context.Canceled)
	a.merge(&b)

	if got := len(a.ok); got != 1 {
		t.Errorf("merged tally contains %d successes, want 1", got)
	}
	if got := a.failureCount(); got != 3 {
		t.Errorf("merged tally contains %d failures, want 3", got)
	}
	if got, want := a.failureSummary(), "429=2,transport=1"; got != want {
		t.Errorf("failureSummary() = %q, want %q", got, want)
	}
	if a.firstErr != errFillFailed {
		t.Errorf("firstErr = %v, want the earliest failure %v", a.firstErr, errFillFailed)
	}
}

// startLoadServer starts a homeserver with the limits that serverFlags
// lifts raised the same way, unless keepMessageLimits is set.
func startLoadServer(t *testing.T, keepMessageLimits bool) *servertest.Server {
	t.Helper()
	return servertest.Start(t, servertest.WithConfig(func(c *config.Config) {
		c.Limits.RegisterPerIP = config.Rate{Requests: 1_000_000, Window: time.Minute}
		c.Limits.LoginPerIP = config.Rate{Requests: 1_000_000, Window: time.Minute}
		if !keepMessageLimits {
			c.Limits.MessagePerUser = config.Rate{Requests: 1_000_000, Window: 10 * time.Second}
			c.Limits.MessagePerIP = config.Rate{Requests: 1_000_000, Window: 10 * time.Second}
		}
	}))
}

// runTool runs ogload with args and returns its table row as fields,
// keyed by the header, and its standard error.
func runTool(t *testing.T, args ...string) (map[string]string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), args, &stdout, &stderr); err != nil {
		t.Fatalf("ogload %s: %v\nstderr:\n%s", strings.Join(args, " "), err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("ogload printed %d lines, want a header and one row:\n%s", len(lines), stdout.String())
	}
	header, row := strings.Split(lines[0], "\t"), strings.Split(lines[1], "\t")
	if len(header) != len(row) {
		t.Fatalf("header has %d columns, row has %d:\n%s", len(header), len(row), stdout.String())
	}
	fields := make(map[string]string, len(header))
	for i, name := range header {
		fields[name] = row[i]
	}
	return fields, stderr.String()
}

func number(t *testing.T, fields map[string]string, column string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(fields[column], 10, 64)
	if err != nil {
		t.Fatalf("column %q = %q, want a whole number", column, fields[column])
	}
	return n
}

func TestIngestAgainstServer(t *testing.T) {
	s := startLoadServer(t, false)
	fields, stderr := runTool(t, "-server", s.URL, "ingest", "-senders", "4", "-channels", "2", "-duration", "1s")

	if n := number(t, fields, "committed"); n == 0 {
		t.Errorf("committed = 0, want some messages\nstderr:\n%s", stderr)
	}
	if got := fields["failures by status"]; got != "none" {
		t.Errorf("failures by status = %q, want none\nstderr:\n%s", got, stderr)
	}
}

func TestIngestReportsRateLimit(t *testing.T) {
	s := startLoadServer(t, true)
	fields, stderr := runTool(t, "-server", s.URL, "ingest", "-senders", "2", "-duration", "1s", "-max-messages", "200")

	if got := fields["failures by status"]; !strings.Contains(got, "429=") {
		t.Errorf("failures by status = %q, want 429s under the default message limits", got)
	}
	if !strings.Contains(stderr, "--limits-message-per-user") {
		t.Errorf("stderr does not name the server flags to raise:\n%s", stderr)
	}
}

func TestHistoryFillAndReuse(t *testing.T) {
	s := startLoadServer(t, false)
	fields, stderr := runTool(t, "-server", s.URL, "history", "-messages", "300", "-fill-senders", "4", "-reads", "40", "-readers", "2")

	if n := number(t, fields, "messages in channel"); n != 300 {
		t.Errorf("messages in channel = %d, want 300", n)
	}
	if n := number(t, fields, "reads"); n != 40 {
		t.Errorf("reads = %d, want 40\nstderr:\n%s", n, stderr)
	}
	if got := fields["failures by status"]; got != "none" {
		t.Errorf("failures by status = %q, want none\nstderr:\n%s", got, stderr)
	}

	reuse := regexp.MustCompile(`-reuse-channel (\S+) -token (\S+)`).FindStringSubmatch(stderr)
	if reuse == nil {
		t.Fatalf("stderr has no reuse command:\n%s", stderr)
	}
	fields, stderr = runTool(t, "-server", s.URL, "history", "-reuse-channel", reuse[1], "-token", reuse[2], "-reads", "20", "-page", "7")
	if n := number(t, fields, "messages in channel"); n != 300 {
		t.Errorf("walk counted %d messages in the reused channel, want 300\nstderr:\n%s", n, stderr)
	}
	if got := fields["failures by status"]; got != "none" {
		t.Errorf("reuse run failures by status = %q, want none\nstderr:\n%s", got, stderr)
	}
}

func TestMediaAgainstServer(t *testing.T) {
	s := startLoadServer(t, false)
	fields, stderr := runTool(t, "-server", s.URL, "media", "-concurrency", "2", "-size", "100000", "-rounds", "2")

	if n := number(t, fields, "files"); n != 4 {
		t.Errorf("files = %d, want 4\nstderr:\n%s", n, stderr)
	}
	if n := number(t, fields, "failures"); n != 0 {
		t.Errorf("failures = %d, want 0\nstderr:\n%s", n, stderr)
	}
}

func TestThumbnailsAgainstServer(t *testing.T) {
	s := startLoadServer(t, false)
	fields, stderr := runTool(t, "-server", s.URL, "thumbnails", "-images", "2", "-edge", "300")

	if n := number(t, fields, "thumbnails"); n != 2 {
		t.Errorf("thumbnails = %d, want 2\nstderr:\n%s", n, stderr)
	}
	if n := number(t, fields, "failures"); n != 0 {
		t.Errorf("failures = %d, want 0\nstderr:\n%s", n, stderr)
	}
}
