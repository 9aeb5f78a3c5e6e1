package httpapi_test

import (
	"context"
	"database/sql"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openguild/openguild/internal/config"
	"github.com/openguild/openguild/internal/metrics"
	"github.com/openguild/openguild/internal/servertest"
	"github.com/openguild/openguild/internal/store"
	"github.com/openguild/openguild/internal/storetest"
	"github.com/openguild/openguild/internal/webui"
)

func TestOperationsRoutes(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		tests := []struct {
			path string
			want map[string]any
		}{
			{"/health", map[string]any{"status": "ok"}},
			{"/ready", map[string]any{"status": "ready"}},
			{"/version", map[string]any{"version": "test", "commit": "test"}},
		}
		for _, tt := range tests {
			resp := s.Do(t, "GET", tt.path, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: status %d, body %s", tt.path, resp.StatusCode, resp.Body)
			}
			var got map[string]any
			resp.JSON(t, &got)
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("GET %s: %s = %v, want %v", tt.path, k, got[k], v)
				}
			}
		}
	})
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	s := servertest.Start(t)
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'",
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
	}
	requests := []struct{ method, path string }{
		{"GET", "/health"},
		{"GET", "/api/v1/no-such-route"},
		{"DELETE", "/health"},
		{"GET", "/some/page"},
	}
	for _, req := range requests {
		resp := s.Do(t, req.method, req.path, nil)
		for name, value := range want {
			if name == "Content-Security-Policy" && req.path == "/some/page" {
				// A web client page: its own policy, checked in webui.
				value = webui.ContentSecurityPolicy
			}
			if got := resp.Header.Get(name); got != value {
				t.Errorf("%s %s: header %s = %q, want %q", req.method, req.path, name, got, value)
			}
		}
	}
}

func TestUnknownRouteAndWrongMethod(t *testing.T) {
	s := servertest.Start(t)

	resp := s.Do(t, "GET", "/api/v1/no-such-route", nil)
	if resp.StatusCode != http.StatusNotFound || resp.ErrorCode() != "not_found" {
		t.Errorf("unknown route: status %d code %q, want 404 not_found", resp.StatusCode, resp.ErrorCode())
	}

	resp = s.Do(t, "POST", "/health", "{}")
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.ErrorCode() != "method_not_allowed" {
		t.Errorf("wrong method: status %d code %q, want 405 method_not_allowed", resp.StatusCode, resp.ErrorCode())
	}
	if allow := resp.Header.Get("Allow"); !strings.Contains(allow, "GET") {
		t.Errorf("wrong method: Allow = %q, want it to list GET", allow)
	}
}

func TestRequestIDEchoedOnlyWhenValid(t *testing.T) {
	s := servertest.Start(t)
	tests := []struct {
		name     string
		sent     string
		wantEcho bool
	}{
		{"plain id echoed", "abc-123_X.y", true},
		{"64 characters echoed", strings.Repeat("a", 64), true},
		{"65 characters replaced", strings.Repeat("a", 65), false},
		{"space replaced", "abc def", false},
		{"slash replaced", "abc/def", false},
		{"empty replaced", "", false},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.Do(t, "GET", "/health", nil, "X-Request-Id", tt.sent)
			got := resp.Header.Get("X-Request-Id")
			if tt.wantEcho && got != tt.sent {
				t.Errorf("X-Request-Id = %q, want the sent %q", got, tt.sent)
			}
			if !tt.wantEcho {
				if got == tt.sent || got == "" {
					t.Errorf("X-Request-Id = %q, want a new id", got)
				}
				if seen[got] {
					t.Errorf("generated id %q repeated", got)
				}
				seen[got] = true
			}
		})
	}
}

func TestMetricsOnlyOnMetricsListener(t *testing.T) {
	s := servertest.Start(t)
	s.Do(t, "GET", "/health", nil)
	s.Do(t, "GET", "/api/v1/guilds/0190f0c0-aaaa/secret-path", nil)

	if resp := s.Do(t, "GET", "/metrics", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("client listener /metrics: status %d, want 404", resp.StatusCode)
	}

	resp := s.DoMetrics(t, "GET", "/metrics")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("metrics listener /metrics: status %d", resp.StatusCode)
	}
	text := string(resp.Body)
	for _, want := range []string{
		`openguild_http_requests_total{route="GET /health",status_class="2xx"} 1`,
		`openguild_http_requests_total{route="unmatched",status_class="4xx"}`,
		`openguild_http_request_duration_seconds_bucket{route="GET /health",status_class="2xx"`,
		`openguild_http_requests_in_flight`,
		`openguild_build_info{`,
		`go_goroutines`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	for _, reason := range metrics.RejectionReasons() {
		series := `openguild_messaging_rejections_total{reason="` + reason + `"} 0`
		if !strings.Contains(text, series) {
			t.Errorf("metrics lack %q", series)
		}
	}
	if strings.Contains(text, "secret-path") || strings.Contains(text, "0190f0c0") {
		t.Error("metrics contain a raw request path")
	}
}

