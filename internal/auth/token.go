package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/openguild/openguild/internal/keys"
)

// Access-token defaults and limits.
const (
	// DefaultAccessTokenLifetime is the validity of an access token when
	// AccessTokenOptions.Lifetime is zero.
	DefaultAccessTokenLifetime = 15 * time.Minute

	// AccessTokenLeeway is the clock difference tolerated between the node
	// that issued a token and the node that verifies it. Verify accepts a
	// token up to this long before its iat or nbf and after its exp, and
	// allows exp - iat to exceed the lifetime by this much.
	AccessTokenLeeway = 30 * time.Second

	// DefaultVerifyCacheSize is the number of verified tokens kept when
	// AccessTokenOptions.VerifyCacheSize is zero. An entry takes a few
	// hundred bytes, so a full default cache takes a few megabytes.
	DefaultVerifyCacheSize = 10_000

	// maxAccessTokenLength bounds the input that Verify hashes and
	// parses. Tokens issued here are a few hundred bytes long.
	maxAccessTokenLength = 4096

	// tokenIDBytes is the size of the random jti: 128 bits, so ids never
	// repeat in practice.
	tokenIDBytes = 16
)

// AccessKeyRetention returns how long a retired access-token key must keep
// verifying so that every token it signed stays valid until it expires:
// the token lifetime plus AccessTokenLeeway. A zero lifetime means
// DefaultAccessTokenLifetime. Pass the result to keys.Options.Retention
// for keys.PurposeAccessToken.
func AccessKeyRetention(lifetime time.Duration) time.Duration {
	if lifetime == 0 {
		lifetime = DefaultAccessTokenLifetime
	}

	return lifetime + AccessTokenLeeway
}

// SigningKeys is the part of keys.Keyring that AccessTokens uses.
type SigningKeys interface {
	// Active returns the key that signs for purpose.
	Active(purpose keys.Purpose) (keys.Key, error)

	// Lookup returns the key with the given id while it still verifies.
	Lookup(id string) (keys.Key, error)
}

// AccessTokenOptions configures NewAccessTokens.
type AccessTokenOptions struct {
	// Issuer is the server name, written to and required in the iss
	// claim. It must not be empty.
	Issuer string

	// Lifetime is how long an issued token stays valid. Zero means
	// DefaultAccessTokenLifetime. It must be at least one second, the
	// precision of JWT times.
	Lifetime time.Duration

	// Clock supplies the current time. Nil means the system clock.
	Clock keys.Clock

	// VerifyCacheSize is the maximum number of verified tokens whose
	// claims Verify keeps. Zero means DefaultVerifyCacheSize and a
	// negative value turns the cache off.
	VerifyCacheSize int
}

// AccessClaims are the verified contents of an access token.
type AccessClaims struct {
	UserID    string    // sub claim
	SessionID string    // sid claim
	TokenID   string    // jti claim
	IssuedAt  time.Time // iat claim, in UTC
	ExpiresAt time.Time // exp claim, in UTC
}

// accessTokenClaims is the JWT payload of an access token. On the wire it
// holds exactly iss, sub (the user id), sid (the session id), iat, exp and
// jti, because the unset fields of jwt.RegisteredClaims are omitted.
type accessTokenClaims struct {
	jwt.RegisteredClaims
	SessionID string `json:"sid"`
}

// AccessTokens issues and verifies access tokens: JWTs signed with the
// keyring's active access_token key (alg EdDSA, kid header). It is safe for
// concurrent use.
//
// Verify does not know about sessions, so a token of a revoked session
// verifies until it expires. The caller checks the session's state.
type AccessTokens struct {
	keys     SigningKeys
	issuer   string
	lifetime time.Duration
	now      func() time.Time
	parser   *jwt.Parser
	keyFunc  jwt.Keyfunc
	cache    *verifyCache // nil when caching is off
}

// NewAccessTokens returns an AccessTokens that signs with and looks up
// keys in signingKeys, normally a *keys.Keyring.
func NewAccessTokens(signingKeys SigningKeys, opts AccessTokenOptions) (*AccessTokens, error) {
	if signingKeys == nil {
		return nil, errors.New("create access tokens: missing signing keys")
	}
	if opts.Issuer == "" {
		return nil, errors.New("create access tokens: empty issuer, set it to the server name")
	}

	lifetime := opts.Lifetime
	if lifetime == 0 {
		lifetime = DefaultAccessTokenLifetime
	}
	if lifetime < time.Second {
		return nil, fmt.Errorf("create access tokens: lifetime %s is shorter than 1s", lifetime)
	}

	tokens := &AccessTokens{
		keys:     signingKeys,
		issuer:   opts.Issuer,
		lifetime: lifetime,
		now:      time.Now,
		cache:    newVerifyCache(opts.VerifyCacheSize),
	}
	if opts.Clock != nil {
		tokens.now = opts.Clock.Now
	}
	tokens.keyFunc = tokens.verificationKey
	tokens.parser = tokens.newParser()

	return tokens, nil
}

