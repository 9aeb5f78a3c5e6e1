package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openguild/openguild/internal/cli"
	"github.com/openguild/openguild/internal/metrics"
)

// syncBuffer is a bytes.Buffer safe for the server's log writes and the
// test's reads at once.
type syncBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newEnv(args []string, vars map[string]string) (cli.Env, *syncBuffer, *syncBuffer) {
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	return cli.Env{
		Args: args,
		LookupEnv: func(name string) (string, bool) {
			v, ok := vars[name]
			return v, ok
		},
		Stdin:  strings.NewReader(""),
		Stdout: stdout,
		Stderr: stderr,
		Build:  metrics.Build{Version: "v0.0.0-test", Commit: "abc1234"},
	}, stdout, stderr
}

// listenAddr polls the JSON log for the "listening" line of listener and
// returns its address.
func listenAddr(t *testing.T, logs *syncBuffer, listener string, done <-chan error) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		scanner := bufio.NewScanner(strings.NewReader(logs.String()))
		for scanner.Scan() {
			var line struct {
				Msg      string `json:"msg"`
				Listener string `json:"listener"`
				Addr     string `json:"addr"`
			}
			if json.Unmarshal(scanner.Bytes(), &line) == nil && line.Msg == "listening" && line.Listener == listener {
				return line.Addr
			}
		}
		select {
		case err := <-done:
			t.Fatalf("server exited before listening: %v\n%s", err, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("no listening line for %s within 15s:\n%s", listener, logs.String())
	return ""
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestServeStartsAndStopsCleanly(t *testing.T) {
	dataDir := t.TempDir()
	env, _, stderr := newEnv([]string{"--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--data-dir", dataDir}, nil)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cli.Run(ctx, env) }()

	client := listenAddr(t, stderr, "client", done)
	monitor := listenAddr(t, stderr, "metrics", done)

	if status, body := get(t, "http://"+client+"/health"); status != 200 || !strings.Contains(body, `"ok"`) {
		t.Errorf("/health: %d %s", status, body)
	}
	if status, body := get(t, "http://"+client+"/version"); status != 200 || !strings.Contains(body, "v0.0.0-test") {
		t.Errorf("/version: %d %s", status, body)
	}
	if status, _ := get(t, "http://"+monitor+"/metrics"); status != 200 {
		t.Errorf("/metrics on the metrics listener: %d", status)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "openguild.db")); err != nil {
		t.Errorf("SQLite database not created in the data directory: %v", err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run returned %v after shutdown, want nil (exit 0)", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("server did not stop within 15s of shutdown")
	}
	for _, step := range []string{"shutdown requested", "listeners stopped", "database closed", "stopped"} {
		if !strings.Contains(stderr.String(), `"msg":"`+step+`"`) {
			t.Errorf("log lacks the %q step", step)
		}
	}
	if _, err := net.DialTimeout("tcp", client, time.Second); err == nil {
		t.Error("client port still accepts connections after shutdown")
	}
}

func TestServeRejectsAddressInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()

	env, _, _ := newEnv([]string{"--listen", busy.Addr().String(), "--metrics-listen", "", "--data-dir", t.TempDir()}, nil)
	err = cli.Run(context.Background(), env)
	if err == nil {
		t.Fatal("Run succeeded on a busy port")
	}
	if !strings.Contains(err.Error(), busy.Addr().String()) || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("error %q does not name the address and the cause", err)
	}
	if code := cli.ExitCode(err); code != cli.ExitFailure {
		t.Errorf("exit code %d, want %d", code, cli.ExitFailure)
	}
}

func TestServeRejectsUnreachableDatabase(t *testing.T) {
	env, _, _ := newEnv([]string{"--listen", "127.0.0.1:0", "--metrics-listen", "",
		"--database-url", "postgres://og:hunter2@127.0.0.1:1/og?connect_timeout=2"}, nil)
	err := cli.Run(context.Background(), env)
	if err == nil {
		t.Fatal("Run succeeded without a database")
	}
	if !strings.Contains(err.Error(), "127.0.0.1:1/og") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %q should name the database without its password", err)
	}
}

func TestBadConfigurationExitsWithUsageStatus(t *testing.T) {
	tests := []struct {
		name string
		args []string
		vars map[string]string
	}{
		{"bad flag value", []string{"--registration", "maybe"}, nil},
		{"unknown flag", []string{"--no-such-flag"}, nil},
		{"bad environment value", nil, map[string]string{"OPENGUILD_SHUTDOWN_GRACE": "-1s"}},
		{"unknown command", []string{"frobnicate"}, nil},
		{"serve with stray argument", []string{"serve", "extra"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _, _ := newEnv(tt.args, tt.vars)
			err := cli.Run(context.Background(), env)
			if code := cli.ExitCode(err); code != cli.ExitUsage {
				t.Errorf("exit code %d (err %v), want %d", code, err, cli.ExitUsage)
			}
		})
	}
}

func TestVersionCommand(t *testing.T) {
	env, stdout, _ := newEnv([]string{"version"}, nil)
	if err := cli.Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	if got := stdout.String(); !strings.Contains(got, "v0.0.0-test") || !strings.Contains(got, "abc1234") {
		t.Errorf("version printed %q", got)
	}
}

func TestMigrateCommand(t *testing.T) {
	dataDir := t.TempDir()
	env, stdout, _ := newEnv([]string{"migrate", "--data-dir", dataDir}, nil)
	if err := cli.Run(context.Background(), env); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if strings.Contains(stdout.String(), "applied 0 migrations") || !strings.Contains(stdout.String(), "applied ") {
		t.Errorf("first migrate printed %q", stdout.String())
	}

	env, stdout, _ = newEnv([]string{"migrate", "--data-dir", dataDir}, nil)
	if err := cli.Run(context.Background(), env); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if !strings.Contains(stdout.String(), "applied 0 migrations") {
		t.Errorf("second migrate printed %q", stdout.String())
	}
}

func TestConfigCommandRedacts(t *testing.T) {
	env, stdout, _ := newEnv([]string{"config", "--metrics-token", "s3cret"},
		map[string]string{"OPENGUILD_DATABASE_URL": "postgres://og:pw123@db:5432/og"})
	if err := cli.Run(context.Background(), env); err != nil {
		t.Fatalf("config: %v", err)
	}
	out := stdout.String()
	if strings.Contains(out, "s3cret") || strings.Contains(out, "pw123") {
		t.Errorf("config printed a secret:\n%s", out)
	}
	if !strings.Contains(out, "listen: 127.0.0.1:8080") {
		t.Errorf("config output lacks the listen default:\n%s", out)
	}
}

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, []byte("listen: 127.0.0.1:9000\n"), 0o600)
	os.WriteFile(bad, []byte("listen: 127.0.0.1:9000\nlisen: typo\n"), 0o600)

	env, stdout, _ := newEnv([]string{"config", "check", good}, nil)
	if err := cli.Run(context.Background(), env); err != nil {
		t.Fatalf("check good file: %v", err)
	}
	if !strings.Contains(stdout.String(), "valid") {
		t.Errorf("check printed %q", stdout.String())
	}

	env, _, _ = newEnv([]string{"config", "check", bad}, nil)
	err := cli.Run(context.Background(), env)
	if cli.ExitCode(err) != cli.ExitUsage || !strings.Contains(err.Error(), `"lisen"`) {
		t.Errorf("check bad file: err %v, want exit %d naming the key", err, cli.ExitUsage)
	}
}
