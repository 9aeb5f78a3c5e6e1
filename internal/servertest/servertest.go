// Package servertest starts a real homeserver in-process on loopback for
// tests: real listeners on free ports, a real database (SQLite in a
// temporary directory, or a PostgreSQL schema of its own), and the same
// assembly that `openguild serve` uses.
package servertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openguild/openguild/internal/config"
	"github.com/openguild/openguild/internal/metrics"
	"github.com/openguild/openguild/internal/server"
	"github.com/openguild/openguild/internal/store"
	"github.com/openguild/openguild/internal/storetest"
)

// Server is a running test homeserver.
type Server struct {
	URL        string // base URL of the client API, such as http://127.0.0.1:41234
	MetricsURL string // base URL of the metrics listener
	Config     config.Config
	Logs       *LogBuffer
	Client     *http.Client
	Clock      *Clock // the server's clock; Advance moves it forward

	srv *server.Server
}

// Option adjusts the configuration before the server starts.
type Option func(*config.Config)

// WithDialect selects the database: SQLite (the default) or a fresh
// PostgreSQL schema, which skips the test when no server is configured.
func WithDialect(t testing.TB, dialect store.Dialect) Option {
	url := storetest.URL(t, dialect)
	return func(c *config.Config) { c.DatabaseURL = url }
}

// WithConfig applies fn to the configuration.
func WithConfig(fn func(*config.Config)) Option { return Option(fn) }

// Start runs a homeserver until the test ends. Listeners use port 0, so
// parallel tests never collide.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()

	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.MetricsListen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.LogLevel = slog.LevelDebug
	// Tests drive many requests from 127.0.0.1 in seconds; the general
	// limits would get in their way. Tests of those limits set them back.
	cfg.Limits.ReadPerIP = config.Rate{Requests: 1_000_000, Window: time.Minute}
	cfg.Limits.WritePerIPRoute = config.Rate{Requests: 1_000_000, Window: time.Minute}
	for _, opt := range opts {
		opt(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("test server configuration: %v", err)
	}

	logs := &LogBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: cfg.LogLevel}))
	clock := &Clock{}
	srv, err := server.New(context.Background(), cfg, logger, metrics.Build{Version: "test", Commit: "test"}, server.WithClock(clock))
	if err != nil {
		t.Fatalf("start test server: %v", err)
	}
	srv.Start()

	s := &Server{
		URL:    "http://" + srv.ClientAddr(),
		Config: cfg,
		Logs:   logs,
		Clock:  clock,
		Client: &http.Client{Timeout: 30 * time.Second},
		srv:    srv,
	}
	if addr := srv.MetricsAddr(); addr != "" {
		s.MetricsURL = "http://" + addr
	}
	t.Cleanup(func() {
		s.Client.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shut down test server: %v", err)
		}
	})
	return s
}

// Run runs fn once per database dialect, each with its own server.
func Run(t *testing.T, fn func(t *testing.T, s *Server), opts ...Option) {
	t.Helper()
	for _, dialect := range storetest.Dialects() {
		t.Run(string(dialect), func(t *testing.T) {
			all := append([]Option{WithDialect(t, dialect)}, opts...)
			fn(t, Start(t, all...))
		})
	}
}

// Server returns the underlying server, for tests of shutdown.
func (s *Server) Server() *server.Server { return s.srv }

// Response is a completed request with its body read.
type Response struct {
	*http.Response
	Body []byte
}

// JSON decodes the body into v, failing the test if it is not JSON.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode response body %q: %v", r.Body, err)
	}
}

// ErrorCode returns the error envelope's code, or "" for a body that is
// not an error envelope.
func (r *Response) ErrorCode() string {
	var env struct {
		Error string `json:"error"`
	}
	json.Unmarshal(r.Body, &env)
	return env.Error
}

// Do sends a request to the client API. A body that is a string or
// []byte is sent as it is; anything else is encoded as JSON. Headers are
// given as name, value pairs.
func (s *Server) Do(t testing.TB, method, path string, body any, headers ...string) *Response {
	t.Helper()
	return s.do(t, s.URL, method, path, body, headers...)
}

// DoMetrics sends a request to the metrics listener.
func (s *Server) DoMetrics(t testing.TB, method, path string, headers ...string) *Response {
	t.Helper()
	return s.do(t, s.MetricsURL, method, path, nil, headers...)
}

func (s *Server) do(t testing.TB, base, method, path string, body any, headers ...string) *Response {
	t.Helper()

	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		reader = strings.NewReader(b)
	case []byte:
		reader = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encode request body: %v", err)
		}
		reader = bytes.NewReader(data)
	}

	req, err := http.NewRequest(method, base+path, reader)
	if err != nil {
		t.Fatalf("build request %s %s: %v", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}

	resp, err := s.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response of %s %s: %v", method, path, err)
	}
	return &Response{Response: resp, Body: data}
}

// LogBuffer collects the server's JSON log lines. It is safe for
// concurrent use.
type LogBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// Lines returns every log line decoded as a JSON object.
func (l *LogBuffer) Lines() []map[string]any {
	l.mu.Lock()
	data := bytes.Clone(l.buf.Bytes())
	l.mu.Unlock()

	var lines []map[string]any
	for _, raw := range bytes.Split(data, []byte("\n")) {
		var line map[string]any
		if json.Unmarshal(raw, &line) == nil {
			lines = append(lines, line)
		}
	}
	return lines
}

// String returns the raw log text.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Clock is the wall clock plus an offset that Advance adds to, so a test
// can jump past a window without waiting while time still flows.
type Clock struct {
	mu     sync.Mutex // guards offset
	offset time.Duration
}

// Now returns the current time plus the offset.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// Eventually polls cond every 20ms until it holds, failing the test if
// it does not within timeout.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WithS3Media stores media in a new bucket of the S3-compatible server
// that OPENGUILD_TEST_S3_ENDPOINT names (a URL such as
// http://127.0.0.1:7070), with the keys in OPENGUILD_TEST_S3_ACCESS_KEY
// and OPENGUILD_TEST_S3_SECRET_KEY. It skips the test when the endpoint
// is unset.
func WithS3Media(t testing.TB) Option {
	raw := storetest.SkipUnlessConfigured(t, "OPENGUILD_TEST_S3_ENDPOINT", "http://127.0.0.1:7070")
	endpoint, err := url.Parse(raw)
	if err != nil || endpoint.Host == "" || (endpoint.Scheme != "http" && endpoint.Scheme != "https") {
		t.Fatalf("OPENGUILD_TEST_S3_ENDPOINT=%q is not a URL such as http://127.0.0.1:7070", raw)
	}
	suffix := make([]byte, 6)
	rand.Read(suffix)
	return func(c *config.Config) {
		c.Media.Backend = config.MediaBackendS3
		c.Media.S3 = config.MediaS3{
			Endpoint: endpoint.Host, Region: "us-east-1", Bucket: "openguild-test-" + hex.EncodeToString(suffix),
			AccessKey: os.Getenv("OPENGUILD_TEST_S3_ACCESS_KEY"), SecretKey: os.Getenv("OPENGUILD_TEST_S3_SECRET_KEY"),
			UseTLS: endpoint.Scheme == "https", PathStyle: true, CreateBucket: true,
		}
	}
}
