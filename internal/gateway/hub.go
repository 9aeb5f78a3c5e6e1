package gateway

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/openguild/openguild/internal/auth"
	"github.com/openguild/openguild/internal/bus"
	"github.com/openguild/openguild/internal/event"
	"github.com/openguild/openguild/internal/guild"
	"github.com/openguild/openguild/internal/message"
	"github.com/openguild/openguild/internal/permission"
	"github.com/openguild/openguild/internal/ratelimit"
)

// Authenticator checks access tokens.
type Authenticator interface {
	Authenticate(ctx context.Context, token, ip string) (auth.Principal, error)
	User(ctx context.Context, id string) (auth.User, error)
}

// Guilds reports what a user belongs to and may see.
type Guilds interface {
	Guilds(ctx context.Context, userID string) ([]guild.Guild, error)
	Channels(ctx context.Context, userID, guildID string) ([]guild.Channel, error)
	DMs(ctx context.Context, userID string) ([]guild.Channel, error)
	ChannelAccess(ctx context.Context, userID, channelID string) (guild.Channel, permission.Set, error)
	PermissionsIn(ctx context.Context, ch guild.Channel, userID string) (permission.Set, error)
	IsMember(ctx context.Context, guildID, userID string) (bool, error)
	RoleIDs(ctx context.Context, guildID, userID string) ([]string, error)
	Members(ctx context.Context, userID, guildID, after string, limit int) ([]guild.Member, error)
}

// Channels loads a channel by id for dispatch, without a permission check.
type Channels interface {
	Channel(ctx context.Context, id string) (guild.Channel, error)
}

// EventLog reads the event logs for resume and gap repair.
type EventLog interface {
	Events(ctx context.Context, logID string, afterSeq int64, limit int) ([]event.Event, error)
	LastSeq(ctx context.Context, logID string) (int64, error)
}

// ReadStates provides the read markers and unread counts of ready.
type ReadStates interface {
	UnreadSummary(ctx context.Context, userID string, channels []guild.Channel, roleIDsByGuild map[string][]string) (map[string]int64, map[string]message.UnreadCount, error)
}

// Rejecter counts rejected connections by reason.
type Rejecter interface{ Reject(reason string) }

// Options configures a Hub. Zero values take the defaults.
type Options struct {
	HeartbeatInterval time.Duration // default 30s; two missed intervals close the connection
	IdentifyTimeout   time.Duration // default 10s
	WriteTimeout      time.Duration // default 10s per frame
	SendQueue         int           // frames buffered per connection; default 128
	MaxConnections    int           // default 10,000
	MaxPerUser        int           // default 16
	ResumeLimit       int           // events replayed per log on resume; default 1,000
	MaxFrameBytes     int64         // largest client frame; default 16 KiB
	UpgradesPerIP     ratelimit.Limit
	OpsPerConnection  ratelimit.Limit
	Clock             ratelimit.Clock
}

