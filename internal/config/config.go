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
