package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/openguild/openguild/internal/apijson"
	"github.com/openguild/openguild/internal/event"
	"github.com/openguild/openguild/internal/guild"
	"github.com/openguild/openguild/internal/permission"
)

const roleColumns = `id, guild_id, name, permissions, position, created_at`

func scanRole(row scanner) (guild.Role, error) {
	var r guild.Role
	var perms, created int64
	if err := row.Scan(&r.ID, &r.GuildID, &r.Name, &perms, &r.Position, &created); err != nil {
		return guild.Role{}, err
	}
	r.Permissions = permission.Set(perms)
	r.CreatedAt = FromMillis(created)
	return r, nil
}

// collectRoles reads rows of roleColumns, lowest position first, and
// closes rows.
func collectRoles(rows *sql.Rows) ([]guild.Role, error) {
	defer rows.Close()
	var roles []guild.Role
	for rows.Next() {
		r, err := scanRole(rows)
		if err != nil {
			return nil, err
		}
		roles = append(roles, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(roles, func(a, b guild.Role) int {
		return cmp.Or(cmp.Compare(a.Position, b.Position), cmp.Compare(a.ID, b.ID))
	})
	return roles, nil
}

func readRole(ctx context.Context, q querier, guildID, roleID string) (guild.Role, error) {
	row := q.QueryRowContext(ctx, `SELECT `+roleColumns+` FROM roles WHERE id = $1 AND guild_id = $2`, roleID, guildID)
	r, err := scanRole(row)
	if errors.Is(err, sql.ErrNoRows) {
		return guild.Role{}, guild.ErrNotFound
	}
	if err != nil {
		return guild.Role{}, fmt.Errorf("read role %s: %w", roleID, err)
	}
	return r, nil
}

func insertRole(ctx context.Context, tx *sql.Tx, r guild.Role) error {
	_, err := tx.ExecContext(ctx,
		`INSERT INTO roles (id, guild_id, name, permissions, position, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		r.ID, r.GuildID, r.Name, int64(r.Permissions), r.Position, Millis(r.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert role %s: %w", r.ID, err)
	}
	return nil
}

func highestRolePosition(ctx context.Context, tx *sql.Tx, guildID string) (int, error) {
	var highest int
	err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(position), 0) FROM roles WHERE guild_id = $1`, guildID).Scan(&highest)
	if err != nil {
		return 0, fmt.Errorf("read highest role position of guild %s: %w", guildID, err)
	}
	return highest, nil
}

// shiftRoles adds delta to the positions of the guild's roles positioned
// from low to high, and returns those roles as they are now, lowest
// first. No unique index covers positions, so the duplicates that exist
// until the caller places the moved role break nothing.
func shiftRoles(ctx context.Context, tx *sql.Tx, guildID string, low, high, delta int) ([]guild.Role, error) {
	if low > high {
		return nil, nil
	}
	rows, err := tx.QueryContext(ctx,
		`UPDATE roles SET position = position + $1
		 WHERE guild_id = $2 AND position >= $3 AND position <= $4
		 RETURNING `+roleColumns, delta, guildID, low, high)
	if err != nil {
		return nil, fmt.Errorf("shift roles of guild %s: %w", guildID, err)
	}
	roles, err := collectRoles(rows)
	if err != nil {
		return nil, fmt.Errorf("shift roles of guild %s: %w", guildID, err)
	}
	return roles, nil
}

// roleUpdates returns a role_update event for each role.
func roleUpdates(roles []guild.Role) []event.Pending {
	pending := make([]event.Pending, 0, len(roles))
	for _, r := range roles {
		pending = append(pending, guildEvent(r.GuildID, event.RoleUpdate, apijson.NewRole(r)))
	}
	return pending
}

// Roles implements guild.Store. Roles are ordered by position, lowest
// (@everyone) first.
func (s *Guilds) Roles(ctx context.Context, guildID string) ([]guild.Role, error) {
	if err := requireLiveGuild(ctx, s.db.reader(), guildID); err != nil {
		return nil, err
	}
	rows, err := s.db.reader().QueryContext(ctx,
		`SELECT `+roleColumns+` FROM roles WHERE guild_id = $1 ORDER BY position, id`, guildID)
	if err != nil {
		return nil, fmt.Errorf("list roles of guild %s: %w", guildID, err)
	}
	roles, err := collectRoles(rows)
	if err != nil {
		return nil, fmt.Errorf("list roles of guild %s: %w", guildID, err)
	}
	return roles, nil
}

// CreateRole implements guild.Store. A position below 1 becomes 1, and
// one above the highest role becomes the one just above it. The events
// are a role_update for each role moved up, lowest first, then
// role_create.
func (s *Guilds) CreateRole(ctx context.Context, r guild.Role) (guild.Role, []event.Event, error) {
	r.CreatedAt = normalizeTime(r.CreatedAt)

	var events []event.Event
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.lockGuild(ctx, tx, r.GuildID); err != nil {
			return err
		}
		highest, err := highestRolePosition(ctx, tx, r.GuildID)
		if err != nil {
			return err
		}

		r.Position = min(max(r.Position, 1), highest+1)
		shifted, err := shiftRoles(ctx, tx, r.GuildID, r.Position, highest, 1)
		if err != nil {
			return err
		}
		if err := insertRole(ctx, tx, r); err != nil {
			return err
		}

		pending := append(roleUpdates(shifted), guildEvent(r.GuildID, event.RoleCreate, apijson.NewRole(r)))
		events, err = s.db.appendEvents(ctx, tx, r.CreatedAt, pending...)
		return err
	})
	if err != nil {
		return guild.Role{}, nil, err
	}
	return r, events, nil
}

