package guild

import (
	"context"
	"errors"
	"time"

	"github.com/openguild/openguild/internal/permission"
	"github.com/openguild/openguild/internal/validate"
)

// Members lists a guild's members by ascending user id; the caller must
// be a member.
func (s *Service) Members(ctx context.Context, userID, guildID, after string, limit int) ([]Member, error) {
	if _, err := s.guildPermissions(ctx, guildID, userID); err != nil {
		return nil, err
	}
	return s.store.Members(ctx, guildID, after, limit)
}

// SetNickname sets or clears a member's nickname: the caller's own with
// CHANGE_NICKNAME, another's with MANAGE_NICKNAMES and a higher role.
func (s *Service) SetNickname(ctx context.Context, userID, guildID, targetID string, nickname *string) (Member, error) {
	a, err := s.access(ctx, guildID, userID)
	if err != nil {
		return Member{}, err
	}
	perms := permission.Base(a.Guild, a.Member)
	if targetID == userID {
		if err := require(perms, permission.ChangeNickname); err != nil {
			return Member{}, err
		}
	} else if err := s.requireOver(ctx, a, perms, permission.ManageNicknames, guildID, targetID); err != nil {
		return Member{}, err
	}

	if nickname != nil {
		if *nickname == "" {
			nickname = nil
		} else {
			name, err := validate.DisplayName("nickname", *nickname)
			if err != nil {
				return Member{}, err
			}
			nickname = &name
		}
	}
	m, events, err := s.store.SetNickname(ctx, guildID, targetID, nickname)
	if err != nil {
		return Member{}, err
	}
	s.commit(guildID, events)
	return m, nil
}

