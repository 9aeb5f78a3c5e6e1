// Package validate provides the text rules of the client API (user names,
// display names, guild and channel names) and the error type that carries
// a rejected field to the HTTP layer.
//
// Lengths are counted in Unicode scalar values after trimming white space,
// so a name's limit does not depend on how many bytes its script needs.
package validate

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Error is a rejected request field. The HTTP layer answers it with 400
// validation_error and a details entry naming Field.
type Error struct {
	Field   string // the JSON field name, such as display_name
	Message string // what is wrong, as a phrase: "must be 1 to 64 characters"

	// Reason, when set, is the openguild_messaging_rejections_total reason
	// this rejection counts as, such as name_too_long.
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("invalid %s: %s", e.Field, e.Message) }

// Username limits: 2 to 32 characters of A-Z a-z 0-9 . _ -.
const (
	UsernameMin = 2
	UsernameMax = 32
)

// Username checks a user name and returns the key it is compared by:
// names are stored as typed and compared lower-cased.
func Username(name string) (key string, err error) {
	if len(name) < UsernameMin || len(name) > UsernameMax {
		return "", &Error{Field: "username", Message: fmt.Sprintf("must be %d to %d characters", UsernameMin, UsernameMax)}
	}
	for i := 0; i < len(name); i++ {
		if !usernameByte(name[i]) {
			return "", &Error{Field: "username", Message: "may contain only A-Z, a-z, 0-9, '.', '_' and '-'"}
		}
	}
	return strings.ToLower(name), nil
}

func usernameByte(c byte) bool {
	return c == '.' || c == '_' || c == '-' ||
		('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// Password limits, in bytes.
const (
	PasswordMin = 8
	PasswordMax = 1024
)

// Password checks a password's length. field names the request field,
// such as password or new_password.
func Password(field, password string) error {
	if len(password) < PasswordMin || len(password) > PasswordMax {
		return &Error{Field: field, Message: fmt.Sprintf("must be %d to %d bytes", PasswordMin, PasswordMax)}
	}
	return nil
}

// DisplayNameMax is the longest display name, in Unicode scalar values.
const DisplayNameMax = 64

// DisplayName trims a display name and checks it: 1 to 64 characters, no
// control characters, no bidirectional overrides or isolates, no zero
// width space or byte order mark. It returns the trimmed name.
func DisplayName(field, name string) (string, error) {
	name = strings.TrimSpace(name)
	n := utf8.RuneCountInString(name)
	if !utf8.ValidString(name) {
		return "", &Error{Field: field, Message: "must be valid UTF-8"}
	}
	if n < 1 || n > DisplayNameMax {
		return "", &Error{Field: field, Message: fmt.Sprintf("must be 1 to %d characters after trimming", DisplayNameMax)}
	}
	for _, r := range name {
		if forbiddenInName(r) {
			return "", &Error{Field: field, Message: fmt.Sprintf("must not contain the character U+%04X", r)}
		}
	}
	return name, nil
}

// forbiddenInName reports characters that let a name impersonate another
// or reorder the text around it: controls, bidirectional overrides and
// isolates (U+202A to U+202E, U+2066 to U+2069), the zero width space and
// the byte order mark.
func forbiddenInName(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x200B, r == 0xFEFF:
		return true
	}
	return false
}

// Name trims a guild or channel name and checks that it has 1 to max
// Unicode scalar values and no control characters. Rejections carry the
// reasons name_empty and name_too_long.
func Name(field, name string, max int) (string, error) {
	name = strings.TrimSpace(name)
	if !utf8.ValidString(name) {
		return "", &Error{Field: field, Message: "must be valid UTF-8"}
	}
	n := utf8.RuneCountInString(name)
	if n == 0 {
		return "", &Error{Field: field, Message: "must not be empty", Reason: "name_empty"}
	}
	if n > max {
		return "", &Error{Field: field, Message: fmt.Sprintf("must be at most %d characters after trimming", max), Reason: "name_too_long"}
	}
	for _, r := range name {
		if forbiddenInName(r) {
			return "", &Error{Field: field, Message: fmt.Sprintf("must not contain the character U+%04X", r)}
		}
	}
	return name, nil
}
