package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/openguild/openguild/internal/apijson"
	"github.com/openguild/openguild/internal/event"
	"github.com/openguild/openguild/internal/guild"
)

// memberSelect reads members of live guilds with their users, in the
// order scanMember expects. Callers append the rest of the WHERE clause.
const memberSelect = `SELECT u.id, u.username, u.display_name, u.is_admin, u.dm_policy, u.created_at, u.deleted_at,
	m.guild_id, m.nickname, m.joined_at
	FROM members m
	JOIN users u ON u.id = m.user_id
	JOIN guilds g ON g.id = m.guild_id AND g.deleted_at IS NULL
	WHERE m.guild_id = $1`

func scanMember(row scanner) (guild.Member, error) {
	var m guild.Member
	var nickname sql.NullString
	var joined int64
	user, err := scanUser(row, &m.GuildID, &nickname, &joined)
	if err != nil {
		return guild.Member{}, err
	}
	m.User = user
	if nickname.Valid {
		m.Nickname = &nickname.String
	}
	m.JoinedAt = FromMillis(joined)
	return m, nil
}

// readMember reads a member of a live guild with its role ids, or returns
// guild.ErrNotFound.
func readMember(ctx context.Context, q querier, guildID, userID string) (guild.Member, error) {
	m, err := scanMember(q.QueryRowContext(ctx, memberSelect+` AND m.user_id = $2`, guildID, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return guild.Member{}, guild.ErrNotFound
	}
	if err != nil {
		return guild.Member{}, fmt.Errorf("read member %s of guild %s: %w", userID, guildID, err)
	}

	roles, err := readMemberRoles(ctx, q, guildID, userID, userID)
	if err != nil {
		return guild.Member{}, err
	}
	m.RoleIDs = roles[userID]
	return m, nil
}

// readMemberRoles returns the role ids of the guild's members whose user
// ids lie from first to last, sorted, by user id.
func readMemberRoles(ctx context.Context, q querier, guildID, first, last string) (map[string][]string, error) {
	rows, err := q.QueryContext(ctx,
		`SELECT user_id, role_id FROM member_roles
		 WHERE guild_id = $1 AND user_id >= $2 AND user_id <= $3 AND role_id <> $1
		 ORDER BY user_id, role_id`, guildID, first, last)
	if err != nil {
		return nil, fmt.Errorf("read member roles of guild %s: %w", guildID, err)
	}
	defer rows.Close()

	out := map[string][]string{}
	for rows.Next() {
		var userID, roleID string
		if err := rows.Scan(&userID, &roleID); err != nil {
			return nil, fmt.Errorf("read member roles of guild %s: %w", guildID, err)
		}
		out[userID] = append(out[userID], roleID)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read member roles of guild %s: %w", guildID, err)
	}
	return out, nil
}

// requireMember returns notMember unless userID is a member of guildID.
func requireMember(ctx context.Context, q querier, guildID, userID string, notMember error) error {
	var found int
	err := q.QueryRowContext(ctx,
		`SELECT 1 FROM members WHERE guild_id = $1 AND user_id = $2`, guildID, userID).Scan(&found)
	if errors.Is(err, sql.ErrNoRows) {
		return notMember
	}
	if err != nil {
		return fmt.Errorf("read member %s of guild %s: %w", userID, guildID, err)
	}
	return nil
}

func insertMember(ctx context.Context, tx *sql.Tx, guildID, userID string, joinedAt time.Time) error {
	_, err := tx.ExecContext(ctx,
		`INSERT INTO members (guild_id, user_id, joined_at) VALUES ($1, $2, $3)`, guildID, userID, Millis(joinedAt))
	if err != nil {
		return fmt.Errorf("insert member %s of guild %s: %w", userID, guildID, err)
	}
	return nil
}

// removeMember deletes a membership and its roles and returns the
// member_remove event, or guild.ErrNotFound.
func removeMember(ctx context.Context, tx *sql.Tx, guildID, userID string) (event.Pending, error) {
	_, err := tx.ExecContext(ctx, `DELETE FROM member_roles WHERE guild_id = $1 AND user_id = $2`, guildID, userID)
	if err != nil {
		return event.Pending{}, fmt.Errorf("delete roles of member %s of guild %s: %w", userID, guildID, err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM members WHERE guild_id = $1 AND user_id = $2`, guildID, userID)
	if err != nil {
		return event.Pending{}, fmt.Errorf("delete member %s of guild %s: %w", userID, guildID, err)
	}
	if err := expectOneRow(res, guild.ErrNotFound); err != nil {
		return event.Pending{}, err
	}
	return guildEvent(guildID, event.MemberRemove, apijson.MemberRemoved{GuildID: guildID, UserID: userID}), nil
}

// Members implements guild.Store. An empty afterUserID starts from the
// lowest user id, and a limit below 1 returns no members.
func (s *Guilds) Members(ctx context.Context, guildID, afterUserID string, limit int) ([]guild.Member, error) {
	if err := requireLiveGuild(ctx, s.db.reader(), guildID); err != nil {
		return nil, err
	}
	if limit < 1 {
		return nil, nil
	}

	rows, err := s.db.reader().QueryContext(ctx,
		memberSelect+` AND m.user_id > $2 ORDER BY m.user_id LIMIT $3`, guildID, afterUserID, limit)
	if err != nil {
		return nil, fmt.Errorf("list members of guild %s: %w", guildID, err)
	}
	members, err := scanAll(rows, scanMember)
	if err != nil {
		return nil, fmt.Errorf("list members of guild %s: %w", guildID, err)
	}
	if len(members) == 0 {
		return nil, nil
	}

	roles, err := readMemberRoles(ctx, s.db.reader(), guildID, members[0].User.ID, members[len(members)-1].User.ID)
	if err != nil {
		return nil, err
	}
	for i := range members {
		members[i].RoleIDs = roles[members[i].User.ID]
	}
	return members, nil
}

// Member implements guild.Store.
func (s *Guilds) Member(ctx context.Context, guildID, userID string) (guild.Member, error) {
	return readMember(ctx, s.db.reader(), guildID, userID)
}

// AddMemberRole implements guild.Store. It returns guild.ErrNotFound when
// the member or the guild's role is missing. Adding a role the member
// holds, or the @everyone role that every member holds, changes nothing
// and returns no events; otherwise the event is member_update.
func (s *Guilds) AddMemberRole(ctx context.Context, guildID, userID, roleID string) ([]event.Event, error) {
	return s.changeMemberRole(ctx, guildID, userID, roleID,
		`INSERT INTO member_roles (guild_id, user_id, role_id) VALUES ($1, $2, $3)
		 ON CONFLICT (guild_id, user_id, role_id) DO NOTHING`)
}

// RemoveMemberRole implements guild.Store. It returns guild.ErrNotFound
// when the member or the guild's role is missing. Removing a role the
// member does not hold, or the @everyone role, changes nothing and
// returns no events; otherwise the event is member_update.
func (s *Guilds) RemoveMemberRole(ctx context.Context, guildID, userID, roleID string) ([]event.Event, error) {
	return s.changeMemberRole(ctx, guildID, userID, roleID,
		`DELETE FROM member_roles WHERE guild_id = $1 AND user_id = $2 AND role_id = $3`)
}

// changeMemberRole runs change, a statement on member_roles taking the
// guild, user and role ids, and appends member_update if it changed a row.
func (s *Guilds) changeMemberRole(ctx context.Context, guildID, userID, roleID, change string) ([]event.Event, error) {
	var events []event.Event
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.lockGuild(ctx, tx, guildID); err != nil {
			return err
		}
		if err := requireMember(ctx, tx, guildID, userID, guild.ErrNotFound); err != nil {
			return err
		}
		if _, err := readRole(ctx, tx, guildID, roleID); err != nil {
			return err
		}
		if roleID == guildID {
			return nil // @everyone is implicit and never stored per member
		}

		res, err := tx.ExecContext(ctx, change, guildID, userID, roleID)
		if err != nil {
			return fmt.Errorf("change role %s of member %s: %w", roleID, userID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("count affected rows: %w", err)
		}
		if n == 0 {
			return nil // the member already held the role, or did not hold it
		}

		m, err := readMember(ctx, tx, guildID, userID)
		if err != nil {
			return err
		}
		events, err = s.db.appendEvents(ctx, tx, s.now(), guildEvent(guildID, event.MemberUpdate, apijson.NewMember(m)))
		return err
	})
	return events, err
}

// SetNickname implements guild.Store. A nil nickname clears it. The event
// is member_update, even when the nickname does not change.
func (s *Guilds) SetNickname(ctx context.Context, guildID, userID string, nickname *string) (guild.Member, []event.Event, error) {
	var m guild.Member
	var events []event.Event
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.lockGuild(ctx, tx, guildID); err != nil {
			return err
		}

		res, err := tx.ExecContext(ctx,
			`UPDATE members SET nickname = $1 WHERE guild_id = $2 AND user_id = $3`, nickname, guildID, userID)
		if err != nil {
			return fmt.Errorf("set nickname of member %s of guild %s: %w", userID, guildID, err)
		}
		if err := expectOneRow(res, guild.ErrNotFound); err != nil {
			return err
		}

		if m, err = readMember(ctx, tx, guildID, userID); err != nil {
			return err
		}
		events, err = s.db.appendEvents(ctx, tx, s.now(), guildEvent(guildID, event.MemberUpdate, apijson.NewMember(m)))
		return err
	})
	if err != nil {
		return guild.Member{}, nil, err
	}
	return m, events, nil
}

// RemoveMember implements guild.Store. The event is member_remove.
func (s *Guilds) RemoveMember(ctx context.Context, guildID, userID string) ([]event.Event, error) {
	var events []event.Event
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		g, err := s.lockGuild(ctx, tx, guildID)
		if err != nil {
			return err
		}
		// The service checked ownership before this transaction; a transfer
		// may have committed since, and a guild must never lose its owner.
		if g.OwnerID == userID {
			return guild.ErrOwnershipTransferRequired
		}
		removed, err := removeMember(ctx, tx, guildID, userID)
		if err != nil {
			return err
		}
		events, err = s.db.appendEvents(ctx, tx, s.now(), removed)
		return err
	})
	return events, err
}

// LeaveAllGuilds implements guild.Store. It locks the user's guilds in id
// order, so it cannot deadlock with another LeaveAllGuilds, and appends a
// member_remove to each guild's log. It removes ownership from nobody:
// the caller moves owned guilds first.
func (s *Guilds) LeaveAllGuilds(ctx context.Context, userID string) ([]event.Event, error) {
	var events []event.Event
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx,
			`SELECT m.guild_id FROM members m JOIN guilds g ON g.id = m.guild_id
			 WHERE m.user_id = $1 AND g.deleted_at IS NULL ORDER BY m.guild_id`, userID)
		if err != nil {
			return fmt.Errorf("list guilds of user %s: %w", userID, err)
		}
		guildIDs, err := collectStrings(rows)
		if err != nil {
			return fmt.Errorf("list guilds of user %s: %w", userID, err)
		}

		var pending []event.Pending
		for _, guildID := range guildIDs {
			removed, err := s.leaveGuild(ctx, tx, guildID, userID)
			if errors.Is(err, guild.ErrNotFound) {
				continue // the guild was deleted, or the user left, since the list was read
			}
			if err != nil {
				return err
			}
			pending = append(pending, removed)
		}

		events, err = s.db.appendEvents(ctx, tx, s.now(), pending...)
		return err
	})
	return events, err
}

func (s *Guilds) leaveGuild(ctx context.Context, tx *sql.Tx, guildID, userID string) (event.Pending, error) {
	g, err := s.lockGuild(ctx, tx, guildID)
	if err != nil {
		return event.Pending{}, err
	}
	if g.OwnerID == userID {
		return event.Pending{}, guild.ErrOwnershipTransferRequired
	}
	return removeMember(ctx, tx, guildID, userID)
}

// BanMember implements guild.Store. It returns guild.ErrNotFound when the
// guild or the user is missing. Banning again replaces the reason and
// time. When the user is a member, the event is member_remove; otherwise
// there is none.
func (s *Guilds) BanMember(ctx context.Context, b guild.Ban) ([]event.Event, error) {
	b.CreatedAt = normalizeTime(b.CreatedAt)
	userID := b.User.ID

	var events []event.Event
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		g, err := s.lockGuild(ctx, tx, b.GuildID)
		if err != nil {
			return err
		}
		if g.OwnerID == userID {
			return guild.ErrForbidden // nobody bans the owner, even one made owner a moment ago
		}
		if _, err := readUser(ctx, tx, userID); err != nil {
			return err
		}

		_, err = tx.ExecContext(ctx,
			`INSERT INTO bans (guild_id, user_id, reason, created_at) VALUES ($1, $2, $3, $4)
			 ON CONFLICT (guild_id, user_id) DO UPDATE SET reason = excluded.reason, created_at = excluded.created_at`,
			b.GuildID, userID, b.Reason, Millis(b.CreatedAt))
		if err != nil {
			return fmt.Errorf("store ban of user %s from guild %s: %w", userID, b.GuildID, err)
		}

		removed, err := removeMember(ctx, tx, b.GuildID, userID)
		if errors.Is(err, guild.ErrNotFound) {
			return nil // not a member: the ban only blocks joining
		}
		if err != nil {
			return err
		}
		events, err = s.db.appendEvents(ctx, tx, b.CreatedAt, removed)
		return err
	})
	return events, err
}

// Unban implements guild.Store.
func (s *Guilds) Unban(ctx context.Context, guildID, userID string) error {
	res, err := s.db.write.ExecContext(ctx, `DELETE FROM bans WHERE guild_id = $1 AND user_id = $2`, guildID, userID)
	if err != nil {
		return fmt.Errorf("delete ban of user %s from guild %s: %w", userID, guildID, err)
	}
	return expectOneRow(res, guild.ErrNotFound)
}

// Bans implements guild.Store. Bans are ordered oldest first, then by
// user id.
func (s *Guilds) Bans(ctx context.Context, guildID string) ([]guild.Ban, error) {
	if err := requireLiveGuild(ctx, s.db.reader(), guildID); err != nil {
		return nil, err
	}

	rows, err := s.db.reader().QueryContext(ctx,
		`SELECT u.id, u.username, u.display_name, u.is_admin, u.dm_policy, u.created_at, u.deleted_at,
		        b.reason, b.created_at
		 FROM bans b JOIN users u ON u.id = b.user_id
		 WHERE b.guild_id = $1 ORDER BY b.created_at, b.user_id`, guildID)
	if err != nil {
		return nil, fmt.Errorf("list bans of guild %s: %w", guildID, err)
	}
	defer rows.Close()

	var bans []guild.Ban
	for rows.Next() {
		b := guild.Ban{GuildID: guildID}
		var created int64
		if b.User, err = scanUser(rows, &b.Reason, &created); err != nil {
			return nil, fmt.Errorf("list bans of guild %s: %w", guildID, err)
		}
		b.CreatedAt = FromMillis(created)
		bans = append(bans, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list bans of guild %s: %w", guildID, err)
	}
	return bans, nil
}

const inviteColumns = `i.code, i.guild_id, i.inviter_id, i.created_at, i.expires_at, i.max_uses, i.uses`

func scanInvite(row scanner) (guild.Invite, error) {
	var inv guild.Invite
	var created int64
	var expires, maxUses sql.NullInt64
	if err := row.Scan(&inv.Code, &inv.GuildID, &inv.InviterID, &created, &expires, &maxUses, &inv.Uses); err != nil {
		return guild.Invite{}, err
	}
	inv.CreatedAt = FromMillis(created)
	inv.ExpiresAt = fromNullMillis(expires)
	inv.MaxUses = int(maxUses.Int64)
	return inv, nil
}

// CreateInvite implements guild.Store. It returns guild.ErrNotFound when
// the guild is missing.
func (s *Guilds) CreateInvite(ctx context.Context, inv guild.Invite) error {
	var maxUses any
	if inv.MaxUses > 0 {
		maxUses = inv.MaxUses
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.lockGuild(ctx, tx, inv.GuildID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx,
			`INSERT INTO invites (code, guild_id, inviter_id, created_at, expires_at, max_uses, uses)
			 VALUES ($1, $2, $3, $4, $5, $6, 0)`,
			inv.Code, inv.GuildID, inv.InviterID, Millis(inv.CreatedAt), nullMillis(inv.ExpiresAt), maxUses)
		if err != nil {
			return fmt.Errorf("insert invite to guild %s: %w", inv.GuildID, err)
		}
		return nil
	})
}

// Invite implements guild.Store. It returns expired and used-up invites
// as they are; only AcceptInvite enforces their limits.
func (s *Guilds) Invite(ctx context.Context, code string) (guild.Invite, error) {
	row := s.db.reader().QueryRowContext(ctx,
		`SELECT `+inviteColumns+` FROM invites i JOIN guilds g ON g.id = i.guild_id
		 WHERE i.code = $1 AND g.deleted_at IS NULL`, code)
	inv, err := scanInvite(row)
	if errors.Is(err, sql.ErrNoRows) {
		return guild.Invite{}, guild.ErrNotFound
	}
	if err != nil {
		return guild.Invite{}, fmt.Errorf("read invite: %w", err)
	}
	return inv, nil
}

// Invites implements guild.Store. Invites are ordered oldest first, then
// by code, expired and used-up ones included.
func (s *Guilds) Invites(ctx context.Context, guildID string) ([]guild.Invite, error) {
	if err := requireLiveGuild(ctx, s.db.reader(), guildID); err != nil {
		return nil, err
	}

	rows, err := s.db.reader().QueryContext(ctx,
		`SELECT `+inviteColumns+` FROM invites i WHERE i.guild_id = $1 ORDER BY i.created_at, i.code`, guildID)
	if err != nil {
		return nil, fmt.Errorf("list invites of guild %s: %w", guildID, err)
	}
	defer rows.Close()

	var invites []guild.Invite
	for rows.Next() {
		inv, err := scanInvite(rows)
		if err != nil {
			return nil, fmt.Errorf("list invites of guild %s: %w", guildID, err)
		}
		invites = append(invites, inv)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list invites of guild %s: %w", guildID, err)
	}
	return invites, nil
}

// DeleteInvite implements guild.Store.
func (s *Guilds) DeleteInvite(ctx context.Context, code string) error {
	res, err := s.db.write.ExecContext(ctx, `DELETE FROM invites WHERE code = $1`, code)
	if err != nil {
		return fmt.Errorf("delete invite: %w", err)
	}
	return expectOneRow(res, guild.ErrNotFound)
}

// AcceptInvite implements guild.Store. The checks run in this order:
// the invite and its live guild exist, the user is not banned, the user
// is not yet a member, and the invite has a use left before at. The use
// is taken by a conditional UPDATE under the guild's lock, so concurrent
// callers never take more uses than the invite has. The event is
// member_add.
func (s *Guilds) AcceptInvite(ctx context.Context, code, userID string, at time.Time) (guild.Guild, []event.Event, error) {
	at = normalizeTime(at)

	var g guild.Guild
	var events []event.Event
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if g, err = s.lockInviteGuild(ctx, tx, code); err != nil {
			return err
		}
		if err := requireNotBanned(ctx, tx, g.ID, userID); err != nil {
			return err
		}
		err = requireMember(ctx, tx, g.ID, userID, guild.ErrNotFound)
		if err == nil {
			return nil // already a member: no use taken, no event
		}
		if !errors.Is(err, guild.ErrNotFound) {
			return err
		}

		res, err := tx.ExecContext(ctx,
			`UPDATE invites SET uses = uses + 1
			 WHERE code = $1 AND (max_uses IS NULL OR uses < max_uses) AND (expires_at IS NULL OR expires_at > $2)`,
			code, Millis(at))
		if err != nil {
			return fmt.Errorf("take a use of invite to guild %s: %w", g.ID, err)
		}
		if err := expectOneRow(res, guild.ErrNotFound); err != nil {
			return err // expired or used up
		}

		events, err = s.addMember(ctx, tx, g.ID, userID, at)
		return err
	})
	if err != nil {
		return guild.Guild{}, nil, err
	}
	return g, events, nil
}

// lockInviteGuild locks and returns the live guild of the invite code, or
// returns guild.ErrNotFound.
func (s *Guilds) lockInviteGuild(ctx context.Context, tx *sql.Tx, code string) (guild.Guild, error) {
	var guildID string
	err := tx.QueryRowContext(ctx, `SELECT guild_id FROM invites WHERE code = $1`, code).Scan(&guildID)
	if errors.Is(err, sql.ErrNoRows) {
		return guild.Guild{}, guild.ErrNotFound
	}
	if err != nil {
		return guild.Guild{}, fmt.Errorf("read invite: %w", err)
	}
	return s.lockGuild(ctx, tx, guildID)
}

func requireNotBanned(ctx context.Context, tx *sql.Tx, guildID, userID string) error {
	var found int
	err := tx.QueryRowContext(ctx,
		`SELECT 1 FROM bans WHERE guild_id = $1 AND user_id = $2`, guildID, userID).Scan(&found)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read ban of user %s from guild %s: %w", userID, guildID, err)
	}
	return guild.ErrBanned
}

// addMember inserts a membership and appends its member_add event.
func (s *Guilds) addMember(ctx context.Context, tx *sql.Tx, guildID, userID string, at time.Time) ([]event.Event, error) {
	if err := insertMember(ctx, tx, guildID, userID, at); err != nil {
		return nil, err
	}
	m, err := readMember(ctx, tx, guildID, userID)
	if err != nil {
		return nil, err
	}
	return s.db.appendEvents(ctx, tx, at, guildEvent(guildID, event.MemberAdd, apijson.NewMember(m)))
}
