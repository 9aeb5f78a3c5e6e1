package guild

import (
	"context"
	"errors"
	"unicode/utf8"

	"github.com/openguild/openguild/internal/permission"
	"github.com/openguild/openguild/internal/validate"
)

// slowmodeMax is the longest slowmode, in seconds (6 hours).
const slowmodeMax = 21600

// ChannelRequest describes a channel to create.
type ChannelRequest struct {
	Name     string
	Kind     string
	ParentID string
	Topic    string
}

// CreateChannel creates a text, voice or category channel; the caller
// needs MANAGE_CHANNELS.
func (s *Service) CreateChannel(ctx context.Context, userID, guildID string, req ChannelRequest) (Channel, error) {
	perms, err := s.guildPermissions(ctx, guildID, userID)
	if err != nil {
		return Channel{}, err
	}
	if err := require(perms, permission.ManageChannels); err != nil {
		return Channel{}, err
	}

	if req.Kind != KindText && req.Kind != KindVoice && req.Kind != KindCategory {
		return Channel{}, &validate.Error{Field: "kind", Message: "must be text, voice or category"}
	}
	name, err := s.checkName(req.Name)
	if err != nil {
		return Channel{}, err
	}
	if err := s.checkTopic(req.Topic); err != nil {
		return Channel{}, err
	}
	if err := s.checkParent(ctx, guildID, req.Kind, req.ParentID); err != nil {
		return Channel{}, err
	}

	c := Channel{ID: newID(), GuildID: guildID, Kind: req.Kind, Name: name, Topic: req.Topic,
		ParentID: req.ParentID, Position: s.nextPosition(ctx, guildID), CreatedAt: s.now()}
	c, events, err := s.store.CreateChannel(ctx, c)
	if err != nil {
		return Channel{}, err
	}
	s.commit(guildID, events)
	return c, nil
}

// nextPosition places a new channel after the existing ones.
func (s *Service) nextPosition(ctx context.Context, guildID string) int {
	channels, err := s.store.Channels(ctx, guildID)
	if err != nil || len(channels) == 0 {
		return 0
	}
	return channels[len(channels)-1].Position + 1
}

func (s *Service) checkTopic(topic string) error {
	if !utf8.ValidString(topic) || utf8.RuneCountInString(topic) > s.opts.TopicMax {
		return &validate.Error{Field: "topic", Message: "must be at most 1024 characters of valid UTF-8"}
	}
	return nil
}

// checkParent accepts no parent, or a category of the same guild for a
// channel that is not itself a category.
func (s *Service) checkParent(ctx context.Context, guildID, kind, parentID string) error {
	if parentID == "" {
		return nil
	}
	bad := &validate.Error{Field: "parent_id", Message: "must name a category of this guild"}
	if kind == KindCategory {
		return &validate.Error{Field: "parent_id", Message: "a category cannot have a parent"}
	}
	parent, err := s.store.Channel(ctx, parentID)
	if errors.Is(err, ErrNotFound) {
		return bad
	}
	if err != nil {
		return err
	}
	if parent.GuildID != guildID || parent.Kind != KindCategory {
		return bad
	}
	return nil
}

// Channels lists the guild's channels the caller can view.
func (s *Service) Channels(ctx context.Context, userID, guildID string) ([]Channel, error) {
	if _, err := s.guildPermissions(ctx, guildID, userID); err != nil {
		return nil, err
	}
	all, err := s.store.Channels(ctx, guildID)
	if err != nil {
		return nil, err
	}
	visible := make([]Channel, 0, len(all))
	for _, ch := range all {
		perms, err := s.channelPermissions(ctx, ch, userID)
		if err != nil {
			return nil, err
		}
		if perms.Has(permission.ViewChannel) {
			visible = append(visible, ch)
		}
	}
	return visible, nil
}

// Channel returns a channel the caller can view.
func (s *Service) Channel(ctx context.Context, userID, channelID string) (Channel, error) {
	ch, _, err := s.ChannelAccess(ctx, userID, channelID)
	return ch, err
}

