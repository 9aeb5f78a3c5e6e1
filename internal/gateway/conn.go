package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/openguild/openguild/internal/auth"
	"github.com/openguild/openguild/internal/ratelimit"
)

// conn is one gateway connection.
type conn struct {
	hub       *Hub
	ws        *websocket.Conn
	id        string // the gateway session id sent in hello
	ip        string
	queue     chan frame    // outbound frames, bounded
	done      chan struct{} // closed when the connection ends
	ops       *ratelimit.Window
	userID    string // set once authenticated, then fixed
	sessionID string

	// reservedFor is the user whose slot this connection holds before it
	// registers; guarded by hub.mu.
	reservedFor string

	closeOnce sync.Once
	code      websocket.StatusCode // set by closeWith before done closes
	reason    string
	final     []byte // a last frame to write before closing, or nil

	// guilds and visible are guarded by hub.mu.
	guilds  map[string]bool
	visible map[string]bool // channels the user could view at the last check

	// sent is the last seq written per log; only the writer goroutine
	// touches it after the connection starts.
	sent map[string]int64
}

func newConnID() string {
	var b [12]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ServeHTTP upgrades a request to a gateway connection. Capacity and, when
// the token comes in the Authorization header, authentication are decided
// before the upgrade, so a refused client gets an ordinary HTTP answer.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request, clientIP string, reject func(status int, code, scope, message string, retryAfter time.Duration)) {
	if d := h.upgrades.Allow(clientIP); !d.Allowed {
		reject(http.StatusTooManyRequests, "rate_limited", "ip", "Too many gateway connection attempts from this address.", d.RetryAfter)
		return
	}
	c := &conn{hub: h, id: newConnID(), ip: clientIP, queue: make(chan frame, h.opts.SendQueue),
		done: make(chan struct{}), guilds: make(map[string]bool), visible: make(map[string]bool), sent: make(map[string]int64)}
	if err := h.admit(c); err != nil {
		h.deps.Rejecter.Reject("ws_capacity")
		reject(http.StatusTooManyRequests, "rate_limited", "global", "The gateway is at its connection capacity.", 5*time.Second)
		return
	}

	var principal *auth.Principal
	if token, ok := bearer(r); ok {
		p, err := h.deps.Auth.Authenticate(r.Context(), token, clientIP)
		if err != nil {
			h.remove(c)
			reject(http.StatusUnauthorized, "invalid_token", "", "The access token is invalid, expired or revoked.", 0)
			return
		}
		if h.deps.Banned != nil && h.deps.Banned(p.UserID) {
			h.remove(c)
			reject(http.StatusForbidden, "forbidden", "", "This account is banned from this server.", 0)
			return
		}
		if !h.reserveUserSlot(c, p.UserID) {
			h.remove(c)
			h.deps.Rejecter.Reject("ws_user_capacity")
			reject(http.StatusTooManyRequests, "rate_limited", "user", "Too many open gateway connections for this user.", 5*time.Second)
			return
		}
		principal = &p
	}

	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		h.remove(c)
		return // Accept has answered the client
	}
	ws.SetReadLimit(h.opts.MaxFrameBytes)
	c.ws = ws
	c.ops, _ = ratelimit.NewWindow(h.opts.OpsPerConnection, ratelimit.WindowOptions{Clock: h.opts.Clock, MaxKeys: 1})

	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		c.run(principal)
	}()
}

// bearer reads the Authorization header's bearer token.
func bearer(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// reserveUserSlot holds one of the user's connection slots for a
// connection authenticated by header, so that of many parallel upgrades
// over the cap every one is refused with 429 before the upgrade rather
// than some being upgraded and then closed.
func (h *Hub) reserveUserSlot(c *conn, userID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.byUser[userID])+h.reserved[userID] >= h.opts.MaxPerUser {
		return false
	}
	h.reserved[userID]++
	c.reservedFor = userID
	return true
}

// run serves the connection until it ends. Authentication happens here
// for clients that identify by frame; the writer starts once the first
// frames (ready or the resume replay) are out. A closer goroutine sends
// the close frame whenever closeWith is called, from any goroutine, which
// also unblocks the reader.
func (c *conn) run(preauth *auth.Principal) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer c.hub.remove(c)

	closerDone := make(chan struct{})
	go func() {
		defer close(closerDone)
		<-c.done
		if c.final != nil {
			c.write(context.Background(), c.final) // best effort: the peer may be gone
		}
		c.ws.Close(c.code, c.reason)
	}()
	defer func() {
		c.closeWith(websocket.StatusNormalClosure, "")
		<-closerDone
	}()

	hello := map[string]any{"heartbeat_interval_ms": c.hub.opts.HeartbeatInterval.Milliseconds(), "session_id": c.id}
	if err := c.write(ctx, encode(opHello, hello)); err != nil {
		return
	}
	if err := c.authenticate(ctx, preauth); err != nil {
		return
	}

	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeLoop(ctx)
	}()
	c.readLoop(ctx)
	c.closeWith(websocket.StatusNormalClosure, "")
	<-writerDone
}

