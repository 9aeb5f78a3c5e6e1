package httpapi_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openguild/openguild/internal/cli"
	"github.com/openguild/openguild/internal/config"
	"github.com/openguild/openguild/internal/servertest"
)

const testPassword = "correct horse battery"

type tokens struct {
	AccessToken      string `json:"access_token"`
	AccessExpiresAt  string `json:"access_expires_at"`
	RefreshToken     string `json:"refresh_token"`
	RefreshExpiresAt string `json:"refresh_expires_at"`
	SessionID        string `json:"session_id"`
	User             struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	} `json:"user"`
}

func register(t *testing.T, s *servertest.Server, username string) string {
	t.Helper()
	resp := s.Do(t, "POST", "/api/v1/auth/register", map[string]string{"username": username, "password": testPassword})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("register %s: status %d, body %s", username, resp.StatusCode, resp.Body)
	}
	var body struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	resp.JSON(t, &body)
	return body.User.ID
}

func login(t *testing.T, s *servertest.Server, username, deviceID string) tokens {
	t.Helper()
	resp := loginAttempt(t, s, username, testPassword, deviceID)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login %s: status %d, body %s", username, resp.StatusCode, resp.Body)
	}
	var tok tokens
	resp.JSON(t, &tok)
	return tok
}

func loginAttempt(t *testing.T, s *servertest.Server, username, password, deviceID string) *servertest.Response {
	t.Helper()
	return s.Do(t, "POST", "/api/v1/auth/login", map[string]any{
		"username": username, "password": password,
		"device": map[string]string{"id": deviceID, "name": "Test device"},
	})
}

func refresh(t *testing.T, s *servertest.Server, refreshToken, deviceID string) *servertest.Response {
	t.Helper()
	return s.Do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": refreshToken, "device_id": deviceID})
}

func bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

func expectStatus(t *testing.T, what string, resp *servertest.Response, status int, code string) {
	t.Helper()
	if resp.StatusCode != status || resp.ErrorCode() != code {
		t.Errorf("%s: status %d code %q, want %d %q; body %s", what, resp.StatusCode, resp.ErrorCode(), status, code, resp.Body)
	}
}

func TestRegisterAndLogin(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		id := register(t, s, "Alice")
		tok := login(t, s, "alice", "laptop")

		if tok.User.ID != id || tok.User.Username != "Alice" {
			t.Errorf("login user %+v, want id %s and the name as typed", tok.User, id)
		}
		if !strings.HasSuffix(tok.AccessExpiresAt, "Z") || len(tok.AccessExpiresAt) != len("2006-01-02T15:04:05.000Z") {
			t.Errorf("access_expires_at %q is not RFC 3339 UTC with milliseconds", tok.AccessExpiresAt)
		}

		me := s.Do(t, "GET", "/api/v1/users/@me", nil, bearer(tok.AccessToken)...)
		if me.StatusCode != http.StatusOK || !strings.Contains(string(me.Body), `"username":"Alice"`) {
			t.Errorf("GET @me: %d %s", me.StatusCode, me.Body)
		}

		dup := s.Do(t, "POST", "/api/v1/auth/register", map[string]string{"username": "alice", "password": testPassword})
		expectStatus(t, "register alice after Alice", dup, http.StatusConflict, "username_taken")
	})
}

func TestRegisterValidation(t *testing.T) {
	s := servertest.Start(t)
	tests := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"short username", map[string]any{"username": "a", "password": testPassword}, "username"},
		{"username with space", map[string]any{"username": "al ice", "password": testPassword}, "username"},
		{"short password", map[string]any{"username": "alice", "password": "short"}, "password"},
		{"display name with override", map[string]any{"username": "alice", "password": testPassword, "display_name": "a\u202eb"}, "display_name"},
		{"display name too long", map[string]any{"username": "alice", "password": testPassword, "display_name": strings.Repeat("x", 65)}, "display_name"},
		{"username of wrong type", map[string]any{"username": 7, "password": testPassword}, "username"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.Do(t, "POST", "/api/v1/auth/register", tt.body)
			expectStatus(t, "register", resp, http.StatusBadRequest, "validation_error")
			if !strings.Contains(string(resp.Body), `"field":"`+tt.field+`"`) {
				t.Errorf("body %s does not name field %s", resp.Body, tt.field)
			}
		})
	}
}

