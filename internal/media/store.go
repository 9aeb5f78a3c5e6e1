package media

import (
	"context"
	"time"
)

// Store persists media rows and the reference counts of their objects.
// The database package implements it on both dialects.
type Store interface {
	// ObjectState reports whether a row exists for the object of a
	// digest and whether the collector is deleting it.
	ObjectState(ctx context.Context, sha string) (exists, deleting bool, err error)

	// Create inserts m and takes a reference on its object, creating the
	// object's row, in one transaction. It returns ErrQuotaExceeded when
	// the uploader's media would total more than quota bytes, and
	// ErrObjectDeleting while the collector deletes the object.
	Create(ctx context.Context, m Media, quota int64) error

	// Media returns one media row, or ErrNotFound.
	Media(ctx context.Context, id string) (Media, error)

	// Usage returns the total size of a user's media, in bytes.
	Usage(ctx context.Context, userID string) (int64, error)

	// AttachedChannels returns the live channels with a live message
	// that has the media attached.
	AttachedChannels(ctx context.Context, mediaID string) ([]string, error)

	// Delete removes an unattached media row and releases its object.
	// It returns ErrNotFound, or ErrInUse while a live message has it
	// attached.
	Delete(ctx context.Context, id string, at time.Time) error

	// Unreferenced returns up to limit ids of media created before
	// cutoff that no live message references, nor any message deleted
	// after cutoff. A message in a channel deleted before cutoff counts
	// as deleted then.
	Unreferenced(ctx context.Context, cutoff time.Time, limit int) ([]string, error)

	// Collect removes a media row returned by Unreferenced, with its
	// attachment rows, if it is still unreferenced, and releases its
	// object. It returns whether it removed the row and the row's size.
	Collect(ctx context.Context, id string, cutoff, at time.Time) (bool, int64, error)

	// ReleasedObjects returns up to limit digests of objects that have
	// had no references since cutoff or earlier.
	ReleasedObjects(ctx context.Context, cutoff time.Time, limit int) ([]string, error)

	// ClaimObject marks an object as deleting when it has no references,
	// creating a claim row for an object the database does not know. It
	// returns false when the object is referenced.
	ClaimObject(ctx context.Context, sha string, at time.Time) (bool, error)

	// UnclaimObject clears the deleting mark after a failed deletion.
	UnclaimObject(ctx context.Context, sha string) error

	// StoredBytes returns the total size of the objects not being
	// deleted.
	StoredBytes(ctx context.Context) (int64, error)

	// ForgetObject removes the row of an object whose deletion finished.
	ForgetObject(ctx context.Context, sha string) error
}
