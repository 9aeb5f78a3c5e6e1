// Package config loads and validates the homeserver configuration.
//
// Values come from four layers, each overriding the one before it:
// built-in defaults, a YAML file (--config or OPENGUILD_CONFIG),
// OPENGUILD_* environment variables, then command-line flags. Every key
// is declared once, in settings.go, with its YAML name, flag, environment
// variable, unit and default, so the layers cannot disagree about names.
package config

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Registration modes accepted by the registration key.
const (
	RegistrationOpen   = "open"
	RegistrationInvite = "invite"
	RegistrationClosed = "closed"
)

// Log formats accepted by the log_format key.
const (
	LogFormatJSON = "json"
	LogFormatText = "text"
)

// Config is the effective configuration of one homeserver process.
type Config struct {
	// File is the YAML file the configuration was read from, or empty.
	File string

	ServerName    string
	Listen        string
	MetricsListen string // empty disables the metrics listener
	MetricsToken  string // empty serves /metrics without authentication
	Profiling     bool   // serve the Go profiler on the metrics listener
	TLSCertFile   string
	TLSKeyFile    string

	DataDir     string
	DatabaseURL string // empty selects SQLite in DataDir

	Registration   string
	TrustedProxies []netip.Prefix

	LogLevel  slog.Level
	LogFormat string

	ShutdownGrace     time.Duration
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration

	Auth     Auth
	Limits   Limits
	Messages Messages
	Abuse    Abuse
	Gateway  Gateway
	Media    Media
}

// Gateway holds the WebSocket gateway's settings.
type Gateway struct {
	MaxConnections    int           // open connections per node
	MaxPerUser        int           // open connections per user
	HeartbeatInterval time.Duration // clients heartbeat this often; two missed intervals close
	ResumeLimit       int           // events replayed per log on resume
	SendQueue         int           // frames buffered per connection before it counts as too slow
	UpgradesPerIP     Rate          // connection attempts per client IP
	IdentifyTimeout   time.Duration // time a client has to identify after the upgrade
}

// Abuse holds the operator's static ban lists; `openguild admin ban` adds
// more at run time.
type Abuse struct {
	BannedUsers []string       // user ids
	BannedIPs   []netip.Prefix // client addresses and ranges
}

// Auth holds the account and token settings.
type Auth struct {
	AccessTokenLifetime  time.Duration
	RefreshTokenLifetime time.Duration
	RefreshGrace         time.Duration
	UsernameQuarantine   time.Duration

	PasswordMemoryKiB     int
	PasswordIterations    int
	PasswordParallelism   int
	PasswordMaxConcurrent int // 0 means GOMAXPROCS

	LoginFailuresPerAccount int
	LoginFailuresPerIP      int
	LoginFailureWindow      time.Duration
	LoginBaseDelay          time.Duration
	LoginMaxDelay           time.Duration
}

// Rate is a sliding-window limit: at most Requests in any span of Window.
type Rate struct {
	Requests int
	Window   time.Duration
}

func (r Rate) String() string { return fmt.Sprintf("%d/%s", r.Requests, r.Window) }

// Limits holds the per-client rate limits.
type Limits struct {
	RegisterPerIP  Rate
	LoginPerIP     Rate
	MessagePerUser Rate
	MessagePerIP   Rate

	// ReadPerIP limits each client IP's GET requests under /api/v1;
	// WritePerIPRoute limits its other requests per route, for the routes
	// without a limit of their own.
	ReadPerIP       Rate
	WritePerIPRoute Rate

	// A user who keeps sending while limited serves a penalty that starts
	// at PenaltyBase, doubles per repeat up to PenaltyMax, and decays after
	// PenaltyDecay of good behaviour.
	PenaltyBase  time.Duration
	PenaltyMax   time.Duration
	PenaltyDecay time.Duration
}

// Messages holds the message settings.
type Messages struct {
	ContentMax int // characters per message
	NameMax    int // characters per guild or channel name
}

