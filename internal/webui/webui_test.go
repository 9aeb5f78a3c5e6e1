package webui_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/openguild/openguild/internal/servertest"
	"github.com/openguild/openguild/internal/webui"
)

func testBundle() fstest.MapFS {
	return fstest.MapFS{
		"index.html":           {Data: []byte("<!doctype html><title>app</title>")},
		"assets/index-abc.js":  {Data: []byte("console.log(1)")},
		"assets/index-abc.css": {Data: []byte("body{}")},
		"favicon.svg":          {Data: []byte("<svg/>")},
	}
}

func get(t *testing.T, h http.Handler, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

func TestHandlerServesFiles(t *testing.T) {
	h := webui.Handler(testBundle())
	cases := []struct {
		name, path, body, contentType, cache string
		status                               int
	}{
		{"root is index", "/", "<!doctype html><title>app</title>", "text/html; charset=utf-8", "no-cache", 200},
		{"index by name", "/index.html", "<!doctype html><title>app</title>", "text/html; charset=utf-8", "no-cache", 200},
		{"hashed script", "/assets/index-abc.js", "console.log(1)", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", 200},
		{"hashed style", "/assets/index-abc.css", "body{}", "text/css; charset=utf-8", "public, max-age=31536000, immutable", 200},
		{"unhashed file", "/favicon.svg", "<svg/>", "image/svg+xml", "no-cache", 200},
		{"invite route", "/invite/AbCdEf1234", "<!doctype html><title>app</title>", "text/html; charset=utf-8", "no-cache", 200},
		{"channel route", "/channels/g1/c1", "<!doctype html><title>app</title>", "text/html; charset=utf-8", "no-cache", 200},
		{"assets folder", "/assets", "<!doctype html><title>app</title>", "text/html; charset=utf-8", "no-cache", 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := get(t, h, http.MethodGet, tc.path)
			if rec.Code != tc.status {
				t.Fatalf("status = %d, want %d", rec.Code, tc.status)
			}
			if got := rec.Body.String(); got != tc.body {
				t.Errorf("body = %q, want %q", got, tc.body)
			}
			if got := rec.Header().Get("Content-Type"); got != tc.contentType {
				t.Errorf("Content-Type = %q, want %q", got, tc.contentType)
			}
			if got := rec.Header().Get("Cache-Control"); got != tc.cache {
				t.Errorf("Cache-Control = %q, want %q", got, tc.cache)
			}
			if got := rec.Header().Get("Content-Security-Policy"); got != webui.ContentSecurityPolicy {
				t.Errorf("Content-Security-Policy = %q", got)
			}
		})
	}
}

func TestHandlerMissingAssetIsNotFound(t *testing.T) {
	rec := get(t, webui.Handler(testBundle()), http.MethodGet, "/assets/index-old.js")
	if rec.Code != http.StatusNotFound {
		t.Fatalf("status = %d, want 404", rec.Code)
	}
	if strings.Contains(rec.Body.String(), "<title>") {
		t.Errorf("a missing asset got the HTML page: %q", rec.Body.String())
	}
}

func TestHandlerHeadAndRevalidation(t *testing.T) {
	h := webui.Handler(testBundle())
	head := get(t, h, http.MethodHead, "/")
	if head.Code != http.StatusOK || head.Body.Len() != 0 {
		t.Fatalf("HEAD / = %d with %d body bytes, want 200 and none", head.Code, head.Body.Len())
	}
	etag := head.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag on index.html")
	}

	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("If-None-Match", etag)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Errorf("conditional GET = %d, want 304", rec.Code)
	}
}

func TestHandlerWithoutBundle(t *testing.T) {
	rec := get(t, webui.Handler(fstest.MapFS{}), http.MethodGet, "/")
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status = %d, want 503", rec.Code)
	}
	if !strings.Contains(rec.Body.String(), "npm run build") {
		t.Errorf("body lacks the build hint: %q", rec.Body.String())
	}
}

// TestServerServesClient checks the handler as the homeserver mounts it:
// the embedded bundle at /, the page policy in place of the API's, and API
// paths still handled by the API.
func TestServerServesClient(t *testing.T) {
	srv := servertest.Start(t)

	for _, p := range []string{"/", "/invite/AbCdEf1234", "/channels/x/y"} {
		resp := srv.Do(t, http.MethodGet, p, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d, want 200", p, resp.StatusCode)
		}
		if got := resp.Header.Get("Content-Security-Policy"); got != webui.ContentSecurityPolicy {
			t.Errorf("GET %s Content-Security-Policy = %q", p, got)
		}
		if !strings.Contains(string(resp.Body), "<html") && !strings.Contains(string(resp.Body), "<!doctype html") {
			t.Errorf("GET %s body is not the app page: %.80q", p, resp.Body)
		}
		if resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("GET %s lost X-Frame-Options", p)
		}
	}

	resp := srv.Do(t, http.MethodGet, "/api/v1/no-such-route", nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown API path = %d, want 404", resp.StatusCode)
	}
	if got := resp.Header.Get("Content-Security-Policy"); got != "default-src 'none'" {
		t.Errorf("unknown API path Content-Security-Policy = %q", got)
	}
	var envelope struct{ Error string }
	if err := json.Unmarshal(resp.Body, &envelope); err != nil || envelope.Error != "not_found" {
		t.Errorf("unknown API path body = %s, want the not_found envelope", resp.Body)
	}

	health := srv.Do(t, http.MethodGet, "/health", nil)
	if health.StatusCode != http.StatusOK || !strings.Contains(string(health.Body), "ok") {
		t.Errorf("GET /health = %d %s", health.StatusCode, health.Body)
	}

	post := srv.Do(t, http.MethodPost, "/invite/x", nil)
	if post.StatusCode == http.StatusOK {
		t.Errorf("POST to an app route = 200, want the API's rejection")
	}
}
