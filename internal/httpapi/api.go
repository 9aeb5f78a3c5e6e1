// Package httpapi provides the client API's HTTP layer: the route table,
// the middleware every request passes through, JSON decoding and
// encoding, and the error envelope.
//
// Handlers stay thin: they decode, call a domain package and encode.
// Domain errors become contract codes in errorTable, in one place, and a
// client never sees an internal error's text.
package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/openguild/openguild/internal/banlist"
	"github.com/openguild/openguild/internal/guild"
	"github.com/openguild/openguild/internal/media"
	"github.com/openguild/openguild/internal/message"
	"github.com/openguild/openguild/internal/metrics"
	"github.com/openguild/openguild/internal/ratelimit"
	"github.com/openguild/openguild/internal/store"
)

// Database is what the readiness check needs from the store.
type Database interface {
	Ping(ctx context.Context) error
	MigrationStatus(ctx context.Context) (store.MigrationStatus, error)
}

// Deps lists the API's dependencies. Every field is required except Web.
type Deps struct {
	Logger         *slog.Logger
	Metrics        *metrics.Metrics
	Database       Database
	Build          metrics.Build
	TrustedProxies []netip.Prefix

	Accounts   Accounts
	PublicKeys PublicKeys
	Guilds     *guild.Service
	Messages   *message.Service
	Bans       *banlist.List
	Gateway    Gateway
	Media      *media.Service

	// Web serves the web client on GET and HEAD requests for paths outside
	// /api/ that no route matches. When it is nil, those requests get the
	// API's 404.
	Web http.Handler

	// Per-client-IP limits on the unauthenticated write routes.
	RegisterLimit *ratelimit.Window
	LoginLimit    *ratelimit.Window

	// Message send limits per user (with penalties) and per client IP.
	MessageUserLimit *ratelimit.Window
	MessageIPLimit   *ratelimit.Window

	// General limits per client IP: reads, and writes per route.
	ReadLimit  *ratelimit.Window
	WriteLimit *ratelimit.Window

	// Uploads per user.
	MediaUploadLimit *ratelimit.Window
}

// API is the client API. Create it with New and serve Handler.
type API struct {
	logger         *slog.Logger
	accessLog      *slog.Logger
	metrics        *metrics.Metrics
	db             Database
	build          metrics.Build
	trustedProxies []netip.Prefix
	accounts       Accounts
	publicKeys     PublicKeys
	guilds         *guild.Service
	messages       *message.Service
	bans           *banlist.List
	gateway        Gateway
	media          *media.Service
	web            http.Handler
	banLogLimit    *ratelimit.Window // one log line per banned key per minute
	registerLimit  *ratelimit.Window
	loginLimit     *ratelimit.Window

	messageUserLimit *ratelimit.Window
	messageIPLimit   *ratelimit.Window
	readLimit        *ratelimit.Window
	writeLimit       *ratelimit.Window
	uploadLimit      *ratelimit.Window
}

// New returns the client API over deps.
func New(deps Deps) *API {
	logger := deps.Logger.With("component", "httpapi")
	return &API{
		logger:         logger,
		accessLog:      deps.Logger.With("component", "access"),
		metrics:        deps.Metrics,
		db:             deps.Database,
		build:          deps.Build,
		trustedProxies: deps.TrustedProxies,
		accounts:       deps.Accounts,
		publicKeys:     deps.PublicKeys,
		guilds:         deps.Guilds,
		messages:       deps.Messages,
		bans:           deps.Bans,
		gateway:        deps.Gateway,
		media:          deps.Media,
		web:            deps.Web,
		banLogLimit:    mustWindow(1, time.Minute),
		registerLimit:  deps.RegisterLimit,
		loginLimit:     deps.LoginLimit,

		messageUserLimit: deps.MessageUserLimit,
		messageIPLimit:   deps.MessageIPLimit,
		readLimit:        deps.ReadLimit,
		writeLimit:       deps.WriteLimit,
		uploadLimit:      deps.MediaUploadLimit,
	}
}

func mustWindow(n int, d time.Duration) *ratelimit.Window {
	w, err := ratelimit.NewWindow(ratelimit.Limit{Requests: n, Window: d}, ratelimit.WindowOptions{MaxKeys: 10_000})
	if err != nil {
		panic(fmt.Sprintf("create %d/%s window: %v", n, d, err)) // constant arguments: a bug, not a runtime condition
	}
	return w
}

// Handler returns the complete handler: middleware around the routes.
func (a *API) Handler() http.Handler {
	rt := newRouter(a)
	a.routes(rt)
	return a.middleware(rt)
}

// middleware wraps the routes in the layers every request passes through.
func (a *API) middleware(h http.Handler) http.Handler {
	// Outermost first: request state and security headers, then metrics
	// and the access log, then panic recovery, then the routes.
	h = a.withRecovery(h)
	h = a.withObservability(h)
	h = a.withRequestState(h)
	return h
}
