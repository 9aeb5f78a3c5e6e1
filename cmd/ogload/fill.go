package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Fill and walk limits.
const (
	sampleSize      = 10_000           // message ids kept as read cursors
	maxFillFailures = 100              // server errors and transport failures tolerated in one fill
	progressEvery   = 10 * time.Second // interval between progress lines
	walkPage        = 100              // the largest page the contract allows
)

// errFillFailed stops the fill after a client error, which would repeat
// on every send, or after maxFillFailures other failures.
var errFillFailed = errors.New("fill failed")

// cursor is the part of a contract Message that history reads need.
type cursor struct {
	ID  string `json:"id"`
	Seq int64  `json:"seq"`
}

// reservoir keeps a uniform random sample of at most size cursors from a
// stream of unknown length (reservoir sampling, Vitter's algorithm R).
type reservoir struct {
	size int

	mu    sync.Mutex // guards the fields below
	seen  int64
	items []cursor
}

func (r *reservoir) add(c cursor) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen++
	if len(r.items) < r.size {
		r.items = append(r.items, c)
		return
	}
	if j := rand.Int64N(r.seen); j < int64(r.size) {
		r.items[j] = c
	}
}

func (r *reservoir) snapshot() []cursor {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.items)
}

// fillResult is the outcome of fillChannel.
type fillResult struct {
	committed int64
	sample    []cursor
	sends     tally
	elapsed   time.Duration
}

// filler is the state the senders of one fill share.
type filler struct {
	c       *client
	path    string
	content string
	total   int64
	sample  *reservoir
	abort   context.CancelCauseFunc

	claimed   atomic.Int64 // sends started or committed, so no more than total commit
	committed atomic.Int64
	failed    atomic.Int64
}

// fillChannel sends total messages to f's first channel, one sender per
// session, and keeps a sample of their ids. It stops early after timeout,
// which is not an error, after a client error or too many other
// failures, or when ctx ends. Progress goes to progress every
// progressEvery.
func fillChannel(ctx context.Context, c *client, f *fixture, total int64, content, runID string, timeout time.Duration, progress io.Writer) (fillResult, error) {
	timed, cancelTimed := context.WithTimeout(ctx, timeout)
	defer cancelTimed()
	fillCtx, abort := context.WithCancelCause(timed)
	defer abort(nil)

	fl := &filler{c: c, path: "/api/v1/channels/" + f.channelIDs[0] + "/messages", content: content,
		total: total, sample: &reservoir{size: sampleSize}, abort: abort}
	tallies := make([]tally, len(f.sessions))
	start := time.Now()
	stopProgress := startProgress(progress, "fill", total, fl.committed.Load)

	var wg sync.WaitGroup
	for i, s := range f.sessions {
		wg.Go(func() { fl.send(fillCtx, s, runID+"."+strconv.FormatInt(int64(i), 36), &tallies[i]) })
	}
	wg.Wait()
	stopProgress()

	result := fillResult{committed: fl.committed.Load(), sample: fl.sample.snapshot(), elapsed: time.Since(start)}
	for i := range tallies {
		result.sends.merge(&tallies[i])
	}
	switch {
	case errors.Is(context.Cause(fillCtx), errFillFailed):
		return result, fmt.Errorf("fill stopped after %d messages: %w", result.committed, result.sends.firstErr)
	case ctx.Err() != nil:
		return result, fmt.Errorf("fill interrupted after %d messages: %w", result.committed, ctx.Err())
	case result.committed < total:
		fmt.Fprintf(progress, "fill: -fill-timeout %s passed with %d of %d messages committed, plus up to %d whose sends the timeout cut off; reading what was filled\n",
			timeout, result.committed, total, len(f.sessions))
	}
	return result, nil
}

