// Package server assembles a homeserver from its configuration: the
// database, the client API listener and the metrics listener, and runs
// them until Shutdown.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"

	"github.com/openguild/openguild/internal/banlist"
	"github.com/openguild/openguild/internal/bus"
	"github.com/openguild/openguild/internal/config"
	"github.com/openguild/openguild/internal/gateway"
	"github.com/openguild/openguild/internal/guild"
	"github.com/openguild/openguild/internal/httpapi"
	"github.com/openguild/openguild/internal/media"
	"github.com/openguild/openguild/internal/message"
	"github.com/openguild/openguild/internal/metrics"
	"github.com/openguild/openguild/internal/ratelimit"
	"github.com/openguild/openguild/internal/store"
	"github.com/openguild/openguild/internal/webui"
	"github.com/openguild/openguild/web"
)

// Server is one running homeserver process.
type Server struct {
	cfg      config.Config
	logger   *slog.Logger
	db       *store.DB
	metrics  *metrics.Metrics
	auth     *Auth
	guilds   *guild.Service
	messages *message.Service
	media    *media.Service
	bans     *banlist.List
	hub      *gateway.Hub
	bus      *bus.Local
	clock    Clock

	registerLimit    *ratelimit.Window
	loginLimit       *ratelimit.Window
	messageUserLimit *ratelimit.Window
	messageIPLimit   *ratelimit.Window
	readLimit        *ratelimit.Window
	writeLimit       *ratelimit.Window
	uploadLimit      *ratelimit.Window // uploads per user

	tlsConfig *tls.Config // nil without TLS
	client    *http.Server
	clientLn  net.Listener
	monitor   *http.Server // the metrics listener; nil when disabled
	monitorLn net.Listener

	serveErr chan error    // receives the first listener failure
	stop     chan struct{} // closed when Shutdown begins; background loops exit
	wg       sync.WaitGroup

	shutdownOnce sync.Once
	shutdownErr  error

	mu      sync.Mutex // guards the fields below
	started bool
	stopped bool
}

// Option adjusts a Server before it starts.
type Option func(*Server)

// WithClock makes the server read time from clock, for tests.
func WithClock(clock Clock) Option {
	return func(s *Server) { s.clock = clock }
}

// New opens and migrates the database and binds the listeners, so that
// every configuration problem surfaces before anything is served. It logs
// what it opened. Call Start to serve and Shutdown to stop.
func New(ctx context.Context, cfg config.Config, logger *slog.Logger, build metrics.Build, opts ...Option) (*Server, error) {
	s := &Server{cfg: cfg, logger: logger, serveErr: make(chan error, 2), stop: make(chan struct{}), clock: systemClock{}}
	for _, opt := range opts {
		opt(s)
	}
	logger.Info("starting", "version", build.Version, "commit", build.Commit,
		"server_name", cfg.ServerName, "data_dir", cfg.DataDir)

	// Certificate problems are configuration mistakes: report them before
	// the database is touched.
	if err := s.loadTLS(); err != nil {
		return nil, err
	}
	if err := s.openDatabase(ctx); err != nil {
		return nil, err
	}
	s.metrics = metrics.New(build)

	if err := s.buildServices(ctx); err != nil {
		s.db.Close()
		return nil, err
	}

	api := httpapi.New(httpapi.Deps{
		Logger:         logger,
		Metrics:        s.metrics,
		Database:       s.db,
		Build:          build,
		TrustedProxies: cfg.TrustedProxies,
		Accounts:       s.auth.Service,
		PublicKeys:     s.auth.Keyring,
		Guilds:         s.guilds,
		Messages:       s.messages,
		Bans:           s.bans,
		Gateway:        s.hub,
		Media:          s.media,
		Web:            webui.Handler(web.Dist()),

		MessageUserLimit: s.messageUserLimit,
		MessageIPLimit:   s.messageIPLimit,
		ReadLimit:        s.readLimit,
		WriteLimit:       s.writeLimit,
		RegisterLimit:    s.registerLimit,
		LoginLimit:       s.loginLimit,
		MediaUploadLimit: s.uploadLimit,
	})
	if err := s.bindListeners(api.Handler()); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) openDatabase(ctx context.Context) error {
	db, err := store.Open(ctx, store.Options{URL: s.cfg.DatabaseURL, DataDir: s.cfg.DataDir})
	if err != nil {
		return err
	}

	applied, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return err
	}
	s.logger.Info("database ready", "dialect", db.Dialect(), "target", db.Target(), "migrations_applied", applied)

	stored, err := db.ClaimServerInfo(ctx, "server_name", s.cfg.ServerName)
	if err != nil {
		db.Close()
		return err
	}
	if stored != s.cfg.ServerName {
		s.logger.Warn("server name differs from the one this database was created with; tokens and keys name the configured one",
			"configured", s.cfg.ServerName, "stored", stored)
	}
	s.db = db
	return nil
}

