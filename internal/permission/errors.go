package permission

import "errors"

// ErrInvalidSet is returned by [ParseSet] and [Set.UnmarshalJSON] for text
// that is not the decimal string of a permission set. Such text is empty,
// contains a character other than an ASCII digit, exceeds 2^64-1, is a JSON
// value other than a string, or has bits that no permission uses.
var ErrInvalidSet = errors.New("invalid permission set")

// ErrInvalidOverwriteKind is returned by [ParseOverwriteKind] and
// [OverwriteKind.UnmarshalText] for text other than "role" and "member".
var ErrInvalidOverwriteKind = errors.New("invalid overwrite kind")
