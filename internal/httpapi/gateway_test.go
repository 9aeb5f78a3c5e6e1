package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/openguild/openguild/internal/config"
	"github.com/openguild/openguild/internal/servertest"
)

// gwFrame is a gateway frame as a client reads it.
type gwFrame struct {
	Op        string          `json:"op"`
	T         string          `json:"t"`
	ChannelID string          `json:"channel_id"`
	Seq       int64           `json:"seq"`
	D         json.RawMessage `json:"d"`
}

// gwClient is a real WebSocket client of the test server's gateway.
type gwClient struct {
	t  *testing.T
	ws *websocket.Conn
}

func gatewayURL(s *servertest.Server) string {
	return "ws" + strings.TrimPrefix(s.URL, "http") + "/api/v1/gateway"
}

// dialGateway connects, optionally with an Authorization header, and
// reads hello.
func dialGateway(t *testing.T, s *servertest.Server, token string) *gwClient {
	t.Helper()
	opts := &websocket.DialOptions{}
	if token != "" {
		opts.HTTPHeader = http.Header{"Authorization": {"Bearer " + token}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, gatewayURL(s), opts)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial gateway: %v (status %d)", err, status)
	}
	ws.SetReadLimit(1 << 20)
	c := &gwClient{t: t, ws: ws}
	t.Cleanup(func() { ws.CloseNow() })
	if hello := c.read(); hello.Op != "hello" {
		t.Fatalf("first frame %s, want hello", hello.Op)
	}
	return c
}

func (c *gwClient) send(op string, d any) {
	c.t.Helper()
	data, _ := json.Marshal(map[string]any{"op": op, "d": d})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, data); err != nil {
		c.t.Fatalf("write %s: %v", op, err)
	}
}

func (c *gwClient) read() gwFrame {
	c.t.Helper()
	f, err := c.tryRead(10 * time.Second)
	if err != nil {
		c.t.Fatalf("read frame: %v", err)
	}
	return f
}

func (c *gwClient) tryRead(timeout time.Duration) (gwFrame, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_, data, err := c.ws.Read(ctx)
	if err != nil {
		return gwFrame{}, err
	}
	var f gwFrame
	if err := json.Unmarshal(data, &f); err != nil {
		return gwFrame{}, fmt.Errorf("decode frame %s: %w", data, err)
	}
	return f, nil
}

// readUntil reads frames until one satisfies match.
func (c *gwClient) readUntil(match func(gwFrame) bool) gwFrame {
	c.t.Helper()
	for range 1000 {
		if f := c.read(); match(f) {
			return f
		}
	}
	c.t.Fatal("no matching frame within 1000 frames")
	return gwFrame{}
}

// closeCode reads until the server closes and returns its close code.
func (c *gwClient) closeCode() websocket.StatusCode {
	c.t.Helper()
	for range 1000 {
		if _, err := c.tryRead(15 * time.Second); err != nil {
			return websocket.CloseStatus(err)
		}
	}
	c.t.Fatal("the server did not close the connection")
	return 0
}

func isDispatch(t string) func(gwFrame) bool {
	return func(f gwFrame) bool { return f.Op == "dispatch" && f.T == t }
}

func TestGatewayIdentifyByHeaderAndFrame(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		c := newChat(t, s)

		byHeader := dialGateway(t, s, c.member.AccessToken)
		ready := byHeader.read()
		if ready.Op != "ready" {
			t.Fatalf("frame %s, want ready", ready.Op)
		}
		var payload struct {
			User struct {
				ID string `json:"id"`
			} `json:"user"`
			Guilds []struct {
				ID       string `json:"id"`
				Channels []struct {
					ID string `json:"id"`
				} `json:"channels"`
			} `json:"guilds"`
			ReadState map[string]int64 `json:"read_state"`
			Unread    map[string]any   `json:"unread"`
		}
		json.Unmarshal(ready.D, &payload)
		if payload.User.ID != c.member.User.ID || len(payload.Guilds) != 1 || len(payload.Guilds[0].Channels) != 1 {
			t.Errorf("ready %s", ready.D)
		}

		byFrame := dialGateway(t, s, "")
		byFrame.send("identify", map[string]string{"token": c.owner.AccessToken})
		if f := byFrame.read(); f.Op != "ready" {
			t.Fatalf("frame %s after identify, want ready", f.Op)
		}

		sent := c.mustSend(t, c.owner, "live!")
		for _, client := range []*gwClient{byHeader, byFrame} {
			f := client.readUntil(isDispatch("message_create"))
			var m messageJSON
			json.Unmarshal(f.D, &m)
			if m.ID != sent.ID || f.ChannelID != c.channel || f.Seq != sent.Seq {
				t.Errorf("dispatch %+v / %+v, want message %s at seq %d", f, m, sent.ID, sent.Seq)
			}
		}

		byHeader.send("heartbeat", struct{}{})
		byHeader.readUntil(func(f gwFrame) bool { return f.Op == "heartbeat_ack" })
	})
}

