package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/openguild/openguild/internal/keys"
	"github.com/openguild/openguild/internal/keys/keystest"
)

const tokenTestIssuer = "chat.example.test"

// tokenTestClock is a clock that moves only when a test advances it.
type tokenTestClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *tokenTestClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.now
}

func (c *tokenTestClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()

	c.now = c.now.Add(d)
}

// tokenFixture is a keyring on an in-memory store with active keys for
// both purposes, and an AccessTokens on it, sharing one fake clock.
type tokenFixture struct {
	clock   *tokenTestClock
	keyring *keys.Keyring
	tokens  *AccessTokens
}

// newTokenFixture builds a tokenFixture. retention is the verification
// period of retired access-token keys, and cacheSize the verify cache
// size as in AccessTokenOptions.
func newTokenFixture(t testing.TB, retention time.Duration, cacheSize int) *tokenFixture {
	t.Helper()

	clock := &tokenTestClock{now: time.Date(2030, time.May, 6, 7, 8, 9, 0, time.UTC)}
	keyring := keys.New(&keystest.MemoryStore{}, keys.Options{
		Clock: clock,
		Retention: map[keys.Purpose]time.Duration{
			keys.PurposeAccessToken:  retention,
			keys.PurposeEventSigning: retention,
		},
	})
	err := keyring.EnsureActive(context.Background(), keys.PurposeAccessToken, keys.PurposeEventSigning)
	if err != nil {
		t.Fatalf("EnsureActive: %v", err)
	}

	tokens, err := NewAccessTokens(keyring, AccessTokenOptions{
		Issuer:          tokenTestIssuer,
		Clock:           clock,
		VerifyCacheSize: cacheSize,
	})
	if err != nil {
		t.Fatalf("NewAccessTokens: %v", err)
	}

	return &tokenFixture{clock: clock, keyring: keyring, tokens: tokens}
}

// newDefaultTokenFixture builds a tokenFixture with the retention that
// AccessKeyRetention gives and the default cache.
func newDefaultTokenFixture(t testing.TB) *tokenFixture {
	t.Helper()

	return newTokenFixture(t, AccessKeyRetention(DefaultAccessTokenLifetime), 0)
}

func (f *tokenFixture) activeKey(t testing.TB, purpose keys.Purpose) keys.Key {
	t.Helper()

	key, err := f.keyring.Active(purpose)
	if err != nil {
		t.Fatalf("Active(%s): %v", purpose, err)
	}

	return key
}

func (f *tokenFixture) issue(t testing.TB) string {
	t.Helper()

	token, _, err := f.tokens.Issue("user-1", "session-1")
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}

	return token
}

// validClaims returns the claims that Issue would write now.
func (f *tokenFixture) validClaims() jwt.MapClaims {
	now := f.clock.Now()

	return jwt.MapClaims{
		"iss": tokenTestIssuer,
		"sub": "user-1",
		"sid": "session-1",
		"iat": now.Unix(),
		"exp": now.Add(DefaultAccessTokenLifetime).Unix(),
		"jti": "AAAAAAAAAAAAAAAAAAAAAA",
	}
}

// signTestToken signs claims with method and key. header entries are set
// on top of the alg and typ that jwt writes, and a nil value removes an
// entry.
func signTestToken(t testing.TB, method jwt.SigningMethod, key any, header map[string]any, claims jwt.MapClaims) string {
	t.Helper()

	unsigned := jwt.NewWithClaims(method, claims)
	for name, value := range header {
		if value == nil {
			delete(unsigned.Header, name)
			continue
		}
		unsigned.Header[name] = value
	}

	token, err := unsigned.SignedString(key)
	if err != nil {
		t.Fatalf("sign test token with %s: %v", method.Alg(), err)
	}

	return token
}

// signWithActive signs claims with the active access-token key and its kid.
func (f *tokenFixture) signWithActive(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()

	key := f.activeKey(t, keys.PurposeAccessToken)

	return signTestToken(t, jwt.SigningMethodEdDSA, key.Private, map[string]any{"kid": key.ID}, claims)
}

// withClaims returns the valid claims changed by edit.
func (f *tokenFixture) withClaims(edit func(claims jwt.MapClaims, now time.Time)) jwt.MapClaims {
	claims := f.validClaims()
	edit(claims, f.clock.Now())

	return claims
}