func (o *Options) setDefaults() {
	if o.HeartbeatInterval == 0 {
		o.HeartbeatInterval = 30 * time.Second
	}
	if o.IdentifyTimeout == 0 {
		o.IdentifyTimeout = 10 * time.Second
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.SendQueue == 0 {
		o.SendQueue = 128
	}
	if o.MaxConnections == 0 {
		o.MaxConnections = 10_000
	}
	if o.MaxPerUser == 0 {
		o.MaxPerUser = 16
	}
	if o.ResumeLimit == 0 {
		o.ResumeLimit = 1000
	}
	if o.MaxFrameBytes == 0 {
		o.MaxFrameBytes = 16 << 10
	}
	if o.UpgradesPerIP.Requests == 0 {
		o.UpgradesPerIP = ratelimit.Limit{Requests: 60, Window: time.Minute}
	}
	if o.OpsPerConnection.Requests == 0 {
		o.OpsPerConnection = ratelimit.Limit{Requests: 120, Window: time.Minute}
	}
	if o.Clock == nil {
		o.Clock = ratelimit.SystemClock{}
	}
}

// Deps lists a Hub's collaborators. Every field is required.
type Deps struct {
	Auth       Authenticator
	Guilds     Guilds
	Channels   Channels
	Events     EventLog
	ReadStates ReadStates
	Bus        *bus.Local
	Rejecter   Rejecter
	Registerer prometheus.Registerer
	Logger     *slog.Logger

	// Banned reports whether an operator banned the user; nil bans nobody.
	Banned func(userID string) bool
}

// Hub holds every gateway connection of this node and routes events to
// them.
type Hub struct {
	deps      Deps
	opts      Options
	logger    *slog.Logger
	metrics   *hubMetrics
	upgrades  *ratelimit.Window
	sub       *bus.Subscription
	presence  *presence
	typing    *ratelimit.Window
	stop      chan struct{} // closed by Shutdown
	wg        sync.WaitGroup
	closeOnce sync.Once

	mu       sync.Mutex // guards the fields below
	conns    map[*conn]struct{}
	byUser   map[string]map[*conn]struct{}
	byGuild  map[string]map[*conn]struct{}
	reserved map[string]int // per-user slots held by upgrades not yet registered
	shutdown bool
}

// New returns a Hub. Call Start to begin routing events.
func New(deps Deps, opts Options) (*Hub, error) {
	opts.setDefaults()
	upgrades, err := ratelimit.NewWindow(opts.UpgradesPerIP, ratelimit.WindowOptions{Clock: opts.Clock})
	if err != nil {
		return nil, err
	}
	typing, err := ratelimit.NewWindow(ratelimit.Limit{Requests: 1, Window: typingInterval}, ratelimit.WindowOptions{Clock: opts.Clock})
	if err != nil {
		return nil, err
	}
	metrics, err := newHubMetrics(deps.Registerer)
	if err != nil {
		return nil, err
	}
	h := &Hub{
		deps: deps, opts: opts, logger: deps.Logger.With("component", "gateway"), metrics: metrics,
		upgrades: upgrades, typing: typing, stop: make(chan struct{}),
		conns: make(map[*conn]struct{}), byUser: make(map[string]map[*conn]struct{}), byGuild: make(map[string]map[*conn]struct{}),
		reserved: make(map[string]int),
	}
	h.presence = newPresence(h)
	return h, nil
}

// Start subscribes to the bus and routes events until Shutdown.
func (h *Hub) Start() {
	h.sub = h.deps.Bus.Subscribe(4096)
	h.wg.Add(2)
	go h.route()
	go h.tick()
}

// route delivers each published event to the connections allowed to see
// it. If the hub's own subscription overflows, every connection is closed
// so it reconnects and resumes, which replays what it missed from the logs.
func (h *Hub) route() {
	defer h.wg.Done()
	for {
		select {
		case <-h.stop:
			return
		case e, ok := <-h.sub.C():
			if !ok {
				h.recoverOverflow()
				return
			}
			h.deliver(e)
		}
	}
}

func (h *Hub) recoverOverflow() {
	select {
	case <-h.stop:
		return
	default:
	}
	h.logger.Error("gateway fell behind the event bus; asking every connection to reconnect and resume")
	for _, c := range h.snapshot() {
		c.closeWith(closeGoingAway, "server overloaded; resume")
	}
	h.sub = h.deps.Bus.Subscribe(4096)
	h.wg.Add(1)
	go h.route()
}

// tick expires presence and sweeps limiter keys.
func (h *Hub) tick() {
	defer h.wg.Done()
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	sweep := 0
	for {
		select {
		case <-h.stop:
			return
		case <-ticker.C:
			h.presence.expire()
			if sweep++; sweep%60 == 0 {
				h.upgrades.Sweep()
				h.typing.Sweep()
			}
		}
	}
}

// register adds an authenticated connection. It fails when the user is
// at the per-user cap or the hub is shutting down.
func (h *Hub) register(c *conn, guildIDs []string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.shutdown {
		h.releaseSlotLocked(c)
		return errShuttingDown
	}
	if c.reservedFor == c.userID && c.userID != "" {
		h.releaseSlotLocked(c) // the reserved slot becomes the registered one
	} else if len(h.byUser[c.userID])+h.reserved[c.userID] >= h.opts.MaxPerUser {
		return errUserCapacity
	}
	if h.byUser[c.userID] == nil {
		h.byUser[c.userID] = make(map[*conn]struct{})
	}
	h.byUser[c.userID][c] = struct{}{}
	for _, g := range guildIDs {
		h.subscribeLocked(c, g)
	}
	h.metrics.open.Inc()
	return nil
}

func (h *Hub) subscribeLocked(c *conn, guildID string) {
	if h.byGuild[guildID] == nil {
		h.byGuild[guildID] = make(map[*conn]struct{})
	}
	h.byGuild[guildID][c] = struct{}{}
	c.guilds[guildID] = true
}

func (h *Hub) unsubscribeLocked(c *conn, guildID string) {
	delete(h.byGuild[guildID], c)
	if len(h.byGuild[guildID]) == 0 {
		delete(h.byGuild, guildID)
	}
	delete(c.guilds, guildID)
}

// admit reserves a slot under the global cap, before the upgrade.
func (h *Hub) admit(c *conn) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.shutdown {
		return errShuttingDown
	}
	if len(h.conns) >= h.opts.MaxConnections {
		return errCapacity
	}
	h.conns[c] = struct{}{}
	return nil
}