func TestRegistrationModes(t *testing.T) {
	closed := servertest.Start(t, servertest.WithConfig(func(c *config.Config) { c.Registration = config.RegistrationClosed }))
	resp := closed.Do(t, "POST", "/api/v1/auth/register", map[string]string{"username": "bob", "password": testPassword})
	expectStatus(t, "register when closed", resp, http.StatusForbidden, "registration_closed")

	invite := servertest.Start(t, servertest.WithConfig(func(c *config.Config) { c.Registration = config.RegistrationInvite }))
	resp = invite.Do(t, "POST", "/api/v1/auth/register", map[string]string{"username": "bob", "password": testPassword})
	expectStatus(t, "register without token", resp, http.StatusForbidden, "invalid_registration_token")
	resp = invite.Do(t, "POST", "/api/v1/auth/register", map[string]string{"username": "bob", "password": testPassword, "registration_token": "ogreg_bogus"})
	expectStatus(t, "register with bad token", resp, http.StatusForbidden, "invalid_registration_token")

	token := adminCommand(t, invite, "", "admin", "registration-token", "create", "--uses", "1")
	body := map[string]string{"username": "bob", "password": testPassword, "registration_token": strings.TrimSpace(token)}
	if resp := invite.Do(t, "POST", "/api/v1/auth/register", body); resp.StatusCode != http.StatusCreated {
		t.Fatalf("register with token: %d %s", resp.StatusCode, resp.Body)
	}
	body["username"] = "carol"
	resp = invite.Do(t, "POST", "/api/v1/auth/register", body)
	expectStatus(t, "register with used-up token", resp, http.StatusForbidden, "invalid_registration_token")
}

// adminCommand runs `openguild ARGS` against the test server's database,
// with stdin as standard input, and returns standard output.
func adminCommand(t *testing.T, s *servertest.Server, stdin string, args ...string) string {
	t.Helper()
	var stdout, stderr strings.Builder
	args = append(args, "--data-dir", s.Config.DataDir)
	if s.Config.DatabaseURL != "" {
		args = append(args, "--database-url", s.Config.DatabaseURL)
	}
	err := cli.Run(context.Background(), cli.Env{
		Args:      args,
		LookupEnv: func(string) (string, bool) { return "", false },
		Stdin:     strings.NewReader(stdin),
		Stdout:    &stdout,
		Stderr:    &stderr,
	})
	if err != nil {
		t.Fatalf("openguild %v: %v\n%s", args, err, stderr.String())
	}
	return stdout.String()
}

func TestAdminCreateUser(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		out := adminCommand(t, s, testPassword+"\n", "admin", "create-user", "--username", "root", "--password-stdin", "--admin")
		if !strings.Contains(out, "created user root") {
			t.Errorf("create-user printed %q", out)
		}
		tok := login(t, s, "root", "console")
		me := s.Do(t, "GET", "/api/v1/users/@me", nil, bearer(tok.AccessToken)...)
		if !strings.Contains(string(me.Body), `"is_admin":true`) {
			t.Errorf("GET @me %s, want is_admin true", me.Body)
		}
	})
}

func TestLoginFailuresLookAlike(t *testing.T) {
	s := servertest.Start(t)
	register(t, s, "alice")

	unknown := loginAttempt(t, s, "nobody", testPassword, "d1")
	wrong := loginAttempt(t, s, "alice", "wrong password", "d1")
	for name, resp := range map[string]*servertest.Response{"unknown user": unknown, "wrong password": wrong} {
		expectStatus(t, name, resp, http.StatusUnauthorized, "invalid_credentials")
	}
	if string(unknown.Body) != string(wrong.Body) {
		t.Errorf("bodies differ:\nunknown user:   %s\nwrong password: %s", unknown.Body, wrong.Body)
	}
}