func assertInvalidToken(t *testing.T, claims AccessClaims, err error) {
	t.Helper()

	if !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("Verify: err = %v, want ErrInvalidToken", err)
	}
	if claims != (AccessClaims{}) {
		t.Errorf("Verify returned claims %+v with an error, want zero claims", claims)
	}
}

func TestIssueWritesExactClaims(t *testing.T) {
	f := newDefaultTokenFixture(t)
	key := f.activeKey(t, keys.PurposeAccessToken)
	now := f.clock.Now()

	token, expiresAt, err := f.tokens.Issue("user-1", "session-1")
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}

	segments := strings.Split(token, ".")
	if len(segments) != 3 {
		t.Fatalf("token has %d segments, want 3", len(segments))
	}
	header := decodeTestSegment(t, segments[0])
	payload := decodeTestSegment(t, segments[1])

	wantHeader := map[string]any{"alg": "EdDSA", "typ": "JWT", "kid": key.ID}
	if !maps.Equal(header, wantHeader) {
		t.Errorf("header = %v, want %v", header, wantHeader)
	}

	gotNames := slices.Sorted(maps.Keys(payload))
	wantNames := []string{"exp", "iat", "iss", "jti", "sid", "sub"}
	if !slices.Equal(gotNames, wantNames) {
		t.Errorf("claim names = %v, want exactly %v", gotNames, wantNames)
	}
	if payload["iss"] != tokenTestIssuer || payload["sub"] != "user-1" || payload["sid"] != "session-1" {
		t.Errorf("iss, sub, sid = %v, %v, %v, want %s, user-1, session-1", payload["iss"], payload["sub"], payload["sid"], tokenTestIssuer)
	}
	if payload["iat"] != float64(now.Unix()) {
		t.Errorf("iat = %v, want %d", payload["iat"], now.Unix())
	}
	if want := now.Add(DefaultAccessTokenLifetime); payload["exp"] != float64(want.Unix()) || !expiresAt.Equal(want) {
		t.Errorf("exp = %v and expiresAt = %v, want %v", payload["exp"], expiresAt, want)
	}

	jti, _ := payload["jti"].(string)
	if raw, err := base64.RawURLEncoding.DecodeString(jti); err != nil || len(raw) != 16 {
		t.Errorf("jti %q is not 16 bytes of unpadded base64url", jti)
	}
}

func decodeTestSegment(t *testing.T, segment string) map[string]any {
	t.Helper()

	raw, err := base64.RawURLEncoding.DecodeString(segment)
	if err != nil {
		t.Fatalf("decode segment: %v", err)
	}

	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatalf("parse segment JSON: %v", err)
	}

	return fields
}

func TestIssueVerifyRoundTrip(t *testing.T) {
	f := newDefaultTokenFixture(t)

	token, expiresAt, err := f.tokens.Issue("user-1", "session-1")
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}

	for _, pass := range []string{"uncached", "cached"} {
		claims, err := f.tokens.Verify(token)
		if err != nil {
			t.Fatalf("%s Verify: %v", pass, err)
		}
		if claims.UserID != "user-1" || claims.SessionID != "session-1" || claims.TokenID == "" {
			t.Errorf("%s Verify returned %+v", pass, claims)
		}
		if !claims.ExpiresAt.Equal(expiresAt) || !claims.IssuedAt.Equal(f.clock.Now()) {
			t.Errorf("%s Verify returned iat %v, exp %v, want %v, %v", pass, claims.IssuedAt, claims.ExpiresAt, f.clock.Now(), expiresAt)
		}
	}
}

func TestIssueGivesDistinctTokenIDs(t *testing.T) {
	f := newDefaultTokenFixture(t)

	seen := map[string]bool{}
	for range 100 {
		claims, err := f.tokens.Verify(f.issue(t))
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if seen[claims.TokenID] {
			t.Fatalf("jti %q issued twice", claims.TokenID)
		}
		seen[claims.TokenID] = true
	}
}

