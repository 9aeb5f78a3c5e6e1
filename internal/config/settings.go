package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// setting is one configuration key. Its YAML key is the canonical name;
// the flag and environment variable are derived from it, so a nested key
// auth.access_token_lifetime becomes --auth-access-token-lifetime and
// OPENGUILD_AUTH_ACCESS_TOKEN_LIFETIME.
type setting struct {
	key    string
	help   string // what the key sets, with its unit and default
	want   string // the expected form, quoted in errors
	secret bool   // redacted when the configuration is printed
	set    func(c *Config, value string) error
	get    func(c *Config) string
}

// Flag returns the command-line flag name, without dashes.
func (s setting) flag() string {
	return strings.NewReplacer("_", "-", ".", "-").Replace(s.key)
}

// env returns the environment variable name.
func (s setting) env() string {
	return "OPENGUILD_" + strings.ToUpper(strings.ReplaceAll(s.key, ".", "_"))
}

// settings lists every configuration key in the order they are printed.
// The config file key itself is handled by Load, because it decides where
// the YAML layer comes from.
func settings() []setting {
	return append([]setting{
		stringSetting("server_name", "public name of this homeserver, used as the token issuer (default localhost)",
			func(c *Config) *string { return &c.ServerName }),
		stringSetting("listen", "client API listen address, host:port; port 0 picks a free port (default 127.0.0.1:8080)",
			func(c *Config) *string { return &c.Listen }),
		stringSetting("metrics_listen", "Prometheus metrics listen address, host:port; empty disables it (default 127.0.0.1:9464)",
			func(c *Config) *string { return &c.MetricsListen }),
		secretSetting("metrics_token", "bearer token required on /metrics; empty serves metrics without authentication (default empty)",
			func(c *Config) *string { return &c.MetricsToken }),
		{
			key:  "profiling",
			help: "serve the Go profiler under /debug/pprof/ on the metrics listener, behind metrics_token (default false)",
			want: "true or false",
			set: func(c *Config, v string) error {
				b, err := strconv.ParseBool(v)
				c.Profiling = b
				return err
			},
			get: func(c *Config) string { return strconv.FormatBool(c.Profiling) },
		},
		stringSetting("tls_cert_file", "PEM certificate for the client listener; enables HTTPS and HTTP/2 (default empty)",
			func(c *Config) *string { return &c.TLSCertFile }),
		stringSetting("tls_key_file", "PEM private key matching tls_cert_file (default empty)",
			func(c *Config) *string { return &c.TLSKeyFile }),
		stringSetting("data_dir", "directory for the SQLite database, keys and media (default ./data)",
			func(c *Config) *string { return &c.DataDir }),
		{
			key:    "database_url",
			help:   "database to use: postgres://user:password@host:port/db, or sqlite:PATH (default: openguild.db in data_dir)",
			want:   "postgres://user:password@host:port/database, or sqlite:PATH",
			secret: true,
			set:    func(c *Config, v string) error { c.DatabaseURL = v; return nil },
			get:    func(c *Config) string { return c.DatabaseURL },
		},
		enumSetting("registration", "who may register: open, invite (needs a registration token) or closed (default open)",
			[]string{RegistrationOpen, RegistrationInvite, RegistrationClosed},
			func(c *Config) *string { return &c.Registration }),
		{
			key:  "trusted_proxies",
			help: "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed (default empty: the header is ignored)",
			want: "comma-separated CIDRs or addresses, such as 10.0.0.0/8,192.0.2.1",
			set:  setPrefixes,
			get:  getPrefixes,
		},
		{
			key:  "log_level",
			help: "lowest level logged: debug, info, warn or error (default info)",
			want: "one of debug, info, warn, error",
			set:  setLogLevel,
			get:  func(c *Config) string { return strings.ToLower(c.LogLevel.String()) },
		},
		enumSetting("log_format", "log line format: json or text (default json)",
			[]string{LogFormatJSON, LogFormatText},
			func(c *Config) *string { return &c.LogFormat }),
		durationSetting("shutdown_grace", "time in-flight requests get to finish after SIGINT or SIGTERM (default 5s)",
			func(c *Config) *time.Duration { return &c.ShutdownGrace }),
		durationSetting("read_header_timeout", "time a client has to send its request headers (default 10s)",
			func(c *Config) *time.Duration { return &c.ReadHeaderTimeout }),
		durationSetting("idle_timeout", "time an idle keep-alive connection stays open (default 2m)",
			func(c *Config) *time.Duration { return &c.IdleTimeout }),

		durationSetting("auth.access_token_lifetime", "lifetime of an access token, at least 1m (default 15m)",
			func(c *Config) *time.Duration { return &c.Auth.AccessTokenLifetime }),
		durationSetting("auth.refresh_token_lifetime", "lifetime of a refresh token, renewed at each refresh (default 720h)",
			func(c *Config) *time.Duration { return &c.Auth.RefreshTokenLifetime }),
		durationSetting("auth.refresh_grace", "window in which a refresh token presented again gets the same new pair (default 10s)",
			func(c *Config) *time.Duration { return &c.Auth.RefreshGrace }),
		durationSetting("auth.username_quarantine", "time a deleted account's user name stays reserved (default 720h)",
			func(c *Config) *time.Duration { return &c.Auth.UsernameQuarantine }),
		intSetting("auth.password_memory_kib", "Argon2id memory per password hash, in KiB, at least 19456 (default 19456)",
			func(c *Config) *int { return &c.Auth.PasswordMemoryKiB }),
		intSetting("auth.password_iterations", "Argon2id passes per password hash, at least 2 (default 2)",
			func(c *Config) *int { return &c.Auth.PasswordIterations }),
		intSetting("auth.password_parallelism", "Argon2id lanes per password hash (default 1)",
			func(c *Config) *int { return &c.Auth.PasswordParallelism }),
		intSetting("auth.password_max_concurrent", "password hashes computed at once; 0 means one per CPU (default 0)",
			func(c *Config) *int { return &c.Auth.PasswordMaxConcurrent }),
		intSetting("auth.login_failures_per_account", "failed logins of one account name tolerated per window before throttling (default 5)",
			func(c *Config) *int { return &c.Auth.LoginFailuresPerAccount }),
		intSetting("auth.login_failures_per_ip", "failed logins from one client IP tolerated per window before throttling (default 20)",
			func(c *Config) *int { return &c.Auth.LoginFailuresPerIP }),
		durationSetting("auth.login_failure_window", "window in which failed logins are counted (default 15m)",
			func(c *Config) *time.Duration { return &c.Auth.LoginFailureWindow }),
		durationSetting("auth.login_base_delay", "first wait imposed once failed logins are throttled; doubles with each further failure (default 1s)",
			func(c *Config) *time.Duration { return &c.Auth.LoginBaseDelay }),
		durationSetting("auth.login_max_delay", "longest wait imposed on failed logins (default 5m)",
			func(c *Config) *time.Duration { return &c.Auth.LoginMaxDelay }),

		rateSetting("limits.register_per_ip", "registrations admitted per client IP, as requests/window (default 60/1m)",
			func(c *Config) *Rate { return &c.Limits.RegisterPerIP }),
		rateSetting("limits.login_per_ip", "login and refresh requests admitted per client IP, as requests/window (default 60/1m)",
			func(c *Config) *Rate { return &c.Limits.LoginPerIP }),
		rateSetting("limits.message_per_user", "messages a user may send, as requests/window (default 10/10s)",
			func(c *Config) *Rate { return &c.Limits.MessagePerUser }),
		rateSetting("limits.message_per_ip", "messages one client IP may send, as requests/window (default 60/10s)",
			func(c *Config) *Rate { return &c.Limits.MessagePerIP }),
		rateSetting("limits.read_per_ip", "GET requests under /api/v1 admitted per client IP, as requests/window (default 600/1m)",
			func(c *Config) *Rate { return &c.Limits.ReadPerIP }),
		rateSetting("limits.write_per_ip_route", "other requests admitted per client IP and route, for routes without their own limit (default 120/1m)",
			func(c *Config) *Rate { return &c.Limits.WritePerIPRoute }),
		durationSetting("limits.penalty_base", "first penalty for a user who keeps sending while rate limited; doubles per repeat (default 10s)",
			func(c *Config) *time.Duration { return &c.Limits.PenaltyBase }),
		durationSetting("limits.penalty_max", "longest penalty (default 5m)",
			func(c *Config) *time.Duration { return &c.Limits.PenaltyMax }),
		durationSetting("limits.penalty_decay", "good behaviour after which a user's penalty level halves (default 1m)",
			func(c *Config) *time.Duration { return &c.Limits.PenaltyDecay }),
		{
			key:  "abuse.banned_users",
			help: "comma-separated user ids refused on every route (default empty; see also openguild admin ban)",
			want: "comma-separated user ids",
			set: func(c *Config, v string) error {
				c.Abuse.BannedUsers = nil
				for _, id := range strings.Split(v, ",") {
					if id = strings.TrimSpace(id); id != "" {
						c.Abuse.BannedUsers = append(c.Abuse.BannedUsers, id)
					}
				}
				return nil
			},
			get: func(c *Config) string { return strings.Join(c.Abuse.BannedUsers, ",") },
		},
		{
			key:  "abuse.banned_ips",
			help: "comma-separated CIDRs or addresses refused on every route (default empty)",
			want: "comma-separated CIDRs or addresses, such as 203.0.113.0/24",
			set: func(c *Config, v string) error {
				var prefixes []netip.Prefix
				for _, part := range strings.Split(v, ",") {
					if part = strings.TrimSpace(part); part == "" {
						continue
					}
					p, err := parsePrefix(part)
					if err != nil {
						return err
					}
					prefixes = append(prefixes, p)
				}
				c.Abuse.BannedIPs = prefixes
				return nil
			},
			get: func(c *Config) string {
				parts := make([]string, len(c.Abuse.BannedIPs))
				for i, p := range c.Abuse.BannedIPs {
					parts[i] = p.String()
				}
				return strings.Join(parts, ",")
			},
		},
		intSetting("gateway.max_connections", "gateway connections one node accepts; more answer 429 before the upgrade (default 10000)",
			func(c *Config) *int { return &c.Gateway.MaxConnections }),
		intSetting("gateway.max_per_user", "gateway connections one user may hold (default 16)",
			func(c *Config) *int { return &c.Gateway.MaxPerUser }),
		durationSetting("gateway.heartbeat_interval", "how often clients send a heartbeat; two missed intervals close the connection with 4009 (default 30s)",
			func(c *Config) *time.Duration { return &c.Gateway.HeartbeatInterval }),
		durationSetting("gateway.identify_timeout", "time a client has to identify after the upgrade before it is closed with 4003 (default 10s)",
			func(c *Config) *time.Duration { return &c.Gateway.IdentifyTimeout }),
		intSetting("gateway.resume_limit", "events replayed per channel on resume; beyond it the client gets resync_required (default 1000)",
			func(c *Config) *int { return &c.Gateway.ResumeLimit }),
		intSetting("gateway.send_queue", "frames buffered per connection; a client that lets it overflow is closed with 4010 (default 128)",
			func(c *Config) *int { return &c.Gateway.SendQueue }),
		rateSetting("gateway.upgrades_per_ip", "gateway connection attempts per client IP, as requests/window (default 60/1m)",
			func(c *Config) *Rate { return &c.Gateway.UpgradesPerIP }),
		intSetting("messages.content_max", "longest message, in characters after trimming (default 4000)",
			func(c *Config) *int { return &c.Messages.ContentMax }),
		intSetting("messages.name_max", "longest guild or channel name, in characters after trimming (default 64)",
			func(c *Config) *int { return &c.Messages.NameMax }),
	}, mediaSettings()...)
}

