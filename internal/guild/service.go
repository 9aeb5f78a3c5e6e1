package guild

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/openguild/openguild/internal/auth"
	"github.com/openguild/openguild/internal/event"
	"github.com/openguild/openguild/internal/permission"
	"github.com/openguild/openguild/internal/validate"
)

// Publisher receives committed events.
type Publisher interface {
	Publish(events ...event.Event)
}

// EventLog reads the event logs.
type EventLog interface {
	Events(ctx context.Context, logID string, afterSeq int64, limit int) ([]event.Event, error)
}

// Users looks up accounts, for DM recipients.
type Users interface {
	User(ctx context.Context, id string) (auth.User, error)
}

// Rejecter counts rejected requests by reason, such as name_too_long.
type Rejecter interface {
	Reject(reason string)
}

// Clock supplies the current time.
type Clock interface{ Now() time.Time }

// Options configures a Service. Zero values take the defaults.
type Options struct {
	NameMax   int // maximum guild or channel name length in characters; default 64
	TopicMax  int // maximum channel topic length in characters; default 1,024
	CacheSize int // permission cache entries; default permission.DefaultCacheSize
	Clock     Clock
}

// Service implements the guild routes' logic and the permission checks
// that every feature relies on.
type Service struct {
	store  Store
	events EventLog
	users  Users
	bus    Publisher
	reject Rejecter
	cache  *permission.Cache
	opts   Options
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// NewService returns a Service over its dependencies.
func NewService(store Store, events EventLog, users Users, bus Publisher, reject Rejecter, opts Options) *Service {
	if opts.NameMax == 0 {
		opts.NameMax = 64
	}
	if opts.TopicMax == 0 {
		opts.TopicMax = 1024
	}
	if opts.CacheSize == 0 {
		opts.CacheSize = permission.DefaultCacheSize
	}
	if opts.Clock == nil {
		opts.Clock = systemClock{}
	}
	return &Service{store: store, events: events, users: users, bus: bus, reject: reject,
		cache: permission.NewCache(opts.CacheSize), opts: opts}
}

func (s *Service) now() time.Time { return s.opts.Clock.Now() }

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// commit invalidates the guild's cached permissions and publishes the
// events of a change that the store has committed. Every change goes
// through here, so no request after it sees permissions from before.
func (s *Service) commit(guildID string, events []event.Event) {
	if guildID != "" {
		s.cache.InvalidateGuild(guildID)
	}
	if len(events) > 0 {
		s.bus.Publish(events...)
	}
}

// access returns the caller's membership state in a guild, or ErrNotFound
// when the guild does not exist or the caller is not a member.
func (s *Service) access(ctx context.Context, guildID, userID string) (Access, error) {
	a, err := s.store.Access(ctx, guildID, userID)
	if err != nil {
		return Access{}, err
	}
	return a, nil
}

// guildPermissions returns the caller's guild-level permissions, cached.
// ErrNotFound when the caller is not a member.
func (s *Service) guildPermissions(ctx context.Context, guildID, userID string) (permission.Set, error) {
	key := permission.Key{GuildID: guildID, UserID: userID}
	return s.cache.GetOrCompute(key, func() (permission.Set, error) {
		a, err := s.access(ctx, guildID, userID)
		if err != nil {
			return 0, err
		}
		return permission.Base(a.Guild, a.Member), nil
	})
}

// channelPermissions returns the caller's permissions in a guild channel,
// cached, applying the channel's and its category's overwrites.
func (s *Service) channelPermissions(ctx context.Context, ch Channel, userID string) (permission.Set, error) {
	key := permission.Key{GuildID: ch.GuildID, UserID: userID, ChannelID: ch.ID}
	return s.cache.GetOrCompute(key, func() (permission.Set, error) {
		a, err := s.access(ctx, ch.GuildID, userID)
		if err != nil {
			return 0, err
		}
		var parent *permission.Channel
		if ch.ParentID != "" {
			p, err := s.store.Channel(ctx, ch.ParentID)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return 0, err
			}
			if err == nil {
				pc := permissionChannel(p)
				parent = &pc
			}
		}
		return permission.InChannel(a.Guild, a.Member, permissionChannel(ch), parent), nil
	})
}

func permissionChannel(c Channel) permission.Channel {
	overwrites := make([]permission.Overwrite, len(c.Overwrites))
	for i, o := range c.Overwrites {
		overwrites[i] = permission.Overwrite{Kind: o.Kind, TargetID: o.TargetID, Allow: o.Allow, Deny: o.Deny}
	}
	return permission.Channel{ID: c.ID, ParentID: c.ParentID, Overwrites: overwrites}
}

