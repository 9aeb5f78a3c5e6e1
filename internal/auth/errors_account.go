package auth

import (
	"errors"
	"fmt"
	"time"
)

// ErrNotFound means the account, session or token does not exist, or is
// not the caller's.
var ErrNotFound = errors.New("not found")

// ErrUsernameTaken means another account holds the name, compared
// without regard to case, or held it recently enough to be quarantined.
var ErrUsernameTaken = errors.New("username taken")

// ErrInvalidRegistrationToken means registration needs a token and the
// one given is missing, unknown, expired or used up.
var ErrInvalidRegistrationToken = errors.New("invalid registration token")

// ErrRegistrationClosed means the server accepts no registrations.
var ErrRegistrationClosed = errors.New("registration closed")

// ErrInvalidCredentials means the user name or the password is wrong. It
// deliberately does not say which.
var ErrInvalidCredentials = errors.New("invalid credentials")

// ErrInvalidRefreshToken means the refresh token is unknown, expired,
// revoked, bound to another device, or was reused.
var ErrInvalidRefreshToken = errors.New("invalid refresh token")

// ErrAlreadyRotated means a concurrent request exchanged the refresh
// token first.
var ErrAlreadyRotated = errors.New("refresh token already rotated")

// ErrSessionRevoked means the access token is valid but its session has
// ended.
var ErrSessionRevoked = errors.New("session revoked")

// ThrottledError means too many failed logins: the caller must wait
// RetryAfter. Scope is "user" for the account name or "ip" for the
// client address.
type ThrottledError struct {
	RetryAfter time.Duration
	Scope      string
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("login throttled by %s for %s", e.Scope, e.RetryAfter)
}
