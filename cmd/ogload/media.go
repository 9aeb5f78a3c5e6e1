package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
)

// runMedia measures uploads and downloads of files. Each of -concurrency
// users uploads -rounds files of -size bytes back to back, each followed
// by its download. Every file is new pseudo-random bytes, so the server
// stores each one. It reports median and aggregate throughput both ways
// and, with -server-pid, the server's peak RSS.
func runMedia(ctx context.Context, opts options, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ogload media", flag.ContinueOnError)
	fs.SetOutput(stderr)
	concurrency := fs.Int("concurrency", 1, "users uploading at once, each with its own account")
	size := fs.Int64("size", 10<<20, "bytes per file; the server's media.max_upload_size must admit it")
	rounds := fs.Int("rounds", 5, "files each user uploads and downloads, at most 30")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *concurrency < 1 || *concurrency > 200 || *size < 1 || *rounds < 1 || *rounds > 30 {
		return errors.New("want 1 <= -concurrency <= 200, -size >= 1 and 1 <= -rounds <= 30")
	}

	c := newClient(opts.server, *concurrency)
	sessions, err := createSessions(ctx, c, *concurrency, randomHex(4), stderr)
	if err != nil {
		return err
	}

	var mu sync.Mutex // guards the fields below
	var up, down []float64
	var failures int
	var firstErr error
	start := time.Now()
	var wg sync.WaitGroup
	for w, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range *rounds {
				token, err := s.token(ctx, c)
				var upRate, downRate float64
				if err == nil {
					upRate, downRate, err = mediaRound(ctx, c, token, *size, uint64(w*1000+r))
				}
				mu.Lock()
				if err != nil {
					failures++
					if firstErr == nil {
						firstErr = err
					}
				} else {
					up, down = append(up, upRate), append(down, downRate)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	moved := float64(len(up)) * float64(*size) / 1e6
	fmt.Fprintf(stdout, "scenario\tconcurrency\tsize MiB\tfiles\tfailures\tupload MB/s median\tdownload MB/s median\tround trips MB/s total\tserver peak RSS MiB\n")
	fmt.Fprintf(stdout, "media\t%d\t%.1f\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f\n", *concurrency, float64(*size)/(1<<20),
		len(up), failures, median(up), median(down), 2*moved/elapsed.Seconds(), float64(peakRSS(opts.serverPID))/1024)
	if firstErr != nil {
		fmt.Fprintln(stderr, "first failure:", firstErr)
	}
	return nil
}

// mediaRound uploads size pseudo-random bytes as a raw body, downloads
// them again, and returns both rates in MB/s.
func mediaRound(ctx context.Context, c *client, token string, size int64, seed uint64) (float64, float64, error) {
	body := io.LimitReader(rand.NewChaCha8(seedBytes(seed)), size)
	req, err := http.NewRequestWithContext(ctx, "POST", c.base+"/api/v1/media?filename=load.bin", body)
	if err != nil {
		return 0, 0, err
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Authorization", "Bearer "+token)

	t0 := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("upload: %w", err)
	}
	var media struct {
		ID string `json:"id"`
	}
	err = json.NewDecoder(resp.Body).Decode(&media)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || err != nil {
		return 0, 0, fmt.Errorf("upload: status %d: %v", resp.StatusCode, err)
	}
	upRate := float64(size) / 1e6 / time.Since(t0).Seconds()

	req, err = http.NewRequestWithContext(ctx, "GET", c.base+"/api/v1/media/"+media.ID, nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	t0 = time.Now()
	resp, err = c.http.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("download: %w", err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err != nil || n != size {
		return 0, 0, fmt.Errorf("download: status %d, %d of %d bytes: %v", resp.StatusCode, n, size, err)
	}
	return upRate, float64(size) / 1e6 / time.Since(t0).Seconds(), nil
}

func seedBytes(seed uint64) [32]byte {
	var b [32]byte
	for i := range 8 {
		b[i] = byte(seed >> (8 * i))
	}
	return b
}

func median(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	return sorted[len(sorted)/2]
}