func TestLoginThrottle(t *testing.T) {
	s := servertest.Start(t)
	register(t, s, "alice")

	for i := 1; i <= 5; i++ {
		resp := loginAttempt(t, s, "alice", "wrong password", "d1")
		expectStatus(t, "failure before the threshold", resp, http.StatusUnauthorized, "invalid_credentials")
	}
	// The sixth failure crosses the threshold and sets a wait.
	loginAttempt(t, s, "alice", "wrong password", "d1")

	resp := loginAttempt(t, s, "ALICE", testPassword, "d1")
	expectStatus(t, "login while throttled", resp, http.StatusTooManyRequests, "rate_limited")
	if resp.Header.Get("Retry-After") == "" || !strings.Contains(string(resp.Body), `"scope":"user"`) {
		t.Errorf("throttled response lacks Retry-After or scope: %v %s", resp.Header, resp.Body)
	}

	// An account name that does not exist is throttled the same way.
	for i := 0; i < 6; i++ {
		loginAttempt(t, s, "ghost", "wrong password", "d1")
	}
	resp = loginAttempt(t, s, "ghost", "wrong password", "d1")
	expectStatus(t, "unknown account while throttled", resp, http.StatusTooManyRequests, "rate_limited")
}

func TestBearerCheck(t *testing.T) {
	s := servertest.Start(t)
	register(t, s, "alice")
	tok := login(t, s, "alice", "d1")

	header, payload, _ := strings.Cut(tok.AccessToken, ".")
	payload, signature, _ := strings.Cut(payload, ".")
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	flipped := []byte(signature)
	flipped[5] ^= 1

	tests := []struct {
		name   string
		header []string
		code   string
	}{
		{"no header", nil, "unauthorized"},
		{"basic scheme", []string{"Authorization", "Basic abc"}, "unauthorized"},
		{"garbage token", bearer("not-a-jwt"), "invalid_token"},
		{"alg none", bearer(noneHeader + "." + payload + "."), "invalid_token"},
		{"tampered signature", bearer(header + "." + payload + "." + string(flipped)), "invalid_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.Do(t, "GET", "/api/v1/users/@me", nil, tt.header...)
			expectStatus(t, "GET @me", resp, http.StatusUnauthorized, tt.code)
			if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q, want Bearer", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
}

func TestRefreshRotationAndReuse(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		register(t, s, "alice")
		first := login(t, s, "alice", "laptop")

		resp := refresh(t, s, first.RefreshToken, "phone")
		expectStatus(t, "refresh from another device", resp, http.StatusUnauthorized, "invalid_refresh_token")

		resp = refresh(t, s, first.RefreshToken, "laptop")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("refresh: %d %s", resp.StatusCode, resp.Body)
		}
		var second tokens
		resp.JSON(t, &second)
		if second.RefreshToken == first.RefreshToken || second.SessionID != first.SessionID {
			t.Fatalf("refresh returned %+v, want a new token for the same session", second)
		}

		third := refresh(t, s, second.RefreshToken, "laptop")
		if third.StatusCode != http.StatusOK {
			t.Fatalf("refresh of the successor: %d %s", third.StatusCode, third.Body)
		}
		var current tokens
		third.JSON(t, &current)

		s.Clock.Advance(11 * time.Second) // past the 10 s grace window
		resp = refresh(t, s, first.RefreshToken, "laptop")
		expectStatus(t, "reuse of a rotated token", resp, http.StatusUnauthorized, "invalid_refresh_token")

		resp = refresh(t, s, current.RefreshToken, "laptop")
		expectStatus(t, "current token after reuse", resp, http.StatusUnauthorized, "invalid_refresh_token")
		resp = s.Do(t, "GET", "/api/v1/users/@me", nil, bearer(current.AccessToken)...)
		expectStatus(t, "access token after reuse", resp, http.StatusUnauthorized, "invalid_token")

		metrics := s.DoMetrics(t, "GET", "/metrics")
		if !strings.Contains(string(metrics.Body), "openguild_auth_refresh_token_reuse_total 1") {
			t.Error("reuse metric not incremented")
		}
	})
}

