package media

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/openguild/openguild/internal/objectstore"
)

// createAttempts bounds how often an upload stores its object again after
// the collector deleted the object it would have shared.
const createAttempts = 3

// Upload stores the bytes of r as a new media file of userID under the
// given file name. It reads r to the end or to one byte past the size cap
// into a spool file, hashing as it goes, and stores nothing unless the
// whole file arrived within the cap and the quota.
//
// It returns ErrTooLarge, ErrQuotaExceeded, ErrIncomplete when r fails
// before io.EOF (a body that ends early), or the store's error.
func (s *Service) Upload(ctx context.Context, userID, filename string, r io.Reader) (Media, error) {
	spool, err := s.spool(r)
	if err != nil {
		return Media{}, err
	}
	defer spool.remove()

	m := Media{
		ID: uuid.Must(uuid.NewV7()).String(), UploaderID: userID, Filename: SanitizeFilename(filename),
		Size: spool.size, SHA256: spool.sha, CreatedAt: s.clock.Now().UTC().Truncate(time.Millisecond),
	}
	if err := spool.describe(&m); err != nil {
		return Media{}, err
	}
	if err := s.checkQuota(ctx, userID, m.Size); err != nil {
		return Media{}, err
	}
	if err := s.save(ctx, m, spool); err != nil {
		if errors.Is(err, ErrQuotaExceeded) {
			s.metrics.UploadRejected(RejectQuota)
		}
		return Media{}, err
	}
	s.metrics.Uploaded(m.Size)
	return m, nil
}

// checkQuota rejects an upload of size bytes that would take userID past
// the quota, before any byte is stored. Create checks again atomically.
func (s *Service) checkQuota(ctx context.Context, userID string, size int64) error {
	used, err := s.store.Usage(ctx, userID)
	if err != nil {
		return err
	}
	if used+size > s.opts.QuotaBytes {
		s.metrics.UploadRejected(RejectQuota)
		return ErrQuotaExceeded
	}
	return nil
}

// save puts the spooled bytes in the object store unless they are
// stored already, then records the media row. Bytes it stored for a row
// that was not recorded, such as one over the quota, are removed again.
func (s *Service) save(ctx context.Context, m Media, sp *spoolFile) error {
	for attempt := 1; ; attempt++ {
		recorded, stored, err := s.objectState(ctx, m.SHA256)
		if err != nil {
			return err
		}
		if !stored {
			if err := sp.put(ctx, s.objects, objectKey(m.SHA256)); err != nil {
				return err
			}
		}

		err = s.store.Create(ctx, m, s.opts.QuotaBytes)
		if errors.Is(err, ErrObjectDeleting) && attempt < createAttempts {
			continue
		}
		switch {
		case err == nil && !recorded:
			s.addStoredBytes(m.Size)
		case err != nil && !stored:
			s.discardObject(ctx, m.SHA256)
		}
		return err
	}
}

// objectState reports whether the database records the bytes of a digest
// and whether the store has them, after waiting out a deletion by the
// collector. Recorded bytes lost from the store count as not stored, so
// the upload stores them again and so repairs the loss.
func (s *Service) objectState(ctx context.Context, sha string) (recorded, stored bool, err error) {
	recorded, deleting, err := s.store.ObjectState(ctx, sha)
	if err != nil {
		return false, false, err
	}
	if deleting {
		return false, false, s.waitForDeletion(ctx, sha)
	}
	if !recorded {
		return false, false, nil
	}

	_, err = s.objects.Stat(ctx, objectKey(sha))
	if errors.Is(err, objectstore.ErrNotFound) {
		s.logger.WarnContext(ctx, "media object missing from the store; storing the upload's copy", "sha256", sha)
		return true, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("check media object %s: %w", sha, err)
	}
	return true, true, nil
}

