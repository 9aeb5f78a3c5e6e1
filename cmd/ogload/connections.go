package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"time"
)

// Limits and timings of the connections scenario.
const (
	minHold    = 5 * time.Second
	maxHold    = 10 * time.Minute
	settleTime = 5 * time.Second // wait before each reading of the server's RSS, after setup and after the last open
)

// runConnections measures what idle gateway connections cost the server:
// it opens -connections authenticated connections spread over -users
// members of one guild, keeps them alive with heartbeats for -hold, and
// reports the server's resident memory before and after they opened.
func runConnections(ctx context.Context, opts options, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ogload connections", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("connections", 1000, "idle gateway connections to open, 1 to 20000")
	users := fs.Int("users", 0, "users the connections are spread over, round-robin; 0 means one per 16 connections, the server's default per-user cap")
	hold := fs.Duration("hold", 30*time.Second, "how long to keep the connections open once all are open, 5s to 10m")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *users == 0 && *n > 0 {
		*users = usersFor(*n)
	}
	switch {
	case *n < 1 || *n > maxGatewayConns:
		return fmt.Errorf("invalid -connections %d: must be 1 to %d", *n, maxGatewayConns)
	case *users < 1 || *users > *n:
		return fmt.Errorf("invalid -users %d: must be 1 to -connections (%d)", *users, *n)
	case *hold < minHold || *hold > maxHold:
		return fmt.Errorf("invalid -hold %s: must be %s to %s", *hold, minHold, maxHold)
	}
	if err := raiseFileLimit(*n + fileMargin); err != nil {
		return err
	}
	printGatewayPreamble(stderr, opts, *n, *users)

	c := newClient(opts.server, setupWorkers)
	f, err := setupGuild(ctx, c, *users, 1, randomHex(4), stderr)
	if err != nil {
		return fmt.Errorf("set up connections: %w", err)
	}

	// NOTE: Setup hashes passwords with Argon2id, 19 MiB each by default,
	// and the Go runtime returns that memory to the system only after
	// later collections, which the connections themselves trigger. That
	// return lowers "RSS after", so the whole-run figure per connection
	// reads low. The second-half figure starts after those collections,
	// so it is the better estimate of what one more connection costs,
	// including the heap headroom that the collector keeps.
	if err := sleepContext(ctx, settleTime); err != nil {
		return fmt.Errorf("wait for the server to settle after setup: %w", err)
	}
	pool := &gatewayPool{dialer: newGatewayDialer(c.base)}
	m := openInHalves(ctx, c, pool, f.sessions, *n, opts.serverPID)
	fmt.Fprintf(stderr, "opened %d of %d connections in %s\n", pool.openCount(), *n, m.openElapsed.Round(time.Millisecond))

	if pool.openCount() > 0 {
		holdConnections(ctx, pool, opts.serverPID, *hold, &m)
	}
	pool.closeAll()

	printConnections(stdout, pool, *n, *users, m)
	failures := gatewayFailures(pool)
	if pool.opens.firstErr != nil {
		fmt.Fprintln(stderr, "first open failure:", pool.opens.firstErr)
	}
	if pool.drops.firstErr != nil {
		fmt.Fprintln(stderr, "first dropped connection:", pool.drops.firstErr)
	}
	printGatewayHints(stderr, failures, *n, *users)
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted; the table covers the connections until then")
	}
	if m.heldElapsed == 0 {
		return fmt.Errorf("no connection opened, so none was held")
	}
	return nil
}

// printGatewayPreamble prints the server settings a gateway scenario of n
// connections over users users needs, and what is missing from the table
// without -server-pid.
func printGatewayPreamble(w io.Writer, opts options, n, users int) {
	fmt.Fprintf(w, "server: start it with ulimit -n %d or more and %s\n", n+fileMargin, gatewayServerFlags(n, users))
	if opts.serverPID == 0 {
		fmt.Fprintln(w, "note: without -server-pid the table has no server memory figures")
	}
}