// send is one sender's loop: it sends as s until the fill has claimed
// every message or ctx ends. A failed send gives its claim back, so
// another sender retries it with a new nonce.
func (fl *filler) send(ctx context.Context, s *session, noncePrefix string, t *tally) {
	for n := int64(0); ctx.Err() == nil && fl.claimed.Add(1) <= fl.total; n++ {
		token, err := s.token(ctx, fl.c)
		if err != nil {
			if ctx.Err() == nil {
				t.recordFailure("refresh", err)
				fl.abort(errFillFailed)
			}
			return
		}

		body := map[string]string{"content": fl.content, "nonce": noncePrefix + "." + strconv.FormatInt(n, 36)}
		sent := time.Now()
		var msg cursor
		status, err := fl.c.do(ctx, "POST", fl.path, token, body, &msg)
		elapsed := time.Since(sent)

		switch {
		case err != nil && ctx.Err() != nil:
			return // cut off by the timeout or Ctrl-C; the message may or may not be committed
		case status == http.StatusCreated && err != nil:
			fl.committed.Add(1)
			t.recordFailure("bad response", err)
			continue
		case status == http.StatusCreated:
			fl.committed.Add(1)
			fl.sample.add(msg)
			t.recordOK(elapsed)
			continue
		case err == nil:
			err = fmt.Errorf("POST %s: status %d, expected 201", fl.path, status)
		}

		fl.claimed.Add(-1)
		t.recordFailure(statusKey(status), err)
		// A client error repeats on every send, so one is enough to stop.
		if status/100 == 4 || fl.failed.Add(1) > maxFillFailures {
			fl.abort(errFillFailed)
			return
		}
	}
}

// walkChannel pages through a channel from newest to oldest, counting its
// messages and sampling their ids, for a run that reuses a channel filled
// before. The walk is bounded by the channel's last_seq and by timeout.
func walkChannel(ctx context.Context, c *client, channelID, token string, timeout time.Duration, progress io.Writer) (int64, []cursor, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var channel struct {
		LastSeq int64 `json:"last_seq"`
	}
	if err := doRetry(ctx, c, progress, "GET", "/api/v1/channels/"+channelID, token, nil, &channel); err != nil {
		return 0, nil, fmt.Errorf("get channel %s: %w", channelID, err)
	}

	var count atomic.Int64
	stopProgress := startProgress(progress, "walk", 0, count.Load)
	defer stopProgress()
	sample := &reservoir{size: sampleSize}
	var older *cursor // oldest message seen so far, the next page's cursor
	maxPages := channel.LastSeq/walkPage + 2
	for range maxPages {
		query := url.Values{"limit": {strconv.Itoa(walkPage)}}
		if older != nil {
			query.Set("before", older.ID)
		}
		var page []cursor
		if err := doRetry(ctx, c, progress, "GET", "/api/v1/channels/"+channelID+"/messages?"+query.Encode(), token, nil, &page); err != nil {
			return count.Load(), nil, fmt.Errorf("walk channel %s after %d messages: %w", channelID, count.Load(), err)
		}
		if len(page) == 0 {
			return count.Load(), sample.snapshot(), nil
		}
		if err := checkPage(page, walkPage, older, false); err != nil {
			return count.Load(), nil, fmt.Errorf("walk channel %s: %w", channelID, err)
		}

		for _, m := range page {
			sample.add(m)
		}
		count.Add(int64(len(page)))
		older = &page[0]
		if len(page) < walkPage {
			return count.Load(), sample.snapshot(), nil
		}
	}
	return count.Load(), nil, fmt.Errorf("walk channel %s: more than %d pages for last_seq %d; the before cursor does not advance", channelID, maxPages, channel.LastSeq)
}

// startProgress prints count every progressEvery until the returned stop
// function is called. stop returns once the printing goroutine has
// exited. total of 0 means the total is unknown.
func startProgress(w io.Writer, label string, total int64, count func() int64) (stop func()) {
	quit, exited := make(chan struct{}), make(chan struct{})
	start := time.Now()
	go func() {
		defer close(exited)
		ticker := time.NewTicker(progressEvery)
		defer ticker.Stop()
		var last int64
		for {
			select {
			case <-quit:
				return
			case <-ticker.C:
				n := count()
				of := ""
				if total > 0 {
					of = " of " + strconv.FormatInt(total, 10)
				}
				fmt.Fprintf(w, "%s: %d%s messages after %s, %.0f/s over the last %s\n",
					label, n, of, time.Since(start).Round(time.Second), float64(n-last)/progressEvery.Seconds(), progressEvery)
				last = n
			}
		}
	}()
	return func() {
		close(quit)
		<-exited
	}
}
