package message

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/openguild/openguild/internal/event"
	"github.com/openguild/openguild/internal/guild"
	"github.com/openguild/openguild/internal/permission"
	"github.com/openguild/openguild/internal/ratelimit"
	"github.com/openguild/openguild/internal/validate"
)

// Channels reports what the caller may do in a channel.
type Channels interface {
	// ChannelAccess returns a channel the user can view and their
	// permissions in it, or guild.ErrNotFound.
	ChannelAccess(ctx context.Context, userID, channelID string) (guild.Channel, permission.Set, error)

	// KnownMentions keeps the mentioned users and roles that exist in
	// the channel, in their order.
	KnownMentions(ctx context.Context, ch guild.Channel, userIDs, roleIDs []string) (users, roles []string, err error)
}

// Publisher receives committed events.
type Publisher interface {
	Publish(events ...event.Event)
}

// Clock supplies the current time.
type Clock = ratelimit.Clock

// Options configures a Service. Zero values take the defaults.
type Options struct {
	ContentMax  int           // characters per message; default 4,000
	NonceWindow time.Duration // how long a nonce deduplicates; default 24h
	MaxEmoji    int           // distinct reaction emoji per message; default 20
	Clock       Clock

	// ReadStates stores read markers. MarkRead and UnreadSummary return
	// an error while it is nil.
	ReadStates ReadStates
}

// Service implements the message routes' logic.
type Service struct {
	store    Store
	channels Channels
	bus      Publisher
	opts     Options
	writer   *writer
	slowmode *slowmode
	inflight inflight

	mu      sync.Mutex // guards started
	started bool
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// NewService returns a Service. Call Start before sending and Close to
// stop.
func NewService(store Store, channels Channels, bus Publisher, opts Options) *Service {
	if opts.ContentMax == 0 {
		opts.ContentMax = DefaultContentMax
	}
	if opts.NonceWindow == 0 {
		opts.NonceWindow = 24 * time.Hour
	}
	if opts.MaxEmoji == 0 {
		opts.MaxEmoji = 20
	}
	if opts.Clock == nil {
		opts.Clock = systemClock{}
	}
	s := &Service{store: store, channels: channels, bus: bus, opts: opts, slowmode: newSlowmode(opts.Clock)}
	s.writer = newWriter(store, func(a Appended) { bus.Publish(a.Events...) })
	return s
}

// Start runs the writer goroutine. It does nothing after Close.
func (s *Service) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return
	}
	s.started = true
	go s.writer.run()
}

// Close stops accepting sends and returns once every queued send has
// committed or failed. It is safe to call more than once.
func (s *Service) Close() {
	s.mu.Lock()
	started := s.started
	s.started = true // a Start after Close must not run the writer
	s.mu.Unlock()
	if !started {
		go s.writer.run() // let close find an exited loop
	}
	s.writer.close()
}

func (s *Service) now() time.Time { return s.opts.Clock.Now() }

// access returns a channel that holds messages and the caller's
// permissions in it. guild.ErrNotFound becomes ErrNotFound.
func (s *Service) access(ctx context.Context, userID, channelID string) (guild.Channel, permission.Set, error) {
	ch, perms, err := s.channels.ChannelAccess(ctx, userID, channelID)
	if errors.Is(err, guild.ErrNotFound) {
		return guild.Channel{}, 0, ErrNotFound
	}
	if err != nil {
		return guild.Channel{}, 0, err
	}
	if ch.Kind == guild.KindCategory || ch.Kind == guild.KindVoice {
		return guild.Channel{}, 0, ErrNotTextChannel
	}
	return ch, perms, nil
}

// SendRequest is a message to send.
type SendRequest struct {
	Content string
	Nonce   string
	ReplyTo string

	// AttachmentIDs name media the sender uploaded. With attachments the
	// content may be empty.
	AttachmentIDs []string

	// Admit, if set, applies the caller's rate limits. It runs after a
	// nonce retry has been answered, so a retry of a sent message is never
	// rejected by limits that a new message would meet.
	Admit func() error
}