func TestConcurrentRefreshGetsSamePair(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		register(t, s, "alice")
		first := login(t, s, "alice", "laptop")

		const tabs = 4
		results := make([]*servertest.Response, tabs)
		var wg sync.WaitGroup
		for i := range tabs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = refresh(t, s, first.RefreshToken, "laptop")
			}()
		}
		wg.Wait()

		for i, resp := range results {
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("tab %d: %d %s", i, resp.StatusCode, resp.Body)
			}
			if string(resp.Body) != string(results[0].Body) {
				t.Errorf("tab %d got a different pair:\n%s\n%s", i, resp.Body, results[0].Body)
			}
		}
		var pair tokens
		results[0].JSON(t, &pair)
		if resp := s.Do(t, "GET", "/api/v1/users/@me", nil, bearer(pair.AccessToken)...); resp.StatusCode != http.StatusOK {
			t.Errorf("shared access token rejected: %d %s", resp.StatusCode, resp.Body)
		}
	})
}

func TestLogoutAndRevocationApplyAtOnce(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		register(t, s, "alice")
		laptop := login(t, s, "alice", "laptop")
		phone := login(t, s, "alice", "phone")

		list := s.Do(t, "GET", "/api/v1/sessions", nil, bearer(laptop.AccessToken)...)
		var sessions []struct {
			ID      string `json:"id"`
			Current bool   `json:"current"`
			LastIP  string `json:"last_ip"`
		}
		list.JSON(t, &sessions)
		if len(sessions) != 2 {
			t.Fatalf("sessions %s, want two", list.Body)
		}
		for _, sess := range sessions {
			if sess.Current != (sess.ID == laptop.SessionID) || sess.LastIP != "127.0.0.1" {
				t.Errorf("session %+v: wrong current flag or address", sess)
			}
		}

		resp := s.Do(t, "DELETE", "/api/v1/sessions/"+phone.SessionID, nil, bearer(laptop.AccessToken)...)
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("revoke phone session: %d %s", resp.StatusCode, resp.Body)
		}
		resp = s.Do(t, "GET", "/api/v1/users/@me", nil, bearer(phone.AccessToken)...)
		expectStatus(t, "revoked session's access token", resp, http.StatusUnauthorized, "invalid_token")
		resp = refresh(t, s, phone.RefreshToken, "phone")
		expectStatus(t, "revoked session's refresh token", resp, http.StatusUnauthorized, "invalid_refresh_token")

		resp = s.Do(t, "POST", "/api/v1/auth/logout", nil, bearer(laptop.AccessToken)...)
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("logout: %d %s", resp.StatusCode, resp.Body)
		}
		resp = s.Do(t, "GET", "/api/v1/users/@me", nil, bearer(laptop.AccessToken)...)
		expectStatus(t, "access token after logout", resp, http.StatusUnauthorized, "invalid_token")
	})
}

func TestSameDeviceLoginReplacesSession(t *testing.T) {
	s := servertest.Start(t)
	register(t, s, "alice")
	old := login(t, s, "alice", "laptop")
	login(t, s, "alice", "laptop")

	resp := s.Do(t, "GET", "/api/v1/users/@me", nil, bearer(old.AccessToken)...)
	expectStatus(t, "replaced session's token", resp, http.StatusUnauthorized, "invalid_token")
}

