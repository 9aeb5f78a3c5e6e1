package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/openguild/openguild/internal/apijson"
	"github.com/openguild/openguild/internal/auth"
	"github.com/openguild/openguild/internal/event"
	"github.com/openguild/openguild/internal/guild"
	"github.com/openguild/openguild/internal/permission"
)

// Guilds implements guild.Store on a DB. Its methods are split by concept
// across guilds*.go: guilds here, then channels, roles, members (with bans
// and invites) and DMs.
//
// Every write transaction about a guild first locks the guild's row, with
// FOR NO KEY UPDATE on PostgreSQL (SQLite's single writer serialises
// anyway). So the changes to one guild apply one transaction at a time:
// role positions stay dense, a ban cannot race a join, and a deleted
// guild gains no members, channels or invites after its deletion commits.
// Writers lock in this order: guild row, then the event_logs rows of the
// logs they append to.
type Guilds struct {
	db  *DB
	now func() time.Time // stamps the events of methods that take no time
}

// Guilds returns the store of guilds, channels, roles, members, bans,
// invites and DMs. Methods that take no time stamp their events with the
// system clock, and WithClock replaces it.
func (db *DB) Guilds() *Guilds { return &Guilds{db: db, now: time.Now} }

// WithClock returns a copy of s that stamps events with now when a method
// takes no time of its own.
func (s *Guilds) WithClock(now func() time.Time) *Guilds {
	return &Guilds{db: s.db, now: now}
}

var _ guild.Store = (*Guilds)(nil)

// querier runs read queries: a *sql.DB outside a transaction, a *sql.Tx
// inside one.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

type scanner interface{ Scan(...any) error }

const guildColumns = `id, name, description, owner_id, created_at`

func scanGuild(row scanner) (guild.Guild, error) {
	var g guild.Guild
	var created int64
	if err := row.Scan(&g.ID, &g.Name, &g.Description, &g.OwnerID, &created); err != nil {
		return guild.Guild{}, err
	}
	g.CreatedAt = FromMillis(created)
	return g, nil
}

// rowLock returns the clause that locks the selected rows until the
// transaction ends. SQLite has no such clause and needs none, because its
// single write connection runs one transaction at a time.
func (s *Guilds) rowLock() string {
	if s.db.dialect == Postgres {
		return ` FOR NO KEY UPDATE`
	}
	return ``
}

// lockGuild locks the live guild id until tx ends and returns it, or
// guild.ErrNotFound.
func (s *Guilds) lockGuild(ctx context.Context, tx *sql.Tx, id string) (guild.Guild, error) {
	row := tx.QueryRowContext(ctx,
		`SELECT `+guildColumns+` FROM guilds WHERE id = $1 AND deleted_at IS NULL`+s.rowLock(), id)
	g, err := scanGuild(row)
	if errors.Is(err, sql.ErrNoRows) {
		return guild.Guild{}, guild.ErrNotFound
	}
	if err != nil {
		return guild.Guild{}, fmt.Errorf("lock guild %s: %w", id, err)
	}
	return g, nil
}

