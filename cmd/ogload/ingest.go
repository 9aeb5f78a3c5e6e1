package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Limits on ingest's flags.
const (
	maxIngestDuration = 5 * time.Minute
	maxSenders        = 10_000
	maxContentBytes   = 60_000 // leaves room for the JSON around it in a 64 KiB body
)

// runIngest measures message sends: each sender is its own user and
// sends to its channel back to back, one request in flight at a time,
// with a new nonce each time. Start the server with serverFlags, or the
// default per-user and per-IP message limits cap the load.
func runIngest(ctx context.Context, opts options, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ogload ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	senders := fs.Int("senders", 32, "concurrent senders, each its own user")
	duration := fs.Duration("duration", 10*time.Second, "how long to send, at most 5m")
	channels := fs.Int("channels", 1, "text channels the senders share round-robin: 1 puts all in one channel, -senders gives each its own")
	contentBytes := fs.Int("content-bytes", 64, "bytes of ASCII content per message, 1 to 60000; the server rejects more than its content limit, 4000 characters by default")
	maxMessages := fs.Int64("max-messages", 5_000_000, "stop after this many sends even if -duration has not passed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *senders < 1 || *senders > maxSenders:
		return fmt.Errorf("invalid -senders %d: must be 1 to %d", *senders, maxSenders)
	case *channels < 1 || *channels > *senders:
		return fmt.Errorf("invalid -channels %d: must be 1 to -senders (%d)", *channels, *senders)
	case *duration <= 0 || *duration > maxIngestDuration:
		return fmt.Errorf("invalid -duration %s: must be more than 0 and at most %s", *duration, maxIngestDuration)
	case *contentBytes < 1 || *contentBytes > maxContentBytes:
		return fmt.Errorf("invalid -content-bytes %d: must be 1 to %d", *contentBytes, maxContentBytes)
	case *maxMessages < 1:
		return fmt.Errorf("invalid -max-messages %d: must be at least 1", *maxMessages)
	}

	c := newClient(opts.server, *senders)
	runID := randomHex(4)
	f, err := setupGuild(ctx, c, *senders, *channels, runID, stderr)
	if err != nil {
		return fmt.Errorf("set up ingest: %w", err)
	}

	content := makeContent(*contentBytes)
	sendCtx, cancel := context.WithTimeout(ctx, *duration)
	defer cancel()
	var budget atomic.Int64
	budget.Store(*maxMessages)
	tallies := make([]tally, *senders)
	start := time.Now()

	var wg sync.WaitGroup
	for i, s := range f.sessions {
		channelID := f.channelIDs[i%len(f.channelIDs)]
		wg.Go(func() {
			sendLoop(sendCtx, c, s, channelID, runID+"."+strconv.FormatInt(int64(i), 36), content, &budget, &tallies[i])
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	var total tally
	for i := range tallies {
		total.merge(&tallies[i])
	}
	fmt.Fprintf(stdout, "scenario\tsenders\tchannels\tcontent bytes\tcommitted\tfailures\tmessages/s\tp50 ms\tp99 ms\tmax ms\tserver peak RSS MiB\tfailures by status\n")
	fmt.Fprintf(stdout, "ingest\t%d\t%d\t%d\t%d\t%d\t%.1f\t%s\t%s\t%s\t%.1f\t%s\n",
		*senders, *channels, *contentBytes, len(total.ok), total.failureCount(),
		float64(len(total.ok))/elapsed.Seconds(),
		ms(total.ok.percentile(0.5)), ms(total.ok.percentile(0.99)), ms(total.ok.max()),
		float64(peakRSS(opts.serverPID))/1024, total.failureSummary())
	total.reportFailures(stderr)
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted after %s; the table covers the sends until then", elapsed.Round(time.Millisecond))
	}
	return nil
}

// sendLoop sends messages as s to one channel until ctx ends or budget
// runs out. Every nonce is noncePrefix and a counter, so none repeats.
// Only 201 counts as committed: a 200 would mean the server took a new
// nonce for a replay.
func sendLoop(ctx context.Context, c *client, s *session, channelID, noncePrefix, content string, budget *atomic.Int64, t *tally) {
	path := "/api/v1/channels/" + channelID + "/messages"
	for n := int64(0); ctx.Err() == nil && budget.Add(-1) >= 0; n++ {
		token, err := s.token(ctx, c)
		if err != nil {
			if ctx.Err() == nil {
				t.recordFailure("refresh", err)
			}
			return
		}

		body := map[string]string{"content": content, "nonce": noncePrefix + "." + strconv.FormatInt(n, 36)}
		sent := time.Now()
		status, err := c.do(ctx, "POST", path, token, body, nil)
		elapsed := time.Since(sent)
		switch {
		case err != nil && ctx.Err() != nil:
			return // cut off by the deadline or Ctrl-C, so it measures nothing
		case status == http.StatusCreated:
			t.recordOK(elapsed)
		case err == nil:
			t.recordFailure(statusKey(status), fmt.Errorf("POST %s: status %d, expected 201", path, status))
		default:
			t.recordFailure(statusKey(status), err)
		}
	}
}

// makeContent returns n bytes of printable ASCII that do not trim to
// empty.
func makeContent(n int) string {
	const pattern = "ogload message content 0123456789 "
	return strings.Repeat(pattern, n/len(pattern)+1)[:n]
}