// ChannelAccess returns a channel the caller can view and their
// permissions in it. A DM grants its participants the DM permissions,
// less the writing ones once it is read-only.
// ErrNotFound when the channel does not exist or is not viewable, so ids
// cannot be probed.
func (s *Service) ChannelAccess(ctx context.Context, userID, channelID string) (Channel, permission.Set, error) {
	ch, err := s.store.Channel(ctx, channelID)
	if err != nil {
		return Channel{}, 0, err
	}
	if ch.GuildID == "" {
		for _, id := range ch.ParticipantIDs {
			if id == userID {
				return ch, dmPermissions(ch), nil
			}
		}
		return Channel{}, 0, ErrNotFound
	}
	perms, err := s.channelPermissions(ctx, ch, userID)
	if err != nil {
		return Channel{}, 0, err
	}
	if !perms.Has(permission.ViewChannel) {
		return Channel{}, 0, ErrNotFound
	}
	return ch, perms, nil
}

// dmPermissions returns a participant's permissions in a DM. A read-only
// DM keeps its history readable but takes no new messages, reactions or
// files, since no other participant is left to see them.
func dmPermissions(ch Channel) permission.Set {
	perms := permission.DM(true)
	if ch.ReadOnly {
		perms &^= permission.SendMessages | permission.AddReactions | permission.AttachFiles
	}
	return perms
}

// require returns ErrForbidden unless perms holds need.
func require(perms, need permission.Set) error {
	if !perms.Has(need) {
		return ErrForbidden
	}
	return nil
}

// checkName trims and checks a guild or channel name, counting
// rejections under their reason.
func (s *Service) checkName(name string) (string, error) {
	out, err := validate.Name("name", name, s.opts.NameMax)
	var fieldErr *validate.Error
	if errors.As(err, &fieldErr) && fieldErr.Reason != "" {
		s.reject.Reject(fieldErr.Reason)
		fieldErr.Reason = "" // counted here, so the HTTP layer does not count it again
	}
	return out, err
}

// inviteAlphabet is URL-safe. Ten characters from it carry about 59 bits,
// too many to guess online.
const inviteAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"

func newInviteCode() string {
	const length = 10
	var b [length]byte
	rand.Read(b[:])
	out := make([]byte, length)
	for i, v := range b {
		// 256 is not a multiple of the alphabet's 57 characters, so a few
		// characters are slightly likelier; at 59 bits that costs nothing.
		out[i] = inviteAlphabet[int(v)%len(inviteAlphabet)]
	}
	return string(out)
}

// Events returns a channel's or a guild's log after afterSeq. A guild log
// is readable by its members, a channel log by those who can view the
// channel. ErrNotFound otherwise.
func (s *Service) Events(ctx context.Context, userID, logID string, guildLog bool, afterSeq int64, limit int) ([]event.Event, error) {
	if guildLog {
		if _, err := s.guildPermissions(ctx, logID, userID); err != nil {
			return nil, err
		}
	} else {
		// A channel log carries message content, so it needs the same
		// permission as the message history.
		_, perms, err := s.ChannelAccess(ctx, userID, logID)
		if err != nil {
			return nil, err
		}
		if err := require(perms, permission.ReadMessageHistory); err != nil {
			return nil, err
		}
	}
	events, err := s.events.Events(ctx, logID, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("read log %s: %w", logID, err)
	}
	return events, nil
}

// PermissionsIn returns userID's permissions in a channel already loaded,
// from the cache when it can: the gateway checks every recipient of an
// event this way without reloading the channel for each. A DM grants its
// participants the DM permissions. ErrNotFound when the user is not a
// member of the channel's guild.
func (s *Service) PermissionsIn(ctx context.Context, ch Channel, userID string) (permission.Set, error) {
	if ch.GuildID == "" {
		for _, id := range ch.ParticipantIDs {
			if id == userID {
				return dmPermissions(ch), nil
			}
		}
		return 0, ErrNotFound
	}
	return s.channelPermissions(ctx, ch, userID)
}

// IsMember reports whether userID is a member of the guild.
func (s *Service) IsMember(ctx context.Context, guildID, userID string) (bool, error) {
	_, err := s.guildPermissions(ctx, guildID, userID)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// RoleIDs returns the member's role ids in a guild, for mention counts.
func (s *Service) RoleIDs(ctx context.Context, guildID, userID string) ([]string, error) {
	a, err := s.access(ctx, guildID, userID)
	if err != nil {
		return nil, err
	}
	return a.Member.RoleIDs, nil
}
