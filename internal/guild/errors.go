package guild

import (
	"errors"
	"fmt"
)

// ErrNotFound means the resource does not exist or the caller may not
// see it; the API answers both the same way so ids cannot be probed.
var ErrNotFound = errors.New("not found")

// ErrForbidden means the caller sees the resource but may not change it.
var ErrForbidden = errors.New("forbidden")

// ErrOutranked means the caller holds the permission, but the role or
// member acted on ranks at or above the caller's highest role. It wraps
// ErrForbidden.
var ErrOutranked = fmt.Errorf("%w: the target ranks at or above the caller", ErrForbidden)

// ErrGrantForbidden means a role would get permissions that the caller
// does not hold. It wraps ErrForbidden.
var ErrGrantForbidden = fmt.Errorf("%w: permissions the caller lacks", ErrForbidden)

// ErrNotMember means the user named as a guild's new owner is not a
// member of it.
var ErrNotMember = errors.New("not a member")

// ErrBanned means the user is banned from the guild.
var ErrBanned = errors.New("banned")

// ErrOwnershipTransferRequired means the user owns a guild and must hand
// it to someone else first.
var ErrOwnershipTransferRequired = errors.New("ownership transfer required")

// ErrDMBlocked means a recipient accepts direct messages only from people
// who share a guild with them.
var ErrDMBlocked = errors.New("direct message blocked by recipient")