func TestSessionsOfOthersAreInvisible(t *testing.T) {
	s := servertest.Start(t)
	register(t, s, "alice")
	register(t, s, "bob")
	alice := login(t, s, "alice", "d")
	bob := login(t, s, "bob", "d")

	resp := s.Do(t, "DELETE", "/api/v1/sessions/"+bob.SessionID, nil, bearer(alice.AccessToken)...)
	expectStatus(t, "revoke another user's session", resp, http.StatusNotFound, "not_found")
	if resp := s.Do(t, "GET", "/api/v1/users/@me", nil, bearer(bob.AccessToken)...); resp.StatusCode != http.StatusOK {
		t.Errorf("bob's session was ended by alice: %d", resp.StatusCode)
	}
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		register(t, s, "alice")
		laptop := login(t, s, "alice", "laptop")
		phone := login(t, s, "alice", "phone")

		resp := s.Do(t, "POST", "/api/v1/users/@me/password",
			map[string]string{"current_password": "wrong password", "new_password": "a new password"}, bearer(laptop.AccessToken)...)
		expectStatus(t, "change with wrong current password", resp, http.StatusForbidden, "invalid_credentials")

		resp = s.Do(t, "POST", "/api/v1/users/@me/password",
			map[string]string{"current_password": testPassword, "new_password": "a new password"}, bearer(laptop.AccessToken)...)
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("change password: %d %s", resp.StatusCode, resp.Body)
		}

		resp = s.Do(t, "GET", "/api/v1/users/@me", nil, bearer(phone.AccessToken)...)
		expectStatus(t, "other session after change", resp, http.StatusUnauthorized, "invalid_token")
		if resp := s.Do(t, "GET", "/api/v1/users/@me", nil, bearer(laptop.AccessToken)...); resp.StatusCode != http.StatusOK {
			t.Errorf("current session after change: %d", resp.StatusCode)
		}
		expectStatus(t, "old password", loginAttempt(t, s, "alice", testPassword, "x"), http.StatusUnauthorized, "invalid_credentials")
		if resp := loginAttempt(t, s, "alice", "a new password", "x"); resp.StatusCode != http.StatusOK {
			t.Errorf("new password: %d", resp.StatusCode)
		}
	})
}

func TestDeleteAccount(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		id := register(t, s, "alice")
		register(t, s, "bob")
		alice := login(t, s, "alice", "d")
		bob := login(t, s, "bob", "d")

		resp := s.Do(t, "DELETE", "/api/v1/users/@me", map[string]string{"password": "wrong password"}, bearer(alice.AccessToken)...)
		expectStatus(t, "delete with wrong password", resp, http.StatusForbidden, "invalid_credentials")

		resp = s.Do(t, "DELETE", "/api/v1/users/@me", map[string]string{"password": testPassword}, bearer(alice.AccessToken)...)
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("delete: %d %s", resp.StatusCode, resp.Body)
		}
		resp = s.Do(t, "GET", "/api/v1/users/@me", nil, bearer(alice.AccessToken)...)
		expectStatus(t, "deleted user's token", resp, http.StatusUnauthorized, "invalid_token")

		profile := s.Do(t, "GET", "/api/v1/users/"+id, nil, bearer(bob.AccessToken)...)
		var user map[string]any
		profile.JSON(t, &user)
		if user["deleted"] != true || user["username"] != "deleted-user" || user["display_name"] != "Deleted user" || user["id"] != id {
			t.Errorf("deleted profile %s", profile.Body)
		}

		// The name stays reserved during the quarantine.
		resp = s.Do(t, "POST", "/api/v1/auth/register", map[string]string{"username": "alice", "password": testPassword})
		expectStatus(t, "reuse of a quarantined name", resp, http.StatusConflict, "username_taken")
	})
}

func TestProfileUpdate(t *testing.T) {
	s := servertest.Start(t)
	register(t, s, "alice")
	tok := login(t, s, "alice", "d")

	resp := s.Do(t, "PATCH", "/api/v1/users/@me", map[string]string{"display_name": "  Alice A.  ", "dm_policy": "shared_guilds"}, bearer(tok.AccessToken)...)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(resp.Body), `"display_name":"Alice A."`) ||
		!strings.Contains(string(resp.Body), `"dm_policy":"shared_guilds"`) {
		t.Errorf("PATCH @me: %d %s", resp.StatusCode, resp.Body)
	}
	resp = s.Do(t, "PATCH", "/api/v1/users/@me", map[string]string{"dm_policy": "nobody"}, bearer(tok.AccessToken)...)
	expectStatus(t, "bad dm_policy", resp, http.StatusBadRequest, "validation_error")
	resp = s.Do(t, "GET", "/api/v1/users/0190f0c0-0000-7000-8000-000000000000", nil, bearer(tok.AccessToken)...)
	expectStatus(t, "unknown user", resp, http.StatusNotFound, "not_found")
}