func TestIssueRejected(t *testing.T) {
	tests := []struct {
		name      string
		userID    string
		sessionID string
		noKeys    bool
		wantErr   error // nil: any error
	}{
		{name: "empty user id", sessionID: "session-1"},
		{name: "empty session id", userID: "user-1"},
		{name: "keyring without active key", userID: "user-1", sessionID: "session-1", noKeys: true, wantErr: keys.ErrNoActiveKey},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var signingKeys SigningKeys = newDefaultTokenFixture(t).keyring
			if tc.noKeys {
				signingKeys = keys.New(&keystest.MemoryStore{}, keys.Options{})
			}
			tokens, err := NewAccessTokens(signingKeys, AccessTokenOptions{Issuer: tokenTestIssuer})
			if err != nil {
				t.Fatalf("NewAccessTokens: %v", err)
			}

			token, _, err := tokens.Issue(tc.userID, tc.sessionID)
			if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
				t.Fatalf("Issue: err = %v, want %v", err, tc.wantErr)
			}
			if token != "" {
				t.Errorf("Issue returned token %q with an error", token)
			}
		})
	}
}

func TestNewAccessTokensRejectsOptions(t *testing.T) {
	keyring := newDefaultTokenFixture(t).keyring
	tests := []struct {
		name        string
		signingKeys SigningKeys
		opts        AccessTokenOptions
	}{
		{"missing signing keys", nil, AccessTokenOptions{Issuer: tokenTestIssuer}},
		{"empty issuer", keyring, AccessTokenOptions{}},
		{"lifetime under one second", keyring, AccessTokenOptions{Issuer: tokenTestIssuer, Lifetime: 500 * time.Millisecond}},
		{"negative lifetime", keyring, AccessTokenOptions{Issuer: tokenTestIssuer, Lifetime: -time.Minute}},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewAccessTokens(tc.signingKeys, tc.opts); err == nil {
				t.Fatal("NewAccessTokens succeeded, want an error")
			}
		})
	}
}

// TestVerifyAcceptsHandMadeToken shows that signTestToken builds tokens
// that Verify accepts, so each rejection below is caused by the one
// change its case makes.
func TestVerifyAcceptsHandMadeToken(t *testing.T) {
	f := newDefaultTokenFixture(t)

	claims, err := f.tokens.Verify(f.signWithActive(t, f.validClaims()))
	if err != nil {
		t.Fatalf("Verify of a hand-made valid token: %v", err)
	}
	if claims.UserID != "user-1" {
		t.Errorf("UserID = %q, want user-1", claims.UserID)
	}
}

