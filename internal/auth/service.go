package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/openguild/openguild/internal/ratelimit"
)

// Token prefixes make leaked secrets recognisable to scanners and people.
const (
	refreshTokenPrefix      = "ogr_"
	registrationTokenPrefix = "ogreg_"
	secretBytes             = 32 // 256 random bits per secret
)

// Registration modes.
const (
	RegistrationOpen   = "open"
	RegistrationInvite = "invite"
	RegistrationClosed = "closed"
)

// Options configures a Service. Zero durations take the defaults below.
type Options struct {
	Registration         string        // open, invite or closed
	RefreshTokenLifetime time.Duration // default 30 days
	RefreshGrace         time.Duration // default 10s
	UsernameQuarantine   time.Duration // default 30 days

	// Failed-login throttling per account name and per client IP.
	LoginFailuresPerAccount int           // default 5
	LoginFailuresPerIP      int           // default 20
	LoginFailureWindow      time.Duration // default 15m
	LoginBaseDelay          time.Duration // default 1s
	LoginMaxDelay           time.Duration // default 5m

	// SessionCheckInterval bounds how long a session's state may be served
	// from the cache. Revocations through this Service take effect at once;
	// the interval covers revocations made by another node or process.
	SessionCheckInterval time.Duration // default 1s

	// RefreshKey keys the HMAC that derives a refresh token's successor,
	// so a retry inside the grace window gets the same successor without
	// the server storing tokens. At least 32 bytes, shared by all nodes.
	RefreshKey []byte

	Clock ratelimit.Clock // nil means the system clock

	// Departures, if set, is checked before an account is deleted and
	// then removes it from everything it belongs to.
	Departures Departures

	// OnRevoke, if set, is called with the ids of sessions revoked through
	// this Service, after the revocation commits, so open gateway
	// connections of those sessions can be closed at once.
	OnRevoke func(sessionIDs []string)
}

// Departures is what account deletion needs from the rest of the server.
type Departures interface {
	// CheckDeparture returns an error, such as one meaning the user owns a
	// guild, when the account may not be deleted yet.
	CheckDeparture(ctx context.Context, userID string) error
	// Depart removes the user from every guild.
	Depart(ctx context.Context, userID string) error
}

func (o *Options) setDefaults() {
	setDuration(&o.RefreshTokenLifetime, 30*24*time.Hour)
	setDuration(&o.RefreshGrace, 10*time.Second)
	setDuration(&o.UsernameQuarantine, 30*24*time.Hour)
	setDuration(&o.LoginFailureWindow, 15*time.Minute)
	setDuration(&o.LoginBaseDelay, time.Second)
	setDuration(&o.LoginMaxDelay, 5*time.Minute)
	setDuration(&o.SessionCheckInterval, time.Second)
	if o.LoginFailuresPerAccount == 0 {
		o.LoginFailuresPerAccount = 5
	}
	if o.LoginFailuresPerIP == 0 {
		o.LoginFailuresPerIP = 20
	}
	if o.Registration == "" {
		o.Registration = RegistrationOpen
	}
	if o.Clock == nil {
		o.Clock = ratelimit.SystemClock{}
	}
}

func setDuration(d *time.Duration, def time.Duration) {
	if *d == 0 {
		*d = def
	}
}

// Service implements accounts and sessions: registration, login, token
// refresh and revocation, and the bearer check. It is safe for concurrent
// use.
type Service struct {
	store     Store
	tokens    *AccessTokens
	passwords *PasswordHasher
	opts      Options
	logger    *slog.Logger
	security  *slog.Logger // security-relevant events, for operators and audit

	byAccount *ratelimit.Throttle
	byIP      *ratelimit.Throttle
	sessions  *sessionCache

	refreshReuse prometheus.Counter
	logins       *prometheus.CounterVec
}

// NewService returns a Service over its dependencies. reg receives the
// service's metrics.
func NewService(store Store, tokens *AccessTokens, passwords *PasswordHasher, opts Options, logger *slog.Logger, reg prometheus.Registerer) (*Service, error) {
	opts.setDefaults()
	if len(opts.RefreshKey) < 32 {
		return nil, errors.New("create auth service: refresh key shorter than 32 bytes")
	}

	byAccount, err := ratelimit.NewThrottle(ratelimit.ThrottleOptions{
		Threshold: opts.LoginFailuresPerAccount, Window: opts.LoginFailureWindow,
		BaseDelay: opts.LoginBaseDelay, MaxDelay: opts.LoginMaxDelay, Clock: opts.Clock,
	})
	if err != nil {
		return nil, fmt.Errorf("create per-account login throttle: %w", err)
	}
	byIP, err := ratelimit.NewThrottle(ratelimit.ThrottleOptions{
		Threshold: opts.LoginFailuresPerIP, Window: opts.LoginFailureWindow,
		BaseDelay: opts.LoginBaseDelay, MaxDelay: opts.LoginMaxDelay, Clock: opts.Clock,
	})
	if err != nil {
		return nil, fmt.Errorf("create per-IP login throttle: %w", err)
	}

	s := &Service{
		store:     store,
		tokens:    tokens,
		passwords: passwords,
		opts:      opts,
		logger:    logger.With("component", "auth"),
		security:  logger.With("component", "security"),
		byAccount: byAccount,
		byIP:      byIP,
		sessions:  newSessionCache(store, opts.SessionCheckInterval, opts.Clock, opts.OnRevoke),
		refreshReuse: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "openguild_auth_refresh_token_reuse_total",
			Help: "Rotated refresh tokens presented again after the grace window; each revokes its session.",
		}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "openguild_auth_logins_total",
			Help: "Login attempts by result: success, invalid_credentials or throttled.",
		}, []string{"result"}),
	}
	if err := reg.Register(s.refreshReuse); err != nil {
		return nil, fmt.Errorf("register auth metrics: %w", err)
	}
	if err := reg.Register(s.logins); err != nil {
		return nil, fmt.Errorf("register auth metrics: %w", err)
	}
	return s, nil
}

// Tokens is the result of a login or refresh.
type Tokens struct {
	AccessToken      string
	AccessExpiresAt  time.Time
	RefreshToken     string
	RefreshExpiresAt time.Time
	SessionID        string
	User             User
}

// Principal is the authenticated caller of a request.
type Principal struct {
	UserID    string
	SessionID string
}

func (s *Service) now() time.Time { return s.opts.Clock.Now() }

// newID returns a time-ordered UUIDv7.
func newID() string {
	return uuid.Must(uuid.NewV7()).String()
}

// newSecret returns prefix plus 256 random bits as unpadded base64url.
func newSecret(prefix string) string {
	var b [secretBytes]byte
	rand.Read(b[:]) // crypto/rand.Read does not fail; it crashes the program instead
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

func hashSecret(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// successorOf derives the refresh token that replaces token. Only the
// holder of RefreshKey can compute it, so knowing a token does not reveal
// its successor.
func (s *Service) successorOf(token string) string {
	mac := hmac.New(sha256.New, s.opts.RefreshKey)
	mac.Write([]byte(token))
	return refreshTokenPrefix + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// validDeviceID accepts 1 to 128 printable ASCII characters.
func validDeviceID(id string) bool {
	if len(id) < 1 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// throttleKey is the login throttle key of an account name. Names that
// do not exist are throttled too, so a 429 does not reveal whether an
// account exists.
func throttleKey(username string) string {
	if len(username) > 64 {
		username = username[:64]
	}
	return strings.ToLower(username)
}