func TestJWKSAndKeyRotation(t *testing.T) {
	s := servertest.Start(t)
	register(t, s, "alice")
	before := login(t, s, "alice", "d1")

	adminCommand(t, s, "", "admin", "keys", "rotate")
	servertest.Eventually(t, 10*time.Second, func() bool {
		resp := s.Do(t, "GET", "/.well-known/jwks.json", nil)
		return strings.Count(string(resp.Body), `"kid"`) == 2
	})

	jwks := s.Do(t, "GET", "/.well-known/jwks.json", nil)
	for _, want := range []string{`"kty":"OKP"`, `"crv":"Ed25519"`, `"alg":"EdDSA"`, `"use":"sig"`} {
		if !strings.Contains(string(jwks.Body), want) {
			t.Errorf("JWKS %s lacks %s", jwks.Body, want)
		}
	}
	if resp := s.Do(t, "GET", "/api/v1/users/@me", nil, bearer(before.AccessToken)...); resp.StatusCode != http.StatusOK {
		t.Errorf("token signed before the rotation: %d", resp.StatusCode)
	}

	after := login(t, s, "alice", "d2")
	if kid(t, after.AccessToken) == kid(t, before.AccessToken) {
		t.Error("token issued after the rotation uses the old key")
	}
}

func kid(t *testing.T, token string) string {
	t.Helper()
	header, _, _ := strings.Cut(token, ".")
	data, err := base64.RawURLEncoding.DecodeString(header)
	if err != nil {
		t.Fatalf("decode token header: %v", err)
	}
	_, rest, _ := strings.Cut(string(data), `"kid":"`)
	id, _, _ := strings.Cut(rest, `"`)
	return id
}

func TestRegisterLimitedPerIP(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *config.Config) {
		c.Limits.RegisterPerIP = config.Rate{Requests: 2, Window: time.Minute}
	}))
	for i := range 2 {
		resp := s.Do(t, "POST", "/api/v1/auth/register", map[string]string{"username": "u" + string(rune('a'+i)) + "x", "password": "x"})
		if resp.StatusCode == http.StatusTooManyRequests {
			t.Fatalf("request %d limited too early", i+1)
		}
	}
	resp := s.Do(t, "POST", "/api/v1/auth/register", map[string]string{"username": "third", "password": testPassword})
	expectStatus(t, "third registration in a minute", resp, http.StatusTooManyRequests, "rate_limited")
	if !strings.Contains(string(resp.Body), `"scope":"ip"`) || !strings.Contains(string(resp.Body), `"retry_after_ms"`) {
		t.Errorf("429 body %s lacks scope ip or retry_after_ms", resp.Body)
	}
	metrics := s.DoMetrics(t, "GET", "/metrics")
	if !strings.Contains(string(metrics.Body), `openguild_messaging_rejections_total{reason="ip_rate_limit"} 1`) {
		t.Error("ip_rate_limit rejection not counted")
	}
}

func TestPasswordConfirmationThrottled(t *testing.T) {
	s := servertest.Start(t)
	register(t, s, "alice")
	tok := login(t, s, "alice", "d")
	body := map[string]string{"current_password": "wrong password", "new_password": "another password"}

	for range 6 {
		resp := s.Do(t, "POST", "/api/v1/users/@me/password", body, bearer(tok.AccessToken)...)
		expectStatus(t, "wrong current password", resp, http.StatusForbidden, "invalid_credentials")
	}
	resp := s.Do(t, "POST", "/api/v1/users/@me/password", body, bearer(tok.AccessToken)...)
	expectStatus(t, "guess while throttled", resp, http.StatusTooManyRequests, "rate_limited")

	resp = s.Do(t, "POST", "/api/v1/users/@me/password", map[string]string{"new_password": "another password"}, bearer(tok.AccessToken)...)
	if !strings.Contains(string(resp.Body), `"field":"current_password"`) {
		t.Errorf("empty current password: %s, want the field named", resp.Body)
	}
}
