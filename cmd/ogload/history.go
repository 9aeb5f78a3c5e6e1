package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Limits on history's flags.
const (
	maxFillMessages = 100_000_000
	maxPageLimit    = 100 // the contract's largest history page
	afterShare      = 4   // one read in afterShare pages forward with after=
)

// historyFlags are the history scenario's flags.
type historyFlags struct {
	messages     int64
	fillSenders  int
	fillTimeout  time.Duration
	contentBytes int
	reads        int64
	readers      int
	page         int
	readTimeout  time.Duration
	reuseChannel string
	token        string
}

func parseHistoryFlags(args []string, stderr io.Writer) (historyFlags, error) {
	fs := flag.NewFlagSet("ogload history", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var h historyFlags
	fs.Int64Var(&h.messages, "messages", 1_000_000, "messages to send to a new channel before reading")
	fs.IntVar(&h.fillSenders, "fill-senders", 32, "concurrent senders while filling, each its own user")
	fs.DurationVar(&h.fillTimeout, "fill-timeout", 30*time.Minute, "longest time to fill, after which reads start with what was filled, or to walk a reused channel")
	fs.IntVar(&h.contentBytes, "content-bytes", 64, "bytes of ASCII content per message while filling, 1 to 60000; the server rejects more than its content limit, 4000 characters by default")
	fs.Int64Var(&h.reads, "reads", 2_000, "history pages to read")
	fs.IntVar(&h.readers, "readers", 8, "concurrent readers")
	fs.IntVar(&h.page, "page", 100, "messages per page (the limit parameter), 1 to 100")
	fs.DurationVar(&h.readTimeout, "read-timeout", 5*time.Minute, "longest time to read, even if -reads pages have not been read")
	fs.StringVar(&h.reuseChannel, "reuse-channel", "", "id of a channel filled by an earlier run; skips the fill and needs -token")
	fs.StringVar(&h.token, "token", "", "access token of a member of -reuse-channel, as printed by the run that filled it")
	if err := fs.Parse(args); err != nil {
		return h, err
	}

	switch {
	case h.messages < 1 || h.messages > maxFillMessages:
		return h, fmt.Errorf("invalid -messages %d: must be 1 to %d", h.messages, maxFillMessages)
	case h.fillSenders < 1 || h.fillSenders > maxSenders:
		return h, fmt.Errorf("invalid -fill-senders %d: must be 1 to %d", h.fillSenders, maxSenders)
	case h.fillTimeout <= 0:
		return h, fmt.Errorf("invalid -fill-timeout %s: must be more than 0", h.fillTimeout)
	case h.contentBytes < 1 || h.contentBytes > maxContentBytes:
		return h, fmt.Errorf("invalid -content-bytes %d: must be 1 to %d", h.contentBytes, maxContentBytes)
	case h.reads < 1:
		return h, fmt.Errorf("invalid -reads %d: must be at least 1", h.reads)
	case h.readers < 1 || h.readers > maxSenders:
		return h, fmt.Errorf("invalid -readers %d: must be 1 to %d", h.readers, maxSenders)
	case h.page < 1 || h.page > maxPageLimit:
		return h, fmt.Errorf("invalid -page %d: must be 1 to %d", h.page, maxPageLimit)
	case h.readTimeout <= 0:
		return h, fmt.Errorf("invalid -read-timeout %s: must be more than 0", h.readTimeout)
	case (h.reuseChannel == "") != (h.token == ""):
		return h, errors.New("-reuse-channel and -token go together: give both to reuse a channel, or neither to fill a new one")
	}
	return h, nil
}

// runHistory measures history page reads at random positions in a large
// channel. It fills a new channel first, or reuses one that an earlier run
// filled. Start the server with serverFlags, or the fill meets the
// message limits.
func runHistory(ctx context.Context, opts options, args []string, stdout, stderr io.Writer) error {
	h, err := parseHistoryFlags(args, stderr)
	if err != nil {
		return err
	}
	c := newClient(opts.server, max(h.fillSenders, h.readers))

	target, err := prepareChannel(ctx, c, opts, h, stderr)
	if err != nil {
		return err
	}
	if len(target.sample) == 0 {
		return fmt.Errorf("channel %s has no messages to read", target.channelID)
	}

	reads, elapsed := readHistory(ctx, c, target, h)
	fmt.Fprintf(stdout, "scenario\tmessages in channel\tpage\treaders\treads\tfailures\treads/s\tp50 ms\tp99 ms\tmax ms\tserver peak RSS MiB\tfailures by status\n")
	fmt.Fprintf(stdout, "history\t%d\t%d\t%d\t%d\t%d\t%.1f\t%s\t%s\t%s\t%.1f\t%s\n",
		target.count, h.page, h.readers, len(reads.ok), reads.failureCount(),
		float64(len(reads.ok))/elapsed.Seconds(),
		ms(reads.ok.percentile(0.5)), ms(reads.ok.percentile(0.99)), ms(reads.ok.max()),
		float64(peakRSS(opts.serverPID))/1024, reads.failureSummary())
	reads.reportFailures(stderr)
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted after %s of reading; the table covers the reads until then", elapsed.Round(time.Millisecond))
	}
	return nil
}

// readTarget is the channel that history reads, with its message count
// and the sessions and cursors to read it with.
type readTarget struct {
	channelID string
	readers   []*session // reader i reads as readers[i % len(readers)]
	count     int64      // messages in the channel
	sample    []cursor   // cursors to read from, at most sampleSize
}

