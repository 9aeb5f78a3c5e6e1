package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/openguild/openguild/internal/metrics"
	"github.com/openguild/openguild/internal/store"
)

// fakeDatabase stands in for the store in the readiness cases a real
// database cannot easily be pushed into; the healthy path is tested
// against real databases in api_test.go.
type fakeDatabase struct {
	pingErr error
	status  store.MigrationStatus
}

func (f fakeDatabase) Ping(context.Context) error { return f.pingErr }
func (f fakeDatabase) MigrationStatus(context.Context) (store.MigrationStatus, error) {
	return f.status, nil
}

type testEnv struct {
	handler http.Handler
	logs    *bytes.Buffer
}

func newTestEnv(t *testing.T, db Database) *testEnv {
	t.Helper()
	logs := &bytes.Buffer{}
	a := New(Deps{
		Logger:   slog.New(slog.NewJSONHandler(logs, nil)),
		Metrics:  metrics.New(metrics.Build{Version: "test", Commit: "test"}),
		Database: db,
	})
	rt := newRouter(a)
	a.routes(rt)
	rt.handle("POST /test/echo", 1024, func(w http.ResponseWriter, r *http.Request) error {
		var body struct {
			Name  string `json:"name"`
			Count int    `json:"count"`
		}
		if err := decodeJSON(r, &body); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, body)
		return nil
	})
	rt.handle("GET /test/panic", capDefault, func(w http.ResponseWriter, r *http.Request) error {
		panic("boom")
	})
	rt.handle("GET /test/internal", capDefault, func(w http.ResponseWriter, r *http.Request) error {
		return errors.New("database password=hunter2 rejected")
	})
	return &testEnv{handler: a.middleware(rt), logs: logs}
}

func (e *testEnv) serve(method, path string, body io.Reader) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, body)
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return rec
}

func decodeBody(t *testing.T, rec *httptest.ResponseRecorder) errorBody {
	t.Helper()
	var body errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("decode body %q: %v", rec.Body.String(), err)
	}
	return body
}

func TestDecodeJSONErrors(t *testing.T) {
	env := newTestEnv(t, fakeDatabase{})
	tests := []struct {
		name      string
		body      string
		status    int
		code      string
		wantField string
	}{
		{"valid body", `{"name":"a","count":2}`, 200, "", ""},
		{"empty body", ``, 400, CodeInvalidJSON, ""},
		{"whitespace body", "  \n", 400, CodeInvalidJSON, ""},
		{"syntax error", `{"name":`, 400, CodeInvalidJSON, ""},
		{"bad token", `{name:"a"}`, 400, CodeInvalidJSON, ""},
		{"trailing data", `{"name":"a"} {}`, 400, CodeInvalidJSON, ""},
		{"invalid UTF-8", "{\"name\":\"\xff\xfe\"}", 400, CodeInvalidJSON, ""},
		{"array instead of object", `[1,2]`, 400, CodeInvalidJSON, ""},
		{"string for a number", `{"count":"seven"}`, 400, CodeValidation, "count"},
		{"number for a string", `{"name":7}`, 400, CodeValidation, "name"},
		{"over the cap", `{"name":"` + strings.Repeat("x", 2000) + `"}`, 413, CodePayloadTooLarge, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := env.serve("POST", "/test/echo", strings.NewReader(tt.body))
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			if tt.code == "" {
				return
			}
			body := decodeBody(t, rec)
			if body.Error != tt.code {
				t.Errorf("code %q, want %q", body.Error, tt.code)
			}
			if body.Message == "" {
				t.Error("message is empty")
			}
			if tt.wantField != "" && (len(body.Details) != 1 || body.Details[0].Field != tt.wantField) {
				t.Errorf("details %+v, want one naming field %q", body.Details, tt.wantField)
			}
		})
	}
}