func TestVerifyRejectsForgedToken(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generate RSA key: %v", err)
	}
	ecdsaKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate ECDSA key: %v", err)
	}
	_, foreignKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("generate Ed25519 key: %v", err)
	}

	tests := []struct {
		name  string
		forge func(t *testing.T, f *tokenFixture) string
	}{
		{"empty string", func(*testing.T, *tokenFixture) string { return "" }},
		{"alg none", func(t *testing.T, f *tokenFixture) string {
			kid := f.activeKey(t, keys.PurposeAccessToken).ID
			return signTestToken(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, map[string]any{"kid": kid}, f.validClaims())
		}},
		{"HS256 keyed with the public key", func(t *testing.T, f *tokenFixture) string {
			key := f.activeKey(t, keys.PurposeAccessToken)
			return signTestToken(t, jwt.SigningMethodHS256, []byte(key.Public), map[string]any{"kid": key.ID}, f.validClaims())
		}},
		{"RS256 token", func(t *testing.T, f *tokenFixture) string {
			kid := f.activeKey(t, keys.PurposeAccessToken).ID
			return signTestToken(t, jwt.SigningMethodRS256, rsaKey, map[string]any{"kid": kid}, f.validClaims())
		}},
		{"ES256 token", func(t *testing.T, f *tokenFixture) string {
			kid := f.activeKey(t, keys.PurposeAccessToken).ID
			return signTestToken(t, jwt.SigningMethodES256, ecdsaKey, map[string]any{"kid": kid}, f.validClaims())
		}},
		{"EdDSA by a foreign key under the active kid", func(t *testing.T, f *tokenFixture) string {
			kid := f.activeKey(t, keys.PurposeAccessToken).ID
			return signTestToken(t, jwt.SigningMethodEdDSA, foreignKey, map[string]any{"kid": kid}, f.validClaims())
		}},
		{"unknown kid", func(t *testing.T, f *tokenFixture) string {
			key := f.activeKey(t, keys.PurposeAccessToken)
			return signTestToken(t, jwt.SigningMethodEdDSA, key.Private, map[string]any{"kid": "ed25519:AAAAAAAAAAA"}, f.validClaims())
		}},
		{"missing kid", func(t *testing.T, f *tokenFixture) string {
			key := f.activeKey(t, keys.PurposeAccessToken)
			return signTestToken(t, jwt.SigningMethodEdDSA, key.Private, nil, f.validClaims())
		}},
		{"kid that is a number", func(t *testing.T, f *tokenFixture) string {
			key := f.activeKey(t, keys.PurposeAccessToken)
			return signTestToken(t, jwt.SigningMethodEdDSA, key.Private, map[string]any{"kid": 7}, f.validClaims())
		}},
		{"kid of an event signing key", func(t *testing.T, f *tokenFixture) string {
			key := f.activeKey(t, keys.PurposeEventSigning)
			return signTestToken(t, jwt.SigningMethodEdDSA, key.Private, map[string]any{"kid": key.ID}, f.validClaims())
		}},
		{"kid retired past verify_until", func(t *testing.T, f *tokenFixture) string {
			old := f.activeKey(t, keys.PurposeAccessToken)
			if _, err := f.keyring.Rotate(context.Background(), keys.PurposeAccessToken); err != nil {
				t.Fatalf("Rotate: %v", err)
			}
			f.clock.Advance(AccessKeyRetention(DefaultAccessTokenLifetime))
			return signTestToken(t, jwt.SigningMethodEdDSA, old.Private, map[string]any{"kid": old.ID}, f.validClaims())
		}},
		{"wrong issuer", func(t *testing.T, f *tokenFixture) string {
			return f.signWithActive(t, f.withClaims(func(c jwt.MapClaims, _ time.Time) { c["iss"] = "other.example.test" }))
		}},
		{"missing issuer", func(t *testing.T, f *tokenFixture) string {
			return f.signWithActive(t, f.withClaims(func(c jwt.MapClaims, _ time.Time) { delete(c, "iss") }))
		}},
		{"expired beyond leeway", func(t *testing.T, f *tokenFixture) string {
			return f.signWithActive(t, f.withClaims(func(c jwt.MapClaims, now time.Time) {
				c["iat"] = now.Add(-20 * time.Minute).Unix()
				c["exp"] = now.Add(-AccessTokenLeeway - time.Second).Unix()
			}))
		}},
		{"iat in the future beyond leeway", func(t *testing.T, f *tokenFixture) string {
			return f.signWithActive(t, f.withClaims(func(c jwt.MapClaims, now time.Time) {
				c["iat"] = now.Add(5 * time.Minute).Unix()
				c["exp"] = now.Add(20 * time.Minute).Unix()
			}))
		}},
		{"nbf in the future beyond leeway", func(t *testing.T, f *tokenFixture) string {
			return f.signWithActive(t, f.withClaims(func(c jwt.MapClaims, now time.Time) { c["nbf"] = now.Add(5 * time.Minute).Unix() }))
		}},
		{"exp too far after iat", func(t *testing.T, f *tokenFixture) string {
			return f.signWithActive(t, f.withClaims(func(c jwt.MapClaims, now time.Time) { c["exp"] = now.Add(2 * time.Hour).Unix() }))
		}},
		{"exp before iat", func(t *testing.T, f *tokenFixture) string {
			return f.signWithActive(t, f.withClaims(func(c jwt.MapClaims, now time.Time) {
				c["iat"] = now.Add(20 * time.Second).Unix()
				c["exp"] = now.Add(10 * time.Second).Unix()
			}))
		}},
		{"missing exp", func(t *testing.T, f *tokenFixture) string {
			return f.signWithActive(t, f.withClaims(func(c jwt.MapClaims, _ time.Time) { delete(c, "exp") }))
		}},
		{"missing iat", func(t *testing.T, f *tokenFixture) string {
			return f.signWithActive(t, f.withClaims(func(c jwt.MapClaims, _ time.Time) { delete(c, "iat") }))
		}},
		{"missing sub", func(t *testing.T, f *tokenFixture) string {
			return f.signWithActive(t, f.withClaims(func(c jwt.MapClaims, _ time.Time) { delete(c, "sub") }))
		}},
		{"missing sid", func(t *testing.T, f *tokenFixture) string {
			return f.signWithActive(t, f.withClaims(func(c jwt.MapClaims, _ time.Time) { delete(c, "sid") }))
		}},
		{"missing jti", func(t *testing.T, f *tokenFixture) string {
			return f.signWithActive(t, f.withClaims(func(c jwt.MapClaims, _ time.Time) { delete(c, "jti") }))
		}},
		{"empty sid", func(t *testing.T, f *tokenFixture) string {
			return f.signWithActive(t, f.withClaims(func(c jwt.MapClaims, _ time.Time) { c["sid"] = "" }))
		}},
		{"sub that is a number", func(t *testing.T, f *tokenFixture) string {
			return f.signWithActive(t, f.withClaims(func(c jwt.MapClaims, _ time.Time) { c["sub"] = 42 }))
		}},
		{"leading space", func(t *testing.T, f *tokenFixture) string { return " " + f.issue(t) }},
		{"trailing newline", func(t *testing.T, f *tokenFixture) string { return f.issue(t) + "\n" }},
		{"newline inside the signature", func(t *testing.T, f *tokenFixture) string {
			token := f.issue(t)
			return token[:len(token)-10] + "\n" + token[len(token)-10:]
		}},
		{"fourth segment", func(t *testing.T, f *tokenFixture) string { return f.issue(t) + ".AAAA" }},
		{"trailing dot", func(t *testing.T, f *tokenFixture) string { return f.issue(t) + "." }},
		{"padded signature", func(t *testing.T, f *tokenFixture) string { return f.issue(t) + "==" }},
		{"signature removed", func(t *testing.T, f *tokenFixture) string {
			token := f.issue(t)
			return token[:strings.LastIndex(token, ".")+1]
		}},
		{"oversized token", func(*testing.T, *tokenFixture) string {
			return strings.Repeat("A", 3000) + "." + strings.Repeat("A", 3000) + ".AAAA"
		}},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newDefaultTokenFixture(t)
			token := tc.forge(t, f)

			claims, err := f.tokens.Verify(token)
			assertInvalidToken(t, claims, err)
		})
	}
}