// discardObject removes bytes that an upload stored before its row was
// rejected, unless another upload has taken them up since. A failure
// leaves them to the collector's sweep of orphans.
func (s *Service) discardObject(ctx context.Context, sha string) {
	ctx = context.WithoutCancel(ctx)
	if err := s.deleteObject(ctx, sha, s.clock.Now(), &CollectReport{}); err != nil {
		s.logger.WarnContext(ctx, "discarding the object of a rejected upload failed; the next collection removes it",
			"sha256", sha, "error", err)
	}
}

// waitForDeletion polls until the collector has removed an object's row.
func (s *Service) waitForDeletion(ctx context.Context, sha string) error {
	ticker := time.NewTicker(50 * time.Millisecond)
	defer ticker.Stop()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return fmt.Errorf("wait for deletion of media object %s: still deleting after 10s", sha)
		case <-ticker.C:
		}
		_, deleting, err := s.store.ObjectState(ctx, sha)
		if err != nil || !deleting {
			return err
		}
	}
}

// spoolFile is an upload on local disk, with its size and digest.
type spoolFile struct {
	file *os.File
	size int64
	sha  string
}

// spool copies r to a new file in the spool directory, at most one byte
// past the size cap.
func (s *Service) spool(r io.Reader) (*spoolFile, error) {
	if s.spoolDir == "" {
		return nil, errors.New("take upload: this media service has no spool directory")
	}
	f, err := os.CreateTemp(s.spoolDir, "upload-*")
	if err != nil {
		return nil, fmt.Errorf("create spool file: %w", err)
	}
	sp := &spoolFile{file: f}

	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, s.opts.MaxUploadBytes+1))
	switch {
	case err != nil && isTooLarge(err):
		err = ErrTooLarge
	case err != nil:
		err = fmt.Errorf("%w: %w", ErrIncomplete, err)
	case n > s.opts.MaxUploadBytes:
		err = ErrTooLarge
	}
	if err != nil {
		sp.remove()
		s.metrics.UploadRejected(rejectionReason(err))
		return nil, err
	}
	sp.size, sp.sha = n, hex.EncodeToString(h.Sum(nil))
	return sp, nil
}

// isTooLarge reports whether a read failed because the HTTP layer's body
// cap was crossed.
func isTooLarge(err error) bool {
	var maxBytes *http.MaxBytesError
	return errors.As(err, &maxBytes)
}

func rejectionReason(err error) string {
	if errors.Is(err, ErrTooLarge) {
		return RejectTooLarge
	}
	return RejectIncomplete
}

// describe fills in the sniffed type and, for images, the dimensions as
// displayed: a JPEG that its Exif data turns a quarter swaps them.
func (sp *spoolFile) describe(m *Media) error {
	head := make([]byte, max(sniffLen, exifSearchBytes))
	n, err := sp.file.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read spool file: %w", err)
	}
	head = head[:n]
	m.ContentType = sniff(head[:min(n, sniffLen)])
	if !isDecodable(m.ContentType) {
		return nil
	}
	w, h, ok := dimensions(io.NewSectionReader(sp.file, 0, sp.size))
	if !ok {
		return nil
	}
	if m.ContentType == "image/jpeg" && swapsAxes(jpegOrientation(head)) {
		w, h = h, w
	}
	m.Width, m.Height = w, h
	return nil
}

func (sp *spoolFile) put(ctx context.Context, objects objectstore.Store, key string) error {
	if _, err := sp.file.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewind spool file: %w", err)
	}
	if err := objects.Put(ctx, key, sp.file, sp.size, "application/octet-stream"); err != nil {
		return fmt.Errorf("store media object: %w", err)
	}
	return nil
}

func (sp *spoolFile) remove() {
	sp.file.Close()
	os.Remove(sp.file.Name())
}

// resetSpool creates the spool directory and removes files that a stopped
// process left in it.
func resetSpool(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create spool directory: %w", err)
	}
	leftovers, err := filepath.Glob(filepath.Join(dir, "upload-*"))
	if err != nil {
		return fmt.Errorf("list spool directory: %w", err)
	}
	for _, name := range leftovers {
		if err := os.Remove(name); err != nil {
			return fmt.Errorf("empty spool directory: %w", err)
		}
	}
	return nil
}
