package guild

import (
	"context"
	"unicode/utf8"

	"github.com/openguild/openguild/internal/permission"
	"github.com/openguild/openguild/internal/validate"
)

// descriptionMax is the longest guild description, in characters.
const descriptionMax = 1024

// CreateGuild creates a guild owned by the caller, with its @everyone
// role and a general text channel.
func (s *Service) CreateGuild(ctx context.Context, userID, name string) (Guild, error) {
	name, err := s.checkName(name)
	if err != nil {
		return Guild{}, err
	}
	now := s.now()
	g := Guild{ID: newID(), Name: name, OwnerID: userID, CreatedAt: now}
	everyone := Role{ID: g.ID, GuildID: g.ID, Name: "@everyone", Permissions: permission.EveryoneDefault, CreatedAt: now}
	general := Channel{ID: newID(), GuildID: g.ID, Kind: KindText, Name: "general", CreatedAt: now}

	events, err := s.store.CreateGuild(ctx, g, everyone, general)
	if err != nil {
		return Guild{}, err
	}
	s.commit(g.ID, events)
	return g, nil
}

// Guilds lists the guilds the caller is a member of.
func (s *Service) Guilds(ctx context.Context, userID string) ([]Guild, error) {
	return s.store.GuildsOf(ctx, userID)
}

// Guild returns a guild the caller is a member of, else ErrNotFound.
func (s *Service) Guild(ctx context.Context, userID, guildID string) (Guild, error) {
	if _, err := s.guildPermissions(ctx, guildID, userID); err != nil {
		return Guild{}, err
	}
	return s.store.Guild(ctx, guildID)
}

// GuildRequest changes the fields that are not nil.
type GuildRequest struct {
	Name        *string
	Description *string
	OwnerID     *string
}

// UpdateGuild changes a guild's name or description (MANAGE_GUILD) or
// hands it to another member (the owner only).
func (s *Service) UpdateGuild(ctx context.Context, userID, guildID string, req GuildRequest) (Guild, error) {
	a, err := s.access(ctx, guildID, userID)
	if err != nil {
		return Guild{}, err
	}
	if req.Name == nil && req.Description == nil && req.OwnerID == nil {
		return Guild{}, &validate.Error{Field: "name", Message: "give at least one of name, description and owner_id"}
	}
	if req.OwnerID != nil && a.Guild.OwnerID != userID {
		return Guild{}, ErrForbidden
	}
	if (req.Name != nil || req.Description != nil) && !permission.Base(a.Guild, a.Member).Has(permission.ManageGuild) {
		return Guild{}, ErrForbidden
	}

	update := GuildUpdate{OwnerID: req.OwnerID}
	if req.Name != nil {
		name, err := s.checkName(*req.Name)
		if err != nil {
			return Guild{}, err
		}
		update.Name = &name
	}
	if req.Description != nil {
		if !utf8.ValidString(*req.Description) || utf8.RuneCountInString(*req.Description) > descriptionMax {
			return Guild{}, &validate.Error{Field: "description", Message: "must be at most 1024 characters of valid UTF-8"}
		}
		update.Description = req.Description
	}

	g, events, err := s.store.UpdateGuild(ctx, guildID, update)
	if err != nil {
		return Guild{}, err
	}
	s.commit(guildID, events)
	return g, nil
}

// DeleteGuild deletes a guild; only its owner may.
func (s *Service) DeleteGuild(ctx context.Context, userID, guildID string) error {
	a, err := s.access(ctx, guildID, userID)
	if err != nil {
		return err
	}
	if a.Guild.OwnerID != userID {
		return ErrForbidden
	}
	events, err := s.store.DeleteGuild(ctx, guildID, s.now())
	if err != nil {
		return err
	}
	s.commit(guildID, events)
	return nil
}

// CheckDeparture returns ErrOwnershipTransferRequired while the user owns
// a guild, before their account may be deleted.
func (s *Service) CheckDeparture(ctx context.Context, userID string) error {
	owned, err := s.store.OwnedGuilds(ctx, userID)
	if err != nil {
		return err
	}
	if owned > 0 {
		return ErrOwnershipTransferRequired
	}
	return nil
}

// Depart removes a user whose account is being deleted from every guild.
func (s *Service) Depart(ctx context.Context, userID string) error {
	events, err := s.store.LeaveAllGuilds(ctx, userID)
	if err != nil {
		return err
	}
	for _, e := range events {
		s.cache.InvalidateGuild(e.GuildID)
	}
	s.bus.Publish(events...)
	return nil
}
