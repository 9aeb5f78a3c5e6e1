package main

import (
	"context"
	"encoding/json"
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

// Limits and timings of the fanout scenario.
const (
	maxFanoutDuration = 5 * time.Minute
	maxFanoutRate     = 1000
	maxSendsInFlight  = 16              // sends the sender keeps open before it skips a tick
	drainTimeout      = 5 * time.Second // wait for deliveries after the last send
	drainPoll         = 20 * time.Millisecond
)

// runFanout measures delivery of messages to many gateway connections:
// -subscribers connections, spread over -users members of one guild,
// watch one channel while one member sends -rate messages a second into
// it for -duration. Each message carries its send time, so each
// subscriber measures the delay from just before the send request to the
// arrival of the message_create dispatch.
func runFanout(ctx context.Context, opts options, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ogload fanout", flag.ContinueOnError)
	fs.SetOutput(stderr)
	subscribers := fs.Int("subscribers", 1000, "gateway connections watching the channel, 1 to 20000")
	users := fs.Int("users", 0, "users the subscribers are spread over, round-robin; 0 means one per 16 subscribers, the server's default per-user cap")
	rate := fs.Int("rate", 20, "messages per second the sender sends, 1 to 1000")
	duration := fs.Duration("duration", 10*time.Second, "how long to send, at most 5m")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *users == 0 && *subscribers > 0 {
		*users = usersFor(*subscribers)
	}
	switch {
	case *subscribers < 1 || *subscribers > maxGatewayConns:
		return fmt.Errorf("invalid -subscribers %d: must be 1 to %d", *subscribers, maxGatewayConns)
	case *users < 1 || *users > *subscribers:
		return fmt.Errorf("invalid -users %d: must be 1 to -subscribers (%d)", *users, *subscribers)
	case *rate < 1 || *rate > maxFanoutRate:
		return fmt.Errorf("invalid -rate %d: must be 1 to %d", *rate, maxFanoutRate)
	case *duration < time.Second || *duration > maxFanoutDuration:
		return fmt.Errorf("invalid -duration %s: must be 1s to %s", *duration, maxFanoutDuration)
	}
	if err := raiseFileLimit(*subscribers + fileMargin); err != nil {
		return err
	}
	printGatewayPreamble(stderr, opts, *subscribers, *users)
	fmt.Fprintln(stderr, "server: and with --limits-message-per-user 1000000/10s --limits-message-per-ip 1000000/10s")

	c := newClient(opts.server, maxSendsInFlight+setupWorkers)
	runID := randomHex(4)
	f, err := setupGuild(ctx, c, *users, 1, runID, stderr)
	if err != nil {
		return fmt.Errorf("set up fanout: %w", err)
	}

	rec := &fanoutRecorder{channelID: f.channelIDs[0], prefix: "ogload fanout " + runID + " ", latency: newLatencyHistogram()}
	pool := &gatewayPool{dialer: newGatewayDialer(c.base)}
	start := time.Now()
	pool.open(ctx, c, f.sessions, 0, *subscribers, func(int) func(time.Time, *serverFrame) { return rec.record })
	listening := pool.openCount()
	fmt.Fprintf(stderr, "opened %d of %d subscribers in %s\n", listening, *subscribers, time.Since(start).Round(time.Millisecond))

	var sent sendResult
	if listening > 0 && ctx.Err() == nil {
		sender := &rateSender{c: c, s: f.sessions[0], channelID: rec.channelID, prefix: rec.prefix}
		sent = sender.run(ctx, *rate, *duration)
		rec.drain(ctx, sent.committed*int64(listening))
	}
	pool.closeAll()

	printFanout(stdout, pool, rec, sent, *subscribers, *users, listening, peakRSS(opts.serverPID))
	reportFanoutFailures(stderr, pool, &sent, *subscribers, *users)
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted after %s; the table covers the deliveries until then", time.Since(start).Round(time.Millisecond))
	}
	if listening == 0 {
		return fmt.Errorf("no subscriber connected, so nothing was sent")
	}
	return nil
}

// fanoutRecorder records the deliveries of the sender's messages. Every
// subscriber calls record from its own reading goroutine.
type fanoutRecorder struct {
	channelID string
	prefix    string // content prefix of this run's messages
	latency   *latencyHistogram

	delivered atomic.Int64
	lastAt    atomic.Int64 // UnixNano of the latest delivery
}

// record counts f when it is a message_create of this run in the watched
// channel. The content is the prefix, the message index and the send
// time in Unix nanoseconds.
func (r *fanoutRecorder) record(received time.Time, f *serverFrame) {
	if f.Op != "dispatch" || f.T != "message_create" || f.ChannelID != r.channelID {
		return
	}
	var m struct {
		Content string `json:"content"`
	}
	if json.Unmarshal(f.D, &m) != nil {
		return
	}
	rest, ok := strings.CutPrefix(m.Content, r.prefix)
	if !ok {
		return
	}
	_, stamp, _ := strings.Cut(rest, " ")
	sentNano, err := strconv.ParseInt(stamp, 10, 64)
	if err != nil {
		return
	}

	r.latency.record(time.Duration(received.UnixNano() - sentNano))
	r.delivered.Add(1)
	at := received.UnixNano()
	for last := r.lastAt.Load(); at > last && !r.lastAt.CompareAndSwap(last, at); last = r.lastAt.Load() {
	}
}