// Send appends a message by userID. It returns the message and whether it
// was created; a nonce already used by the same author in the same
// channel within the window returns the original with created false.
// Errors: ErrNotFound, ErrForbidden, ErrNotTextChannel, ErrReplyNotFound,
// ErrAttachmentNotFound,
// ErrClosed, or a *validate.Error carrying its rejection reason.
func (s *Service) Send(ctx context.Context, userID, channelID string, req SendRequest) (Message, bool, error) {
	ch, perms, err := s.access(ctx, userID, channelID)
	if err != nil {
		return Message{}, false, err
	}
	if ch.ReadOnly {
		return Message{}, false, ErrReadOnlyDM
	}
	if !perms.Has(permission.SendMessages) {
		return Message{}, false, ErrForbidden
	}
	if err := CheckAttachments(req.AttachmentIDs, perms); err != nil {
		return Message{}, false, err
	}
	content, err := checkSendContent(req.Content, len(req.AttachmentIDs) > 0, s.opts.ContentMax)
	if err != nil {
		return Message{}, false, err
	}
	if err := CheckNonce(req.Nonce); err != nil {
		return Message{}, false, err
	}
	if req.Nonce != "" {
		leave, err := s.inflight.enter(ctx, nonceKey{userID, ch.ID, req.Nonce})
		if err != nil {
			return Message{}, false, err
		}
		defer leave()
		m, found, err := s.store.ByNonce(ctx, userID, ch.ID, req.Nonce, s.now().Add(-s.opts.NonceWindow))
		if err != nil || found {
			return m, false, err
		}
	}
	mentions, err := s.mentions(ctx, ch, content, perms)
	if err != nil {
		return Message{}, false, err
	}
	if req.Admit != nil {
		if err := req.Admit(); err != nil {
			return Message{}, false, err
		}
	}
	if !perms.Has(permission.ManageMessages) {
		if err := s.slowmode.allow(ch.ID, userID, ch.SlowmodeSeconds); err != nil {
			return Message{}, false, err
		}
	}

	now := s.now()
	out := s.writer.submit(ctx, Draft{
		ID: uuid.Must(uuid.NewV7()).String(), ChannelID: ch.ID, GuildID: ch.GuildID, AuthorID: userID,
		Content: content, Nonce: req.Nonce, ReplyTo: req.ReplyTo, AttachmentIDs: req.AttachmentIDs,
		Mentions:  mentions,
		CreatedAt: now, NonceSince: now.Add(-s.opts.NonceWindow),
	})
	if out.Err != nil {
		return Message{}, false, out.Err
	}
	return out.Message, !out.Existing, nil
}

// mentions parses the mentions in content and keeps those that exist in
// ch: the parser reads syntax only.
func (s *Service) mentions(ctx context.Context, ch guild.Channel, content string, perms permission.Set) (Mentions, error) {
	m := ParseMentions(content, perms.Has(permission.MentionEveryone))
	if len(m.Users) == 0 && len(m.Roles) == 0 {
		return m, nil
	}
	users, roles, err := s.channels.KnownMentions(ctx, ch, m.Users, m.Roles)
	if err != nil {
		return Mentions{}, err
	}
	m.Users, m.Roles = users, roles
	return m, nil
}

// History returns a page of a channel's messages, oldest first. before and
// after are message ids; the page holds the limit messages nearest the
// cursor, or the newest without one. Needs READ_MESSAGE_HISTORY.
func (s *Service) History(ctx context.Context, userID, channelID, before, after string, limit int) ([]Message, error) {
	if _, err := s.readable(ctx, userID, channelID); err != nil {
		return nil, err
	}
	page := Page{Limit: limit}
	var err error
	if before != "" {
		if page.BeforeSeq, err = s.cursor(ctx, channelID, "before", before); err != nil {
			return nil, err
		}
	}
	if after != "" {
		if page.AfterSeq, err = s.cursor(ctx, channelID, "after", after); err != nil {
			return nil, err
		}
	}
	return s.store.History(ctx, channelID, page, userID)
}

func (s *Service) cursor(ctx context.Context, channelID, field, messageID string) (int64, error) {
	seq, err := s.store.MessageSeq(ctx, channelID, messageID)
	if errors.Is(err, ErrNotFound) {
		return 0, &validate.Error{Field: field, Message: "must name a message of this channel"}
	}
	return seq, err
}