// requireLiveGuild returns guild.ErrNotFound unless guild id exists and
// is not deleted.
func requireLiveGuild(ctx context.Context, q querier, id string) error {
	var found int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM guilds WHERE id = $1 AND deleted_at IS NULL`, id).Scan(&found)
	if errors.Is(err, sql.ErrNoRows) {
		return guild.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("read guild %s: %w", id, err)
	}
	return nil
}

// guildEvent returns an event for the guild's own log.
func guildEvent(guildID string, t event.Type, data any) event.Pending {
	return event.Pending{LogID: guildID, GuildID: guildID, Type: t, Data: data}
}

// channelEvent returns an event for the channel's log.
func channelEvent(c guild.Channel, t event.Type, data any) event.Pending {
	return event.Pending{LogID: c.ID, GuildID: c.GuildID, Type: t, Data: data}
}

// normalizeTime drops what the time columns cannot keep, the
// sub-millisecond part and the zone, so returned values equal what a
// later read returns.
func normalizeTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return FromMillis(Millis(t))
}

// CreateGuild implements guild.Store. It stores everyone under the guild
// id at position 0 and first in guild g, ignoring the ID, GuildID and
// Position they carry. The events are member_add and role_create in the
// guild's log, then channel_create in the channel's log.
func (s *Guilds) CreateGuild(ctx context.Context, g guild.Guild, everyone guild.Role, first guild.Channel) ([]event.Event, error) {
	g.CreatedAt = normalizeTime(g.CreatedAt)
	everyone.ID, everyone.GuildID, everyone.Position = g.ID, g.ID, 0
	everyone.CreatedAt = normalizeTime(everyone.CreatedAt)
	first.GuildID = g.ID
	first.CreatedAt = normalizeTime(first.CreatedAt)
	first.LastSeq = 1 // channel_create opens the channel's new log

	var events []event.Event
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		owner, err := readUser(ctx, tx, g.OwnerID)
		if err != nil {
			return err
		}

		_, err = tx.ExecContext(ctx,
			`INSERT INTO guilds (id, name, description, owner_id, created_at) VALUES ($1, $2, $3, $4, $5)`,
			g.ID, g.Name, g.Description, g.OwnerID, Millis(g.CreatedAt))
		if err != nil {
			return fmt.Errorf("insert guild %s: %w", g.ID, err)
		}
		if err := insertRole(ctx, tx, everyone); err != nil {
			return err
		}
		if err := insertMember(ctx, tx, g.ID, g.OwnerID, g.CreatedAt); err != nil {
			return err
		}
		if err := insertChannel(ctx, tx, first); err != nil {
			return err
		}

		member := guild.Member{GuildID: g.ID, User: owner, JoinedAt: g.CreatedAt}
		events, err = s.db.appendEvents(ctx, tx, g.CreatedAt,
			guildEvent(g.ID, event.MemberAdd, apijson.NewMember(member)),
			guildEvent(g.ID, event.RoleCreate, apijson.NewRole(everyone)),
			channelEvent(first, event.ChannelCreate, apijson.NewChannel(first, "")))
		return err
	})
	return events, err
}

// readUser reads a user for the member and ban forms, or returns
// guild.ErrNotFound.
func readUser(ctx context.Context, q querier, id string) (auth.User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return auth.User{}, fmt.Errorf("read user %s: %w", id, guild.ErrNotFound)
	}
	if err != nil {
		return auth.User{}, fmt.Errorf("read user %s: %w", id, err)
	}
	return u, nil
}

// Guild implements guild.Store.
func (s *Guilds) Guild(ctx context.Context, id string) (guild.Guild, error) {
	row := s.db.reader().QueryRowContext(ctx,
		`SELECT `+guildColumns+` FROM guilds WHERE id = $1 AND deleted_at IS NULL`, id)
	g, err := scanGuild(row)
	if errors.Is(err, sql.ErrNoRows) {
		return guild.Guild{}, guild.ErrNotFound
	}
	if err != nil {
		return guild.Guild{}, fmt.Errorf("read guild %s: %w", id, err)
	}
	return g, nil
}

// GuildsOf implements guild.Store. Guilds are ordered by creation time,
// then id.
func (s *Guilds) GuildsOf(ctx context.Context, userID string) ([]guild.Guild, error) {
	rows, err := s.db.reader().QueryContext(ctx,
		`SELECT g.id, g.name, g.description, g.owner_id, g.created_at
		 FROM guilds g JOIN members m ON m.guild_id = g.id
		 WHERE m.user_id = $1 AND g.deleted_at IS NULL
		 ORDER BY g.created_at, g.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list guilds of user %s: %w", userID, err)
	}
	defer rows.Close()

	var out []guild.Guild
	for rows.Next() {
		g, err := scanGuild(rows)
		if err != nil {
			return nil, fmt.Errorf("list guilds of user %s: %w", userID, err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list guilds of user %s: %w", userID, err)
	}
	return out, nil
}

// UpdateGuild implements guild.Store. It appends one guild_update event,
// even when u changes nothing.
func (s *Guilds) UpdateGuild(ctx context.Context, id string, u guild.GuildUpdate) (guild.Guild, []event.Event, error) {
	var g guild.Guild
	var events []event.Event
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if g, err = s.lockGuild(ctx, tx, id); err != nil {
			return err
		}

		if u.OwnerID != nil {
			if err := requireMember(ctx, tx, id, *u.OwnerID, guild.ErrNotMember); err != nil {
				return err
			}
			g.OwnerID = *u.OwnerID
		}
		if u.Name != nil {
			g.Name = *u.Name
		}
		if u.Description != nil {
			g.Description = *u.Description
		}

		_, err = tx.ExecContext(ctx, `UPDATE guilds SET name = $1, description = $2, owner_id = $3 WHERE id = $4`,
			g.Name, g.Description, g.OwnerID, id)
		if err != nil {
			return fmt.Errorf("update guild %s: %w", id, err)
		}

		events, err = s.db.appendEvents(ctx, tx, s.now(), guildEvent(id, event.GuildUpdate, apijson.NewGuild(g)))
		return err
	})
	if err != nil {
		return guild.Guild{}, nil, err
	}
	return g, events, nil
}

// DeleteGuild implements guild.Store. The guild and its channels keep
// their rows, marked deleted, so their event logs stay readable. Every
// other row of the guild is removed. The one event is guild_delete in the
// guild's log.
func (s *Guilds) DeleteGuild(ctx context.Context, id string, at time.Time) ([]event.Event, error) {
	var events []event.Event
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.lockGuild(ctx, tx, id); err != nil {
			return err
		}

		if _, err := tx.ExecContext(ctx, `UPDATE guilds SET deleted_at = $1 WHERE id = $2`, Millis(at), id); err != nil {
			return fmt.Errorf("mark guild %s deleted: %w", id, err)
		}
		_, err := tx.ExecContext(ctx,
			`UPDATE channels SET deleted_at = $1 WHERE guild_id = $2 AND deleted_at IS NULL`, Millis(at), id)
		if err != nil {
			return fmt.Errorf("mark channels of guild %s deleted: %w", id, err)
		}
		if err := deleteGuildRows(ctx, tx, id); err != nil {
			return err
		}

		events, err = s.db.appendEvents(ctx, tx, at, guildEvent(id, event.GuildDelete, apijson.Deleted{ID: id}))
		return err
	})
	return events, err
}

