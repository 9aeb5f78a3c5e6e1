package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/openguild/openguild/internal/config"
	"github.com/openguild/openguild/internal/metrics"
	"github.com/openguild/openguild/internal/server"
)

func testConfig(t *testing.T) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.MetricsListen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	return cfg
}

func start(t *testing.T, cfg config.Config) *server.Server {
	t.Helper()
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	srv, err := server.New(context.Background(), cfg, logger, metrics.Build{Version: "test", Commit: "test"})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	srv.Start()
	return srv
}

func TestTLSServesHTTP2(t *testing.T) {
	cfg := testConfig(t)
	certPEM, pool := writeSelfSignedCert(t, cfg.DataDir)
	cfg.TLSCertFile, cfg.TLSKeyFile = certPEM, filepath.Join(cfg.DataDir, "key.pem")

	srv := start(t, cfg)
	defer srv.Shutdown(context.Background())

	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool},
		ForceAttemptHTTP2: true,
	}}
	resp, err := client.Get("https://" + srv.ClientAddr() + "/health")
	if err != nil {
		t.Fatalf("GET over TLS: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d, want 200", resp.StatusCode)
	}
	if resp.ProtoMajor != 2 {
		t.Errorf("protocol %s, want HTTP/2", resp.Proto)
	}
}

func TestTLSWithMissingKeyFails(t *testing.T) {
	cfg := testConfig(t)
	cfg.TLSCertFile = filepath.Join(cfg.DataDir, "missing-cert.pem")
	cfg.TLSKeyFile = filepath.Join(cfg.DataDir, "missing-key.pem")

	_, err := server.New(context.Background(), cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)), metrics.Build{})
	if err == nil {
		t.Fatal("server.New succeeded without certificate files")
	}
}

func TestShutdownIsIdempotentAndLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	srv := start(t, testConfig(t))

	resp, err := http.Get("http://" + srv.ClientAddr() + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	first := srv.Shutdown(ctx)
	second := srv.Shutdown(ctx)
	if first != nil || second != nil {
		t.Fatalf("Shutdown returned %v then %v, want nil twice", first, second)
	}
	srv.Start() // must not serve again after shutdown

	if _, err := net.DialTimeout("tcp", srv.ClientAddr(), time.Second); err == nil {
		t.Error("client port accepts connections after shutdown")
	}

	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after shutdown, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestShutdownWaitsForInFlightRequests(t *testing.T) {
	// A slow request is simulated by a client that sends its headers and
	// holds the body: the server must keep it until the grace period ends.
	srv := start(t, testConfig(t))
	conn, err := net.Dial("tcp", srv.ClientAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{")); err != nil {
		t.Fatal(err)
	}
	waitForInFlight(t, srv, 1)

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = srv.Shutdown(ctx)
	if err == nil {
		t.Error("Shutdown returned nil while a request was still in flight past the grace period")
	}
	if waited := time.Since(start); waited < 250*time.Millisecond {
		t.Errorf("Shutdown returned after %s, before the grace period", waited)
	}
}

// writeSelfSignedCert writes a certificate for 127.0.0.1 and its key to
// dir and returns the certificate's path and a pool that trusts it.
func writeSelfSignedCert(t *testing.T, dir string) (string, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "openguild test"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}

	certPath := filepath.Join(dir, "cert.pem")
	os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)

	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return certPath, pool
}

// waitForInFlight polls the in-flight gauge on the metrics listener until
// it reads want.
func waitForInFlight(t *testing.T, srv *server.Server, want int) {
	t.Helper()
	line := fmt.Sprintf("openguild_http_requests_in_flight %d\n", want)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + srv.MetricsAddr() + "/metrics")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(body), line) {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("in-flight requests never reached %d", want)
}