// newParser returns the JWT parser that enforces the checks jwt performs
// for Verify.
func (a *AccessTokens) newParser() *jwt.Parser {
	return jwt.NewParser(
		// Only EdDSA, so neither alg "none" nor an HMAC keyed with the
		// public key can pass.
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(a.issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(AccessTokenLeeway),
		jwt.WithTimeFunc(a.now),
		// Strict decoding rejects segments whose last character carries
		// nonzero padding bits, so a token has exactly one encoding.
		jwt.WithStrictDecoding(),
	)
}

// IssuedToken is a signed access token with the facts needed to sign the
// same bytes again.
type IssuedToken struct {
	Token     string
	ExpiresAt time.Time // the exp claim
	IssuedAt  time.Time // the iat claim
	KeyID     string    // the kid header
	TokenID   string    // the jti claim
}

// Issue signs an access token for the session sessionID of user userID
// with the active access_token key. It returns the token and its expiry,
// which is the exp claim: the current time plus the lifetime, cut to whole
// seconds.
func (a *AccessTokens) Issue(userID, sessionID string) (token string, expiresAt time.Time, err error) {
	issued, err := a.issue(userID, sessionID)
	return issued.Token, issued.ExpiresAt, err
}

func (a *AccessTokens) issue(userID, sessionID string) (IssuedToken, error) {
	key, err := a.keys.Active(keys.PurposeAccessToken)
	if err != nil {
		return IssuedToken{}, fmt.Errorf("issue access token for session %s: %w", sessionID, err)
	}
	return a.sign(key, userID, sessionID, newTokenID(), a.now())
}

// reissue signs the token that issue returned before, byte for byte:
// Ed25519 signatures are deterministic, so the same key, claims and times
// give the same token. It serves a refresh retried inside the grace
// window. The key must still verify.
func (a *AccessTokens) reissue(userID, sessionID, keyID, tokenID string, issuedAt time.Time) (IssuedToken, error) {
	key, err := a.lookupKey(keyID)
	if err != nil {
		return IssuedToken{}, fmt.Errorf("reissue access token for session %s: %w", sessionID, err)
	}
	return a.sign(key, userID, sessionID, tokenID, issuedAt)
}

func (a *AccessTokens) sign(key keys.Key, userID, sessionID, tokenID string, now time.Time) (IssuedToken, error) {
	if userID == "" || sessionID == "" {
		return IssuedToken{}, errors.New("issue access token: empty user id or session id")
	}

	claims := accessTokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    a.issuer,
			Subject:   userID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(a.lifetime)),
			ID:        tokenID,
		},
		SessionID: sessionID,
	}

	unsigned := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	unsigned.Header["kid"] = key.ID

	token, err := unsigned.SignedString(key.Private)
	if err != nil {
		return IssuedToken{}, fmt.Errorf("sign access token with key %s: %w", key.ID, err)
	}

	return IssuedToken{
		Token:     token,
		ExpiresAt: claims.ExpiresAt.UTC(),
		IssuedAt:  claims.IssuedAt.UTC(),
		KeyID:     key.ID,
		TokenID:   tokenID,
	}, nil
}

// newTokenID returns a random jti as unpadded base64url.
func newTokenID() string {
	var id [tokenIDBytes]byte
	// crypto/rand.Read never returns an error: since Go 1.24 it crashes
	// the program if the system's random source fails.
	_, _ = rand.Read(id[:])

	return base64.RawURLEncoding.EncodeToString(id[:])
}

// Verify checks an access token and returns its claims. Every error wraps
// ErrInvalidToken. A token is accepted only if all of these hold:
//
//   - it is at most 4096 bytes of three canonical base64url segments, and
//     its alg is EdDSA;
//   - its kid names a key of purpose access_token that the keyring still
//     verifies with, and the signature checks out under that key;
//   - iss is the configured issuer, and sub, sid and jti are not empty;
//   - iat and exp are present, iat and any nbf are no later than
//     AccessTokenLeeway from now, and exp has not passed by more than
//     AccessTokenLeeway;
//   - exp - iat is at most the lifetime plus AccessTokenLeeway.
//
// Verify caches the claims of verified tokens, keyed by the token's
// SHA-256 digest. A cache hit skips parsing and the signature check, but
// the token is still rejected once it expires or once its signing key
// stops verifying.
func (a *AccessTokens) Verify(token string) (AccessClaims, error) {
	if len(token) > maxAccessTokenLength {
		return AccessClaims{}, invalidToken(fmt.Errorf("token is %d bytes long, over the maximum of %d", len(token), maxAccessTokenLength))
	}

	// A cache hit means these exact bytes passed every check before, so
	// the syntax check runs only on a miss.
	digest := sha256.Sum256([]byte(token))
	if cached, ok := a.cache.get(digest); ok {
		return a.recheckCached(cached)
	}

	if err := checkTokenSyntax(token); err != nil {
		return AccessClaims{}, invalidToken(err)
	}

	claims, keyID, err := a.parse(token)
	if err != nil {
		return AccessClaims{}, invalidToken(err)
	}

	a.cache.add(digest, cachedToken{claims: claims, keyID: keyID})

	return claims, nil
}