func intSetting(key, help string, field func(*Config) *int) setting {
	return setting{
		key:  key,
		help: help,
		want: "a whole number",
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return err
			}
			*field(c) = n
			return nil
		},
		get: func(c *Config) string { return strconv.Itoa(*field(c)) },
	}
}

func rateSetting(key, help string, field func(*Config) *Rate) setting {
	return setting{
		key:  key,
		help: help,
		want: "requests/window with a positive count and duration, such as 60/1m",
		set: func(c *Config, v string) error {
			count, window, ok := strings.Cut(v, "/")
			if !ok {
				return errors.New("missing /")
			}
			n, err := strconv.Atoi(count)
			if err != nil || n < 1 {
				return errors.New("count must be a positive whole number")
			}
			d, err := time.ParseDuration(window)
			if err != nil || d <= 0 {
				return errors.New("window must be a positive duration")
			}
			*field(c) = Rate{Requests: n, Window: d}
			return nil
		},
		get: func(c *Config) string { return field(c).String() },
	}
}

func stringSetting(key, help string, field func(*Config) *string) setting {
	return setting{
		key:  key,
		help: help,
		want: "a string",
		set:  func(c *Config, v string) error { *field(c) = v; return nil },
		get:  func(c *Config) string { return *field(c) },
	}
}