// ChannelUpdateRequest changes the fields that are not nil.
type ChannelUpdateRequest = ChannelUpdate

// UpdateChannel changes a guild channel; the caller needs MANAGE_CHANNELS
// in it. DM channels cannot be changed.
func (s *Service) UpdateChannel(ctx context.Context, userID, channelID string, req ChannelUpdateRequest) (Channel, error) {
	ch, err := s.manageableChannel(ctx, userID, channelID)
	if err != nil {
		return Channel{}, err
	}
	if req.Name != nil {
		name, err := s.checkName(*req.Name)
		if err != nil {
			return Channel{}, err
		}
		req.Name = &name
	}
	if req.Topic != nil {
		if err := s.checkTopic(*req.Topic); err != nil {
			return Channel{}, err
		}
	}
	if req.ParentID != nil {
		if err := s.checkParent(ctx, ch.GuildID, ch.Kind, *req.ParentID); err != nil {
			return Channel{}, err
		}
	}
	if req.SlowmodeSeconds != nil && (*req.SlowmodeSeconds < 0 || *req.SlowmodeSeconds > slowmodeMax) {
		return Channel{}, &validate.Error{Field: "slowmode_seconds", Message: "must be 0 to 21600"}
	}
	if req.Position != nil && *req.Position < 0 {
		return Channel{}, &validate.Error{Field: "position", Message: "must not be negative"}
	}

	updated, events, err := s.store.UpdateChannel(ctx, channelID, req)
	if err != nil {
		return Channel{}, err
	}
	s.commit(ch.GuildID, events)
	return updated, nil
}

// DeleteChannel deletes a guild channel; the caller needs MANAGE_CHANNELS
// in it.
func (s *Service) DeleteChannel(ctx context.Context, userID, channelID string) error {
	ch, err := s.manageableChannel(ctx, userID, channelID)
	if err != nil {
		return err
	}
	events, err := s.store.DeleteChannel(ctx, channelID, s.now())
	if err != nil {
		return err
	}
	s.commit(ch.GuildID, events)
	return nil
}

// manageableChannel returns a guild channel the caller can view and holds
// MANAGE_CHANNELS in: ErrNotFound if not viewable, ErrForbidden if not
// manageable (DM channels included).
func (s *Service) manageableChannel(ctx context.Context, userID, channelID string) (Channel, error) {
	ch, perms, err := s.ChannelAccess(ctx, userID, channelID)
	if err != nil {
		return Channel{}, err
	}
	if ch.GuildID == "" {
		return Channel{}, ErrForbidden
	}
	return ch, require(perms, permission.ManageChannels)
}

// OverwriteRequest sets a channel permission overwrite.
type OverwriteRequest struct {
	TargetID string
	Type     string // "role" or "member"
	Allow    permission.Set
	Deny     permission.Set
}

// SetOverwrite sets a role's or member's overwrite on a channel. The
// caller needs MANAGE_ROLES in the channel and may allow or deny only
// permissions they hold.
func (s *Service) SetOverwrite(ctx context.Context, userID, channelID string, req OverwriteRequest) error {
	ch, a, err := s.overwriteAccess(ctx, userID, channelID)
	if err != nil {
		return err
	}
	kind, err := permission.ParseOverwriteKind(req.Type)
	if err != nil {
		return &validate.Error{Field: "type", Message: "must be role or member"}
	}
	if err := s.checkOverwriteTarget(ctx, ch.GuildID, kind, req.TargetID, a); err != nil {
		return err
	}
	if req.Allow&req.Deny != 0 {
		return &validate.Error{Field: "deny", Message: "must not share bits with allow"}
	}
	if (req.Allow | req.Deny).Has(permission.Administrator) {
		return &validate.Error{Field: "allow", Message: "ADMINISTRATOR is a guild-level permission and cannot be overwritten per channel"}
	}
	if !permission.CanGrant(a.Guild, a.Member, req.Allow|req.Deny) {
		return ErrForbidden
	}
	if err := s.checkOverwriteRank(ctx, ch.GuildID, kind, req.TargetID, userID, a); err != nil {
		return err
	}

	events, err := s.store.SetOverwrite(ctx, channelID, Overwrite{TargetID: req.TargetID, Kind: kind, Allow: req.Allow, Deny: req.Deny})
	if err != nil {
		return err
	}
	s.commit(ch.GuildID, events)
	return nil
}