func TestGatewayRejectsBadTokens(t *testing.T) {
	s := servertest.Start(t)
	ctx := context.Background()
	_, resp, err := websocket.Dial(ctx, gatewayURL(s), &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer not-a-token"}},
	})
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("upgrade with a bad header token: err %v, response %v; want HTTP 401 and no upgrade", err, resp)
	}

	c := dialGateway(t, s, "")
	c.send("identify", map[string]string{"token": "not-a-token"})
	if code := c.closeCode(); code != 4004 {
		t.Errorf("identify with a bad token closed with %d, want 4004", code)
	}

	resp2 := s.Do(t, "GET", "/api/v1/gateway?token=abc", nil)
	expectStatus(t, "token in the URL", resp2, http.StatusBadRequest, "validation_error")
}

func TestGatewayIdentifyTimeoutAndBadFrames(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *config.Config) {
		c.Gateway.IdentifyTimeout = 300 * time.Millisecond
	}))
	register(t, s, "alice")
	tok := login(t, s, "alice", "d")

	silent := dialGateway(t, s, "")
	if code := silent.closeCode(); code != 4003 {
		t.Errorf("no identify closed with %d, want 4003", code)
	}

	tests := []struct {
		name  string
		frame string
		want  websocket.StatusCode
	}{
		{"unknown op", `{"op":"dance","d":{}}`, 4001},
		{"not JSON", `{{{`, 4002},
		{"second identify", `{"op":"identify","d":{"token":"x"}}`, 4002},
		{"oversized frame", `{"op":"heartbeat","d":"` + strings.Repeat("x", 64<<10) + `"}`, websocket.StatusMessageTooBig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dialGateway(t, s, tok.AccessToken)
			c.read() // ready
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c.ws.Write(ctx, websocket.MessageText, []byte(tt.frame))
			if code := c.closeCode(); code != tt.want {
				t.Errorf("closed with %d, want %d", code, tt.want)
			}
		})
	}
}

func TestGatewayHeartbeatTimeout(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *config.Config) {
		c.Gateway.HeartbeatInterval = time.Second
	}))
	register(t, s, "alice")
	tok := login(t, s, "alice", "d")
	c := dialGateway(t, s, tok.AccessToken)
	c.read() // ready
	if code := c.closeCode(); code != 4009 {
		t.Errorf("no heartbeats closed with %d, want 4009", code)
	}
}

func TestGatewayOrderedUnderConcurrentSenders(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(generousLimits))
	c := newChat(t, s)
	client := dialGateway(t, s, c.member.AccessToken)
	client.read() // ready

	const senders, each = 8, 10
	var wg sync.WaitGroup
	for w := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				c.send(t, c.owner, map[string]string{"content": fmt.Sprintf("%d-%d", w, i)})
			}
		}()
	}
	wg.Wait()

	var last int64 = 1 // the channel_create event
	for range senders * each {
		f := client.readUntil(isDispatch("message_create"))
		if f.Seq != last+1 {
			t.Fatalf("dispatch seq %d after %d, want gap-free order", f.Seq, last)
		}
		last = f.Seq
	}
}