// authenticate completes identify or resume and sends ready or the replay.
func (c *conn) authenticate(ctx context.Context, preauth *auth.Principal) error {
	if preauth != nil {
		// Header authentication starts a fresh session: a client that wants
		// to resume connects without the header and sends resume.
		c.userID, c.sessionID = preauth.UserID, preauth.SessionID
		return c.startSession(ctx, nil)
	}

	timer := time.AfterFunc(c.hub.opts.IdentifyTimeout, func() {
		c.closeWith(closeNotAuthed, "identify not received in time")
	})
	msg, err := c.readFrame(ctx)
	timer.Stop()
	if err != nil {
		return err
	}

	var d struct {
		Token   string           `json:"token"`
		LastSeq map[string]int64 `json:"last_seq"`
	}
	switch msg.Op {
	case opIdentify, opResume:
		if err := json.Unmarshal(msg.D, &d); err != nil || d.Token == "" {
			c.closeWith(closeInvalidFrame, "identify and resume need a token")
			return errors.New("bad identify")
		}
	case opHeartbeat:
		c.closeWith(closeNotAuthed, "identify first")
		return errors.New("heartbeat before identify")
	default:
		c.closeWith(closeNotAuthed, "identify or resume first")
		return errors.New("frame before identify")
	}

	p, err := c.hub.deps.Auth.Authenticate(ctx, d.Token, c.ip)
	if err == nil && c.hub.deps.Banned != nil && c.hub.deps.Banned(p.UserID) {
		err = errors.New("account banned")
	}
	if err != nil {
		c.closeWith(closeAuthFailed, "authentication failed")
		return err
	}
	c.userID, c.sessionID = p.UserID, p.SessionID
	if msg.Op == opResume {
		c.hub.metrics.resumes.Inc()
		return c.startSession(ctx, d.LastSeq)
	}
	return c.startSession(ctx, nil)
}

// startSession registers the connection for live events, then sends ready
// (lastSeq nil) or replays what a resuming client missed. Registering
// first means nothing committed meanwhile is lost; the writer drops what
// the replay already sent.
func (c *conn) startSession(ctx context.Context, lastSeq map[string]int64) error {
	state, err := c.hub.loadState(ctx, c.userID)
	if err != nil {
		c.closeWith(closeInternalError, "could not load your state; retry")
		return err
	}
	if err := c.hub.register(c, state.guildIDs); err != nil {
		if errors.Is(err, errUserCapacity) {
			c.hub.deps.Rejecter.Reject("ws_user_capacity")
			c.closeWith(closeRateLimited, "too many connections for this user")
		} else {
			c.closeWith(closeGoingAway, "server shutting down; reconnect")
		}
		return err
	}
	c.hub.presence.connected(c)
	c.hub.visibleChannels(c, state.channels)

	if lastSeq == nil {
		c.hub.metrics.identifies.Inc()
		return c.sendReady(ctx, state)
	}
	if err := c.replay(ctx, state, lastSeq); err != nil {
		c.closeWith(closeInternalError, "could not replay; resume again")
		return err
	}
	return nil
}

// readLoop handles client frames until the connection ends. Two missed
// heartbeat intervals close it with 4009.
func (c *conn) readLoop(ctx context.Context) {
	watchdog := time.AfterFunc(2*c.hub.opts.HeartbeatInterval, func() {
		c.closeWith(closeTimedOut, "no heartbeat for two intervals")
	})
	defer watchdog.Stop()
	for {
		msg, err := c.readFrame(ctx)
		if err != nil {
			return
		}
		if msg.Op == opHeartbeat {
			watchdog.Reset(2 * c.hub.opts.HeartbeatInterval)
		}
		if !c.ops.Allow("ops").Allowed {
			c.closeWith(closeRateLimited, "too many frames")
			return
		}
		if !c.handle(ctx, msg) {
			return
		}
	}
}