// releaseSlotLocked gives back a slot reserved by reserveUserSlot. The
// caller holds h.mu.
func (h *Hub) releaseSlotLocked(c *conn) {
	if c.reservedFor == "" {
		return
	}
	if h.reserved[c.reservedFor]--; h.reserved[c.reservedFor] <= 0 {
		delete(h.reserved, c.reservedFor)
	}
	c.reservedFor = ""
}

// remove deletes a connection from the hub. It runs once per connection.
func (h *Hub) remove(c *conn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.releaseSlotLocked(c)
	registered := false
	if set := h.byUser[c.userID]; set != nil {
		if _, ok := set[c]; ok {
			registered = true
			delete(set, c)
			if len(set) == 0 {
				delete(h.byUser, c.userID)
			}
		}
	}
	guilds := make([]string, 0, len(c.guilds))
	for g := range c.guilds {
		guilds = append(guilds, g)
		h.unsubscribeLocked(c, g)
	}
	h.mu.Unlock()
	if registered {
		h.metrics.open.Dec()
		h.presence.disconnected(c, guilds)
	}
}

func (h *Hub) snapshot() []*conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*conn, 0, len(h.conns))
	for c := range h.conns {
		out = append(out, c)
	}
	return out
}

func (h *Hub) userConns(userID string) []*conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*conn, 0, len(h.byUser[userID]))
	for c := range h.byUser[userID] {
		out = append(out, c)
	}
	return out
}

func (h *Hub) guildConns(guildID string) []*conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*conn, 0, len(h.byGuild[guildID]))
	for c := range h.byGuild[guildID] {
		out = append(out, c)
	}
	return out
}

// CloseSessions closes the connections of revoked sessions with 4011.
func (h *Hub) CloseSessions(sessionIDs []string) {
	revoked := make(map[string]bool, len(sessionIDs))
	for _, id := range sessionIDs {
		revoked[id] = true
	}
	for _, c := range h.snapshot() {
		if revoked[c.sessionID] {
			c.closeWith(closeTokenRevoked, "session revoked")
		}
	}
}

// Shutdown sends every connection a reconnect frame, closes them, stops the
// routing goroutines and waits for every goroutine of the hub and its
// connections to exit, or for ctx to end. It is safe to call more than
// once.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.closeOnce.Do(func() {
		h.mu.Lock()
		h.shutdown = true
		h.mu.Unlock()
		close(h.stop)
		if h.sub != nil {
			h.sub.Close()
		}
		reconnect := encode(opReconnect, struct{}{})
		for _, c := range h.snapshot() {
			c.closeAfter(reconnect, closeGoingAway, "server shutting down; reconnect")
		}
	})

	done := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

var (
	errCapacity     = errors.New("gateway at its connection capacity")
	errUserCapacity = errors.New("user at the per-user connection cap")
	errShuttingDown = errors.New("gateway shutting down")
)