// invalidToken marks cause as a reason to reject the token.
func invalidToken(cause error) error {
	return fmt.Errorf("%w: %w", ErrInvalidToken, cause)
}

// checkTokenSyntax rejects input that is not three base64url segments
// joined by dots before jwt parses it. Go's base64 decoder skips line
// breaks, so without this check a token with an inserted newline would
// still verify.
func checkTokenSyntax(token string) error {
	if token == "" {
		return errors.New("empty token")
	}

	for i := range len(token) {
		if !isTokenByte(token[i]) {
			return fmt.Errorf("token has byte %#x at offset %d, which is neither base64url nor a dot", token[i], i)
		}
	}
	if dots := strings.Count(token, "."); dots != 2 {
		return fmt.Errorf("token has %d segments, want 3", dots+1)
	}

	return nil
}

// isTokenByte reports whether c is in the base64url alphabet or a dot.
func isTokenByte(c byte) bool {
	switch {
	case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		return true
	}

	return c == '-' || c == '_' || c == '.'
}

// parse verifies the signature and claims of a token that is not cached
// and returns its claims and the id of the key that signed it.
func (a *AccessTokens) parse(token string) (AccessClaims, string, error) {
	var wire accessTokenClaims
	parsed, err := a.parser.ParseWithClaims(token, &wire, a.keyFunc)
	if err != nil {
		return AccessClaims{}, "", err
	}

	if err := a.checkClaims(&wire); err != nil {
		return AccessClaims{}, "", err
	}

	// verificationKey has already checked that kid is a non-empty string.
	keyID, _ := parsed.Header["kid"].(string)
	claims := AccessClaims{
		UserID:    wire.Subject,
		SessionID: wire.SessionID,
		TokenID:   wire.ID,
		IssuedAt:  wire.IssuedAt.UTC(),
		ExpiresAt: wire.ExpiresAt.UTC(),
	}

	return claims, keyID, nil
}

// checkClaims applies the checks that jwt's validator does not make. The
// parser has already required exp and checked iss, exp, iat and nbf
// against the clock.
func (a *AccessTokens) checkClaims(wire *accessTokenClaims) error {
	switch {
	case wire.IssuedAt == nil:
		return errors.New("missing iat claim")
	case wire.Subject == "":
		return errors.New("missing sub claim")
	case wire.SessionID == "":
		return errors.New("missing sid claim")
	case wire.ID == "":
		return errors.New("missing jti claim")
	}

	span := wire.ExpiresAt.Sub(wire.IssuedAt.Time)
	if span < 0 {
		return fmt.Errorf("exp is %s before iat", -span)
	}
	if maxSpan := a.lifetime + AccessTokenLeeway; span > maxSpan {
		// A stolen signing key aside, only a misconfigured node issues
		// such a token, and accepting it would outlast key retention.
		return fmt.Errorf("exp is %s after iat, over the maximum of %s", span, maxSpan)
	}

	return nil
}

// verificationKey is the jwt.Keyfunc of Verify: it returns the public key
// named by the kid header.
func (a *AccessTokens) verificationKey(token *jwt.Token) (any, error) {
	keyID, ok := token.Header["kid"].(string)
	if !ok || keyID == "" {
		return nil, errors.New("kid header missing or not a string")
	}

	key, err := a.lookupKey(keyID)
	if err != nil {
		return nil, err
	}

	return key.Public, nil
}

// lookupKey returns the access-token key keyID while it still verifies.
func (a *AccessTokens) lookupKey(keyID string) (keys.Key, error) {
	key, err := a.keys.Lookup(keyID)
	if err != nil {
		return keys.Key{}, err
	}

	if key.Purpose != keys.PurposeAccessToken {
		return keys.Key{}, fmt.Errorf("key %q has purpose %s, want %s", keyID, key.Purpose, keys.PurposeAccessToken)
	}

	return key, nil
}

// recheckCached repeats, for a cached token, the checks whose outcome
// changes with time: expiry and whether its signing key still verifies.
func (a *AccessTokens) recheckCached(cached cachedToken) (AccessClaims, error) {
	// The same rule as the jwt validator: valid while now < exp + leeway.
	if !a.now().Before(cached.claims.ExpiresAt.Add(AccessTokenLeeway)) {
		return AccessClaims{}, invalidToken(jwt.ErrTokenExpired)
	}

	if _, err := a.lookupKey(cached.keyID); err != nil {
		return AccessClaims{}, invalidToken(err)
	}

	return cached.claims, nil
}