// TestVerifyClockLeeway checks both sides of each leeway boundary.
func TestVerifyClockLeeway(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(c jwt.MapClaims, now time.Time)
		accept bool
	}{
		{"iat 30s ahead accepted", func(c jwt.MapClaims, now time.Time) {
			c["iat"] = now.Add(AccessTokenLeeway).Unix()
			c["exp"] = now.Add(AccessTokenLeeway + DefaultAccessTokenLifetime).Unix()
		}, true},
		{"iat 31s ahead rejected", func(c jwt.MapClaims, now time.Time) {
			c["iat"] = now.Add(AccessTokenLeeway + time.Second).Unix()
			c["exp"] = now.Add(AccessTokenLeeway + time.Second + DefaultAccessTokenLifetime).Unix()
		}, false},
		{"exp 29s ago accepted", func(c jwt.MapClaims, now time.Time) {
			c["iat"] = now.Add(-DefaultAccessTokenLifetime).Unix()
			c["exp"] = now.Add(-AccessTokenLeeway + time.Second).Unix()
		}, true},
		{"exp 30s ago rejected", func(c jwt.MapClaims, now time.Time) {
			c["iat"] = now.Add(-DefaultAccessTokenLifetime).Unix()
			c["exp"] = now.Add(-AccessTokenLeeway).Unix()
		}, false},
		{"exp - iat of lifetime plus leeway accepted", func(c jwt.MapClaims, now time.Time) {
			c["exp"] = now.Add(DefaultAccessTokenLifetime + AccessTokenLeeway).Unix()
		}, true},
		{"exp - iat one second longer rejected", func(c jwt.MapClaims, now time.Time) {
			c["exp"] = now.Add(DefaultAccessTokenLifetime + AccessTokenLeeway + time.Second).Unix()
		}, false},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newDefaultTokenFixture(t)

			claims, err := f.tokens.Verify(f.signWithActive(t, f.withClaims(tc.edit)))
			if tc.accept && err != nil {
				t.Fatalf("Verify: %v, want the token accepted", err)
			}
			if !tc.accept {
				assertInvalidToken(t, claims, err)
			}
		})
	}
}