// deleteGuildRows removes every row of a guild that DeleteGuild does not
// keep. Member roles go before roles because of the foreign key between
// them.
func deleteGuildRows(ctx context.Context, tx *sql.Tx, id string) error {
	steps := []struct{ what, query string }{
		{"delete channel overwrites", `DELETE FROM channel_overwrites WHERE channel_id IN (SELECT id FROM channels WHERE guild_id = $1)`},
		{"delete member roles", `DELETE FROM member_roles WHERE guild_id = $1`},
		{"delete members", `DELETE FROM members WHERE guild_id = $1`},
		{"delete invites", `DELETE FROM invites WHERE guild_id = $1`},
		{"delete bans", `DELETE FROM bans WHERE guild_id = $1`},
		{"delete roles", `DELETE FROM roles WHERE guild_id = $1`},
	}
	for _, step := range steps {
		if _, err := tx.ExecContext(ctx, step.query, id); err != nil {
			return fmt.Errorf("%s of guild %s: %w", step.what, id, err)
		}
	}
	return nil
}

// Access implements guild.Store. One statement reads the guild, its roles
// and the member's roles, so they come from one snapshot.
func (s *Guilds) Access(ctx context.Context, guildID, userID string) (guild.Access, error) {
	rows, err := s.db.reader().QueryContext(ctx,
		`SELECT g.owner_id, r.id, r.position, r.permissions, mr.role_id IS NOT NULL
		 FROM guilds g
		 JOIN members m ON m.guild_id = g.id AND m.user_id = $2
		 JOIN roles r ON r.guild_id = g.id
		 LEFT JOIN member_roles mr ON mr.guild_id = g.id AND mr.user_id = m.user_id AND mr.role_id = r.id
		 WHERE g.id = $1 AND g.deleted_at IS NULL
		 ORDER BY r.id`, guildID, userID)
	if err != nil {
		return guild.Access{}, fmt.Errorf("read access of user %s to guild %s: %w", userID, guildID, err)
	}
	defer rows.Close()

	a := guild.Access{
		Guild:  permission.Guild{ID: guildID, Roles: map[string]permission.Role{}},
		Member: permission.Member{UserID: userID},
	}
	for rows.Next() {
		var r permission.Role
		var perms int64
		var held bool
		if err := rows.Scan(&a.Guild.OwnerID, &r.ID, &r.Position, &perms, &held); err != nil {
			return guild.Access{}, fmt.Errorf("read access of user %s to guild %s: %w", userID, guildID, err)
		}
		r.Permissions = permission.Set(perms)
		a.Guild.Roles[r.ID] = r
		if held && r.ID != guildID {
			a.Member.RoleIDs = append(a.Member.RoleIDs, r.ID)
		}
	}
	if err := rows.Err(); err != nil {
		return guild.Access{}, fmt.Errorf("read access of user %s to guild %s: %w", userID, guildID, err)
	}

	// Every live guild has its @everyone role, so no row means no live
	// guild or no membership.
	if len(a.Guild.Roles) == 0 {
		return guild.Access{}, guild.ErrNotFound
	}
	return a, nil
}

// OwnedGuilds implements guild.Store.
func (s *Guilds) OwnedGuilds(ctx context.Context, userID string) (int, error) {
	var n int
	err := s.db.reader().QueryRowContext(ctx,
		`SELECT COUNT(*) FROM guilds WHERE owner_id = $1 AND deleted_at IS NULL`, userID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count guilds owned by user %s: %w", userID, err)
	}
	return n, nil
}

// MemberIDs implements guild.Store.
func (s *Guilds) MemberIDs(ctx context.Context, guildID string, userIDs []string) ([]string, error) {
	if len(userIDs) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(userIDs)+1)
	args = append(args, guildID)
	for _, id := range userIDs {
		args = append(args, id)
	}
	rows, err := s.db.reader().QueryContext(ctx,
		`SELECT user_id FROM members WHERE guild_id = $1 AND user_id IN (`+placeholders(2, len(userIDs))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("find members of guild %s: %w", guildID, err)
	}
	ids, err := scanAll(rows, scanString)
	if err != nil {
		return nil, fmt.Errorf("find members of guild %s: %w", guildID, err)
	}
	return ids, nil
}

// SharesGuild implements guild.Store.
func (s *Guilds) SharesGuild(ctx context.Context, a, b string) (bool, error) {
	var found int
	err := s.db.reader().QueryRowContext(ctx,
		`SELECT 1 FROM members ma
		 JOIN members mb ON mb.guild_id = ma.guild_id
		 JOIN guilds g ON g.id = ma.guild_id
		 WHERE ma.user_id = $1 AND mb.user_id = $2 AND g.deleted_at IS NULL
		 LIMIT 1`, a, b).Scan(&found)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check whether users %s and %s share a guild: %w", a, b, err)
	}
	return true, nil
}
