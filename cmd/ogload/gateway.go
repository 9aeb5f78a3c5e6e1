package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

// Gateway client limits.
const (
	// gatewayReadLimit caps one server frame. It is a limit, not a buffer:
	// the library allocates each frame at its own size. ready lists every
	// online member of the user's guilds, about 60 bytes each, so 256 KiB
	// leaves room for a few thousand.
	gatewayReadLimit = 256 << 10

	dialTimeout      = 30 * time.Second // upgrade, hello and ready of one connection
	heartbeatTimeout = 10 * time.Second // one heartbeat frame write
	dialWorkers      = 32               // connections being opened at once
	openTimeout      = 5 * time.Minute  // one call of gatewayPool.open
	maxGatewayConns  = 20_000           // per run; Linux's default ephemeral port range gives one source address 28,232 ports
	fileMargin       = 256              // descriptors beyond the gateway connections: setup clients, stdio
)

// heartbeatFrame is the client heartbeat, sent at the interval that hello
// sets.
var heartbeatFrame = []byte(`{"op":"heartbeat","d":{}}`)

// gatewayServerFlags are the server flags that lift the setup limits and
// the gateway caps for n connections from one address, spread over users
// users. The caps never go below the server's defaults. Every member but
// the owner accepts the invite, which counts against
// limits.write_per_ip_route, and every upgrade is a GET under /api/v1,
// which counts against limits.read_per_ip as well as
// gateway.upgrades_per_ip.
func gatewayServerFlags(n, users int) string {
	perUser := (n + users - 1) / users
	return fmt.Sprintf("--limits-register-per-ip 1000000/1m --limits-login-per-ip 1000000/1m "+
		"--limits-write-per-ip-route 1000000/1m --limits-read-per-ip 1000000/1m "+
		"--gateway-upgrades-per-ip 1000000/1m --gateway-max-connections %d --gateway-max-per-user %d",
		max(n, 10_000), max(perUser, 16))
}

// gatewayDialer opens gateway connections to the server under test.
type gatewayDialer struct {
	url  string
	http *http.Client
}