// handle acts on one authenticated client frame and reports whether the
// connection stays open.
func (c *conn) handle(ctx context.Context, msg inbound) bool {
	switch msg.Op {
	case opHeartbeat:
		c.send(frame{data: encode(opHeartbeatAck, struct{}{})})
	case opTyping:
		var d struct {
			ChannelID string `json:"channel_id"`
		}
		if json.Unmarshal(msg.D, &d) != nil || d.ChannelID == "" {
			c.closeWith(closeInvalidFrame, "typing needs a channel_id")
			return false
		}
		c.hub.Typing(ctx, c.userID, d.ChannelID)
	case opStatus:
		var d struct {
			Status string `json:"status"`
		}
		if json.Unmarshal(msg.D, &d) != nil || !validStatus(d.Status) {
			c.closeWith(closeInvalidFrame, "status must be online, idle or offline")
			return false
		}
		c.hub.presence.setStatus(c, d.Status)
	case opIdentify, opResume:
		c.closeWith(closeInvalidFrame, "already authenticated")
		return false
	default:
		c.closeWith(closeUnknownOp, "unknown op")
		return false
	}
	return true
}

// readFrame reads and decodes one client frame, closing the connection
// with the right code on bad input.
func (c *conn) readFrame(ctx context.Context) (inbound, error) {
	typ, data, err := c.ws.Read(ctx)
	if err != nil {
		return inbound{}, err // closed by us, by the peer, or over the frame size limit
	}
	var msg inbound
	if typ != websocket.MessageText || json.Unmarshal(data, &msg) != nil || msg.Op == "" {
		c.closeWith(closeInvalidFrame, "frames are JSON text with an op")
		return inbound{}, errors.New("invalid frame")
	}
	return msg, nil
}

// send queues a frame without blocking. A full queue means the client
// reads too slowly: it is closed with 4010 so it cannot hold anyone up.
func (c *conn) send(f frame) {
	select {
	case <-c.done:
	case c.queue <- f:
	default:
		c.hub.metrics.slow.Inc()
		c.closeWith(closeTooSlow, "send queue overflowed; resume to catch up")
	}
}

// writeLoop writes queued frames in order, keeping each log without gaps
// or repeats.
func (c *conn) writeLoop(ctx context.Context) {
	for {
		select {
		case <-c.done:
			return
		case f := <-c.queue:
			if err := c.writeFrame(ctx, f); err != nil {
				c.closeWith(closeTooSlow, "write failed")
				return
			}
		}
	}
}

// writeFrame writes one frame. A dispatch already sent is dropped, and a
// dispatch that skips ahead is preceded by the missing events read from
// the log.
func (c *conn) writeFrame(ctx context.Context, f frame) error {
	if f.logID == "" {
		return c.write(ctx, f.data)
	}
	last, tracked := c.sent[f.logID]
	if tracked && f.seq <= last {
		return nil
	}
	// A gap is filled only for a user who may read the log's history now.
	// A user shut out of the channel for a while must not be handed what
	// was posted meanwhile unless the history is open to them anyway.
	if tracked && f.seq > last+1 && c.canReadLog(ctx, f.logID) {
		if err := c.fillGap(ctx, f.logID, last, f.seq); err != nil {
			return err
		}
	}
	if err := c.write(ctx, f.data); err != nil {
		return err
	}
	c.sent[f.logID] = f.seq
	c.hub.metrics.dispatched.Inc()
	if f.created != 0 {
		c.hub.metrics.latency.Observe(time.Since(time.Unix(0, f.created)).Seconds())
	}
	return nil
}

// fillGap writes the events of a log between last and next, exclusive.
func (c *conn) fillGap(ctx context.Context, logID string, last, next int64) error {
	events, err := c.hub.deps.Events.Events(ctx, logID, last, int(next-last-1))
	if err != nil {
		return err
	}
	for _, e := range events {
		if e.Seq >= next {
			break
		}
		if err := c.write(ctx, encodeDispatch(string(e.Type), e.LogID, e.GuildID, e.Seq, e.Data)); err != nil {
			return err
		}
		c.sent[logID] = e.Seq
	}
	return nil
}

// write sends bytes with the write deadline.
func (c *conn) write(ctx context.Context, data []byte) error {
	ctx, cancel := context.WithTimeout(ctx, c.hub.opts.WriteTimeout)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, data)
}

// closeWith ends the connection with a close code; the first call wins.
// It never blocks: the connection's closer goroutine performs the closing
// handshake, so the fan-out is never held up by a peer.
func (c *conn) closeWith(code websocket.StatusCode, reason string) {
	c.closeAfter(nil, code, reason)
}

// closeAfter is closeWith with a last frame written before the close,
// such as the reconnect op at shutdown.
func (c *conn) closeAfter(final []byte, code websocket.StatusCode, reason string) {
	c.closeOnce.Do(func() {
		c.code, c.reason, c.final = code, reason, final
		close(c.done)
	})
}
