package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openguild/openguild/internal/config"
	"github.com/openguild/openguild/internal/servertest"
)

// refreshCookie returns the openguild_refresh cookie that resp sets, or nil.
func refreshCookie(resp *servertest.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == "openguild_refresh" {
			return c
		}
	}
	return nil
}

func loginWithCookie(t *testing.T, s *servertest.Server, username, deviceID string) (tokens, *http.Cookie) {
	t.Helper()
	resp := s.Do(t, "POST", "/api/v1/auth/login", map[string]any{
		"username": username, "password": testPassword,
		"device": map[string]string{"id": deviceID, "name": "Browser"}, "refresh_cookie": true,
	})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login with refresh_cookie: status %d, body %s", resp.StatusCode, resp.Body)
	}
	var tok tokens
	resp.JSON(t, &tok)
	cookie := refreshCookie(resp)
	if cookie == nil {
		t.Fatalf("login with refresh_cookie set no openguild_refresh cookie; Set-Cookie: %q", resp.Header.Values("Set-Cookie"))
	}
	return tok, cookie
}

func TestRefreshCookieLogin(t *testing.T) {
	s := servertest.Start(t)
	register(t, s, "carol")
	tok, cookie := loginWithCookie(t, s, "carol", "device-1")

	if tok.RefreshToken != "" {
		t.Errorf("refresh_token in the body = %q, want it withheld in cookie mode", tok.RefreshToken)
	}
	if tok.AccessToken == "" {
		t.Error("access_token is empty")
	}
	if cookie.Value == "" {
		t.Error("cookie value is empty")
	}
	if !cookie.HttpOnly {
		t.Error("cookie is not HttpOnly")
	}
	if cookie.SameSite != http.SameSiteStrictMode {
		t.Errorf("cookie SameSite = %v, want Strict", cookie.SameSite)
	}
	if cookie.Path != "/api/v1/auth" {
		t.Errorf("cookie Path = %q, want /api/v1/auth", cookie.Path)
	}
	if cookie.Secure {
		t.Error("cookie is Secure on a plain HTTP request; browsers would drop it")
	}
	if until := time.Until(cookie.Expires); until < 29*24*time.Hour {
		t.Errorf("cookie expires in %v, want the refresh token's 30 days", until)
	}
}

func TestRefreshCookieRotates(t *testing.T) {
	s := servertest.Start(t)
	register(t, s, "carol")
	_, cookie := loginWithCookie(t, s, "carol", "device-1")

	resp := s.Do(t, "POST", "/api/v1/auth/refresh", map[string]string{"device_id": "device-1"},
		"Cookie", cookie.Name+"="+cookie.Value)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh through the cookie: status %d, body %s", resp.StatusCode, resp.Body)
	}
	var tok tokens
	resp.JSON(t, &tok)
	if tok.RefreshToken != "" {
		t.Errorf("refresh through the cookie put the token in the body: %q", tok.RefreshToken)
	}
	next := refreshCookie(resp)
	if next == nil || next.Value == "" || next.Value == cookie.Value {
		t.Fatalf("refresh did not set a new cookie: %v", next)
	}
	me := s.Do(t, "GET", "/api/v1/users/@me", nil, "Authorization", "Bearer "+tok.AccessToken)
	if me.StatusCode != http.StatusOK {
		t.Errorf("new access token: GET /users/@me = %d", me.StatusCode)
	}

	// The next refresh works with the new cookie.
	again := s.Do(t, "POST", "/api/v1/auth/refresh", map[string]string{"device_id": "device-1"},
		"Cookie", next.Name+"="+next.Value)
	if again.StatusCode != http.StatusOK {
		t.Fatalf("second refresh through the cookie: status %d, body %s", again.StatusCode, again.Body)
	}
}

