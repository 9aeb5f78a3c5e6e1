package httpapi

import (
	"net/http"
	"strings"

	"github.com/openguild/openguild/internal/metrics"
	"github.com/openguild/openguild/internal/ratelimit"
)

// Body caps per route class. Every cap admits every valid request of its
// routes; message routes accept at least 64 KiB, as the API promises.
const (
	capDefault int64 = 64 << 10
	capMessage int64 = 256 << 10
)

// handlerFunc is a handler that returns its error instead of writing it,
// so every error reaches the client through writeError and the one table
// of codes.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// router registers routes on a ServeMux and responds to unknown paths and
// wrong methods with the error envelope instead of the mux's plain text.
type router struct {
	api      *API
	mux      *http.ServeMux
	patterns []string // every registered pattern, for the OpenAPI check
}

func newRouter(a *API) *router {
	return &router{api: a, mux: http.NewServeMux()}
}

// ownLimit marks a route whose handler applies a rate limit of its own
// instead of the general per-route write limit.
const ownLimit = true

// handle registers h under pattern, with request bodies capped at
// maxBody bytes (413 payload_too_large above it).
func (rt *router) handle(pattern string, maxBody int64, h handlerFunc) {
	rt.handleLimited(pattern, maxBody, !ownLimit, h)
}

// handleLimited registers a route like handle, with limitsItself set
// for routes that apply a rate limit of their own.
func (rt *router) handleLimited(pattern string, maxBody int64, limitsItself bool, h handlerFunc) {
	rt.patterns = append(rt.patterns, pattern)
	limit := rt.api.generalLimit(pattern, limitsItself)
	rt.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stateOf(r).route = pattern
		if err := rt.api.checkAddrBan(r); err != nil {
			rt.api.writeError(w, r, err)
			return
		}
		if err := limit(r); err != nil {
			rt.api.writeError(w, r, err)
			return
		}
		if r.ContentLength > maxBody {
			rt.api.writeError(w, r, payloadTooLarge(maxBody))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		if err := h(w, r); err != nil {
			rt.api.writeError(w, r, err)
		}
	}))
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, pattern := rt.mux.Handler(r)
	if pattern != "" {
		rt.mux.ServeHTTP(w, r)
		return
	}
	if rt.servesWeb(r) {
		stateOf(r).route = "web"
		rt.api.web.ServeHTTP(w, r)
		return
	}

	// No route matched. The mux's own handler tells a wrong method (405
	// with Allow) from an unknown path (404) and redirects unclean paths;
	// capture its verdict and answer in the envelope.
	probe := &verdictRecorder{header: make(http.Header)}
	h.ServeHTTP(probe, r)
	switch probe.status {
	case http.StatusMethodNotAllowed:
		allow := probe.header.Get("Allow")
		w.Header().Set("Allow", allow)
		rt.api.writeError(w, r, &Error{Status: http.StatusMethodNotAllowed, Code: CodeMethodNotAllowed,
			Message: "This route does not accept " + r.Method + "; it accepts " + allow + "."})
	case http.StatusNotFound, 0:
		rt.api.writeError(w, r, &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "No route matches this path."})
	default:
		for k, v := range probe.header {
			w.Header()[k] = v
		}
		w.WriteHeader(probe.status)
	}
}

// servesWeb reports whether an unmatched request belongs to the web
// client: a GET or HEAD outside /api/, when a web handler is configured.
// The metrics listener's paths stay 404 here, so that the client's page is
// never mistaken for metrics served on the client listener.
func (rt *router) servesWeb(r *http.Request) bool {
	if rt.api.web == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	p := r.URL.Path
	switch {
	case p == "/api" || strings.HasPrefix(p, "/api/"):
		return false
	case p == "/metrics" || strings.HasPrefix(p, "/debug/"):
		return false
	}
	return true
}

// verdictRecorder captures the status and headers the mux would send for
// an unmatched request, discarding its body.
type verdictRecorder struct {
	header http.Header
	status int
}

func (v *verdictRecorder) Header() http.Header { return v.header }
func (v *verdictRecorder) WriteHeader(code int) {
	if v.status == 0 {
		v.status = code
	}
}
func (v *verdictRecorder) Write(p []byte) (int, error) {
	v.WriteHeader(http.StatusOK)
	return len(p), nil
}

// generalLimit returns the per-IP check for a route: routes that limit
// themselves (the gateway upgrade, login, message sends) and routes
// outside /api/v1 (health checks, JWKS) get none, other GETs share the
// read limit, and other methods get the write limit per route.
func (a *API) generalLimit(pattern string, limitsItself bool) func(*http.Request) error {
	method, path, _ := strings.Cut(pattern, " ")
	if !strings.HasPrefix(path, "/api/v1/") || a.readLimit == nil || a.writeLimit == nil {
		return func(*http.Request) error { return nil }
	}
	if limitsItself {
		return func(*http.Request) error { return nil }
	}
	if method == http.MethodGet {
		return func(r *http.Request) error {
			return a.checkLimit(a.readLimit, ClientIP(r).String())
		}
	}
	return func(r *http.Request) error {
		return a.checkLimit(a.writeLimit, ClientIP(r).String()+" "+pattern)
	}
}

func (a *API) checkLimit(limiter *ratelimit.Window, key string) error {
	d := limiter.Allow(key)
	if d.Allowed {
		return nil
	}
	a.metrics.Reject(metrics.ReasonIPRateLimit)
	return rateLimited(d, ScopeIP, "Too many requests from this address.")
}