func TestGatewayResumeReplaysMissedEvents(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		c := newChat(t, s)
		first := dialGateway(t, s, c.member.AccessToken)
		first.read() // ready
		c.mustSend(t, c.owner, "before")
		seen := first.readUntil(isDispatch("message_create")).Seq
		first.ws.Close(websocket.StatusNormalClosure, "")

		// A burst while the client is away, and more during its resume.
		for i := range 20 {
			c.mustSend(t, c.owner, fmt.Sprintf("missed %d", i))
		}
		again := dialGateway(t, s, "")
		again.send("resume", map[string]any{"token": c.member.AccessToken, "last_seq": map[string]int64{c.channel: seen}})
		go func() {
			for i := range 5 {
				c.send(t, c.owner, map[string]string{"content": fmt.Sprintf("during %d", i)})
			}
		}()

		want := seen + 1
		for want <= seen+25 {
			f := again.read()
			if f.Op != "dispatch" || f.ChannelID != c.channel {
				continue
			}
			if f.Seq != want {
				t.Fatalf("after resume got seq %d, want %d (no gap, no repeat)", f.Seq, want)
			}
			want++
		}
	}, servertest.WithConfig(generousLimits))
}

func TestGatewayResyncRequiredPastLimit(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *config.Config) {
		generousLimits(c)
		c.Gateway.ResumeLimit = 5
	}))
	c := newChat(t, s)
	for i := range 8 {
		c.mustSend(t, c.owner, fmt.Sprint(i))
	}
	client := dialGateway(t, s, "")
	client.send("resume", map[string]any{"token": c.member.AccessToken, "last_seq": map[string]int64{c.channel: 1}})
	f := client.readUntil(func(f gwFrame) bool { return f.Op == "resync_required" || f.Op == "dispatch" })
	if f.Op != "resync_required" || !strings.Contains(string(f.D), c.channel) {
		t.Errorf("frame %s %s, want resync_required naming the channel", f.Op, f.D)
	}
}

func TestGatewayStopsDeliveryAfterRevocation(t *testing.T) {
	s := servertest.Start(t)
	c := newChat(t, s)
	client := dialGateway(t, s, c.member.AccessToken)
	client.read() // ready

	// Hide the channel from @everyone; the member must get nothing more.
	resp := s.Do(t, "PUT", "/api/v1/channels/"+c.channel+"/permissions/"+c.guild,
		map[string]string{"type": "role", "allow": "0", "deny": "1"}, bearer(c.owner.AccessToken)...)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("hide channel: %d", resp.StatusCode)
	}
	c.mustSend(t, c.owner, "secret")
	// A guild-level event after it proves the member's stream is flowing.
	s.Do(t, "PATCH", "/api/v1/guilds/"+c.guild, map[string]string{"name": "Renamed"}, bearer(c.owner.AccessToken)...)
	for {
		f := client.read()
		if f.Op == "dispatch" && f.ChannelID == c.channel {
			t.Fatalf("member received %s in a channel hidden from them", f.T)
		}
		if f.T == "guild_update" {
			break
		}
	}

	// Kicked: nothing of the guild arrives any more.
	s.Do(t, "DELETE", "/api/v1/guilds/"+c.guild+"/members/"+c.member.User.ID, nil, bearer(c.owner.AccessToken)...)
	client.readUntil(isDispatch("member_remove"))
	s.Do(t, "PATCH", "/api/v1/guilds/"+c.guild, map[string]string{"name": "Again"}, bearer(c.owner.AccessToken)...)
	if f, err := client.tryRead(500 * time.Millisecond); err == nil && f.Op == "dispatch" {
		t.Errorf("kicked member received %s", f.T)
	}
}

func TestGatewaySessionRevocationCloses(t *testing.T) {
	s := servertest.Start(t)
	register(t, s, "alice")
	tok := login(t, s, "alice", "d")
	client := dialGateway(t, s, tok.AccessToken)
	client.read() // ready
	s.Do(t, "POST", "/api/v1/auth/logout", nil, bearer(tok.AccessToken)...)
	if code := client.closeCode(); code != 4011 {
		t.Errorf("logout closed the connection with %d, want 4011", code)
	}
}