// requireOver checks that the caller holds need and ranks above the
// target member; ErrNotFound when the target is not a member.
func (s *Service) requireOver(ctx context.Context, a Access, perms, need permission.Set, guildID, targetID string) error {
	if err := require(perms, need); err != nil {
		return err
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

// Leave removes the caller from a guild. The owner must hand the guild to
// someone else first.
func (s *Service) Leave(ctx context.Context, userID, guildID string) error {
	a, err := s.access(ctx, guildID, userID)
	if err != nil {
		return err
	}
	if a.Guild.OwnerID == userID {
		return ErrOwnershipTransferRequired
	}
	return s.removeMember(ctx, guildID, userID)
}

// Kick removes another member; the caller needs KICK_MEMBERS and a higher
// role.
func (s *Service) Kick(ctx context.Context, userID, guildID, targetID string) error {
	if targetID == userID {
		return s.Leave(ctx, userID, guildID)
	}
	a, err := s.access(ctx, guildID, userID)
	if err != nil {
		return err
	}
	if err := s.requireOver(ctx, a, permission.Base(a.Guild, a.Member), permission.KickMembers, guildID, targetID); err != nil {
		return err
	}
	return s.removeMember(ctx, guildID, targetID)
}

func (s *Service) removeMember(ctx context.Context, guildID, userID string) error {
	events, err := s.store.RemoveMember(ctx, guildID, userID)
	if err != nil {
		return err
	}
	s.commit(guildID, events)
	return nil
}

// banReasonMax is the longest ban reason, in bytes.
const banReasonMax = 512

// Ban bans a user, removing their membership; the caller needs
// BAN_MEMBERS and, when the target is a member, a higher role.
func (s *Service) Ban(ctx context.Context, userID, guildID, targetID, reason string) error {
	a, err := s.access(ctx, guildID, userID)
	if err != nil {
		return err
	}
	perms := permission.Base(a.Guild, a.Member)
	if err := require(perms, permission.BanMembers); err != nil {
		return err
	}
	if targetID == userID || targetID == a.Guild.OwnerID {
		return ErrForbidden
	}
	if len(reason) > banReasonMax {
		return &validate.Error{Field: "reason", Message: "must be at most 512 bytes"}
	}
	if err := s.checkBanTarget(ctx, a, guildID, targetID); err != nil {
		return err
	}

	target, err := s.users.User(ctx, targetID)
	if err != nil {
		return err
	}
	events, err := s.store.BanMember(ctx, Ban{GuildID: guildID, User: target, Reason: reason, CreatedAt: s.now()})
	if err != nil {
		return err
	}
	s.commit(guildID, events)
	return nil
}

// checkBanTarget applies the hierarchy to a target who is a member; a
// non-member may be banned ahead of time.
func (s *Service) checkBanTarget(ctx context.Context, a Access, guildID, targetID string) error {
	target, err := s.access(ctx, guildID, targetID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !permission.CanActOn(a.Guild, a.Member, target.Member) {
		return ErrOutranked
	}
	return nil
}

// Unban lifts a ban; the caller needs BAN_MEMBERS.
func (s *Service) Unban(ctx context.Context, userID, guildID, targetID string) error {
	if err := s.requireGuild(ctx, userID, guildID, permission.BanMembers); err != nil {
		return err
	}
	return s.store.Unban(ctx, guildID, targetID)
}

// Bans lists a guild's bans; the caller needs BAN_MEMBERS.
func (s *Service) Bans(ctx context.Context, userID, guildID string) ([]Ban, error) {
	if err := s.requireGuild(ctx, userID, guildID, permission.BanMembers); err != nil {
		return nil, err
	}
	return s.store.Bans(ctx, guildID)
}

// requireGuild checks a guild-level permission: ErrNotFound for
// non-members, ErrForbidden for members without it.
func (s *Service) requireGuild(ctx context.Context, userID, guildID string, need permission.Set) error {
	perms, err := s.guildPermissions(ctx, guildID, userID)
	if err != nil {
		return err
	}
	return require(perms, need)
}

// Invite limits.
const (
	inviteMaxAge  = 7 * 24 * time.Hour
	inviteMaxUses = 100
)

// CreateInvite creates an invite to a guild; the caller needs
// CREATE_INVITE. maxAge 0 means the invite never expires; maxUses 0 means
// unlimited.
func (s *Service) CreateInvite(ctx context.Context, userID, guildID string, maxAge time.Duration, maxUses int) (Invite, error) {
	if err := s.requireGuild(ctx, userID, guildID, permission.CreateInvite); err != nil {
		return Invite{}, err
	}
	if maxAge < 0 || maxAge > inviteMaxAge {
		return Invite{}, &validate.Error{Field: "max_age_seconds", Message: "must be 0 (never expires) to 604800"}
	}
	if maxUses < 0 || maxUses > inviteMaxUses {
		return Invite{}, &validate.Error{Field: "max_uses", Message: "must be 0 (unlimited) to 100"}
	}

	now := s.now()
	inv := Invite{Code: newInviteCode(), GuildID: guildID, InviterID: userID, CreatedAt: now, MaxUses: maxUses}
	if maxAge > 0 {
		inv.ExpiresAt = now.Add(maxAge)
	}
	if err := s.store.CreateInvite(ctx, inv); err != nil {
		return Invite{}, err
	}
	return inv, nil
}

// Invites lists a guild's invites; the caller needs MANAGE_GUILD.
func (s *Service) Invites(ctx context.Context, userID, guildID string) ([]Invite, error) {
	if err := s.requireGuild(ctx, userID, guildID, permission.ManageGuild); err != nil {
		return nil, err
	}
	return s.store.Invites(ctx, guildID)
}

// DeleteInvite revokes an invite; the caller needs MANAGE_GUILD or must
// have created it. ErrNotFound for codes of guilds the caller is not in.
func (s *Service) DeleteInvite(ctx context.Context, userID, code string) error {
	inv, err := s.store.Invite(ctx, code)
	if err != nil {
		return err
	}
	perms, err := s.guildPermissions(ctx, inv.GuildID, userID)
	if err != nil {
		return err
	}
	if inv.InviterID != userID && !perms.Has(permission.ManageGuild) {
		return ErrForbidden
	}
	return s.store.DeleteInvite(ctx, code)
}

// AcceptInvite joins the caller to the invite's guild. ErrNotFound for
// unknown, expired or used-up codes; ErrBanned for banned users.
func (s *Service) AcceptInvite(ctx context.Context, userID, code string) (Guild, error) {
	g, events, err := s.store.AcceptInvite(ctx, code, userID, s.now())
	if err != nil {
		return Guild{}, err
	}
	s.commit(g.ID, events)
	return g, nil
}
