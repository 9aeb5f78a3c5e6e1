package auth

import (
	"testing"
)

// BenchmarkVerifyAccessToken measures Verify of a valid token. In
// "cached", each call hits the verify cache and costs a SHA-256 of the
// token, a map lookup and the expiry and key rechecks. In "uncached", the
// cache is off, so each call parses the JWT and checks the Ed25519
// signature.
func BenchmarkVerifyAccessToken(b *testing.B) {
	benchmarks := []struct {
		name      string
		cacheSize int
	}{
		{"cached", 0},
		{"uncached", -1},
	}

	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			f := newTokenFixture(b, AccessKeyRetention(DefaultAccessTokenLifetime), bm.cacheSize)
			token := f.issue(b)
			if _, err := f.tokens.Verify(token); err != nil {
				b.Fatalf("Verify: %v", err)
			}

			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.tokens.Verify(token); err != nil {
					b.Fatalf("Verify: %v", err)
				}
			}
		})
	}
}

// BenchmarkIssueAccessToken measures signing one access token.
func BenchmarkIssueAccessToken(b *testing.B) {
	f := newDefaultTokenFixture(b)

	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := f.tokens.Issue("user-1", "session-1"); err != nil {
			b.Fatalf("Issue: %v", err)
		}
	}
}
