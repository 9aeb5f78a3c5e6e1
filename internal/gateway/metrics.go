package gateway

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// hubMetrics are the gateway's own metrics.
type hubMetrics struct {
	open       prometheus.Gauge
	identifies prometheus.Counter
	resumes    prometheus.Counter
	dispatched prometheus.Counter
	slow       prometheus.Counter
	latency    prometheus.Histogram
}

func newHubMetrics(reg prometheus.Registerer) (*hubMetrics, error) {
	m := &hubMetrics{
		open: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "openguild_gateway_connections", Help: "Authenticated gateway connections open now.",
		}),
		identifies: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "openguild_gateway_identifies_total", Help: "Gateway sessions started with identify.",
		}),
		resumes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "openguild_gateway_resumes_total", Help: "Gateway sessions started with resume.",
		}),
		dispatched: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "openguild_gateway_dispatched_events_total", Help: "Event dispatches written to gateway connections.",
		}),
		slow: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "openguild_gateway_slow_consumer_closes_total", Help: "Connections closed with 4010 because their send queue overflowed.",
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "openguild_gateway_delivery_latency_seconds",
			Help:    "Time from an event's commit to its write to a connection.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
	}
	for _, c := range []prometheus.Collector{m.open, m.identifies, m.resumes, m.dispatched, m.slow, m.latency} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register gateway metrics: %w", err)
		}
	}
	return m, nil
}