func (s *Server) buildServices(ctx context.Context) error {
	s.bans = banlist.New(s.db, s.cfg.Abuse.BannedUsers, s.cfg.Abuse.BannedIPs)
	if err := s.bans.Reload(ctx); err != nil {
		return err
	}
	s.bus = bus.NewLocal()
	s.guilds = guild.NewService(s.db.Guilds().WithClock(s.clock.Now), s.db, s.db.Accounts(), s.bus, s.metrics,
		guild.Options{Clock: s.clock, NameMax: s.cfg.Messages.NameMax})
	s.messages = message.NewService(s.db.Messages(), s.guilds, s.bus,
		message.Options{Clock: s.clock, ContentMax: s.cfg.Messages.ContentMax, ReadStates: s.db.ReadStates()})

	// The hub is built after the auth service, which it uses; revocations
	// reach it through this closure.
	onRevoke := func(sessionIDs []string) {
		if s.hub != nil {
			s.hub.CloseSessions(sessionIDs)
		}
	}
	a, err := NewAuth(ctx, s.cfg, s.db, s.logger, s.metrics.Registry, s.clock, s.guilds, onRevoke)
	if err != nil {
		return err
	}
	s.auth = a

	gw := s.cfg.Gateway
	s.hub, err = gateway.New(gateway.Deps{
		Auth: a.Service, Guilds: s.guilds, Channels: s.db.Guilds(), Events: s.db, ReadStates: s.messages,
		Bus: s.bus, Rejecter: s.metrics, Registerer: s.metrics.Registry, Logger: s.logger,
		Banned: s.bans.UserBanned,
	}, gateway.Options{
		HeartbeatInterval: gw.HeartbeatInterval, MaxConnections: gw.MaxConnections, MaxPerUser: gw.MaxPerUser,
		ResumeLimit: gw.ResumeLimit, SendQueue: gw.SendQueue, IdentifyTimeout: gw.IdentifyTimeout, Clock: s.clock,
		UpgradesPerIP: ratelimit.Limit{Requests: gw.UpgradesPerIP.Requests, Window: gw.UpgradesPerIP.Window},
	})
	if err != nil {
		return fmt.Errorf("create gateway: %w", err)
	}

	if s.registerLimit, err = newIPLimit(s.cfg.Limits.RegisterPerIP); err != nil {
		return fmt.Errorf("create registration limit: %w", err)
	}
	if s.loginLimit, err = newIPLimit(s.cfg.Limits.LoginPerIP); err != nil {
		return fmt.Errorf("create login limit: %w", err)
	}
	if s.messageIPLimit, err = newIPLimit(s.cfg.Limits.MessagePerIP); err != nil {
		return fmt.Errorf("create message limit per IP: %w", err)
	}
	if s.readLimit, err = newIPLimit(s.cfg.Limits.ReadPerIP); err != nil {
		return fmt.Errorf("create read limit: %w", err)
	}
	if s.writeLimit, err = newIPLimit(s.cfg.Limits.WritePerIPRoute); err != nil {
		return fmt.Errorf("create write limit: %w", err)
	}
	limits := s.cfg.Limits
	s.messageUserLimit, err = ratelimit.NewWindow(
		ratelimit.Limit{Requests: limits.MessagePerUser.Requests, Window: limits.MessagePerUser.Window},
		ratelimit.WindowOptions{Clock: s.clock, Penalty: ratelimit.Penalty{
			Base: limits.PenaltyBase, Max: limits.PenaltyMax, DecayAfter: limits.PenaltyDecay}})
	if err != nil {
		return fmt.Errorf("create message limit per user: %w", err)
	}
	return s.buildMedia(ctx)
}

func newIPLimit(rate config.Rate) (*ratelimit.Window, error) {
	return ratelimit.NewWindow(ratelimit.Limit{Requests: rate.Requests, Window: rate.Window}, ratelimit.WindowOptions{})
}

