package httpapi

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"time"

	"github.com/openguild/openguild/internal/metrics"
)

// requestState carries what the middleware learns about a request, for
// the access log, metrics and handlers. It lives in the request context.
type requestState struct {
	id       string
	route    string // matched pattern, or "unmatched"
	clientIP netip.Addr
	secure   bool   // the client used TLS, to this server or to a trusted proxy
	userID   string // set by the bearer check
}

type stateKey struct{}

func stateOf(r *http.Request) *requestState {
	if s, ok := r.Context().Value(stateKey{}).(*requestState); ok {
		return s
	}
	return &requestState{route: "unmatched", secure: r.TLS != nil}
}

func requestID(r *http.Request) string { return stateOf(r).id }
func routeOf(r *http.Request) string   { return stateOf(r).route }

// ClientIP returns the client address resolved by the middleware.
func ClientIP(r *http.Request) netip.Addr { return stateOf(r).clientIP }

// withRequestState is the outermost middleware: it assigns the request id
// (the client's own when it is 1 to 64 characters of A-Z a-z 0-9 . _ -),
// resolves the client IP and sets the security headers that every
// response carries.
func (a *API) withRequestState(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		state := &requestState{
			id:       r.Header.Get("X-Request-Id"),
			route:    "unmatched",
			clientIP: resolveClientIP(r, a.trustedProxies),
			secure:   resolveSecure(r, a.trustedProxies),
		}
		if !validRequestID(state.id) {
			state.id = newRequestID()
		}

		h := w.Header()
		h.Set("X-Request-Id", state.id)
		h.Set("Content-Security-Policy", "default-src 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")

		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), stateKey{}, state)))
	})
}

func validRequestID(id string) bool {
	if len(id) < 1 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c == '.' || c == '_' || c == '-' ||
			('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
		if !ok {
			return false
		}
	}
	return true
}

// newRequestID returns 20 random characters, enough that ids never
// collide in practice.
func newRequestID() string {
	var b [12]byte
	rand.Read(b[:])
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])
}

// withObservability counts, times and logs each request once it ends.
func (a *API) withObservability(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		a.metrics.HTTPInFlight.Inc()
		rec := &statusRecorder{ResponseWriter: w}

		defer func() {
			a.metrics.HTTPInFlight.Dec()
			elapsed := time.Since(start)
			status := rec.statusOrOK()
			state := stateOf(r)
			class := metrics.StatusClass(status)
			a.metrics.HTTPRequests.WithLabelValues(state.route, class).Inc()
			a.metrics.HTTPRequestDuration.WithLabelValues(state.route, class).Observe(elapsed.Seconds())
			a.logAccess(r, state, status, rec.bytes, elapsed)
		}()
		next.ServeHTTP(rec, r)
	})
}

// logAccess writes one line per request. It never logs headers or bodies,
// and logs the raw path only for unmatched requests, because matched paths
// can hold invite codes and other capabilities.
func (a *API) logAccess(r *http.Request, state *requestState, status int, bytes int64, elapsed time.Duration) {
	attrs := []slog.Attr{
		slog.String("request_id", state.id),
		slog.String("method", r.Method),
		slog.String("route", state.route),
		slog.Int("status", status),
		slog.Int64("bytes", bytes),
		slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
		slog.String("client_ip", state.clientIP.String()),
	}
	if state.route == "unmatched" {
		path := r.URL.Path
		if len(path) > 256 {
			path = path[:256]
		}
		attrs = append(attrs, slog.String("path", path))
	}
	if state.userID != "" {
		attrs = append(attrs, slog.String("user_id", state.userID))
	}
	a.accessLog.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
}

// withRecovery turns a handler panic into a logged 500 in the error
// envelope, unless the response has already started.
func (a *API) withRecovery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v) // the handler asked net/http to abort the connection
			}
			a.logger.ErrorContext(r.Context(), "handler panicked",
				"request_id", requestID(r), "route", routeOf(r),
				"err", fmt.Sprint(v), "stack", string(debug.Stack()))
			if rec, ok := w.(*statusRecorder); ok && rec.status != 0 {
				return // too late for an error body; the client sees a cut response
			}
			a.writeError(w, r, &Error{Status: http.StatusInternalServerError, Code: CodeInternal,
				Message: "The server could not complete the request."})
		}()
		next.ServeHTTP(w, r)
	})
}

// statusRecorder records the status and size of a response. It keeps the
// optional interfaces that WebSocket upgrades and streaming need.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(p)
	s.bytes += int64(n)
	return n, err
}

func (s *statusRecorder) statusOrOK() int {
	if s.status == 0 {
		return http.StatusOK
	}
	return s.status
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Flush sends buffered data to the client.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack hands the connection to a WebSocket upgrade. The upgrade answers
// 101, which is what gets counted.
func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := s.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("hijack: the response writer does not support it")
	}
	if s.status == 0 {
		s.status = http.StatusSwitchingProtocols
	}
	return h.Hijack()
}
