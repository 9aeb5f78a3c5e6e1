package guild

import (
	"context"

	"github.com/openguild/openguild/internal/event"
	"github.com/openguild/openguild/internal/permission"
	"github.com/openguild/openguild/internal/validate"
)

// Roles lists a guild's roles; the caller must be a member.
func (s *Service) Roles(ctx context.Context, userID, guildID string) ([]Role, error) {
	if _, err := s.guildPermissions(ctx, guildID, userID); err != nil {
		return nil, err
	}
	return s.store.Roles(ctx, guildID)
}

// RoleRequest describes a role to create. Position 0 means the lowest
// place above @everyone.
type RoleRequest struct {
	Name        string
	Permissions permission.Set
	Position    int
}

// CreateRole creates a role. The caller needs MANAGE_ROLES, may grant
// only permissions they hold, and may place it only below their highest
// role.
func (s *Service) CreateRole(ctx context.Context, userID, guildID string, req RoleRequest) (Role, error) {
	a, err := s.access(ctx, guildID, userID)
	if err != nil {
		return Role{}, err
	}
	name, err := validate.DisplayName("name", req.Name)
	if err != nil {
		return Role{}, err
	}
	if req.Position < 0 {
		return Role{}, &validate.Error{Field: "position", Message: "must be 1 or higher"}
	}
	if req.Position == 0 {
		req.Position = 1
	}
	candidate := permission.Role{Position: req.Position, Permissions: req.Permissions}
	if !permission.CanManageRole(a.Guild, a.Member, candidate) {
		return Role{}, ErrOutranked
	}
	if !permission.CanGrant(a.Guild, a.Member, req.Permissions) {
		return Role{}, ErrGrantForbidden
	}

	r := Role{ID: newID(), GuildID: guildID, Name: name, Permissions: req.Permissions, Position: req.Position, CreatedAt: s.now()}
	r, events, err := s.store.CreateRole(ctx, r)
	if err != nil {
		return Role{}, err
	}
	s.commit(guildID, events)
	return r, nil
}

// UpdateRole changes a role the caller may manage. The @everyone role
// keeps position 0 and its name.
func (s *Service) UpdateRole(ctx context.Context, userID, guildID, roleID string, req RoleUpdate) (Role, error) {
	a, role, err := s.manageableRole(ctx, userID, guildID, roleID)
	if err != nil {
		return Role{}, err
	}
	if roleID == guildID && req.Name != nil {
		return Role{}, &validate.Error{Field: "name", Message: "the @everyone role keeps its name"}
	}
	if roleID == guildID && req.Position != nil {
		return Role{}, &validate.Error{Field: "position", Message: "the @everyone role keeps position 0"}
	}
	if req.Name != nil {
		name, err := validate.DisplayName("name", *req.Name)
		if err != nil {
			return Role{}, err
		}
		req.Name = &name
	}
	if req.Permissions != nil && !permission.CanGrant(a.Guild, a.Member, *req.Permissions) {
		return Role{}, ErrGrantForbidden
	}
	if req.Position != nil {
		if *req.Position < 1 {
			return Role{}, &validate.Error{Field: "position", Message: "must be 1 or higher"}
		}
		moved := role
		moved.Position = *req.Position
		if !permission.CanManageRole(a.Guild, a.Member, moved) {
			return Role{}, ErrOutranked
		}
	}

	updated, events, err := s.store.UpdateRole(ctx, guildID, roleID, req)
	if err != nil {
		return Role{}, err
	}
	s.commit(guildID, events)
	return updated, nil
}

// DeleteRole deletes a role the caller may manage; @everyone cannot be
// deleted.
func (s *Service) DeleteRole(ctx context.Context, userID, guildID, roleID string) error {
	if _, _, err := s.manageableRole(ctx, userID, guildID, roleID); err != nil {
		return err
	}
	if roleID == guildID {
		return &validate.Error{Field: "role_id", Message: "the @everyone role cannot be deleted"}
	}
	events, err := s.store.DeleteRole(ctx, guildID, roleID)
	if err != nil {
		return err
	}
	s.commit(guildID, events)
	return nil
}

// AddMemberRole gives a member a role the caller may manage.
func (s *Service) AddMemberRole(ctx context.Context, userID, guildID, targetID, roleID string) error {
	return s.changeMemberRole(ctx, userID, guildID, targetID, roleID, s.store.AddMemberRole)
}

// RemoveMemberRole takes a role the caller may manage from a member.
func (s *Service) RemoveMemberRole(ctx context.Context, userID, guildID, targetID, roleID string) error {
	return s.changeMemberRole(ctx, userID, guildID, targetID, roleID, s.store.RemoveMemberRole)
}

func (s *Service) changeMemberRole(ctx context.Context, userID, guildID, targetID, roleID string,
	change func(ctx context.Context, guildID, userID, roleID string) ([]event.Event, error)) error {
	if _, _, err := s.manageableRole(ctx, userID, guildID, roleID); err != nil {
		return err
	}
	if roleID == guildID {
		return &validate.Error{Field: "role_id", Message: "every member has the @everyone role"}
	}
	if _, err := s.access(ctx, guildID, targetID); err != nil {
		return err
	}
	events, err := change(ctx, guildID, targetID, roleID)
	if err != nil {
		return err
	}
	s.commit(guildID, events)
	return nil
}

// manageableRole returns a role of the guild that the caller may manage:
// ErrNotFound when the caller is not a member or the role does not exist,
// ErrForbidden when it ranks at or above the caller's highest role.
func (s *Service) manageableRole(ctx context.Context, userID, guildID, roleID string) (Access, permission.Role, error) {
	a, err := s.access(ctx, guildID, userID)
	if err != nil {
		return Access{}, permission.Role{}, err
	}
	role, ok := a.Guild.Roles[roleID]
	if !ok {
		return Access{}, permission.Role{}, ErrNotFound
	}
	if !permission.CanManageRole(a.Guild, a.Member, role) {
		return Access{}, permission.Role{}, ErrOutranked
	}
	return a, role, nil
}