func TestGatewayCaps(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *config.Config) {
		c.Gateway.MaxPerUser = 1
		c.Gateway.MaxConnections = 2
	}))
	register(t, s, "alice")
	register(t, s, "bob")
	alice := login(t, s, "alice", "d")
	bob := login(t, s, "bob", "d")

	first := dialGateway(t, s, alice.AccessToken)
	first.read()
	_, resp, err := websocket.Dial(context.Background(), gatewayURL(s), &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + alice.AccessToken}},
	})
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("second connection of one user: %v %v, want HTTP 429 before the upgrade", err, resp)
	}
	byFrame := dialGateway(t, s, "")
	byFrame.send("identify", map[string]string{"token": alice.AccessToken})
	if code := byFrame.closeCode(); code != 4008 {
		t.Errorf("identify over the per-user cap closed with %d, want 4008", code)
	}

	// The refused connection frees its slot once the server has finished
	// closing it, a moment after the client saw the close.
	var second *websocket.Conn
	servertest.Eventually(t, 10*time.Second, func() bool {
		ws, _, err := websocket.Dial(context.Background(), gatewayURL(s), &websocket.DialOptions{
			HTTPHeader: http.Header{"Authorization": {"Bearer " + bob.AccessToken}},
		})
		second = ws
		return err == nil
	})
	defer second.CloseNow()
	_, resp, err = websocket.Dial(context.Background(), gatewayURL(s), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("connection over the global cap: %v %v, want HTTP 429", err, resp)
	}
	metrics := string(s.DoMetrics(t, "GET", "/metrics").Body)
	for _, reason := range []string{"ws_capacity", "ws_user_capacity"} {
		if strings.Contains(metrics, `openguild_messaging_rejections_total{reason="`+reason+`"} 0`) {
			t.Errorf("rejection reason %s not counted", reason)
		}
	}
}

func TestGatewayTypingAndPresence(t *testing.T) {
	s := servertest.Start(t)
	c := newChat(t, s)
	watcher := dialGateway(t, s, c.owner.AccessToken)
	watcher.read() // ready

	typist := dialGateway(t, s, c.member.AccessToken)
	typist.read()
	watcher.readUntil(func(f gwFrame) bool {
		return f.Op == "presence" && strings.Contains(string(f.D), c.member.User.ID) && strings.Contains(string(f.D), "online")
	})

	if resp := s.Do(t, "POST", "/api/v1/channels/"+c.channel+"/typing", nil, bearer(c.member.AccessToken)...); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("typing: %d %s", resp.StatusCode, resp.Body)
	}
	f := watcher.readUntil(func(f gwFrame) bool { return f.Op == "typing" })
	if !strings.Contains(string(f.D), c.member.User.ID) || !strings.Contains(string(f.D), "expires_at") {
		t.Errorf("typing frame %s", f.D)
	}

	typist.send("status", map[string]string{"status": "idle"})
	watcher.readUntil(func(f gwFrame) bool { return f.Op == "presence" && strings.Contains(string(f.D), "idle") })

	// The last connection closing is announced once the grace period ends.
	typist.ws.Close(websocket.StatusNormalClosure, "")
	servertest.Eventually(t, 10*time.Second, func() bool {
		return strings.Contains(string(s.DoMetrics(t, "GET", "/metrics").Body), "openguild_gateway_connections 1\n")
	})
	s.Clock.Advance(6 * time.Second)
	watcher.readUntil(func(f gwFrame) bool {
		return f.Op == "presence" && strings.Contains(string(f.D), c.member.User.ID) && strings.Contains(string(f.D), "offline")
	})
}

func TestGatewayShutdownSendsReconnect(t *testing.T) {
	s := servertest.Start(t)
	register(t, s, "alice")
	tok := login(t, s, "alice", "d")
	client := dialGateway(t, s, tok.AccessToken)
	client.read() // ready

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- s.Server().Shutdown(ctx)
	}()
	f := client.readUntil(func(f gwFrame) bool { return f.Op == "reconnect" })
	if f.Op != "reconnect" {
		t.Errorf("frame %s, want reconnect", f.Op)
	}
	if err := <-done; err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("shutdown: %v", err)
	}
}