// DeleteOverwrite removes an overwrite; the caller needs MANAGE_ROLES in
// the channel.
func (s *Service) DeleteOverwrite(ctx context.Context, userID, channelID, targetID string) error {
	ch, _, err := s.overwriteAccess(ctx, userID, channelID)
	if err != nil {
		return err
	}
	events, err := s.store.DeleteOverwrite(ctx, channelID, targetID)
	if err != nil {
		return err
	}
	s.commit(ch.GuildID, events)
	return nil
}

func (s *Service) overwriteAccess(ctx context.Context, userID, channelID string) (Channel, Access, error) {
	ch, perms, err := s.ChannelAccess(ctx, userID, channelID)
	if err != nil {
		return Channel{}, Access{}, err
	}
	if ch.GuildID == "" {
		return Channel{}, Access{}, ErrForbidden
	}
	if err := require(perms, permission.ManageRoles); err != nil {
		return Channel{}, Access{}, err
	}
	a, err := s.access(ctx, ch.GuildID, userID)
	return ch, a, err
}

// checkOverwriteRank applies the role hierarchy to overwrites: a member
// may set them only for roles below their highest role, and for members
// they rank above (or themselves). The @everyone role is below everyone.
func (s *Service) checkOverwriteRank(ctx context.Context, guildID string, kind permission.OverwriteKind, targetID, userID string, a Access) error {
	if kind == permission.OverwriteRole {
		if targetID == guildID || permission.CanManageRole(a.Guild, a.Member, a.Guild.Roles[targetID]) {
			return nil
		}
		return ErrOutranked
	}
	if targetID == userID {
		return nil
	}
	target, err := s.access(ctx, guildID, targetID)
	if err != nil {
		return err
	}
	if !permission.CanActOn(a.Guild, a.Member, target.Member) {
		return ErrOutranked
	}
	return nil
}

// checkOverwriteTarget requires the target to be a role of the guild or
// one of its members.
func (s *Service) checkOverwriteTarget(ctx context.Context, guildID string, kind permission.OverwriteKind, targetID string, a Access) error {
	if kind == permission.OverwriteRole {
		if _, ok := a.Guild.Roles[targetID]; !ok {
			return &validate.Error{Field: "target_id", Message: "must name a role of this guild"}
		}
		return nil
	}
	if _, err := s.store.Member(ctx, guildID, targetID); err != nil {
		if errors.Is(err, ErrNotFound) {
			return &validate.Error{Field: "target_id", Message: "must name a member of this guild"}
		}
		return err
	}
	return nil
}

// Overwrites returns the permission overwrites of a channel the caller
// can view. Every member who can view a channel may read its overwrites.
// A DM has none.
func (s *Service) Overwrites(ctx context.Context, userID, channelID string) ([]Overwrite, error) {
	ch, _, err := s.ChannelAccess(ctx, userID, channelID)
	if err != nil {
		return nil, err
	}
	return ch.Overwrites, nil
}

// MyChannelPermissions returns the caller's effective permissions in a
// channel they can view, overwrites applied.
func (s *Service) MyChannelPermissions(ctx context.Context, userID, channelID string) (permission.Set, error) {
	_, perms, err := s.ChannelAccess(ctx, userID, channelID)
	return perms, err
}

// MyGuildPermissions returns the caller's guild-wide permissions: those
// of their roles, or every permission for the owner and administrators.
func (s *Service) MyGuildPermissions(ctx context.Context, userID, guildID string) (permission.Set, error) {
	return s.guildPermissions(ctx, guildID, userID)
}