func secretSetting(key, help string, field func(*Config) *string) setting {
	s := stringSetting(key, help, field)
	s.secret = true
	return s
}

func enumSetting(key, help string, allowed []string, field func(*Config) *string) setting {
	return setting{
		key:  key,
		help: help,
		want: "one of " + strings.Join(allowed, ", "),
		set: func(c *Config, v string) error {
			for _, a := range allowed {
				if v == a {
					*field(c) = v
					return nil
				}
			}
			return fmt.Errorf("not one of %s", strings.Join(allowed, ", "))
		},
		get: func(c *Config) string { return *field(c) },
	}
}

func durationSetting(key, help string, field func(*Config) *time.Duration) setting {
	return setting{
		key:  key,
		help: help,
		want: "a Go duration such as 500ms, 10s or 2m",
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return err
			}
			*field(c) = d
			return nil
		},
		get: func(c *Config) string { return field(c).String() },
	}
}

func setLogLevel(c *Config, v string) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(v)); err != nil {
		return err
	}
	c.LogLevel = level
	return nil
}

func setPrefixes(c *Config, v string) error {
	var prefixes []netip.Prefix
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p, err := parsePrefix(part)
		if err != nil {
			return err
		}
		prefixes = append(prefixes, p)
	}
	c.TrustedProxies = prefixes
	return nil
}

// parsePrefix accepts a CIDR or a bare address, which stands for itself.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen()), nil
}

func getPrefixes(c *Config) string {
	parts := make([]string, len(c.TrustedProxies))
	for i, p := range c.TrustedProxies {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}