func TestGatewaySlowReaderClosedFastReaderServed(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *config.Config) {
		generousLimits(c)
		c.Gateway.SendQueue = 16
	}))
	c := newChat(t, s)
	fast := dialGateway(t, s, c.owner.AccessToken)
	fast.read() // ready
	slow := dialGateway(t, s, c.member.AccessToken)
	slow.read() // ready; from here on the slow client reads nothing

	// Large messages fill the slow client's socket buffers, then its
	// queue. The loop stops as soon as the server gives up on it.
	big := strings.Repeat("x", 4000)
	closed := func() bool {
		return !strings.Contains(string(s.DoMetrics(t, "GET", "/metrics").Body), "openguild_gateway_slow_consumer_closes_total 0")
	}
	received := make(chan int64, 10000)
	go func() {
		for {
			f, err := fast.tryRead(20 * time.Second)
			if err != nil {
				close(received)
				return
			}
			if f.Op == "dispatch" && f.T == "message_create" {
				received <- f.Seq
			}
		}
	}()

	sent := 0
	for ; sent < 5000 && !closed(); sent++ {
		c.mustSend(t, c.owner, big)
	}
	if !closed() {
		t.Fatalf("the slow reader was not closed after %d messages", sent)
	}

	var last int64 = 1 // channel_create
	for range sent {
		seq, ok := <-received
		if !ok {
			t.Fatalf("fast reader's stream ended after seq %d of %d messages", last, sent)
		}
		if seq != last+1 {
			t.Fatalf("fast reader got seq %d after %d", seq, last)
		}
		last = seq
	}
}

func TestGatewayGapNotFilledWithoutHistory(t *testing.T) {
	s := servertest.Start(t)
	c := newChat(t, s)
	client := dialGateway(t, s, c.member.AccessToken)
	client.read() // ready
	overwrite := func(deny string) {
		t.Helper()
		resp := s.Do(t, "PUT", "/api/v1/channels/"+c.channel+"/permissions/"+c.member.User.ID,
			map[string]string{"type": "member", "allow": "0", "deny": deny}, bearer(c.owner.AccessToken)...)
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("set overwrite: %d %s", resp.StatusCode, resp.Body)
		}
	}

	// The owner's connection shows when the hub has routed an event: it
	// handles events one at a time, for every recipient at once.
	owner := dialGateway(t, s, c.owner.AccessToken)
	owner.read() // ready
	routed := func(text string) {
		t.Helper()
		owner.readUntil(func(f gwFrame) bool { return f.T == "message_create" && strings.Contains(string(f.D), text) })
	}

	c.mustSend(t, c.owner, "visible")
	client.readUntil(isDispatch("message_create"))
	overwrite("1") // hide the channel
	c.mustSend(t, c.owner, "SECRET while hidden")
	routed("SECRET")
	overwrite("4") // visible again, but without READ_MESSAGE_HISTORY
	c.mustSend(t, c.owner, "after")

	for {
		f := client.read()
		if strings.Contains(string(f.D), "SECRET") {
			t.Fatal("a message posted while the channel was hidden reached the member")
		}
		if f.T == "message_create" && strings.Contains(string(f.D), "after") {
			return
		}
	}
}

func TestGatewayParallelUpgradesOverUserCap(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *config.Config) { c.Gateway.MaxPerUser = 2 }))
	register(t, s, "alice")
	tok := login(t, s, "alice", "d")

	const dials = 6
	statuses := make([]int, dials)
	conns := make([]*websocket.Conn, dials)
	var wg sync.WaitGroup
	for i := range dials {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws, resp, err := websocket.Dial(context.Background(), gatewayURL(s), &websocket.DialOptions{
				HTTPHeader: http.Header{"Authorization": {"Bearer " + tok.AccessToken}},
			})
			if resp != nil {
				statuses[i] = resp.StatusCode
			}
			if err == nil {
				conns[i] = ws
			}
		}()
	}
	wg.Wait()

	upgraded := 0
	for i, ws := range conns {
		if ws == nil {
			if statuses[i] != http.StatusTooManyRequests {
				t.Errorf("dial %d: status %d, want 101 or 429", i, statuses[i])
			}
			continue
		}
		upgraded++
		c := &gwClient{t: t, ws: ws}
		t.Cleanup(func() { ws.CloseNow() })
		c.read() // hello
		if f := c.read(); f.Op != "ready" {
			t.Errorf("upgraded dial %d got %s, want ready", i, f.Op)
		}
	}
	if upgraded != 2 {
		t.Errorf("%d upgrades succeeded, want exactly the cap of 2", upgraded)
	}
}