// UpdateRole implements guild.Store. A new position is clamped to
// [1, highest], and the roles in between move by one towards the old
// position. The events are a role_update for each of those, lowest
// first, then one for the updated role, even when u changes nothing.
// Moving the @everyone role away from position 0 is an error.
func (s *Guilds) UpdateRole(ctx context.Context, guildID, roleID string, u guild.RoleUpdate) (guild.Role, []event.Event, error) {
	var r guild.Role
	var events []event.Event
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.lockGuild(ctx, tx, guildID); err != nil {
			return err
		}
		var err error
		if r, err = readRole(ctx, tx, guildID, roleID); err != nil {
			return err
		}

		var shifted []guild.Role
		if u.Position != nil && *u.Position != r.Position {
			if shifted, err = moveRole(ctx, tx, &r, *u.Position); err != nil {
				return err
			}
		}
		if u.Name != nil {
			r.Name = *u.Name
		}
		if u.Permissions != nil {
			r.Permissions = *u.Permissions
		}

		_, err = tx.ExecContext(ctx, `UPDATE roles SET name = $1, permissions = $2, position = $3 WHERE id = $4`,
			r.Name, int64(r.Permissions), r.Position, roleID)
		if err != nil {
			return fmt.Errorf("update role %s: %w", roleID, err)
		}

		pending := append(roleUpdates(shifted), guildEvent(guildID, event.RoleUpdate, apijson.NewRole(r)))
		events, err = s.db.appendEvents(ctx, tx, s.now(), pending...)
		return err
	})
	if err != nil {
		return guild.Role{}, nil, err
	}
	return r, events, nil
}

// moveRole sets r.Position to position, clamped to [1, highest], and
// shifts the roles in between. It returns the shifted roles. The caller
// stores r's own position.
func moveRole(ctx context.Context, tx *sql.Tx, r *guild.Role, position int) ([]guild.Role, error) {
	if r.ID == r.GuildID {
		return nil, fmt.Errorf("move role %s: the @everyone role stays at position 0", r.ID)
	}
	highest, err := highestRolePosition(ctx, tx, r.GuildID)
	if err != nil {
		return nil, err
	}

	target := min(max(position, 1), highest)
	var shifted []guild.Role
	switch {
	case target < r.Position:
		shifted, err = shiftRoles(ctx, tx, r.GuildID, target, r.Position-1, 1)
	case target > r.Position:
		shifted, err = shiftRoles(ctx, tx, r.GuildID, r.Position+1, target, -1)
	}
	r.Position = target
	return shifted, err
}

// DeleteRole implements guild.Store. It takes the role from its members
// and deletes the channel overwrites for it, with an overwrite_delete in
// each such channel's log, then moves the roles above it down by one
// with a role_update each, lowest first. The last event is role_delete.
// Deleting the @everyone role is an error.
func (s *Guilds) DeleteRole(ctx context.Context, guildID, roleID string) ([]event.Event, error) {
	if roleID == guildID {
		return nil, fmt.Errorf("delete role %s: the @everyone role cannot be deleted", roleID)
	}

	var events []event.Event
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.lockGuild(ctx, tx, guildID); err != nil {
			return err
		}
		r, err := readRole(ctx, tx, guildID, roleID)
		if err != nil {
			return err
		}

		if _, err := tx.ExecContext(ctx, `DELETE FROM member_roles WHERE role_id = $1`, roleID); err != nil {
			return fmt.Errorf("take role %s from its members: %w", roleID, err)
		}
		pending, err := deleteRoleOverwrites(ctx, tx, guildID, roleID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM roles WHERE id = $1`, roleID); err != nil {
			return fmt.Errorf("delete role %s: %w", roleID, err)
		}
		shifted, err := shiftRoles(ctx, tx, guildID, r.Position+1, math.MaxInt32, -1)
		if err != nil {
			return err
		}

		pending = append(pending, roleUpdates(shifted)...)
		pending = append(pending, guildEvent(guildID, event.RoleDelete, apijson.Deleted{ID: roleID, GuildID: guildID}))
		events, err = s.db.appendEvents(ctx, tx, s.now(), pending...)
		return err
	})
	return events, err
}

// deleteRoleOverwrites deletes the overwrites for a role and returns an
// overwrite_delete event for each channel that had one, ordered by
// channel id.
func deleteRoleOverwrites(ctx context.Context, tx *sql.Tx, guildID, roleID string) ([]event.Pending, error) {
	rows, err := tx.QueryContext(ctx,
		`DELETE FROM channel_overwrites
		 WHERE target_id = $1 AND target_type = 'role'
		   AND channel_id IN (SELECT id FROM channels WHERE guild_id = $2)
		 RETURNING channel_id`, roleID, guildID)
	if err != nil {
		return nil, fmt.Errorf("delete overwrites for role %s: %w", roleID, err)
	}
	channelIDs, err := collectStrings(rows)
	if err != nil {
		return nil, fmt.Errorf("delete overwrites for role %s: %w", roleID, err)
	}
	slices.Sort(channelIDs)

	pending := make([]event.Pending, 0, len(channelIDs))
	for _, id := range channelIDs {
		c := guild.Channel{ID: id, GuildID: guildID}
		pending = append(pending, channelEvent(c, event.OverwriteDelete, overwriteDeleted(id, roleID)))
	}
	return pending, nil
}