// TestVerifyRejectsTamperedToken changes each character of an issued
// token, one at a time, to two other base64url characters. One flips the
// lowest of the character's 6 bits, which in the last character of a
// segment touches only padding bits. The other flips the highest bit.
func TestVerifyRejectsTamperedToken(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	f := newDefaultTokenFixture(t)
	token := f.issue(t)
	if _, err := f.tokens.Verify(token); err != nil {
		t.Fatalf("Verify of the untouched token: %v", err)
	}

	segmentNames := []string{"header", "payload", "signature"}
	segment, tried := 0, 0
	for i := range len(token) {
		if token[i] == '.' {
			segment++
			continue
		}

		value := strings.IndexByte(alphabet, token[i])
		for _, flip := range []int{1, 32} {
			tampered := token[:i] + string(alphabet[value^flip]) + token[i+1:]
			tried++

			claims, err := f.tokens.Verify(tampered)
			if !errors.Is(err, ErrInvalidToken) || claims != (AccessClaims{}) {
				t.Errorf("%s byte %d changed from %q to %q: Verify returned %+v, %v; want ErrInvalidToken",
					segmentNames[segment], i, token[i], alphabet[value^flip], claims, err)
			}
		}
	}

	if want := 2 * (len(token) - 2); tried != want {
		t.Errorf("tried %d tampered tokens, want %d", tried, want)
	}
}

func TestVerifyAcrossRotation(t *testing.T) {
	for _, cache := range []struct {
		name string
		size int
	}{{"with cache", 0}, {"without cache", -1}} {
		t.Run(cache.name, func(t *testing.T) {
			f := newTokenFixture(t, AccessKeyRetention(DefaultAccessTokenLifetime), cache.size)
			oldKey := f.activeKey(t, keys.PurposeAccessToken)
			oldToken, oldExpiry, _ := f.tokens.Issue("user-1", "session-1")
			if _, err := f.tokens.Verify(oldToken); err != nil {
				t.Fatalf("Verify before rotation: %v", err)
			}

			f.clock.Advance(time.Minute)
			newKey, err := f.keyring.Rotate(context.Background(), keys.PurposeAccessToken)
			if err != nil {
				t.Fatalf("Rotate: %v", err)
			}
			newToken := f.issue(t)

			if kid := decodeTestSegment(t, strings.Split(newToken, ".")[0])["kid"]; kid != newKey.ID || kid == oldKey.ID {
				t.Errorf("new token kid = %v, want the new key %s", kid, newKey.ID)
			}
			if _, err := f.tokens.Verify(oldToken); err != nil {
				t.Errorf("Verify of the old token right after rotation: %v", err)
			}

			f.clock.Advance(oldExpiry.Add(AccessTokenLeeway - time.Second).Sub(f.clock.Now()))
			if _, err := f.tokens.Verify(oldToken); err != nil {
				t.Errorf("Verify of the old token within the leeway after exp: %v", err)
			}

			f.clock.Advance(time.Second)
			claims, err := f.tokens.Verify(oldToken)
			assertInvalidToken(t, claims, err)
			if !errors.Is(err, jwt.ErrTokenExpired) {
				t.Errorf("Verify of the expired old token: err = %v, want jwt.ErrTokenExpired", err)
			}

			if _, err := f.tokens.Verify(newToken); err != nil {
				t.Errorf("Verify of the new token: %v", err)
			}
		})
	}
}

// TestVerifyCachedTokenOfExpiredKey retires a key with a retention shorter
// than the token lifetime, as an operator might after a key leak, and
// checks that an unexpired token cached before is rejected once the key
// stops verifying.
func TestVerifyCachedTokenOfExpiredKey(t *testing.T) {
	f := newTokenFixture(t, time.Minute, 0)
	token := f.issue(t)
	if _, err := f.tokens.Verify(token); err != nil {
		t.Fatalf("Verify before rotation: %v", err)
	}
	if len(f.tokens.cache.entries) != 1 {
		t.Fatalf("cache holds %d entries after one Verify, want 1", len(f.tokens.cache.entries))
	}

	if _, err := f.keyring.Rotate(context.Background(), keys.PurposeAccessToken); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	f.clock.Advance(time.Minute)

	claims, err := f.tokens.Verify(token)
	assertInvalidToken(t, claims, err)
	if !errors.Is(err, keys.ErrUnknownKey) {
		t.Errorf("Verify: err = %v, want keys.ErrUnknownKey", err)
	}
}