func TestGatewayPresenceOnJoin(t *testing.T) {
	s := servertest.Start(t)
	c := newChat(t, s)
	watcher := dialGateway(t, s, c.owner.AccessToken)
	watcher.read() // ready

	register(t, s, "newcomer")
	newcomer := login(t, s, "newcomer", "d")
	joiner := dialGateway(t, s, newcomer.AccessToken)
	joiner.read() // ready, with no guilds yet

	var inv struct {
		Code string `json:"code"`
	}
	s.Do(t, "POST", "/api/v1/guilds/"+c.guild+"/invites", map[string]any{}, bearer(c.owner.AccessToken)...).JSON(t, &inv)
	if resp := s.Do(t, "POST", "/api/v1/invites/"+inv.Code+"/accept", nil, bearer(newcomer.AccessToken)...); resp.StatusCode != http.StatusOK {
		t.Fatalf("accept invite: %d %s", resp.StatusCode, resp.Body)
	}

	watcher.readUntil(func(f gwFrame) bool {
		return f.Op == "presence" && strings.Contains(string(f.D), newcomer.User.ID) && strings.Contains(string(f.D), "online")
	})
	joiner.readUntil(func(f gwFrame) bool {
		return f.Op == "presence" && strings.Contains(string(f.D), c.owner.User.ID) && strings.Contains(string(f.D), "online")
	})
}

func TestGatewayUserUpdate(t *testing.T) {
	s := servertest.Start(t)
	c := newChat(t, s)
	register(t, s, "pal")
	register(t, s, "stranger")
	pal, stranger := login(t, s, "pal", "d"), login(t, s, "stranger", "d")
	dm := map[string]any{"recipient_ids": []string{c.member.User.ID}}
	if resp := s.Do(t, "POST", "/api/v1/dms", dm, bearer(pal.AccessToken)...); resp.StatusCode != http.StatusCreated {
		t.Fatalf("open DM: %d %s", resp.StatusCode, resp.Body)
	}

	watchers := map[string]*gwClient{
		"guild member": dialGateway(t, s, c.owner.AccessToken),
		"DM partner":   dialGateway(t, s, pal.AccessToken),
		"the user":     dialGateway(t, s, c.member.AccessToken),
	}
	outsider := dialGateway(t, s, stranger.AccessToken)
	for _, w := range append(slices.Collect(maps.Values(watchers)), outsider) {
		w.read() // ready
	}
	isUserUpdate := func(f gwFrame) bool {
		return f.Op == "dispatch" && f.T == "user_update" && strings.Contains(string(f.D), c.member.User.ID)
	}

	rename := map[string]string{"display_name": "Renamed Member"}
	if resp := s.Do(t, "PATCH", "/api/v1/users/@me", rename, bearer(c.member.AccessToken)...); resp.StatusCode != http.StatusOK {
		t.Fatalf("rename: %d %s", resp.StatusCode, resp.Body)
	}
	for who, w := range watchers {
		f := w.readUntil(isUserUpdate)
		var user struct {
			DisplayName string `json:"display_name"`
		}
		json.Unmarshal(f.D, &user)
		if user.DisplayName != "Renamed Member" || f.Seq != 0 || f.ChannelID != "" {
			t.Errorf("%s got user_update %s (channel %q, seq %d), want the new name outside any log", who, f.D, f.ChannelID, f.Seq)
		}
	}

	deletion := map[string]string{"password": testPassword}
	if resp := s.Do(t, "DELETE", "/api/v1/users/@me", deletion, bearer(c.member.AccessToken)...); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete account: %d %s", resp.StatusCode, resp.Body)
	}
	for _, who := range []string{"guild member", "DM partner"} {
		f := watchers[who].readUntil(isUserUpdate)
		if !strings.Contains(string(f.D), `"deleted":true`) {
			t.Errorf("%s got user_update %s after the deletion, want a deleted user", who, f.D)
		}
	}

	// The outsider shares nothing with the user and hears of neither
	// change.
	for {
		f, err := outsider.tryRead(300 * time.Millisecond)
		if err != nil {
			break
		}
		if isUserUpdate(f) {
			t.Fatalf("user sharing nothing got %s", f.D)
		}
	}
}
