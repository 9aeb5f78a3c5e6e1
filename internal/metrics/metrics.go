// Package metrics provides the homeserver's Prometheus registry, the
// collectors that several packages share, and the handler served on the
// separate metrics listener.
//
// Every metric is named openguild_<subsystem>_<name>_<unit> and carries
// only labels of bounded cardinality: route patterns, status classes and
// fixed reason sets, never ids, raw paths, user names or addresses.
package metrics

import (
	"crypto/subtle"
	"net/http"
	"net/http/pprof"
	"runtime"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Rejection reasons of openguild_messaging_rejections_total. The set is
// fixed so the label stays bounded; every reason is exported at 0 from
// the start.
const (
	ReasonContentEmpty     = "content_empty"
	ReasonContentTooLong   = "content_too_long"
	ReasonInvalidEncoding  = "invalid_encoding"
	ReasonNameEmpty        = "name_empty"
	ReasonNameTooLong      = "name_too_long"
	ReasonForbidden        = "forbidden"
	ReasonMessageRateLimit = "message_rate_limit"
	ReasonIPRateLimit      = "ip_rate_limit"
	ReasonSlowmode         = "slowmode"
	ReasonWSCapacity       = "ws_capacity"
	ReasonWSUserCapacity   = "ws_user_capacity"
)

// RejectionReasons lists every reason in a stable order.
func RejectionReasons() []string {
	return []string{
		ReasonContentEmpty, ReasonContentTooLong, ReasonInvalidEncoding,
		ReasonNameEmpty, ReasonNameTooLong, ReasonForbidden,
		ReasonMessageRateLimit, ReasonIPRateLimit, ReasonSlowmode,
		ReasonWSCapacity, ReasonWSUserCapacity,
	}
}

// Build identifies the running binary in openguild_build_info.
type Build struct {
	Version string
	Commit  string
}

// Metrics holds the registry and the collectors shared across packages.
// Packages with metrics of their own register them on Registry.
type Metrics struct {
	Registry *prometheus.Registry

	HTTPRequests        *prometheus.CounterVec
	HTTPRequestDuration *prometheus.HistogramVec
	HTTPInFlight        prometheus.Gauge
	Rejections          *prometheus.CounterVec
}

// New creates a registry with the Go runtime, process and build-info
// collectors and the shared collectors above.
func New(build Build) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "openguild_http_requests_total",
			Help: "Client API requests served, by matched route pattern and status class.",
		}, []string{"route", "status_class"}),
		HTTPRequestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "openguild_http_request_duration_seconds",
			Help:    "Time from reading a client API request to finishing its response.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "status_class"}),
		HTTPInFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "openguild_http_requests_in_flight",
			Help: "Client API requests being served now.",
		}),
		Rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "openguild_messaging_rejections_total",
			Help: "Requests rejected by validation, abuse controls or capacity limits, by reason.",
		}, []string{"reason"}),
	}

	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "openguild_build_info",
		Help: "Always 1; the labels identify the running binary.",
	}, []string{"version", "commit", "goversion"})
	buildInfo.WithLabelValues(build.Version, build.Commit, runtime.Version()).Set(1)

	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo,
		m.HTTPRequests,
		m.HTTPRequestDuration,
		m.HTTPInFlight,
		m.Rejections,
	)
	for _, reason := range RejectionReasons() {
		m.Rejections.WithLabelValues(reason)
	}
	return m
}

// Reject counts one rejection. reason must be one of the Reason constants.
func (m *Metrics) Reject(reason string) {
	m.Rejections.WithLabelValues(reason).Inc()
}

// StatusClass maps an HTTP status to its class label, such as 2xx.
func StatusClass(status int) string {
	switch {
	case status < 200:
		return "1xx"
	case status < 300:
		return "2xx"
	case status < 400:
		return "3xx"
	case status < 500:
		return "4xx"
	default:
		return "5xx"
	}
}

// Handler serves /metrics in the Prometheus text format. A non-empty
// token requires "Authorization: Bearer <token>" on every scrape. With
// profiling set, the same listener also serves the Go profiler under
// /debug/pprof/, behind the same token. Any other path gets 404.
func (m *Metrics) Handler(token string, profiling bool) http.Handler {
	metricsHandler := promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		if token != "" && !validBearer(r.Header.Get("Authorization"), token) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "missing or invalid bearer token", http.StatusUnauthorized)
			return
		}
		metricsHandler.ServeHTTP(w, r)
	})
	if profiling {
		guarded := func(h http.HandlerFunc) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				if token != "" && !validBearer(r.Header.Get("Authorization"), token) {
					w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
					http.Error(w, "missing or invalid bearer token", http.StatusUnauthorized)
					return
				}
				h(w, r)
			}
		}
		mux.HandleFunc("GET /debug/pprof/", guarded(pprof.Index))
		mux.HandleFunc("GET /debug/pprof/profile", guarded(pprof.Profile))
		mux.HandleFunc("GET /debug/pprof/trace", guarded(pprof.Trace))
	}
	return mux
}

func validBearer(header, token string) bool {
	presented, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(presented), []byte(token)) == 1
}