// Default returns the configuration used when nothing overrides it.
func Default() Config {
	return Config{
		ServerName:        "localhost",
		Listen:            "127.0.0.1:8080",
		MetricsListen:     "127.0.0.1:9464",
		DataDir:           "./data",
		Registration:      RegistrationOpen,
		LogLevel:          slog.LevelInfo,
		LogFormat:         LogFormatJSON,
		ShutdownGrace:     5 * time.Second,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		Auth: Auth{
			AccessTokenLifetime:     15 * time.Minute,
			RefreshTokenLifetime:    30 * 24 * time.Hour,
			RefreshGrace:            10 * time.Second,
			UsernameQuarantine:      30 * 24 * time.Hour,
			PasswordMemoryKiB:       19 * 1024,
			PasswordIterations:      2,
			PasswordParallelism:     1,
			LoginFailuresPerAccount: 5,
			LoginFailuresPerIP:      20,
			LoginFailureWindow:      15 * time.Minute,
			LoginBaseDelay:          time.Second,
			LoginMaxDelay:           5 * time.Minute,
		},
		Limits: Limits{
			RegisterPerIP:   Rate{Requests: 60, Window: time.Minute},
			LoginPerIP:      Rate{Requests: 60, Window: time.Minute},
			MessagePerUser:  Rate{Requests: 10, Window: 10 * time.Second},
			MessagePerIP:    Rate{Requests: 60, Window: 10 * time.Second},
			ReadPerIP:       Rate{Requests: 600, Window: time.Minute},
			WritePerIPRoute: Rate{Requests: 120, Window: time.Minute},
			PenaltyBase:     10 * time.Second,
			PenaltyMax:      5 * time.Minute,
			PenaltyDecay:    time.Minute,
		},
		Messages: Messages{ContentMax: 4000, NameMax: 64},
		Gateway: Gateway{
			MaxConnections: 10_000, MaxPerUser: 16, HeartbeatInterval: 30 * time.Second,
			ResumeLimit: 1000, SendQueue: 128, UpgradesPerIP: Rate{Requests: 60, Window: time.Minute},
			IdentifyTimeout: 10 * time.Second,
		},
		Media: defaultMedia(),
	}
}

// TLSEnabled reports whether the client listener serves HTTPS.
func (c *Config) TLSEnabled() bool {
	return c.TLSCertFile != ""
}

// Validate checks the rules that span several keys or that a single
// value's parser cannot see. It returns an *Error naming the first bad key.
func (c *Config) Validate() error {
	if err := validateServerName(c.ServerName); err != nil {
		return err
	}
	if err := validateListenAddr("listen", c.Listen, false); err != nil {
		return err
	}
	if err := validateListenAddr("metrics_listen", c.MetricsListen, true); err != nil {
		return err
	}
	if c.MetricsListen != "" && c.MetricsListen == c.Listen && !strings.HasSuffix(c.Listen, ":0") {
		return &Error{Key: "metrics_listen", Value: c.MetricsListen, Want: "an address other than listen's"}
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		key, value := "tls_key_file", c.TLSKeyFile
		if c.TLSCertFile == "" {
			key, value = "tls_cert_file", c.TLSCertFile
		}
		return &Error{Key: key, Value: value, Want: "tls_cert_file and tls_key_file set together"}
	}
	if strings.TrimSpace(c.DataDir) == "" {
		return &Error{Key: "data_dir", Value: c.DataDir, Want: "a directory path"}
	}
	if err := validateDatabaseURL(c.DatabaseURL); err != nil {
		return err
	}
	if c.ShutdownGrace <= 0 {
		return &Error{Key: "shutdown_grace", Value: c.ShutdownGrace.String(), Want: "a positive duration such as 5s"}
	}
	if c.ReadHeaderTimeout <= 0 {
		return &Error{Key: "read_header_timeout", Value: c.ReadHeaderTimeout.String(), Want: "a positive duration such as 10s"}
	}
	if c.IdleTimeout <= 0 {
		return &Error{Key: "idle_timeout", Value: c.IdleTimeout.String(), Want: "a positive duration such as 2m"}
	}
	// 20,000 keeps every valid message inside the 256 KiB body cap of the
	// message routes even when each character is sent as a 12-byte
	// \uXXXX\uXXXX surrogate pair escape.
	if c.Messages.ContentMax < 1 || c.Messages.ContentMax > 20_000 {
		return &Error{Key: "messages.content_max", Value: fmt.Sprint(c.Messages.ContentMax), Want: "1 to 20000"}
	}
	if c.Messages.NameMax < 1 || c.Messages.NameMax > 1000 {
		return &Error{Key: "messages.name_max", Value: fmt.Sprint(c.Messages.NameMax), Want: "1 to 1000"}
	}
	if c.Limits.PenaltyBase <= 0 || c.Limits.PenaltyMax < c.Limits.PenaltyBase || c.Limits.PenaltyDecay <= 0 {
		return &Error{Key: "limits.penalty_max", Value: c.Limits.PenaltyMax.String(),
			Want: "positive penalty durations with penalty_max at least penalty_base"}
	}
	if err := c.Gateway.validate(); err != nil {
		return err
	}
	if err := c.Media.validate(); err != nil {
		return err
	}
	return c.Auth.validate()
}

func (g *Gateway) validate() error {
	ints := []struct {
		key   string
		value int
		min   int
	}{
		{"gateway.max_connections", g.MaxConnections, 1},
		{"gateway.max_per_user", g.MaxPerUser, 1},
		{"gateway.resume_limit", g.ResumeLimit, 1},
		{"gateway.send_queue", g.SendQueue, 16},
	}
	for _, i := range ints {
		if i.value < i.min {
			return &Error{Key: i.key, Value: fmt.Sprint(i.value), Want: fmt.Sprintf("a whole number of at least %d", i.min)}
		}
	}
	if g.IdentifyTimeout <= 0 {
		return &Error{Key: "gateway.identify_timeout", Value: g.IdentifyTimeout.String(), Want: "a positive duration such as 10s"}
	}
	if g.HeartbeatInterval < time.Second {
		return &Error{Key: "gateway.heartbeat_interval", Value: g.HeartbeatInterval.String(), Want: "a duration of at least 1s"}
	}
	return nil
}

