package message

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/openguild/openguild/internal/metrics"
	"github.com/openguild/openguild/internal/validate"
)

// DefaultContentMax is the default maximum message length, in Unicode
// scalar values after trimming. Operators may configure another maximum.
const DefaultContentMax = 4000

// CheckContent checks message content and returns it trimmed of leading and
// trailing white space (as unicode.IsSpace defines it). Content must be
// valid UTF-8 with no NUL (U+0000), and 1 to max Unicode scalar values long
// after trimming. max must be at least 1.
//
// A rejection is a *validate.Error for the field content, with Reason
// content_empty, content_too_long or invalid_encoding. A NUL counts as
// invalid_encoding because the reason label has no value of its own for it
// and a NUL is not text that a client meant to send.
func CheckContent(content string, max int) (string, error) {
	if !utf8.ValidString(content) {
		return "", &validate.Error{Field: "content", Message: "must be valid UTF-8", Reason: metrics.ReasonInvalidEncoding}
	}
	if strings.IndexByte(content, 0) >= 0 {
		return "", &validate.Error{Field: "content", Message: "must not contain the NUL character (U+0000)", Reason: metrics.ReasonInvalidEncoding}
	}

	content = strings.TrimSpace(content)
	n := utf8.RuneCountInString(content)
	if n == 0 {
		return "", &validate.Error{Field: "content", Message: "must not be empty after trimming white space", Reason: metrics.ReasonContentEmpty}
	}
	if n > max {
		return "", &validate.Error{
			Field:   "content",
			Message: fmt.Sprintf("must be at most %d characters after trimming white space", max),
			Reason:  metrics.ReasonContentTooLong,
		}
	}
	return content, nil
}

// NonceMax is the longest message nonce, in characters. A nonce is ASCII,
// so this is also its length in bytes.
const NonceMax = 64

// CheckNonce checks a message nonce: at most NonceMax characters, each
// printable ASCII (U+0020 space to U+007E tilde). The empty string is
// accepted and means the request carries no nonce. A rejection is a
// *validate.Error for the field nonce, with no Reason.
func CheckNonce(nonce string) error {
	if len(nonce) > NonceMax {
		return &validate.Error{Field: "nonce", Message: fmt.Sprintf("must be at most %d characters", NonceMax)}
	}
	for i := 0; i < len(nonce); i++ {
		if nonce[i] < 0x20 || nonce[i] > 0x7E {
			return &validate.Error{Field: "nonce", Message: "must contain only printable ASCII characters (space to '~')"}
		}
	}
	return nil
}