func TestRefreshCookieRejected(t *testing.T) {
	s := servertest.Start(t)
	register(t, s, "carol")
	loginWithCookie(t, s, "carol", "device-1")

	resp := s.Do(t, "POST", "/api/v1/auth/refresh", map[string]string{"device_id": "device-1"},
		"Cookie", "openguild_refresh=not-a-token")
	if resp.StatusCode != http.StatusUnauthorized || resp.ErrorCode() != "invalid_refresh_token" {
		t.Fatalf("bad cookie: status %d, body %s, want 401 invalid_refresh_token", resp.StatusCode, resp.Body)
	}
	cleared := refreshCookie(resp)
	if cleared == nil || cleared.MaxAge >= 0 {
		t.Errorf("a rejected cookie was not cleared: %v", cleared)
	}

	none := s.Do(t, "POST", "/api/v1/auth/refresh", map[string]string{"device_id": "device-1"})
	if none.StatusCode != http.StatusUnauthorized || none.ErrorCode() != "invalid_refresh_token" {
		t.Errorf("no token and no cookie: status %d, body %s", none.StatusCode, none.Body)
	}
	if refreshCookie(none) != nil {
		t.Error("a refresh without a cookie set one")
	}
}

func TestRefreshWithoutCookieModeIsUnchanged(t *testing.T) {
	s := servertest.Start(t)
	register(t, s, "carol")
	resp := loginAttempt(t, s, "carol", testPassword, "device-1")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login: status %d", resp.StatusCode)
	}
	if len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Errorf("plain login set cookies: %q", resp.Header.Values("Set-Cookie"))
	}
	var tok tokens
	resp.JSON(t, &tok)
	if tok.RefreshToken == "" {
		t.Fatal("plain login withheld the refresh token")
	}

	// A body token wins over a cookie, and the response keeps the token in JSON.
	refreshed := s.Do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": tok.RefreshToken, "device_id": "device-1"},
		"Cookie", "openguild_refresh=stale")
	if refreshed.StatusCode != http.StatusOK {
		t.Fatalf("refresh with a body token: status %d, body %s", refreshed.StatusCode, refreshed.Body)
	}
	var next tokens
	refreshed.JSON(t, &next)
	if next.RefreshToken == "" || refreshCookie(refreshed) != nil {
		t.Errorf("a body refresh switched to cookie mode: token %q, Set-Cookie %q", next.RefreshToken, refreshed.Header.Values("Set-Cookie"))
	}
}

func TestLogoutClearsRefreshCookie(t *testing.T) {
	s := servertest.Start(t)
	register(t, s, "carol")
	tok, _ := loginWithCookie(t, s, "carol", "device-1")

	resp := s.Do(t, "POST", "/api/v1/auth/logout", nil, "Authorization", "Bearer "+tok.AccessToken)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: status %d, body %s", resp.StatusCode, resp.Body)
	}
	cleared := refreshCookie(resp)
	if cleared == nil || cleared.MaxAge >= 0 || cleared.Path != "/api/v1/auth" {
		t.Errorf("logout did not clear the cookie: %v", cleared)
	}
	if !strings.Contains(strings.Join(resp.Header.Values("Set-Cookie"), ";"), "HttpOnly") {
		t.Errorf("the clearing cookie lost HttpOnly: %q", resp.Header.Values("Set-Cookie"))
	}
}

// A proxy that ends TLS makes the request look plain. Its
// X-Forwarded-Proto counts only when the proxy is trusted.
func TestRefreshCookieSecureBehindProxy(t *testing.T) {
	body := map[string]any{
		"username": "carol", "password": testPassword,
		"device": map[string]string{"id": "device-1", "name": "Browser"}, "refresh_cookie": true,
	}
	for _, tc := range []struct {
		name       string
		trusted    string
		proto      string
		wantSecure bool
	}{
		{"trusted proxy over https", "127.0.0.0/8", "https", true},
		{"trusted proxy chain", "127.0.0.0/8", "HTTPS, http", true},
		{"trusted proxy over http", "127.0.0.0/8", "http", false},
		{"untrusted peer", "", "https", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := servertest.Start(t, servertest.WithConfig(func(c *config.Config) {
				if tc.trusted != "" {
					c.TrustedProxies = mustPrefixes(t, tc.trusted)
				}
			}))
			register(t, s, "carol")
			resp := s.Do(t, "POST", "/api/v1/auth/login", body, "X-Forwarded-Proto", tc.proto)
			cookie := refreshCookie(resp)
			if cookie == nil {
				t.Fatalf("login: status %d, no refresh cookie", resp.StatusCode)
			}
			if cookie.Secure != tc.wantSecure {
				t.Errorf("cookie Secure = %v, want %v", cookie.Secure, tc.wantSecure)
			}
		})
	}
}
