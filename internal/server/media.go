package server

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/openguild/openguild/internal/config"
	"github.com/openguild/openguild/internal/media"
	"github.com/openguild/openguild/internal/objectstore"
	"github.com/openguild/openguild/internal/ratelimit"
	"github.com/openguild/openguild/internal/store"
)

// OpenObjectStore opens the media backend that cfg selects: a directory
// (media.dir, by default "media" in the data directory) or an S3 bucket.
func OpenObjectStore(ctx context.Context, cfg config.Config) (objectstore.Store, error) {
	if cfg.Media.Backend == config.MediaBackendS3 {
		s3 := cfg.Media.S3
		return objectstore.NewS3(ctx, objectstore.S3Options{
			Endpoint: s3.Endpoint, Region: s3.Region, Bucket: s3.Bucket,
			AccessKey: s3.AccessKey, SecretKey: s3.SecretKey,
			UseTLS: s3.UseTLS, PathStyle: s3.PathStyle, CreateBucket: s3.CreateBucket,
			PartSize: s3PartSize(cfg.Media.MaxUploadBytes),
		})
	}
	dir := cfg.Media.Dir
	if dir == "" {
		dir = filepath.Join(cfg.DataDir, "media")
	}
	return objectstore.NewFilesystem(dir)
}

// s3PartSize returns a multipart part size larger than any upload, so
// that every file goes to S3 in one streamed PUT instead of parts that
// the client holds in memory one at a time. S3 takes at most 5 GiB in
// one PUT or part, which is also the largest upload the configuration
// allows.
func s3PartSize(maxUpload int64) uint64 {
	return uint64(min(max(maxUpload+1, objectstore.DefaultPartSize), 5<<30))
}

// NewMediaService opens the object store and returns the media service
// over it, with its collectors registered on reg.
func NewMediaService(ctx context.Context, cfg config.Config, db *store.DB, channels media.Channels,
	reg prometheus.Registerer, clock Clock, logger *slog.Logger) (*media.Service, error) {
	objects, err := OpenObjectStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	svc, err := media.New(media.Options{
		Objects: objects, Store: db.Media(), Channels: channels,
		Metrics: media.NewMetrics(reg), Clock: clock, Logger: logger,
		SpoolDir:          filepath.Join(cfg.DataDir, "spool"),
		MaxUploadBytes:    cfg.Media.MaxUploadBytes,
		QuotaBytes:        cfg.Media.QuotaBytes,
		DecodeBudgetBytes: cfg.Media.DecodeBudgetBytes,
		GCGrace:           cfg.Media.GCGrace,
	})
	if err != nil {
		return nil, err
	}
	if err := svc.RefreshStoredBytes(ctx); err != nil {
		return nil, err
	}
	return svc, nil
}

// collectMedia runs the media collector every media.gc_interval until
// Shutdown. Each run logs what it removed; a failure is logged and the
// next run tries again.
func (s *Server) collectMedia() {
	defer s.wg.Done()
	ticker := time.NewTicker(s.cfg.Media.GCInterval)
	defer ticker.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-ticker.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Media.GCInterval)
		report, err := s.media.Collect(ctx)
		cancel()
		if err != nil {
			s.logger.Error("media collection failed; will retry at the next interval",
				"err", err, "next_in", s.cfg.Media.GCInterval.String())
			continue
		}
		s.logger.Info("media collected", "media", report.Media, "media_bytes", report.MediaBytes,
			"objects", report.Objects, "thumbnails", report.Thumbnails)
	}
}

func (s *Server) buildMedia(ctx context.Context) error {
	svc, err := NewMediaService(ctx, s.cfg, s.db, s.guilds, s.metrics.Registry, s.clock, s.logger)
	if err != nil {
		return fmt.Errorf("open media store: %w", err)
	}
	s.media = svc
	uploads := s.cfg.Media.UploadsPerUser
	s.uploadLimit, err = ratelimit.NewWindow(ratelimit.Limit{Requests: uploads.Requests, Window: uploads.Window},
		ratelimit.WindowOptions{Clock: s.clock})
	if err != nil {
		return fmt.Errorf("create upload limit: %w", err)
	}
	return nil
}

// Media returns the media service, for tests and admin tasks that run
// inside the server.
func (s *Server) Media() *media.Service { return s.media }
