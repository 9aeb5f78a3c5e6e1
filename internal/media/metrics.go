package media

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Upload rejection reasons of openguild_media_upload_rejections_total.
const (
	RejectTooLarge    = "too_large"
	RejectQuota       = "quota"
	RejectIncomplete  = "incomplete"
	RejectRateLimited = "rate_limited"
)

// Metrics holds the media collectors.
type Metrics struct {
	uploads     prometheus.Counter
	uploadBytes prometheus.Counter
	rejections  *prometheus.CounterVec
	stored      prometheus.Gauge
	thumbnails  prometheus.Histogram
}

// NewMetrics creates the media collectors and registers them on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		uploads: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "openguild_media_uploads_total",
			Help: "Uploads stored.",
		}),
		uploadBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "openguild_media_upload_bytes_total",
			Help: "Bytes of the uploads stored, before deduplication.",
		}),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "openguild_media_upload_rejections_total",
			Help: "Uploads refused, by reason: too_large, quota, incomplete or rate_limited.",
		}, []string{"reason"}),
		stored: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "openguild_media_stored_bytes",
			Help: "Bytes of media objects in the object store, each distinct file counted once.",
		}),
		thumbnails: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "openguild_media_thumbnail_duration_seconds",
			Help:    "Time to generate one thumbnail: decoding, scaling, encoding and caching.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
	}
	reg.MustRegister(m.uploads, m.uploadBytes, m.rejections, m.stored, m.thumbnails)
	for _, reason := range []string{RejectTooLarge, RejectQuota, RejectIncomplete, RejectRateLimited} {
		m.rejections.WithLabelValues(reason)
	}
	return m
}

// Uploaded counts one stored upload of the given size.
func (m *Metrics) Uploaded(bytes int64) {
	m.uploads.Inc()
	m.uploadBytes.Add(float64(bytes))
}

// UploadRejected counts one refused upload; reason is a Reject constant.
func (m *Metrics) UploadRejected(reason string) { m.rejections.WithLabelValues(reason).Inc() }

// SetStoredBytes reports the bytes in the object store.
func (m *Metrics) SetStoredBytes(total int64) { m.stored.Set(float64(total)) }

// ThumbnailGenerated records the time one thumbnail took.
func (m *Metrics) ThumbnailGenerated(d time.Duration) { m.thumbnails.Observe(d.Seconds()) }