// newGatewayDialer returns a dialer for base's gateway. Like newClient it
// dials loopback addresses only and follows no redirects. It has its own
// transport because upgraded connections never return to a pool, so the
// per-host connection cap of the request client must not count them.
func newGatewayDialer(base string) *gatewayDialer {
	dialer := &net.Dialer{Timeout: 5 * time.Second, Control: requireLoopback}
	return &gatewayDialer{
		url: base + "/api/v1/gateway",
		http: &http.Client{
			Transport:     &http.Transport{DialContext: dialer.DialContext, DisableKeepAlives: true},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// gatewayConn is one open, authenticated gateway connection.
type gatewayConn struct {
	ws        *websocket.Conn
	heartbeat time.Duration // from hello

	mu      sync.Mutex  // guards the fields below
	timer   *time.Timer // the next heartbeat
	stopped bool        // reading has ended, so heartbeats stop rescheduling
}

// serverFrame is the part of a server frame that the scenarios read.
type serverFrame struct {
	Op        string          `json:"op"`
	T         string          `json:"t"`
	ChannelID string          `json:"channel_id"`
	D         json.RawMessage `json:"d"`
}

// dialError is a connection that did not reach ready. Kind is its short
// failure name, such as "429-user", "401" or "close-4008".
type dialError struct {
	Kind string
	Err  error
}

func (e *dialError) Error() string { return e.Kind + ": " + e.Err.Error() }
func (e *dialError) Unwrap() error { return e.Err }

// dial opens a gateway connection authenticated by token in the
// Authorization header and reads hello and then frames up to ready. A
// failure is a *dialError.
func (d *gatewayDialer) dial(ctx context.Context, token string) (*gatewayConn, error) {
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()

	header := http.Header{"Authorization": {"Bearer " + token}}
	ws, resp, err := websocket.Dial(ctx, d.url, &websocket.DialOptions{HTTPClient: d.http, HTTPHeader: header})
	if err != nil {
		return nil, &dialError{Kind: upgradeFailureKind(ctx, resp), Err: err}
	}
	ws.SetReadLimit(gatewayReadLimit)

	g := &gatewayConn{ws: ws}
	if err := g.awaitReady(ctx); err != nil {
		ws.CloseNow()
		return nil, err
	}
	return g, nil
}

// awaitReady reads hello, takes its heartbeat interval, and reads on
// until ready. Presence frames may arrive in between and are skipped.
func (g *gatewayConn) awaitReady(ctx context.Context) error {
	for {
		_, data, err := g.ws.Read(ctx)
		if err != nil {
			return &dialError{Kind: readFailureKind(ctx, err), Err: fmt.Errorf("read frame before ready: %w", err)}
		}
		var f struct {
			Op string `json:"op"`
			D  struct {
				HeartbeatIntervalMS int64 `json:"heartbeat_interval_ms"`
			} `json:"d"`
		}
		if err := json.Unmarshal(data, &f); err != nil {
			return &dialError{Kind: "invalid-frame", Err: fmt.Errorf("%w before ready: %w", errInvalidFrame, err)}
		}

		switch {
		case f.Op == "hello" && f.D.HeartbeatIntervalMS <= 0:
			return &dialError{Kind: "invalid-frame", Err: fmt.Errorf("hello has heartbeat_interval_ms %d, expected more than 0", f.D.HeartbeatIntervalMS)}
		case f.Op == "hello":
			g.heartbeat = time.Duration(f.D.HeartbeatIntervalMS) * time.Millisecond
		case f.Op == "ready" && g.heartbeat == 0:
			return &dialError{Kind: "invalid-frame", Err: errors.New("ready arrived before hello")}
		case f.Op == "ready":
			return nil
		}
	}
}

// upgradeFailureKind names a failed upgrade by its HTTP status and, for
// 429, the scope of the limit that rejected it: "429-global",
// "429-user" or "429-ip".
func upgradeFailureKind(ctx context.Context, resp *http.Response) string {
	if resp == nil || resp.StatusCode == http.StatusSwitchingProtocols {
		if ctx.Err() != nil {
			return "timeout"
		}
		return "transport"
	}
	kind := strconv.Itoa(resp.StatusCode)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Body == nil {
		return kind
	}
	var body struct {
		Scope string `json:"scope"`
	}
	data, _ := io.ReadAll(resp.Body) // the library keeps at most the first 1 KiB
	if json.Unmarshal(data, &body) == nil && body.Scope != "" {
		kind += "-" + body.Scope
	}
	return kind
}

// errInvalidFrame marks a server frame that is not the JSON the contract
// describes.
var errInvalidFrame = errors.New("invalid server frame")

// readFailureKind names why reading a connection ended: "close-CODE" for
// a close frame from the server, "too-big" for a frame over
// gatewayReadLimit, "invalid-frame", "timeout" when ctx ended, else
// "transport".
func readFailureKind(ctx context.Context, err error) string {
	if code := websocket.CloseStatus(err); code != -1 {
		return "close-" + strconv.Itoa(int(code))
	}
	if errors.Is(err, websocket.ErrMessageTooBig) {
		return "too-big"
	}
	if errors.Is(err, errInvalidFrame) {
		return "invalid-frame"
	}
	if ctx.Err() != nil {
		return "timeout"
	}
	return "transport"
}

// startHeartbeats sends a heartbeat every interval from a timer, so an
// idle connection has no goroutine of its own waiting to send. The first
// one goes after a random part of the interval, which spreads the
// heartbeats of connections opened together and lets a hold shorter than
// the interval still send some.
func (g *gatewayConn) startHeartbeats() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.timer = time.AfterFunc(rand.N(g.heartbeat), g.sendHeartbeat)
}

func (g *gatewayConn) sendHeartbeat() {
	ctx, cancel := context.WithTimeout(context.Background(), heartbeatTimeout)
	defer cancel()
	// A failed write closes the connection inside the library, so the
	// reader sees the failure and records it.
	if g.ws.Write(ctx, websocket.MessageText, heartbeatFrame) != nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.stopped {
		g.timer.Reset(g.heartbeat)
	}
}

func (g *gatewayConn) stopHeartbeats() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopped = true
	if g.timer != nil {
		g.timer.Stop()
	}
}

// readFrames reads until the connection ends, counting heartbeat acks in
// acks and passing every other frame with its arrival time to onFrame, if
// not nil. It returns the error that ended reading.
func (g *gatewayConn) readFrames(acks *atomic.Int64, onFrame func(received time.Time, f *serverFrame)) error {
	defer g.stopHeartbeats()
	for {
		_, data, err := g.ws.Read(context.Background()) // closeAll or the server ends the read
		if err != nil {
			return err
		}
		received := time.Now()
		var f serverFrame
		if err := json.Unmarshal(data, &f); err != nil {
			g.ws.Close(websocket.StatusInvalidFramePayloadData, "invalid JSON")
			return fmt.Errorf("%w: %w", errInvalidFrame, err)
		}
		if f.Op == "heartbeat_ack" {
			acks.Add(1)
			continue
		}
		if onFrame != nil {
			onFrame(received, &f)
		}
	}
}

// gatewayPool is the set of connections a scenario opened, with one
// reading goroutine each.
type gatewayPool struct {
	dialer *gatewayDialer
	acks   atomic.Int64 // heartbeat_ack frames received
	wg     sync.WaitGroup

	mu       sync.Mutex // guards the fields below
	conns    []*gatewayConn
	opens    tally // time to ready of each opened connection, and open failures
	drops    tally // connections that ended before closeAll, by readFailureKind
	stopping bool  // closeAll has begun, so ends are no longer drops
}

// frameHandler returns the frame callback of connection i, or nil when
// the scenario reads nothing but heartbeat acks.
type frameHandler func(i int) func(received time.Time, f *serverFrame)

// open opens connections from to to-1, dialWorkers at a time, with
// connection i as sessions[i % len(sessions)], so each user holds an even
// share. It returns when every attempt has ended, ctx has ended or
// openTimeout has passed. Failures are counted in p.opens, not returned.
func (p *gatewayPool) open(ctx context.Context, c *client, sessions []*session, from, to int, handler frameHandler) {
	ctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()

	next := make(chan int)
	var workers sync.WaitGroup
	for range min(to-from, dialWorkers) {
		workers.Go(func() {
			var t tally
			for i := range next {
				p.openOne(ctx, c, sessions[i%len(sessions)], i, handler, &t)
			}
			p.mu.Lock()
			p.opens.merge(&t)
			p.mu.Unlock()
		})
	}
	for i := from; i < to && ctx.Err() == nil; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	workers.Wait()
}

// openOne opens connection i as s and starts its reader. An attempt cut
// off by ctx counts as a failure only when openTimeout ended it.
func (p *gatewayPool) openOne(ctx context.Context, c *client, s *session, i int, handler frameHandler, t *tally) {
	token, err := s.token(ctx, c)
	if err != nil {
		if ctx.Err() == nil {
			t.recordFailure("refresh", err)
		}
		return
	}

	start := time.Now()
	g, err := p.dialer.dial(ctx, token)
	if err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			return // Ctrl-C
		}
		var de *dialError
		kind := "transport"
		if errors.As(err, &de) {
			kind = de.Kind
		}
		t.recordFailure(kind, err)
		return
	}
	t.recordOK(time.Since(start))

	var onFrame func(time.Time, *serverFrame)
	if handler != nil {
		onFrame = handler(i)
	}
	p.start(g, onFrame)
}