// readable checks VIEW_CHANNEL (else ErrNotFound) and
// READ_MESSAGE_HISTORY (else ErrForbidden).
func (s *Service) readable(ctx context.Context, userID, channelID string) (guild.Channel, error) {
	ch, perms, err := s.access(ctx, userID, channelID)
	if err != nil {
		return guild.Channel{}, err
	}
	if !perms.Has(permission.ReadMessageHistory) {
		return guild.Channel{}, ErrForbidden
	}
	return ch, nil
}

// Get returns one live message.
func (s *Service) Get(ctx context.Context, userID, channelID, messageID string) (Message, error) {
	if _, err := s.readable(ctx, userID, channelID); err != nil {
		return Message{}, err
	}
	return s.store.Message(ctx, channelID, messageID, userID)
}

// Edit replaces the content of the caller's own message.
func (s *Service) Edit(ctx context.Context, userID, channelID, messageID, content string) (Message, error) {
	ch, perms, err := s.access(ctx, userID, channelID)
	if err != nil {
		return Message{}, err
	}
	current, err := s.store.Message(ctx, channelID, messageID, userID)
	if err != nil {
		return Message{}, err
	}
	if current.AuthorID != userID {
		return Message{}, ErrNotAuthor
	}
	content, err = CheckContent(content, s.opts.ContentMax)
	if err != nil {
		return Message{}, err
	}

	mentions, err := s.mentions(ctx, ch, content, perms)
	if err != nil {
		return Message{}, err
	}
	_, events, err := s.store.Edit(ctx, ch.ID, messageID, content, mentions, s.now())
	if err != nil {
		return Message{}, err
	}
	s.bus.Publish(events...)
	// Read it back so the reactions show whether the caller reacted.
	return s.store.Message(ctx, channelID, messageID, userID)
}

// Delete deletes a message: the author's own, or anyone's with
// MANAGE_MESSAGES. The content is erased from storage.
func (s *Service) Delete(ctx context.Context, userID, channelID, messageID string) error {
	ch, perms, err := s.access(ctx, userID, channelID)
	if err != nil {
		return err
	}
	current, err := s.store.Message(ctx, channelID, messageID, userID)
	if err != nil {
		return err
	}
	if current.AuthorID != userID && !perms.Has(permission.ManageMessages) {
		return ErrForbidden
	}
	events, err := s.store.Delete(ctx, ch.ID, messageID, s.now())
	if err != nil {
		return err
	}
	s.bus.Publish(events...)
	return nil
}

// React adds the caller's reaction. A new emoji needs ADD_REACTIONS;
// joining an existing one needs only to see the history.
func (s *Service) React(ctx context.Context, userID, channelID, messageID, emoji string) error {
	ch, perms, err := s.access(ctx, userID, channelID)
	if err != nil {
		return err
	}
	if !perms.Has(permission.ReadMessageHistory) {
		return ErrForbidden
	}
	if ch.ReadOnly {
		return ErrReadOnlyDM
	}
	if err := CheckEmoji(emoji); err != nil {
		return err
	}
	requireExisting := !perms.Has(permission.AddReactions)
	events, err := s.store.React(ctx, ch.ID, messageID, emoji, userID, s.opts.MaxEmoji, requireExisting, s.now())
	if err != nil {
		return err
	}
	s.bus.Publish(events...)
	return nil
}

// Unreact removes the caller's reaction.
func (s *Service) Unreact(ctx context.Context, userID, channelID, messageID, emoji string) error {
	ch, _, err := s.access(ctx, userID, channelID)
	if err != nil {
		return err
	}
	if err := CheckEmoji(emoji); err != nil {
		return err
	}
	events, err := s.store.Unreact(ctx, ch.ID, messageID, emoji, userID, s.now())
	if err != nil {
		return err
	}
	s.bus.Publish(events...)
	return nil
}

// Maintain deletes nonces past the idempotency window and frees idle
// slowmode keys, for the server's maintenance loop.
func (s *Service) Maintain(ctx context.Context) error {
	s.slowmode.sweep()
	_, err := s.store.PurgeNonces(ctx, s.now().Add(-s.opts.NonceWindow))
	return err
}