// holdMeasure is the set of figures that openInHalves and
// holdConnections record for the table. RSS figures are in KiB, and 0
// means not read.
type holdMeasure struct {
	openElapsed time.Duration // time spent opening, without the pause at the half
	rssBefore   int64         // before the first connection opened
	rssHalf     int64         // settleTime after the first half opened
	openHalf    int           // connections open when rssHalf was read
	rssAfter    int64         // settleTime after the last connection opened
	openSettled int           // connections open when rssAfter was read
	openAtEnd   int           // connections open when the hold ended
	heldElapsed time.Duration
}

// openInHalves reads the server's RSS, opens the first half of n
// connections, waits settleTime and reads the RSS again, then opens the
// rest. With n of 1 it skips the reading at the half.
func openInHalves(ctx context.Context, c *client, pool *gatewayPool, sessions []*session, n, pid int) holdMeasure {
	m := holdMeasure{rssBefore: residentRSS(pid)}
	half := n / 2
	if half > 0 {
		start := time.Now()
		pool.open(ctx, c, sessions, 0, half, nil)
		m.openElapsed = time.Since(start)
		if sleepContext(ctx, settleTime) != nil {
			return m
		}
		m.rssHalf, m.openHalf = residentRSS(pid), pool.openCount()
	}

	start := time.Now()
	pool.open(ctx, c, sessions, half, n, nil)
	m.openElapsed += time.Since(start)
	return m
}

// holdConnections keeps pool's connections open for hold, or until ctx
// ends. It reads the server's RSS into m once settleTime has passed, so
// the allocations of ready and the open phase's garbage have had time to
// settle.
func holdConnections(ctx context.Context, pool *gatewayPool, pid int, hold time.Duration, m *holdMeasure) {
	ctx, cancel := context.WithTimeout(ctx, hold)
	defer cancel()
	start := time.Now()

	sleepContext(ctx, settleTime)
	m.rssAfter = residentRSS(pid)
	m.openSettled = pool.openCount()

	<-ctx.Done()
	m.openAtEnd = pool.openCount()
	m.heldElapsed = time.Since(start)
}

// printConnections prints the connections table. The whole-run figure
// per connection is the RSS increase since before the first open,
// divided by the connections open after the settle. The second-half
// figure is the increase since the half, divided by the connections
// opened since.
func printConnections(w io.Writer, pool *gatewayPool, n, users int, m holdMeasure) {
	fmt.Fprintf(w, "scenario\tconnections\tusers\topened\topen failures\topen at end\topen s\topen p50 ms\topen p99 ms\theld s\theartbeat acks"+
		"\tserver RSS before MiB\tserver RSS half MiB\tserver RSS after MiB\tRSS increase KiB/connection\tsecond half KiB/connection\tfailures by kind\n")
	fmt.Fprintf(w, "connections\t%d\t%d\t%d\t%d\t%d\t%.1f\t%s\t%s\t%.1f\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n",
		n, users, len(pool.opens.ok), pool.opens.failureCount(), m.openAtEnd, m.openElapsed.Seconds(),
		ms(pool.opens.ok.percentile(0.5)), ms(pool.opens.ok.percentile(0.99)), m.heldElapsed.Seconds(), pool.acks.Load(),
		mib(m.rssBefore), mib(m.rssHalf), mib(m.rssAfter),
		perConnection(m.rssBefore, m.rssAfter, m.openSettled), perConnection(m.rssHalf, m.rssAfter, m.openSettled-m.openHalf),
		failureSummary(gatewayFailures(pool)))
}

// perConnection formats the RSS increase from before to after, in KiB,
// divided by conns, or "-" when a reading or the count is missing.
func perConnection(before, after int64, conns int) string {
	if before == 0 || after == 0 || conns <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", float64(after-before)/float64(conns))
}

// gatewayFailures merges pool's open failures and its drops, which get
// the prefix "drop-", into one count by kind.
func gatewayFailures(pool *gatewayPool) map[string]int {
	failures := maps.Clone(pool.opens.failures)
	if failures == nil {
		failures = make(map[string]int)
	}
	for kind, count := range pool.drops.failures {
		failures["drop-"+kind] += count
	}
	return failures
}

// mib formats KiB as MiB, or "-" for 0, which means unknown.
func mib(kib int64) string {
	if kib == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", float64(kib)/1024)
}

// sleepContext waits for d or until ctx ends, and returns ctx's error in
// the second case.
func sleepContext(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