// start registers g and starts its heartbeats and its reader. After
// closeAll has begun it closes g instead.
func (p *gatewayPool) start(g *gatewayConn, onFrame func(time.Time, *serverFrame)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopping {
		g.ws.CloseNow()
		return
	}
	p.conns = append(p.conns, g)
	g.startHeartbeats()

	p.wg.Go(func() {
		err := g.readFrames(&p.acks, onFrame)
		p.mu.Lock()
		if !p.stopping {
			p.drops.recordFailure(readFailureKind(context.Background(), err), fmt.Errorf("connection ended: %w", err))
		}
		p.mu.Unlock()
		g.ws.CloseNow() // releases a connection the server ended; a no-op after Close
	})
}

// openCount returns the connections opened minus those that have ended.
func (p *gatewayPool) openCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns) - p.drops.failureCount()
}

// closeAll closes every connection with a normal closure, all at once,
// and waits for every reader to return. Each close handshake is bounded
// by the library's own timeouts, about 5 s for each direction.
func (p *gatewayPool) closeAll() {
	p.mu.Lock()
	p.stopping = true
	conns := p.conns
	p.mu.Unlock()

	var closers sync.WaitGroup
	for _, g := range conns {
		closers.Go(func() { g.ws.Close(websocket.StatusNormalClosure, "") })
	}
	closers.Wait()
	p.wg.Wait()
}

// printGatewayHints prints, for each failure kind with a known cause, the
// server setting to raise. failures is keyed as gatewayFailures returns.
func printGatewayHints(w io.Writer, failures map[string]int, n, users int) {
	hints := []struct{ kind, hint string }{
		{"429-global", "429-global means the server's connection cap (gateway.max_connections, default 10000) was reached"},
		{"429-user", "429-user means a user reached gateway.max_per_user (default 16); raise -users or the server's cap"},
		{"429-ip", "429-ip means gateway.upgrades_per_ip (default 60/1m) or limits.read_per_ip (default 600/1m), which counts every GET under /api/v1, rejected the upgrades"},
		{"close-4008", "close 4008 means a user reached gateway.max_per_user (default 16) or sent frames too fast"},
		{"close-4009", "close 4009 means heartbeats arrived late; the machine may be overloaded"},
		{"close-4010", "close 4010 means ogload read too slowly and the server's send queue (gateway.send_queue) overflowed"},
		{"timeout", "timeout often means the server ran out of file descriptors; start it with ulimit -n above the connection count"},
		{"transport", "transport failures often mean the server ran out of file descriptors; start it with ulimit -n above the connection count"},
	}
	printed := false
	for _, h := range hints {
		if failures[h.kind]+failures["drop-"+h.kind] > 0 {
			fmt.Fprintln(w, "hint:", h.hint)
			printed = true
		}
	}
	if printed {
		fmt.Fprintf(w, "hint: start the server with ulimit -n %d or more and %s\n", n+fileMargin, gatewayServerFlags(n, users))
	}
}

// raiseFileLimit raises the soft open-file limit to the hard limit and
// returns an error when that is still below need.
func raiseFileLimit(need int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("read open file limit: %w", err)
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return fmt.Errorf("raise open file limit to %d: %w", lim.Max, err)
		}
	}
	if lim.Cur < uint64(need) {
		return fmt.Errorf("open file limit is %d, below the %d this run needs: raise the hard limit (ulimit -Hn) or open fewer connections", lim.Cur, need)
	}
	return nil
}

// usersFor returns the default user count for n connections: one user
// per 16 connections, the server's default per-user cap.
func usersFor(n int) int {
	return (n + 15) / 16
}
