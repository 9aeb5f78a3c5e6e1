package objectstore

import (
	"fmt"
	"strings"
)

// MaxKeyLength is the longest key accepted, in bytes. It matches the
// object name limit that minio-go v7 checks before sending a request.
const MaxKeyLength = 1024

// maxSegmentLength is the longest segment between slashes, in bytes. It
// is the file name limit (NAME_MAX) of Linux file systems such as ext4.
const maxSegmentLength = 255

// ValidateKey returns an error wrapping ErrInvalidKey when key breaks the
// key rules in the package documentation.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: key is empty", ErrInvalidKey)
	}
	if err := validatePrefix(key); err != nil {
		return err
	}
	if strings.HasSuffix(key, "/") {
		return fmt.Errorf("%w %q: ends with '/'", ErrInvalidKey, key)
	}
	return nil
}

// validatePrefix applies the key rules to a List prefix, which may also be
// empty or end with '/'.
func validatePrefix(prefix string) error {
	if len(prefix) > MaxKeyLength {
		return fmt.Errorf("%w: %d bytes is longer than the maximum of %d", ErrInvalidKey, len(prefix), MaxKeyLength)
	}
	for i := 0; i < len(prefix); i++ {
		if !isKeyByte(prefix[i]) {
			return fmt.Errorf("%w %q: byte %q at offset %d is not one of a-z 0-9 / . _ -", ErrInvalidKey, prefix, prefix[i], i)
		}
	}
	for _, segment := range strings.Split(prefix, "/") {
		if len(segment) > maxSegmentLength {
			return fmt.Errorf("%w %q: a segment is longer than %d bytes", ErrInvalidKey, prefix, maxSegmentLength)
		}
	}
	if strings.HasPrefix(prefix, "/") {
		return fmt.Errorf("%w %q: starts with '/'", ErrInvalidKey, prefix)
	}
	if strings.Contains(prefix, "..") {
		return fmt.Errorf("%w %q: contains \"..\"", ErrInvalidKey, prefix)
	}
	if strings.Contains(prefix, "//") {
		return fmt.Errorf("%w %q: contains an empty segment", ErrInvalidKey, prefix)
	}

	// A segment that starts with '.' would be a hidden file on disk, and
	// Filesystem keeps its temporary files under such a name.
	if strings.HasPrefix(prefix, ".") || strings.Contains(prefix, "/.") {
		return fmt.Errorf("%w %q: a segment starts with '.'", ErrInvalidKey, prefix)
	}
	return nil
}

func isKeyByte(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', '0' <= b && b <= '9':
		return true
	case b == '/', b == '.', b == '_', b == '-':
		return true
	default:
		return false
	}
}