// drain waits until expected deliveries have arrived, drainTimeout has
// passed or ctx has ended.
func (r *fanoutRecorder) drain(ctx context.Context, expected int64) {
	ctx, cancel := context.WithTimeout(ctx, drainTimeout)
	defer cancel()
	ticker := time.NewTicker(drainPoll)
	defer ticker.Stop()
	for r.delivered.Load() < expected {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// rateSender sends messages at a fixed rate as one user.
type rateSender struct {
	c         *client
	s         *session
	channelID string
	prefix    string
}

// sendResult is the outcome of rateSender.run.
type sendResult struct {
	committed int64
	sends     tally     // send latencies and failures, including "behind" for skipped ticks
	first     time.Time // when the first send began
}

// run sends rate×duration messages, one per tick of a 1/rate ticker,
// with up to maxSendsInFlight requests open at once. A tick that finds
// all of them still open is skipped and counted as "behind", so a slow
// server lowers the rate instead of building a backlog.
func (r *rateSender) run(ctx context.Context, rate int, duration time.Duration) sendResult {
	total := int64(rate) * int64(duration) / int64(time.Second)
	ticker := time.NewTicker(time.Second / time.Duration(rate))
	defer ticker.Stop()
	slots := make(chan struct{}, maxSendsInFlight)

	var res sendResult
	var mu sync.Mutex // guards res
	var wg sync.WaitGroup
	res.first = time.Now()
	for i := int64(0); i < total; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
			case <-ticker.C:
			}
		}
		if ctx.Err() != nil {
			break
		}
		select {
		case slots <- struct{}{}:
		default:
			mu.Lock()
			res.sends.recordFailure("behind", fmt.Errorf("message %d not sent: %d sends still open", i, maxSendsInFlight))
			mu.Unlock()
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			r.send(ctx, i, &res, &mu)
		})
	}
	wg.Wait()
	return res
}

// send sends message i with the current time in its content, and records
// the outcome in res under mu. Only 201 counts as committed.
func (r *rateSender) send(ctx context.Context, i int64, res *sendResult, mu *sync.Mutex) {
	token, err := r.s.token(ctx, r.c)
	if err != nil {
		if ctx.Err() == nil {
			mu.Lock()
			res.sends.recordFailure("refresh", err)
			mu.Unlock()
		}
		return
	}

	path := "/api/v1/channels/" + r.channelID + "/messages"
	sent := time.Now()
	body := map[string]string{
		"content": r.prefix + strconv.FormatInt(i, 10) + " " + strconv.FormatInt(sent.UnixNano(), 10),
		"nonce":   r.prefix + strconv.FormatInt(i, 10),
	}
	status, err := r.c.do(ctx, "POST", path, token, body, nil)
	elapsed := time.Since(sent)

	mu.Lock()
	defer mu.Unlock()
	switch {
	case err != nil && ctx.Err() != nil:
		// Cut off by Ctrl-C, so it measures nothing.
	case status == http.StatusCreated:
		res.committed++
		res.sends.recordOK(elapsed)
	case err == nil:
		res.sends.recordFailure(statusKey(status), fmt.Errorf("POST %s: status %d, expected 201", path, status))
	default:
		res.sends.recordFailure(statusKey(status), err)
	}
}

// printFanout prints the fanout table. Expected deliveries are the
// committed messages times the subscribers open when sending began.
func printFanout(w io.Writer, pool *gatewayPool, rec *fanoutRecorder, sent sendResult, subscribers, users, listening int, peakKiB int64) {
	delivered := rec.delivered.Load()
	expected := sent.committed * int64(listening)
	perSecond := 0.0
	if last := rec.lastAt.Load(); last > 0 && delivered > 0 {
		perSecond = float64(delivered) / time.Unix(0, last).Sub(sent.first).Seconds()
	}
	percent := 0.0
	if expected > 0 {
		percent = 100 * float64(delivered) / float64(expected)
	}
	fmt.Fprintf(w, "scenario\tsubscribers\tusers\tlistening\tsent\tsend failures\tdelivered\texpected\tdelivered %%\tp50 ms\tp99 ms\tmax ms\tdeliveries/s\tsend p50 ms\tserver peak RSS MiB\tfailures by kind\n")
	fmt.Fprintf(w, "fanout\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.2f\t%s\t%s\t%s\t%.1f\t%s\t%s\t%s\n",
		subscribers, users, listening, sent.committed, sent.sends.failureCount(), delivered, expected, percent,
		ms(rec.latency.percentile(0.5)), ms(rec.latency.percentile(0.99)), ms(rec.latency.max()),
		perSecond, ms(sent.sends.ok.percentile(0.5)), mib(peakKiB), failureSummary(fanoutFailures(pool, &sent)))
}

// fanoutFailures merges the gateway failures with the send failures,
// which get the prefix "send-".
func fanoutFailures(pool *gatewayPool, sent *sendResult) map[string]int {
	failures := gatewayFailures(pool)
	for kind, count := range sent.sends.failures {
		failures["send-"+kind] += count
	}
	return failures
}

// reportFanoutFailures prints the first failure of each phase and the
// hints for what failed.
func reportFanoutFailures(w io.Writer, pool *gatewayPool, sent *sendResult, subscribers, users int) {
	if pool.opens.firstErr != nil {
		fmt.Fprintln(w, "first subscriber failure:", pool.opens.firstErr)
	}
	if pool.drops.firstErr != nil {
		fmt.Fprintln(w, "first dropped subscriber:", pool.drops.firstErr)
	}
	sent.sends.reportFailures(w)
	if sent.sends.failures["behind"] > 0 {
		fmt.Fprintf(w, "hint: behind means %d sends were still open at a tick, so the server answers slower than -rate\n", maxSendsInFlight)
	}
	printGatewayHints(w, gatewayFailures(pool), subscribers, users)
}