func (a *Auth) validate() error {
	durations := []struct {
		key   string
		value time.Duration
		min   time.Duration
	}{
		{"auth.access_token_lifetime", a.AccessTokenLifetime, time.Minute},
		{"auth.refresh_token_lifetime", a.RefreshTokenLifetime, time.Hour},
		{"auth.refresh_grace", a.RefreshGrace, 0},
		{"auth.username_quarantine", a.UsernameQuarantine, 0},
		{"auth.login_failure_window", a.LoginFailureWindow, time.Second},
		{"auth.login_base_delay", a.LoginBaseDelay, time.Millisecond},
		{"auth.login_max_delay", a.LoginMaxDelay, a.LoginBaseDelay},
	}
	for _, d := range durations {
		if d.value < d.min || d.value < 0 {
			return &Error{Key: d.key, Value: d.value.String(), Want: fmt.Sprintf("a duration of at least %s", d.min)}
		}
	}
	if a.PasswordMemoryKiB < 19*1024 {
		return &Error{Key: "auth.password_memory_kib", Value: fmt.Sprint(a.PasswordMemoryKiB), Want: "at least 19456 (19 MiB)"}
	}
	if a.PasswordIterations < 2 {
		return &Error{Key: "auth.password_iterations", Value: fmt.Sprint(a.PasswordIterations), Want: "at least 2"}
	}
	if a.PasswordParallelism < 1 || a.PasswordParallelism > 255 {
		return &Error{Key: "auth.password_parallelism", Value: fmt.Sprint(a.PasswordParallelism), Want: "1 to 255"}
	}
	return nil
}

func validateServerName(name string) error {
	const want = "a DNS host name, optionally with :port, such as chat.example.org"
	if name == "" || len(name) > 255 {
		return &Error{Key: "server_name", Value: name, Want: want}
	}
	host := name
	if h, port, err := net.SplitHostPort(name); err == nil {
		if _, perr := netip.ParseAddrPort("0.0.0.0:" + port); perr != nil {
			return &Error{Key: "server_name", Value: name, Want: want}
		}
		host = h
	}
	for _, label := range strings.Split(host, ".") {
		if !validHostLabel(label) {
			return &Error{Key: "server_name", Value: name, Want: want}
		}
	}
	return nil
}

func validHostLabel(label string) bool {
	if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
		return false
	}
	for _, r := range label {
		ok := r == '-' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')
		if !ok {
			return false
		}
	}
	return true
}

func validateListenAddr(key, addr string, mayBeEmpty bool) error {
	if addr == "" && mayBeEmpty {
		return nil
	}
	want := "host:port, such as 127.0.0.1:8080 (port 0 picks a free port)"
	if mayBeEmpty {
		want += ", or empty to disable"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return &Error{Key: key, Value: addr, Want: want}
	}
	if _, err := netip.ParseAddrPort("0.0.0.0:" + port); err != nil {
		return &Error{Key: key, Value: addr, Want: want}
	}
	if host != "" && host != "localhost" {
		if _, err := netip.ParseAddr(host); err != nil {
			return &Error{Key: key, Value: addr, Want: want + "; the host must be an IP address or localhost"}
		}
	}
	return nil
}

func validateDatabaseURL(raw string) error {
	if raw == "" {
		return nil
	}
	const want = "postgres://user:password@host:port/database, or sqlite:PATH"
	u, err := url.Parse(raw)
	if err != nil {
		return &Error{Key: "database_url", Value: RedactURL(raw), Want: want}
	}
	switch u.Scheme {
	case "postgres", "postgresql":
		if u.Host == "" {
			return &Error{Key: "database_url", Value: RedactURL(raw), Want: want}
		}
	case "sqlite":
		if u.Opaque == "" && u.Path == "" {
			return &Error{Key: "database_url", Value: raw, Want: want}
		}
	default:
		return &Error{Key: "database_url", Value: RedactURL(raw), Want: want}
	}
	return nil
}

// RedactURL returns raw with any password replaced, so a database URL can
// be logged or printed. A value that does not parse is replaced whole.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable URL>"
	}
	if _, hasPassword := u.User.Password(); hasPassword {
		u.User = url.UserPassword(u.User.Username(), "redacted")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "redacted")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Error describes one invalid configuration value.
type Error struct {
	Key    string // the YAML key, such as metrics_listen
	Value  string // the rejected value, with secrets redacted
	Source string // where the value came from: a flag, variable or file line
	Want   string // the expected form
	Err    error  // the parser's error, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid value %q for %s", e.Value, e.Key)
	if e.Source != "" {
		fmt.Fprintf(&b, " (from %s)", e.Source)
	}
	fmt.Fprintf(&b, ": want %s", e.Want)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }
