package objectstore

import (
	"context"
	"io"
	"time"
)

// UnknownSize, passed as Put's size, streams a reader whose length is not
// known in advance until it returns io.EOF.
const UnknownSize = -1

// Store keeps objects under content-address keys.
type Store interface {
	// Put stores the bytes of r under key, replacing any object already
	// there. With size >= 0 it stores exactly size bytes, never reads
	// past them, and returns ErrSizeMismatch if r ends sooner. With
	// UnknownSize it reads r until io.EOF. It returns ErrInvalidKey for a
	// bad key, and on any error leaves no partial object behind.
	// contentType is kept as object metadata where the backend has it.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error

	// Get opens the object under key for reading. The caller must close
	// the reader. It returns ErrNotFound or ErrInvalidKey.
	Get(ctx context.Context, key string) (io.ReadCloser, Info, error)

	// GetRange opens length bytes of the object under key, starting at
	// offset. A range that runs past the end of the object is cut at the
	// end. It returns ErrInvalidRange when offset is negative or not
	// before the end, or length is not positive, and also ErrNotFound or
	// ErrInvalidKey.
	GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)

	// Stat returns the size and modification time of the object under
	// key, or ErrNotFound or ErrInvalidKey.
	Stat(ctx context.Context, key string) (Info, error)

	// Delete removes the object under key. Deleting a missing object is
	// not an error. It returns ErrInvalidKey for a bad key.
	Delete(ctx context.Context, key string) error

	// List calls fn for each object whose key starts with prefix, in no
	// guaranteed order. An empty prefix lists every object. List stops at
	// the first error that fn returns and returns that error unchanged.
	// It returns ErrInvalidKey for a prefix with characters that no key
	// may contain.
	List(ctx context.Context, prefix string, fn func(Info) error) error
}

// Info describes one stored object.
type Info struct {
	Key     string
	Size    int64 // in bytes
	ModTime time.Time
}