func TestVerifyCacheKeysByDigest(t *testing.T) {
	f := newDefaultTokenFixture(t)
	token := f.issue(t)

	if _, err := f.tokens.Verify(token); err != nil {
		t.Fatalf("Verify: %v", err)
	}

	if _, ok := f.tokens.cache.entries[sha256.Sum256([]byte(token))]; !ok {
		t.Error("cache has no entry under the token's SHA-256 digest")
	}
}

func TestVerifyCacheEvictsOldest(t *testing.T) {
	const capacity = 3
	f := newTokenFixture(t, AccessKeyRetention(DefaultAccessTokenLifetime), capacity)

	tokens := make([]string, capacity+2)
	for i := range tokens {
		tokens[i] = f.issue(t)
		if _, err := f.tokens.Verify(tokens[i]); err != nil {
			t.Fatalf("Verify token %d: %v", i, err)
		}
	}
	// Verifying a cached token again must not add a second entry.
	if _, err := f.tokens.Verify(tokens[len(tokens)-1]); err != nil {
		t.Fatalf("Verify of the newest token again: %v", err)
	}

	entries := f.tokens.cache.entries
	if len(entries) != capacity {
		t.Fatalf("cache holds %d entries, want its capacity %d", len(entries), capacity)
	}
	for i, token := range tokens {
		_, cached := entries[sha256.Sum256([]byte(token))]
		if wantCached := i >= len(tokens)-capacity; cached != wantCached {
			t.Errorf("token %d cached = %v, want %v", i, cached, wantCached)
		}
	}
}

func TestVerifyWithoutCache(t *testing.T) {
	f := newTokenFixture(t, AccessKeyRetention(DefaultAccessTokenLifetime), -1)
	token := f.issue(t)

	for pass := range 2 {
		if _, err := f.tokens.Verify(token); err != nil {
			t.Fatalf("Verify pass %d: %v", pass, err)
		}
	}
	if f.tokens.cache != nil {
		t.Error("negative VerifyCacheSize left a cache in place")
	}
}

// TestVerifyConcurrent verifies a mix of valid and forged tokens from
// several goroutines with a cache too small for them, for the race
// detector.
func TestVerifyConcurrent(t *testing.T) {
	const (
		goroutines = 8
		rounds     = 200
	)
	f := newTokenFixture(t, AccessKeyRetention(DefaultAccessTokenLifetime), 4)

	valid := make([]string, 6)
	for i := range valid {
		valid[i] = f.issue(t)
	}
	forged := f.signWithActive(t, f.withClaims(func(c jwt.MapClaims, _ time.Time) { c["iss"] = "other.example.test" }))

	var wg sync.WaitGroup
	failures := make(chan string, goroutines*rounds)
	for g := range goroutines {
		wg.Go(func() {
			for round := range rounds {
				token := valid[(g+round)%len(valid)]
				if _, err := f.tokens.Verify(token); err != nil {
					failures <- fmt.Sprintf("goroutine %d round %d: valid token rejected: %v", g, round, err)
				}
				if _, err := f.tokens.Verify(forged); !errors.Is(err, ErrInvalidToken) {
					failures <- fmt.Sprintf("goroutine %d round %d: forged token: err = %v", g, round, err)
				}
			}
		})
	}
	wg.Wait()
	close(failures)

	for failure := range failures {
		t.Error(failure)
	}
	if n := len(f.tokens.cache.entries); n > 4 {
		t.Errorf("cache holds %d entries, over its capacity of 4", n)
	}
}

func TestAccessKeyRetention(t *testing.T) {
	if got, want := AccessKeyRetention(0), DefaultAccessTokenLifetime+AccessTokenLeeway; got != want {
		t.Errorf("AccessKeyRetention(0) = %s, want %s", got, want)
	}
	if got, want := AccessKeyRetention(time.Hour), time.Hour+AccessTokenLeeway; got != want {
		t.Errorf("AccessKeyRetention(1h) = %s, want %s", got, want)
	}
}
