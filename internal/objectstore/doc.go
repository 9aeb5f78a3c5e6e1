// Package objectstore stores media objects under content-address keys,
// either in a directory on local disk ([Filesystem]) or in a bucket of an
// S3-compatible server ([S3]).
//
// # Keys
//
// A key names one object, such as "sha256/ab/cdef0123". Keys contain only
// lowercase ASCII letters, digits and the characters '/', '.', '_' and
// '-', and are at most MaxKeyLength bytes long. A key does not start or
// end with '/' and does not contain "..". Each segment between slashes is
// non-empty, at most 255 bytes long, and does not start with '.'. These
// rules make every key map to a path inside the store's root on disk.
// [ValidateKey] applies them, and every method rejects a key that breaks
// them with [ErrInvalidKey].
//
// # Writes
//
// Put makes an object visible only once all of its bytes are stored. A
// reader that fails, a size that does not match, or a cancelled context
// leaves any earlier object under that key as it was, and no partial
// object.
//
// # Concurrency
//
// Every Store implementation in this package is safe for concurrent use
// by multiple goroutines, and by several processes that share the same
// directory or bucket. When two Puts to one key overlap, one of them wins
// whole, and a reader sees either the old or the new object, never a mix.
// A reader opened by Get or GetRange keeps returning the object it
// opened when a Put or Delete on the same key happens meanwhile on
// Filesystem. On S3 such a reader may fail instead, depending on the server.
package objectstore
