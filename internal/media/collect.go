package media

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/openguild/openguild/internal/objectstore"
)

// collectBatch is how many rows one query of the collector reads.
const collectBatch = 500

// CollectReport counts what one collection removed.
type CollectReport struct {
	Media      int   // media rows
	MediaBytes int64 // their total size
	Objects    int   // stored objects, orphans included
	Thumbnails int   // cached thumbnails of removed or unknown objects
}

// Collect removes what nothing needs any more, in three steps. First go
// media rows older than the grace period that no live message references,
// nor any message deleted within the grace period. Then go objects that
// have had no references for the grace period. Last go objects and
// thumbnails in the store that no row names and that are older than the
// grace period, such as those of uploads that failed after storing their
// bytes.
func (s *Service) Collect(ctx context.Context) (CollectReport, error) {
	now := s.clock.Now()
	cutoff := now.Add(-s.opts.GCGrace)
	var report CollectReport
	if err := s.collectMedia(ctx, cutoff, &report); err != nil {
		return report, err
	}
	if err := s.collectReleased(ctx, cutoff, now, &report); err != nil {
		return report, err
	}
	if err := s.collectOrphans(ctx, cutoff, now, &report); err != nil {
		return report, err
	}
	return report, s.RefreshStoredBytes(ctx)
}

func (s *Service) collectMedia(ctx context.Context, cutoff time.Time, report *CollectReport) error {
	for {
		ids, err := s.store.Unreferenced(ctx, cutoff, collectBatch)
		if err != nil {
			return fmt.Errorf("collect media: %w", err)
		}
		for _, id := range ids {
			// The row's grace period is over, so its object is released as
			// of the cutoff and may go in this same collection.
			removed, size, err := s.store.Collect(ctx, id, cutoff, cutoff)
			if err != nil {
				return fmt.Errorf("collect media %s: %w", id, err)
			}
			if removed {
				report.Media++
				report.MediaBytes += size
			}
		}
		if len(ids) < collectBatch {
			return nil
		}
	}
}

func (s *Service) collectReleased(ctx context.Context, cutoff, now time.Time, report *CollectReport) error {
	for {
		shas, err := s.store.ReleasedObjects(ctx, cutoff, collectBatch)
		if err != nil {
			return fmt.Errorf("collect media objects: %w", err)
		}
		for _, sha := range shas {
			if err := s.deleteObject(ctx, sha, now, report); err != nil {
				return err
			}
		}
		if len(shas) < collectBatch {
			return nil
		}
	}
}

// collectOrphans walks the store for objects and thumbnails that no row
// names. Only those older than cutoff are candidates, so an upload that
// has stored its bytes and not yet written its row is left alone.
func (s *Service) collectOrphans(ctx context.Context, cutoff, now time.Time, report *CollectReport) error {
	var objects, thumbnails []string
	err := s.objects.List(ctx, "sha256/", func(info objectstore.Info) error {
		if info.ModTime.Before(cutoff) {
			objects = append(objects, info.Key)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list media objects: %w", err)
	}
	err = s.objects.List(ctx, "thumbnails/", func(info objectstore.Info) error {
		if info.ModTime.Before(cutoff) {
			thumbnails = append(thumbnails, info.Key)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list thumbnails: %w", err)
	}

	for _, key := range objects {
		sha := key[strings.LastIndexByte(key, '/')+1:]
		if exists, _, err := s.store.ObjectState(ctx, sha); err != nil || exists {
			if err != nil {
				return err
			}
			continue
		}
		if err := s.deleteObject(ctx, sha, now, report); err != nil {
			return err
		}
	}
	for _, key := range thumbnails {
		if err := s.deleteOrphanThumbnail(ctx, key, report); err != nil {
			return err
		}
	}
	return nil
}

// deleteObject removes an unreferenced object and its thumbnails. The
// claim in the database makes racing uploads store the bytes again
// instead of sharing an object that is going away.
func (s *Service) deleteObject(ctx context.Context, sha string, now time.Time, report *CollectReport) error {
	claimed, err := s.store.ClaimObject(ctx, sha, now)
	if err != nil || !claimed {
		return err
	}
	if err := s.removeObjectFiles(ctx, sha, report); err != nil {
		if unclaimErr := s.store.UnclaimObject(ctx, sha); unclaimErr != nil {
			err = errors.Join(err, unclaimErr)
		}
		return err
	}
	if err := s.store.ForgetObject(ctx, sha); err != nil {
		return err
	}
	report.Objects++
	return nil
}

func (s *Service) removeObjectFiles(ctx context.Context, sha string, report *CollectReport) error {
	var thumbnails []string
	err := s.objects.List(ctx, thumbnailPrefix(sha), func(info objectstore.Info) error {
		thumbnails = append(thumbnails, info.Key)
		return nil
	})
	if err != nil {
		return fmt.Errorf("list thumbnails of media object %s: %w", sha, err)
	}
	for _, key := range thumbnails {
		if err := s.objects.Delete(ctx, key); err != nil {
			return fmt.Errorf("delete thumbnail %s: %w", key, err)
		}
		report.Thumbnails++
	}
	if err := s.objects.Delete(ctx, objectKey(sha)); err != nil {
		return fmt.Errorf("delete media object %s: %w", sha, err)
	}
	return nil
}

// deleteOrphanThumbnail removes a thumbnail whose original has no row.
// Its key is thumbnails/ab/<sha>/<box>.
func (s *Service) deleteOrphanThumbnail(ctx context.Context, key string, report *CollectReport) error {
	parts := strings.Split(key, "/")
	if len(parts) != 4 {
		return nil
	}
	exists, _, err := s.store.ObjectState(ctx, parts[2])
	if err != nil || exists {
		return err
	}
	if err := s.objects.Delete(ctx, key); err != nil {
		return fmt.Errorf("delete thumbnail %s: %w", key, err)
	}
	report.Thumbnails++
	return nil
}
