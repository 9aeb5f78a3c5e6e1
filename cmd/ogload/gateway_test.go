package main

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openguild/openguild/internal/config"
	"github.com/openguild/openguild/internal/servertest"
)

// startGatewayServer starts a homeserver with the setup, message and
// gateway upgrade limits raised, at most perUser connections per user and
// a 1 s heartbeat interval, so a hold of a few seconds fails unless
// ogload sends heartbeats.
func startGatewayServer(t *testing.T, perUser int) *servertest.Server {
	t.Helper()
	return servertest.Start(t, servertest.WithConfig(func(c *config.Config) {
		c.Limits.RegisterPerIP = config.Rate{Requests: 1_000_000, Window: time.Minute}
		c.Limits.LoginPerIP = config.Rate{Requests: 1_000_000, Window: time.Minute}
		c.Limits.MessagePerUser = config.Rate{Requests: 1_000_000, Window: 10 * time.Second}
		c.Limits.MessagePerIP = config.Rate{Requests: 1_000_000, Window: 10 * time.Second}
		c.Gateway.UpgradesPerIP = config.Rate{Requests: 1_000_000, Window: time.Minute}
		c.Gateway.MaxPerUser = perUser
		c.Gateway.HeartbeatInterval = time.Second
	}))
}

func decimal(t *testing.T, fields map[string]string, column string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(fields[column], 64)
	if err != nil {
		t.Fatalf("column %q = %q, want a number", column, fields[column])
	}
	return f
}

func TestConnectionsAgainstServer(t *testing.T) {
	t.Parallel()
	s := startGatewayServer(t, 16)
	// The server runs in this process, so the test passes this process's
	// id as the server's.
	fields, stderr := runTool(t, "-server", s.URL, "-server-pid", strconv.Itoa(os.Getpid()),
		"connections", "-connections", "20", "-hold", "5s")

	if n := number(t, fields, "users"); n != 2 {
		t.Errorf("users = %d, want 2 for 20 connections at 16 per user", n)
	}
	if n := number(t, fields, "opened"); n != 20 {
		t.Errorf("opened = %d, want 20\nstderr:\n%s", n, stderr)
	}
	if n := number(t, fields, "open at end"); n != 20 {
		t.Errorf("open at end = %d, want 20: connections dropped during the hold\nstderr:\n%s", n, stderr)
	}
	// Each connection heartbeats about once a second for 5 s.
	if n := number(t, fields, "heartbeat acks"); n < 20*3 {
		t.Errorf("heartbeat acks = %d, want at least 60", n)
	}
	if got := fields["failures by kind"]; got != "none" {
		t.Errorf("failures by kind = %q, want none\nstderr:\n%s", got, stderr)
	}
	if rss := decimal(t, fields, "server RSS before MiB"); rss <= 0 {
		t.Errorf("server RSS before MiB = %v, want more than 0", rss)
	}
	decimal(t, fields, "RSS increase KiB/connection")
	decimal(t, fields, "second half KiB/connection")
}

func TestConnectionsInterruptedDuringHold(t *testing.T) {
	t.Parallel()
	s := startGatewayServer(t, 16)
	// Setup and the 5 s settle take about 6 s, so the cancel lands during
	// the 10m hold, or during setup on a slow machine.
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	start := time.Now()
	err := run(ctx, []string{"-server", s.URL, "connections", "-connections", "4", "-hold", "10m"}, &stdout, &stderr)

	if err == nil {
		t.Fatalf("run returned nil after the cancel, want an error\nstdout:\n%s", stdout.String())
	}
	// Closing four connections takes milliseconds; 10 s leaves room for
	// the library's close timeouts on a loaded machine.
	if elapsed := time.Since(start); elapsed > 18*time.Second {
		t.Errorf("run returned %s after it started, want within 10 s of the cancel at 8 s", elapsed.Round(time.Millisecond))
	}
	if strings.Contains(err.Error(), "interrupted") && !strings.Contains(stdout.String(), "connections\t4\t") {
		t.Errorf("interrupted run printed no table row:\n%s", stdout.String())
	}
}

func TestConnectionsReportsUserCap(t *testing.T) {
	t.Parallel()
	s := startGatewayServer(t, 16)
	fields, stderr := runTool(t, "-server", s.URL, "connections", "-connections", "20", "-users", "1", "-hold", "5s")

	if n := number(t, fields, "opened"); n != 16 {
		t.Errorf("opened = %d, want 16, the per-user cap", n)
	}
	// The server checks the cap before the upgrade and again when the
	// connection registers, so of the upgrades that race past the first
	// check some get 429 and the others are closed with 4008.
	rejected := 0
	for _, part := range strings.Split(fields["failures by kind"], ",") {
		kind, count, _ := strings.Cut(part, "=")
		n, _ := strconv.Atoi(count)
		switch kind {
		case "429-user", "close-4008":
			rejected += n
		default:
			t.Errorf("failure kind %q in %q, want only 429-user and close-4008", kind, fields["failures by kind"])
		}
	}
	if rejected != 4 {
		t.Errorf("failures by kind = %q, want 4 rejected by the per-user cap\nstderr:\n%s", fields["failures by kind"], stderr)
	}
	if got := fields["RSS increase KiB/connection"]; got != "-" {
		t.Errorf("RSS increase without -server-pid = %q, want -", got)
	}
	if !strings.Contains(stderr, "hint: 429-user") && !strings.Contains(stderr, "hint: close 4008") {
		t.Errorf("stderr has no hint for the per-user cap:\n%s", stderr)
	}
	if !strings.Contains(stderr, "--gateway-max-per-user 20") {
		t.Errorf("stderr does not name the per-user cap to set:\n%s", stderr)
	}
}

