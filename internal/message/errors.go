package message

import (
	"errors"
	"fmt"
)

// ErrNotFound means the message does not exist, was deleted, or is in a
// channel the caller cannot see.
var ErrNotFound = errors.New("message not found")

// ErrReplyNotFound means reply_to names no live message of the channel.
var ErrReplyNotFound = errors.New("replied-to message not found")

// ErrTooManyReactions means the message already carries the maximum of
// distinct emoji.
var ErrTooManyReactions = errors.New("too many distinct reactions")

// ErrNewEmojiForbidden means the caller may join existing reactions but
// lacks ADD_REACTIONS to add a new emoji.
var ErrNewEmojiForbidden = errors.New("adding a new reaction emoji needs ADD_REACTIONS")

// ErrNotAuthor means only the message's author may do this.
var ErrNotAuthor = errors.New("not the author of the message")

// ErrForbidden means the caller sees the channel but lacks the permission.
var ErrForbidden = errors.New("forbidden")

// ErrReadOnlyDM means every other participant of the DM deleted their
// account, so it takes no new messages or reactions. It wraps ErrForbidden.
var ErrReadOnlyDM = fmt.Errorf("%w: the DM is read-only", ErrForbidden)

// ErrNotTextChannel means the channel holds no messages (a category or a
// voice channel).
var ErrNotTextChannel = errors.New("channel does not hold messages")

// ErrAttachmentNotFound is returned when an attachment id names no media
// that the sender uploaded.
var ErrAttachmentNotFound = errors.New("attachment not found")

// ErrClosed means the server is shutting down and accepts no more sends.
var ErrClosed = errors.New("message writer closed")
