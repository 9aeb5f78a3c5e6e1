package config_test

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openguild/openguild/internal/config"
)

// load parses args and loads the configuration with env as the only
// environment.
func load(t *testing.T, args []string, env map[string]string) (config.Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	flags := config.Bind(fs)
	if err := fs.Parse(args); err != nil {
		return config.Config{}, err
	}
	return flags.Load(func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	})
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "openguild.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDefaults(t *testing.T) {
	cfg, err := load(t, nil, nil)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if cfg.Listen != "127.0.0.1:8080" || cfg.MetricsListen != "127.0.0.1:9464" || cfg.DataDir != "./data" ||
		cfg.ServerName != "localhost" || cfg.Registration != "open" || cfg.ShutdownGrace != 5*time.Second ||
		cfg.DatabaseURL != "" || len(cfg.TrustedProxies) != 0 {
		t.Errorf("defaults %+v do not match the documented ones", cfg)
	}
}

func TestLayersOverrideInOrder(t *testing.T) {
	file := writeFile(t, "listen: 127.0.0.1:1001\nmetrics_listen: 127.0.0.1:2001\ndata_dir: /from/file\nserver_name: file.example\n")
	env := map[string]string{
		"OPENGUILD_CONFIG":         file,
		"OPENGUILD_METRICS_LISTEN": "127.0.0.1:2002",
		"OPENGUILD_DATA_DIR":       "/from/env",
	}
	cfg, err := load(t, []string{"--data-dir", "/from/flag"}, env)
	if err != nil {
		t.Fatalf("load: %v", err)
	}

	checks := []struct{ key, got, want string }{
		{"listen (file)", cfg.Listen, "127.0.0.1:1001"},
		{"metrics_listen (env over file)", cfg.MetricsListen, "127.0.0.1:2002"},
		{"data_dir (flag over env)", cfg.DataDir, "/from/flag"},
		{"server_name (file)", cfg.ServerName, "file.example"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.key, c.got, c.want)
		}
	}
}

func TestConfigFlagBeatsEnvironmentFile(t *testing.T) {
	fromEnv := writeFile(t, "server_name: env.example\n")
	fromFlag := writeFile(t, "server_name: flag.example\n")
	cfg, err := load(t, []string{"--config", fromFlag}, map[string]string{"OPENGUILD_CONFIG": fromEnv})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if cfg.ServerName != "flag.example" {
		t.Errorf("server_name = %q, want the --config file's value", cfg.ServerName)
	}
}

func TestEmptyMetricsListenDisables(t *testing.T) {
	cfg, err := load(t, nil, map[string]string{"OPENGUILD_METRICS_LISTEN": ""})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if cfg.MetricsListen != "" {
		t.Errorf("metrics_listen = %q, want empty", cfg.MetricsListen)
	}
}

func TestNestedAndListValues(t *testing.T) {
	file := writeFile(t, "trusted_proxies:\n  - 10.0.0.0/8\n  - 192.0.2.1\nlog_level: debug\nshutdown_grace: 1500ms\n")
	cfg, err := load(t, []string{"--config", file}, nil)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if len(cfg.TrustedProxies) != 2 || cfg.TrustedProxies[1].String() != "192.0.2.1/32" {
		t.Errorf("trusted_proxies = %v, want [10.0.0.0/8 192.0.2.1/32]", cfg.TrustedProxies)
	}
	if cfg.LogLevel != slog.LevelDebug {
		t.Errorf("log_level = %v, want debug", cfg.LogLevel)
	}
	if cfg.ShutdownGrace != 1500*time.Millisecond {
		t.Errorf("shutdown_grace = %v, want 1.5s", cfg.ShutdownGrace)
	}
}