func TestFanoutAgainstServer(t *testing.T) {
	t.Parallel()
	s := startGatewayServer(t, 16)
	fields, stderr := runTool(t, "-server", s.URL, "fanout", "-subscribers", "10", "-rate", "20", "-duration", "2s")

	if n := number(t, fields, "sent"); n != 40 {
		t.Errorf("sent = %d, want 40 (20/s for 2 s)\nstderr:\n%s", n, stderr)
	}
	if n := number(t, fields, "expected"); n != 400 {
		t.Errorf("expected = %d, want 400 (40 messages to 10 subscribers)", n)
	}
	if n := number(t, fields, "delivered"); n != 400 {
		t.Errorf("delivered = %d, want 400\nstderr:\n%s", n, stderr)
	}
	if got := fields["failures by kind"]; got != "none" {
		t.Errorf("failures by kind = %q, want none\nstderr:\n%s", got, stderr)
	}
	p50, maxLatency := decimal(t, fields, "p50 ms"), decimal(t, fields, "max ms")
	if p50 <= 0 || p50 > maxLatency {
		t.Errorf("p50 ms = %v, max ms = %v, want 0 < p50 <= max", p50, maxLatency)
	}
}

func TestFanoutReportsMessageLimit(t *testing.T) {
	t.Parallel()
	s := servertest.Start(t, servertest.WithConfig(func(c *config.Config) {
		c.Limits.RegisterPerIP = config.Rate{Requests: 1_000_000, Window: time.Minute}
		c.Limits.LoginPerIP = config.Rate{Requests: 1_000_000, Window: time.Minute}
		c.Gateway.UpgradesPerIP = config.Rate{Requests: 1_000_000, Window: time.Minute}
	}))
	fields, stderr := runTool(t, "-server", s.URL, "fanout", "-subscribers", "2", "-rate", "20", "-duration", "1s")

	if got := fields["failures by kind"]; !strings.Contains(got, "send-429=") {
		t.Errorf("failures by kind = %q, want send-429 under the default message limits", got)
	}
	if sent, expected := number(t, fields, "sent"), number(t, fields, "expected"); expected != 2*sent {
		t.Errorf("expected = %d, want 2 × sent (%d)", expected, sent)
	}
	if !strings.Contains(stderr, "--limits-message-per-user") {
		t.Errorf("stderr does not name the server flags to raise:\n%s", stderr)
	}
}

// The flags are checked before any request, so these cases send nothing.
func TestGatewayScenarioFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no connections", []string{"connections", "-connections", "0"}, "invalid -connections 0"},
		{"too many connections", []string{"connections", "-connections", "20001"}, "invalid -connections 20001"},
		{"more users than connections", []string{"connections", "-connections", "4", "-users", "5"}, "invalid -users 5"},
		{"hold too short", []string{"connections", "-hold", "1s"}, "invalid -hold 1s"},
		{"hold too long", []string{"connections", "-hold", "11m"}, "invalid -hold 11m0s"},
		{"no subscribers", []string{"fanout", "-subscribers", "0"}, "invalid -subscribers 0"},
		{"zero rate", []string{"fanout", "-rate", "0"}, "invalid -rate 0"},
		{"rate too high", []string{"fanout", "-rate", "1001"}, "invalid -rate 1001"},
		{"duration too long", []string{"fanout", "-duration", "6m"}, "invalid -duration 6m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), append([]string{"-server", "http://127.0.0.1:1"}, tt.args...), &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run(%v) = %v, want an error containing %q", tt.args, err, tt.want)
			}
		})
	}
}

func TestLatencyHistogramPercentiles(t *testing.T) {
	h := newLatencyHistogram()
	for i := 1; i <= 100; i++ {
		h.record(time.Duration(i) * time.Millisecond)
	}
	h.record(2 * time.Minute) // past the last bucket

	tests := []struct {
		p    float64
		want time.Duration
	}{
		{0, 1*time.Millisecond + histogramWidth},
		{0.5, 51*time.Millisecond + histogramWidth},
		{0.99, 100*time.Millisecond + histogramWidth},
		{1, 2 * time.Minute},
	}
	for _, tt := range tests {
		if got := h.percentile(tt.p); got != tt.want {
			t.Errorf("percentile(%v) = %s, want %s", tt.p, got, tt.want)
		}
	}
	if got := h.max(); got != 2*time.Minute {
		t.Errorf("max() = %s, want 2m0s", got)
	}
}

func TestLatencyHistogramEmptyAndNegative(t *testing.T) {
	h := newLatencyHistogram()
	if got := h.percentile(0.5); got != 0 {
		t.Errorf("percentile(0.5) of an empty histogram = %s, want 0", got)
	}
	h.record(-time.Second)
	if got := h.percentile(0.5); got != 0 {
		t.Errorf("percentile(0.5) after a negative duration = %s, want 0", got)
	}
}
