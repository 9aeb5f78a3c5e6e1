package media

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"
	"golang.org/x/sync/singleflight"

	"github.com/openguild/openguild/internal/guild"
	"github.com/openguild/openguild/internal/objectstore"
	"github.com/openguild/openguild/internal/permission"
)

// Media describes one uploaded file.
type Media struct {
	ID          string
	UploaderID  string
	Filename    string // sanitised; used only in Content-Disposition
	ContentType string // sniffed from the bytes
	Size        int64  // in bytes
	SHA256      string // lowercase hex digest of the bytes as uploaded
	Width       int    // as displayed, Exif orientation applied; 0 unless a decodable image
	Height      int
	CreatedAt   time.Time
}

// Errors returned by the Service.
var (
	ErrNotFound      = errors.New("media not found")
	ErrTooLarge      = errors.New("upload exceeds the size cap")
	ErrQuotaExceeded = errors.New("upload exceeds the storage quota")
	ErrInUse         = errors.New("media is attached to a message")
	ErrInvalidImage  = errors.New("media is not an image that can be thumbnailed")
	ErrIncomplete    = errors.New("upload body could not be read to its end")

	// ErrObjectDeleting is returned by Store.Create while the collector
	// removes the object the upload would share; the upload stores the
	// object again and retries.
	ErrObjectDeleting = errors.New("media object is being deleted")
)

// Channels reports what a user may do in a channel.
type Channels interface {
	// ChannelAccess returns a channel the user can view and their
	// permissions in it, or guild.ErrNotFound.
	ChannelAccess(ctx context.Context, userID, channelID string) (guild.Channel, permission.Set, error)
}

// Clock supplies the current time.
type Clock interface{ Now() time.Time }

// Options configures a Service. Objects and Store are required; Channels
// is required to serve downloads and SpoolDir to take uploads.
type Options struct {
	Objects  objectstore.Store
	Store    Store
	Channels Channels
	Metrics  *Metrics // nil records into a registry of its own
	Clock    Clock    // nil uses the system clock
	Logger   *slog.Logger

	// SpoolDir holds uploads while they arrive. The service owns it and
	// empties it at start. A service without one, such as the one an
	// admin command builds to collect, refuses uploads.
	SpoolDir string

	MaxUploadBytes    int64         // default 25 MiB
	QuotaBytes        int64         // per user; default 1 GiB
	DecodeBudgetBytes int64         // default 512 MiB
	GCGrace           time.Duration // default 24 h
}

// Service implements uploads, downloads, thumbnails, deletion and
// collection of media.
type Service struct {
	objects  objectstore.Store
	store    Store
	channels Channels
	metrics  *Metrics
	clock    Clock
	logger   *slog.Logger
	spoolDir string
	opts     Options

	decodes    *semaphore.Weighted // bytes of decoded pixels in flight
	thumbnails singleflight.Group  // one generation per thumbnail key
	stored     atomic.Int64        // bytes in the store; see RefreshStoredBytes
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// New returns a Service, creating and emptying the spool directory if
// one is set.
func New(opts Options) (*Service, error) {
	if opts.MaxUploadBytes == 0 {
		opts.MaxUploadBytes = 25 << 20
	}
	if opts.QuotaBytes == 0 {
		opts.QuotaBytes = 1 << 30
	}
	if opts.DecodeBudgetBytes == 0 {
		opts.DecodeBudgetBytes = 512 << 20
	}
	if opts.GCGrace == 0 {
		opts.GCGrace = 24 * time.Hour
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(prometheus.NewRegistry())
	}
	if opts.Clock == nil {
		opts.Clock = systemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.SpoolDir != "" {
		if err := resetSpool(opts.SpoolDir); err != nil {
			return nil, err
		}
	}
	return &Service{
		objects: opts.Objects, store: opts.Store, channels: opts.Channels,
		metrics: opts.Metrics, clock: opts.Clock, logger: opts.Logger.With("component", "media"),
		spoolDir: opts.SpoolDir, opts: opts,
		decodes: semaphore.NewWeighted(opts.DecodeBudgetBytes),
	}, nil
}

// Metrics returns the service's collectors.
func (s *Service) Metrics() *Metrics { return s.metrics }

// MaxUploadBytes returns the size cap of one upload.
func (s *Service) MaxUploadBytes() int64 { return s.opts.MaxUploadBytes }

// objectKey names the stored bytes of a digest.
func objectKey(sha string) string { return "sha256/" + sha[:2] + "/" + sha }

// thumbnailPrefix names the folder of a digest's thumbnails.
func thumbnailPrefix(sha string) string { return "thumbnails/" + sha[:2] + "/" + sha + "/" }

// RefreshStoredBytes reads the total size of the stored objects from the
// database and reports it. Uploads that store a new object add to the
// total between refreshes; each collection refreshes it.
func (s *Service) RefreshStoredBytes(ctx context.Context) error {
	total, err := s.store.StoredBytes(ctx)
	if err != nil {
		return fmt.Errorf("read stored media bytes: %w", err)
	}
	s.stored.Store(total)
	s.metrics.SetStoredBytes(total)
	return nil
}

func (s *Service) addStoredBytes(n int64) {
	s.metrics.SetStoredBytes(s.stored.Add(n))
}
