package objectstore

import "errors"

// ErrNotFound is returned when no object is stored under the requested key.
var ErrNotFound = errors.New("object not found")

// ErrInvalidKey is returned for a key or list prefix that breaks the key
// rules in the package documentation.
var ErrInvalidKey = errors.New("invalid object key")

// ErrInvalidRange is returned by GetRange when the offset is negative or
// not before the end of the object, or the length is not positive.
var ErrInvalidRange = errors.New("invalid byte range")

// ErrSizeMismatch is returned by Put when the reader ends before the
// declared size.
var ErrSizeMismatch = errors.New("object size does not match the declared size")