func TestBodyCapWithoutContentLength(t *testing.T) {
	env := newTestEnv(t, fakeDatabase{})
	body := io.MultiReader(strings.NewReader(`{"name":"`), strings.NewReader(strings.Repeat("y", 4096)), strings.NewReader(`"}`))

	req := httptest.NewRequest("POST", "/test/echo", body)
	req.ContentLength = -1 // chunked: the cap must hold while reading
	rec := httptest.NewRecorder()
	env.handler.ServeHTTP(rec, req)

	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", rec.Code)
	}
}

func TestPanicBecomesEnvelope(t *testing.T) {
	env := newTestEnv(t, fakeDatabase{})
	rec := env.serve("GET", "/test/panic", nil)

	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	if body := decodeBody(t, rec); body.Error != CodeInternal {
		t.Errorf("code %q, want %q", body.Error, CodeInternal)
	}
	if rec.Header().Get("Content-Security-Policy") == "" {
		t.Error("the 500 lacks the security headers")
	}
	if !strings.Contains(env.logs.String(), "handler panicked") {
		t.Error("the panic was not logged")
	}
}

func TestInternalErrorHidesCause(t *testing.T) {
	env := newTestEnv(t, fakeDatabase{})
	rec := env.serve("GET", "/test/internal", nil)

	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	if strings.Contains(rec.Body.String(), "hunter2") {
		t.Error("the response contains the internal error's text")
	}
	if !strings.Contains(env.logs.String(), "request failed") {
		t.Error("the internal error was not logged")
	}
}

func TestReadyFailures(t *testing.T) {
	tests := []struct {
		name  string
		db    fakeDatabase
		check string
		want  string
	}{
		{"database unreachable", fakeDatabase{pingErr: errors.New("connection refused")}, "database", "unreachable"},
		{"migrations pending", fakeDatabase{status: store.MigrationStatus{Current: 1, Latest: 2}}, "migrations", "pending"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, tt.db)
			rec := env.serve("GET", "/ready", nil)
			if rec.Code != http.StatusServiceUnavailable {
				t.Fatalf("status %d, want 503", rec.Code)
			}
			var body struct {
				Status string            `json:"status"`
				Checks map[string]string `json:"checks"`
			}
			json.Unmarshal(rec.Body.Bytes(), &body)
			if body.Status != "not_ready" || body.Checks[tt.check] != tt.want {
				t.Errorf("body %s, want not_ready with %s %s", rec.Body, tt.check, tt.want)
			}
		})
	}
}

func TestResolveClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"no trusted proxies ignores header", "10.1.1.1:5000", []string{"203.0.113.5"}, nil, "10.1.1.1"},
		{"untrusted peer ignores header", "198.51.100.1:5000", []string{"203.0.113.5"}, trusted, "198.51.100.1"},
		{"trusted peer uses last hop", "10.1.1.1:5000", []string{"203.0.113.5"}, trusted, "203.0.113.5"},
		{"spoofed left entries skipped", "10.1.1.1:5000", []string{"6.6.6.6, 203.0.113.5"}, trusted, "203.0.113.5"},
		{"chain of trusted proxies", "10.1.1.1:5000", []string{"203.0.113.5, 10.2.2.2"}, trusted, "203.0.113.5"},
		{"several header lines", "10.1.1.1:5000", []string{"6.6.6.6", "203.0.113.5"}, trusted, "203.0.113.5"},
		{"garbled hop stops the walk", "10.1.1.1:5000", []string{"203.0.113.5, garbage"}, trusted, "10.1.1.1"},
		{"only trusted hops", "10.1.1.1:5000", []string{"10.3.3.3"}, trusted, "10.3.3.3"},
		{"ipv6 peer", "[::1]:5000", []string{"2001:db8::7"}, trusted, "2001:db8::7"},
		{"ipv4-mapped peer", "[::ffff:10.1.1.1]:5000", []string{"203.0.113.5"}, trusted, "203.0.113.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			if got := resolveClientIP(req, tt.trusted); got.String() != tt.want {
				t.Errorf("client IP %s, want %s", got, tt.want)
			}
		})
	}
}