func TestInvalidConfiguration(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		file     string
		wantText []string
	}{
		{name: "malformed YAML", file: "listen: [unclosed\n", wantText: []string{"parse config file", "line"}},
		{name: "top level not a mapping", file: "- a\n- b\n", wantText: []string{"must be a mapping"}},
		{name: "unknown key", file: "listen: 127.0.0.1:1\nlisten_adress: x\n", wantText: []string{`unknown key "listen_adress"`, "line 2"}},
		{name: "unknown nested key", file: "auth:\n  nope: 1\n", wantText: []string{`unknown key "auth.nope"`}},
		{name: "bad duration in file", file: "shutdown_grace: soon\n", wantText: []string{`"soon"`, "shutdown_grace", "line 1", "Go duration"}},
		{name: "bad listen from env", env: map[string]string{"OPENGUILD_LISTEN": "localhost"}, wantText: []string{`"localhost"`, "listen", "host:port"}},
		{name: "bad registration flag", args: []string{"--registration", "sometimes"}, wantText: []string{`"sometimes"`, "registration", "--registration", "open, invite, closed"}},
		{name: "bad proxy CIDR", env: map[string]string{"OPENGUILD_TRUSTED_PROXIES": "10.0.0.0/33"}, wantText: []string{"trusted_proxies", "OPENGUILD_TRUSTED_PROXIES"}},
		{name: "bad log level", args: []string{"--log-level", "loud"}, wantText: []string{"log_level", "debug, info, warn, error"}},
		{name: "hostname listen address", args: []string{"--listen", "example.com:80"}, wantText: []string{"listen", "IP address or localhost"}},
		{name: "tls cert without key", args: []string{"--tls-cert-file", "/c.pem"}, wantText: []string{"tls_key_file"}},
		{name: "unsupported database scheme", args: []string{"--database-url", "mysql://u:pw@h/db"}, wantText: []string{"database_url", "postgres://"}},
		{name: "zero shutdown grace", args: []string{"--shutdown-grace", "0s"}, wantText: []string{"shutdown_grace", "positive"}},
		{name: "server name with space", args: []string{"--server-name", "my server"}, wantText: []string{"server_name"}},
		{name: "missing config file", args: []string{"--config", "/nonexistent/openguild.yaml"}, wantText: []string{"read config file", "/nonexistent/openguild.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.file != "" {
				args = append(args, "--config", writeFile(t, tt.file))
			}
			_, err := load(t, args, tt.env)
			if err == nil {
				t.Fatal("load succeeded, want an error")
			}
			for _, want := range tt.wantText {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestValueErrorsAreTyped(t *testing.T) {
	_, err := load(t, []string{"--listen", "nope"}, nil)
	var cfgErr *config.Error
	if !errors.As(err, &cfgErr) {
		t.Fatalf("error %v is not a *config.Error", err)
	}
	if cfgErr.Key != "listen" || cfgErr.Value != "nope" {
		t.Errorf("error names key %q value %q, want listen and nope", cfgErr.Key, cfgErr.Value)
	}
}

func TestWriteRedactsSecrets(t *testing.T) {
	cfg, err := load(t, []string{
		"--database-url", "postgres://og:topsecret@127.0.0.1:5432/og",
		"--metrics-token", "scrape-secret",
	}, nil)
	if err != nil {
		t.Fatalf("load: %v", err)
	}

	var out bytes.Buffer
	if err := cfg.Write(&out); err != nil {
		t.Fatalf("write: %v", err)
	}
	text := out.String()
	for _, secret := range []string{"topsecret", "scrape-secret"} {
		if strings.Contains(text, secret) {
			t.Errorf("printed configuration contains %q:\n%s", secret, text)
		}
	}
	if !strings.Contains(text, "postgres://og:redacted@127.0.0.1:5432/og") {
		t.Errorf("printed configuration lacks the redacted URL:\n%s", text)
	}
}

func TestWrittenConfigurationLoadsBack(t *testing.T) {
	cfg, err := load(t, []string{"--trusted-proxies", "10.0.0.0/8,::1", "--server-name", "chat.example.org"}, nil)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	var out bytes.Buffer
	if err := cfg.Write(&out); err != nil {
		t.Fatalf("write: %v", err)
	}

	again, err := config.CheckFile(writeFile(t, out.String()))
	if err != nil {
		t.Fatalf("load written configuration: %v\n%s", err, out.String())
	}
	if again.ServerName != "chat.example.org" || len(again.TrustedProxies) != 2 {
		t.Errorf("round trip lost values: %+v", again)
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://u:pw@h:5432/db", "postgres://u:redacted@h:5432/db"},
		{"postgres://u@h/db", "postgres://u@h/db"},
		{"postgres://h/db?password=pw&sslmode=disable", "postgres://h/db?password=redacted&sslmode=disable"},
		{"sqlite:/var/lib/og.db", "sqlite:/var/lib/og.db"},
	}
	for _, tt := range tests {
		if got := config.RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