func (s *Server) loadTLS() error {
	if !s.cfg.TLSEnabled() {
		return nil
	}
	cert, err := tls.LoadX509KeyPair(s.cfg.TLSCertFile, s.cfg.TLSKeyFile)
	if err != nil {
		return fmt.Errorf("load TLS certificate %s and key %s: %w", s.cfg.TLSCertFile, s.cfg.TLSKeyFile, err)
	}
	s.tlsConfig = &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2", "http/1.1"},
	}
	return nil
}

func (s *Server) bindListeners(handler http.Handler) error {
	tlsConfig := s.tlsConfig

	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s for the client API: %w", s.cfg.Listen, err)
	}
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	s.clientLn = ln
	s.client = &http.Server{
		Handler:           handler,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.logger.With("component", "http").Handler(), slog.LevelWarn),
	}

	if s.cfg.MetricsListen == "" {
		return nil
	}
	mln, err := net.Listen("tcp", s.cfg.MetricsListen)
	if err != nil {
		ln.Close()
		return fmt.Errorf("listen on %s for metrics: %w", s.cfg.MetricsListen, err)
	}
	s.monitorLn = mln
	s.monitor = &http.Server{
		Handler:           s.metrics.Handler(s.cfg.MetricsToken, s.cfg.Profiling),
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
	}
	return nil
}

// ClientAddr returns the address the client API listens on, with the port
// chosen by the system when the configuration asked for port 0.
func (s *Server) ClientAddr() string { return s.clientLn.Addr().String() }

// MetricsAddr returns the metrics listener's address, or "" when metrics
// are disabled.
func (s *Server) MetricsAddr() string {
	if s.monitorLn == nil {
		return ""
	}
	return s.monitorLn.Addr().String()
}

// Start serves both listeners in the background and returns at once. It
// does nothing once Shutdown has begun.
func (s *Server) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.stopped {
		return
	}
	s.started = true

	s.serve("client", s.client, s.clientLn)
	if s.monitor != nil {
		s.serve("metrics", s.monitor, s.monitorLn)
	}
	s.messages.Start()
	s.hub.Start()
	s.wg.Add(2)
	go s.maintain()
	go s.collectMedia()
}

// serve runs srv on ln in a goroutine that Shutdown waits for. The caller
// holds s.mu.
func (s *Server) serve(name string, srv *http.Server, ln net.Listener) {
	s.logger.Info("listening", "listener", name, "addr", ln.Addr().String(), "tls", name == "client" && s.cfg.TLSEnabled())
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.serveErr <- fmt.Errorf("serve %s listener on %s: %w", name, ln.Addr(), err)
		}
	}()
}

// Err returns a channel that receives an error if a listener stops
// serving before Shutdown.
func (s *Server) Err() <-chan error { return s.serveErr }

// Shutdown stops the server in this order: stop accepting connections and
// let in-flight requests finish until ctx ends, stop the metrics listener,
// wait for the serving goroutines, then close the database. It is safe to
// call more than once and from several goroutines; every call returns the
// first call's result.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdownOnce.Do(func() {
		s.mu.Lock()
		s.stopped = true
		s.mu.Unlock()
		close(s.stop)
		s.shutdownErr = s.shutdown(ctx)
	})
	return s.shutdownErr
}

func (s *Server) shutdown(ctx context.Context) error {
	s.logger.Info("shutting down: no new connections, waiting for in-flight requests")
	var errs []error
	if err := s.client.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("drain client listener: %w", err))
		s.client.Close() // the grace period is over: cut the stragglers
	}
	if s.monitor != nil {
		if err := s.monitor.Shutdown(ctx); err != nil {
			s.monitor.Close()
		}
	}
	// Closing is a no-op for a listener that was served, and releases the
	// port of one that Start never reached.
	s.clientLn.Close()
	if s.monitorLn != nil {
		s.monitorLn.Close()
	}
	// Gateway connections are hijacked, so the HTTP server's shutdown does
	// not wait for them: tell them to reconnect and close them now.
	if err := s.hub.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("close gateway connections: %w", err))
	}
	s.wg.Wait()
	s.logger.Info("listeners stopped")

	// Requests have drained, so no new sends arrive; let queued ones
	// commit before the database closes.
	s.messages.Close()

	if err := s.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close database: %w", err))
	}
	s.logger.Info("database closed")
	return errors.Join(errs...)
}