// prepareChannel fills a new channel, or walks the reused one, and
// returns it as a readTarget. After a fill it prints how to reuse the
// channel.
func prepareChannel(ctx context.Context, c *client, opts options, h historyFlags, stderr io.Writer) (readTarget, error) {
	if h.reuseChannel != "" {
		count, sample, err := walkChannel(ctx, c, h.reuseChannel, h.token, h.fillTimeout, stderr)
		if statusOf(err) == http.StatusUnauthorized {
			return readTarget{}, fmt.Errorf("%w; -token has expired or was revoked, so fill a channel again, or start the server with a longer --auth-access-token-lifetime before filling", err)
		}
		if err != nil {
			return readTarget{}, err
		}
		fmt.Fprintf(stderr, "walk: channel %s contains %d messages\n", h.reuseChannel, count)
		reader := &session{userID: "from -token", access: h.token}
		return readTarget{channelID: h.reuseChannel, readers: []*session{reader}, count: count, sample: sample}, nil
	}

	runID := randomHex(4)
	f, err := setupGuild(ctx, c, h.fillSenders, 1, runID, stderr)
	if err != nil {
		return readTarget{}, fmt.Errorf("set up history: %w", err)
	}
	result, err := fillChannel(ctx, c, f, h.messages, makeContent(h.contentBytes), runID, h.fillTimeout, stderr)
	if result.committed > 0 {
		printFillSummary(ctx, c, opts, f, result, stderr)
	}
	if err != nil {
		result.sends.printHints(stderr) // err already holds the first failure
		return readTarget{}, err
	}
	return readTarget{channelID: f.channelIDs[0], readers: f.sessions, count: result.committed, sample: result.sample}, nil
}

// printFillSummary prints the fill's throughput and the command that
// reads the same channel again without filling it.
func printFillSummary(ctx context.Context, c *client, opts options, f *fixture, result fillResult, w io.Writer) {
	sends := result.sends.ok
	fmt.Fprintf(w, "fill: %d messages in %s, %.1f messages/s, send p50 %s ms, p99 %s ms, max %s ms\n",
		result.committed, result.elapsed.Round(time.Millisecond), float64(result.committed)/result.elapsed.Seconds(),
		ms(sends.percentile(0.5)), ms(sends.percentile(0.99)), ms(sends.max()))

	owner := f.sessions[0]
	token, err := owner.token(ctx, c)
	if err != nil {
		fmt.Fprintf(w, "fill: no reuse token: %v\n", err)
		return
	}
	owner.mu.Lock()
	expires := owner.accessExpires
	owner.mu.Unlock()
	fmt.Fprintf(w, "reuse (token valid until %s): ogload -server %s history -reuse-channel %s -token %s\n",
		expires.Format(time.RFC3339), opts.server, f.channelIDs[0], token)
}

// readHistory reads h.reads pages of target at cursors drawn from its
// sample, on h.readers goroutines, for at most h.readTimeout.
func readHistory(ctx context.Context, c *client, target readTarget, h historyFlags) (tally, time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, h.readTimeout)
	defer cancel()
	var budget atomic.Int64
	budget.Store(h.reads)
	tallies := make([]tally, h.readers)
	start := time.Now()

	var wg sync.WaitGroup
	for i := range h.readers {
		s := target.readers[i%len(target.readers)]
		wg.Go(func() {
			for ctx.Err() == nil && budget.Add(-1) >= 0 {
				at := target.sample[rand.IntN(len(target.sample))]
				if !readPage(ctx, c, s, target.channelID, at, h.page, &tallies[i]) {
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	var total tally
	for i := range tallies {
		total.merge(&tallies[i])
	}
	return total, elapsed
}

// readPage reads one page before (or, one time in afterShare, after) at
// and records the outcome in t. It returns false when the reader should
// stop: ctx ended or its token cannot be refreshed.
func readPage(ctx context.Context, c *client, s *session, channelID string, at cursor, limit int, t *tally) bool {
	token, err := s.token(ctx, c)
	if err != nil {
		if ctx.Err() == nil {
			t.recordFailure("refresh", err)
		}
		return false
	}

	after := rand.IntN(afterShare) == 0
	query := url.Values{"limit": {strconv.Itoa(limit)}}
	if after {
		query.Set("after", at.ID)
	} else {
		query.Set("before", at.ID)
	}
	path := "/api/v1/channels/" + channelID + "/messages?" + query.Encode()

	sent := time.Now()
	var page []cursor
	status, err := c.do(ctx, "GET", path, token, nil, &page)
	elapsed := time.Since(sent)
	switch {
	case err != nil && ctx.Err() != nil:
		return false
	case err != nil && status/100 == 2:
		t.recordFailure("bad response", err)
	case err != nil:
		t.recordFailure(statusKey(status), err)
	default:
		if err := checkPage(page, limit, &at, after); err != nil {
			t.recordFailure("bad page", fmt.Errorf("GET %s: %w", path, err))
			return true
		}
		t.recordOK(elapsed)
	}
	return true
}

// checkPage reports a history page that breaks the contract: more than
// limit messages, not oldest first, or on the wrong side of its cursor
// (at may be nil for a page without one).
func checkPage(page []cursor, limit int, at *cursor, after bool) error {
	if len(page) > limit {
		return fmt.Errorf("page contains %d messages, more than limit %d", len(page), limit)
	}
	for i, m := range page {
		if i > 0 && m.Seq <= page[i-1].Seq {
			return fmt.Errorf("page is not oldest first: seq %d follows seq %d", m.Seq, page[i-1].Seq)
		}
		if at == nil {
			continue
		}
		if after && m.Seq <= at.Seq {
			return fmt.Errorf("page after seq %d contains seq %d", at.Seq, m.Seq)
		}
		if !after && m.Seq >= at.Seq {
			return fmt.Errorf("page before seq %d contains seq %d", at.Seq, m.Seq)
		}
	}
	return nil
}
