package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"sync"
	"time"
)

// runLogin measures password logins: each worker logs in again and again
// as one account, so the server's Argon2id hashing is what is measured.
// Start the server with a login limit above the load, for example
// --limits-login-per-ip 1000000/1m.
func runLogin(ctx context.Context, opts options, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ogload login", flag.ContinueOnError)
	fs.SetOutput(stderr)
	concurrency := fs.Int("concurrency", 50, "logins in flight at once")
	duration := fs.Duration("duration", 10*time.Second, "how long to run, at most 5m")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *concurrency < 1 || *duration <= 0 || *duration > 5*time.Minute {
		return fmt.Errorf("want -concurrency >= 1 and 0 < -duration <= 5m")
	}

	c := newClient(opts.server, *concurrency)
	username, password := "load-"+randomHex(4), "load password "+randomHex(8)
	if _, err := c.do(ctx, "POST", "/api/v1/auth/register", "", map[string]string{"username": username, "password": password}, nil); err != nil {
		return fmt.Errorf("register load user: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, *duration)
	defer cancel()
	start := time.Now()

	var mu sync.Mutex // guards all and failures
	var all latencies
	var failures int
	var firstErr error
	var wg sync.WaitGroup
	for w := range *concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := map[string]any{"username": username, "password": password,
				"device": map[string]string{"id": fmt.Sprintf("load-%d", w), "name": "ogload"}}
			for ctx.Err() == nil {
				t0 := time.Now()
				_, err := c.do(ctx, "POST", "/api/v1/auth/login", "", body, nil)
				elapsed := time.Since(t0)
				mu.Lock()
				if err != nil && ctx.Err() == nil {
					failures++
					if firstErr == nil {
						firstErr = err
					}
				} else if err == nil {
					all = append(all, elapsed)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	fmt.Fprintf(stdout, "scenario\tconcurrency\tlogins\tfailures\tlogins/s\tp50 ms\tp99 ms\tmax ms\tserver peak RSS MiB\n")
	fmt.Fprintf(stdout, "login\t%d\t%d\t%d\t%.1f\t%s\t%s\t%s\t%.1f\n", *concurrency, len(all), failures,
		float64(len(all))/elapsed.Seconds(), ms(all.percentile(0.5)), ms(all.percentile(0.99)), ms(all.max()),
		float64(peakRSS(opts.serverPID))/1024)
	if firstErr != nil {
		fmt.Fprintln(stderr, "first failure:", firstErr)
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
