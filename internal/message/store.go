package message

import (
	"context"
	"time"

	"github.com/openguild/openguild/internal/event"
	"github.com/openguild/openguild/internal/media"
)

// Message is a chat message as stored.
type Message struct {
	ID        string
	ChannelID string
	GuildID   string // empty in DMs
	Seq       int64
	AuthorID  string
	Content   string
	Nonce     string
	ReplyTo   string
	Mentions  Mentions
	Reactions []Reaction
	CreatedAt time.Time
	EditedAt  time.Time // zero if never edited

	Attachments []media.Media // in the order the sender listed them
}

// Reaction is one emoji's tally on a message.
type Reaction struct {
	Emoji string
	Count int
	Me    bool // whether the viewer reacted with it
}

// Draft is a message to append.
type Draft struct {
	ID        string
	ChannelID string
	GuildID   string
	AuthorID  string
	Content   string
	Nonce     string
	ReplyTo   string
	Mentions  Mentions
	CreatedAt time.Time

	// AttachmentIDs name media that the author uploaded, in order.
	AttachmentIDs []string

	// NonceSince is the start of the idempotency window: a message of the
	// same author, channel and nonce created after it is returned instead
	// of a new one.
	NonceSince time.Time
}

// Appended is the outcome of one draft in a batch.
type Appended struct {
	Message  Message
	Existing bool          // the nonce matched an earlier message, returned as it is
	Events   []event.Event // committed events; none when Existing
	Err      error         // ErrReplyNotFound or another failure of this draft alone
}

// Page selects messages of a channel around a cursor.
type Page struct {
	BeforeSeq int64 // 0: no upper bound
	AfterSeq  int64 // 0: no lower bound
	Limit     int
}

// Store persists messages. The database package implements it on both
// dialects.
type Store interface {
	// AppendBatch appends drafts in one transaction: each draft's message,
	// attachments, message_create event and nonce. A draft that fails,
	// such as one whose attachment ids do not all name media of its author
	// (ErrAttachmentNotFound), writes nothing and leaves the others alone.
	// One commit makes the whole batch durable.
	AppendBatch(ctx context.Context, drafts []Draft) ([]Appended, error)

	// ByNonce returns the author's message with this nonce in the channel
	// if it was created after since.
	ByNonce(ctx context.Context, authorID, channelID, nonce string, since time.Time) (Message, bool, error)

	// Message returns a live message of a channel with its reactions as
	// viewerID sees them. ErrNotFound for unknown or deleted messages.
	Message(ctx context.Context, channelID, messageID, viewerID string) (Message, error)

	// MessageSeq returns the seq of a message of the channel, deleted or
	// not, for use as a history cursor. ErrNotFound.
	MessageSeq(ctx context.Context, channelID, messageID string) (int64, error)

	// History returns the live messages of a page, oldest first, with
	// reactions as viewerID sees them.
	History(ctx context.Context, channelID string, page Page, viewerID string) ([]Message, error)

	// Edit replaces a live message's content and mentions and appends a
	// message_update event. ErrNotFound.
	Edit(ctx context.Context, channelID, messageID, content string, mentions Mentions, at time.Time) (Message, []event.Event, error)

	// Delete erases a live message's content from the projection and from
	// the payload of its earlier events, removes its reactions, and
	// appends a message_delete event. ErrNotFound.
	Delete(ctx context.Context, channelID, messageID string, at time.Time) ([]event.Event, error)

	// React adds userID's reaction and appends reaction_add. It returns
	// ErrTooManyReactions when the emoji is new to the message and the
	// message has maxEmoji distinct emoji already, ErrNewEmojiForbidden
	// when the emoji is new and requireExisting is set, ErrNotFound for an
	// unknown message, and no events when the reaction already existed.
	React(ctx context.Context, channelID, messageID, emoji, userID string, maxEmoji int, requireExisting bool, at time.Time) ([]event.Event, error)

	// Unreact removes userID's reaction; no events if there was none.
	// ErrNotFound for unknown messages.
	Unreact(ctx context.Context, channelID, messageID, emoji, userID string, at time.Time) ([]event.Event, error)

	// PurgeNonces deletes nonces created before the given time.
	PurgeNonces(ctx context.Context, before time.Time) (int64, error)
}