func TestMetricsBearerToken(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *config.Config) { c.MetricsToken = "scrape-secret" }))

	tests := []struct {
		name   string
		header []string
		want   int
	}{
		{"no token", nil, http.StatusUnauthorized},
		{"wrong token", []string{"Authorization", "Bearer nope"}, http.StatusUnauthorized},
		{"basic scheme", []string{"Authorization", "Basic scrape-secret"}, http.StatusUnauthorized},
		{"right token", []string{"Authorization", "Bearer scrape-secret"}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if resp := s.DoMetrics(t, "GET", "/metrics", tt.header...); resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

func TestForwardedForIgnoredFromUntrustedPeer(t *testing.T) {
	s := servertest.Start(t)
	s.Do(t, "GET", "/health", nil, "X-Forwarded-For", "203.0.113.9", "X-Request-Id", "xff-untrusted")

	line := accessLine(t, s, "xff-untrusted")
	if line["client_ip"] != "127.0.0.1" {
		t.Errorf("client_ip = %v, want the peer 127.0.0.1", line["client_ip"])
	}
}

func TestForwardedForBelievedFromTrustedProxy(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *config.Config) {
		c.TrustedProxies = mustPrefixes(t, "127.0.0.0/8")
	}))
	s.Do(t, "GET", "/health", nil, "X-Forwarded-For", "198.51.100.7, 203.0.113.9", "X-Request-Id", "xff-trusted")

	line := accessLine(t, s, "xff-trusted")
	if line["client_ip"] != "203.0.113.9" {
		t.Errorf("client_ip = %v, want the rightmost untrusted hop 203.0.113.9", line["client_ip"])
	}
}

func TestAccessLogOmitsSecrets(t *testing.T) {
	s := servertest.Start(t)
	s.Do(t, "GET", "/health", nil, "Authorization", "Bearer very-secret-token", "X-Request-Id", "no-secrets")

	if strings.Contains(s.Logs.String(), "very-secret-token") {
		t.Error("the log contains the Authorization header's token")
	}
	line := accessLine(t, s, "no-secrets")
	for _, key := range []string{"method", "route", "status", "bytes", "duration_ms", "client_ip"} {
		if _, ok := line[key]; !ok {
			t.Errorf("access log line lacks %q: %v", key, line)
		}
	}
}

func TestReadHeaderTimeoutClosesSlowClient(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *config.Config) { c.ReadHeaderTimeout = 300 * time.Millisecond }))

	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /health HTTP/1.1\r\nHost: x\r\n")); err != nil {
		t.Fatal(err)
	}

	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 512)
	for {
		_, err := conn.Read(buf)
		if err == nil {
			continue // the server may answer 408 before closing
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("the server kept a header-only connection open past its read-header timeout")
		}
		return // closed by the server
	}
}

func TestReadyReportsMissingSchema(t *testing.T) {
	storetest.SkipUnlessConfigured(t, storetest.PostgresURLVariable, "postgres://postgres@127.0.0.1:5432/test")
	s := servertest.Start(t, servertest.WithDialect(t, store.Postgres))

	// Drop the tables behind the running server, as a botched restore would.
	db, err := sql.Open("pgx", s.Config.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), "DROP TABLE goose_db_version, server_info"); err != nil {
		t.Fatalf("drop tables: %v", err)
	}

	resp := s.Do(t, "GET", "/ready", nil)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503; body %s", resp.StatusCode, resp.Body)
	}
	var body struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	resp.JSON(t, &body)
	if body.Status != "not_ready" || body.Checks["migrations"] == "ok" {
		t.Errorf("body %+v, want not_ready with a failing migrations check", body)
	}
}

// accessLine returns the access log line of the request with the given id.
func accessLine(t *testing.T, s *servertest.Server, id string) map[string]any {
	t.Helper()
	for _, line := range s.Logs.Lines() {
		if line["msg"] == "request" && line["request_id"] == id {
			return line
		}
	}
	t.Fatalf("no access log line for request %s in:\n%s", id, s.Logs.String())
	return nil
}
