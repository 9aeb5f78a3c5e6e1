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
	"github.com/openguild/openguild/internal/permission"
)

// channelSelect reads live channels with the newest sequence of their
// logs. Callers append the rest of the WHERE clause.
const channelSelect = `SELECT c.id, COALESCE(c.guild_id, ''), c.kind, c.name, c.topic, COALESCE(c.parent_id, ''),
	c.position, c.slowmode_seconds, COALESCE(l.last_seq, 0), c.created_at
	FROM channels c LEFT JOIN event_logs l ON l.log_id = c.id
	WHERE c.deleted_at IS NULL`

func scanChannel(row scanner) (guild.Channel, error) {
	var c guild.Channel
	var created int64
	err := row.Scan(&c.ID, &c.GuildID, &c.Kind, &c.Name, &c.Topic, &c.ParentID,
		&c.Position, &c.SlowmodeSeconds, &c.LastSeq, &created)
	if err != nil {
		return guild.Channel{}, err
	}
	c.CreatedAt = FromMillis(created)
	return c, nil
}

func isDM(kind string) bool { return kind == guild.KindDM || kind == guild.KindGroupDM }

// readChannel reads a live channel with its overwrites, or with its
// participants for a DM.
func readChannel(ctx context.Context, q querier, id string) (guild.Channel, error) {
	c, err := scanChannel(q.QueryRowContext(ctx, channelSelect+` AND c.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return guild.Channel{}, guild.ErrNotFound
	}
	if err != nil {
		return guild.Channel{}, fmt.Errorf("read channel %s: %w", id, err)
	}

	if isDM(c.Kind) {
		err = readParticipants(ctx, q, &c)
		return c, err
	}
	c.Overwrites, err = readOverwrites(ctx, q, id)
	return c, err
}

func readOverwrites(ctx context.Context, q querier, channelID string) ([]guild.Overwrite, error) {
	rows, err := q.QueryContext(ctx,
		`SELECT channel_id, target_id, target_type, allow, deny FROM channel_overwrites
		 WHERE channel_id = $1 ORDER BY target_id`, channelID)
	if err != nil {
		return nil, fmt.Errorf("read overwrites of channel %s: %w", channelID, err)
	}
	byChannel, err := collectOverwrites(rows)
	if err != nil {
		return nil, fmt.Errorf("read overwrites of channel %s: %w", channelID, err)
	}
	return byChannel[channelID], nil
}

// collectOverwrites reads rows of channel_id, target_id, target_type,
// allow and deny into overwrites by channel id, and closes rows.
func collectOverwrites(rows *sql.Rows) (map[string][]guild.Overwrite, error) {
	defer rows.Close()
	out := map[string][]guild.Overwrite{}
	for rows.Next() {
		var channelID, kind string
		var o guild.Overwrite
		var allow, deny int64
		if err := rows.Scan(&channelID, &o.TargetID, &kind, &allow, &deny); err != nil {
			return nil, err
		}
		var err error
		if o.Kind, err = permission.ParseOverwriteKind(kind); err != nil {
			return nil, err
		}
		o.Allow, o.Deny = permission.Set(allow), permission.Set(deny)
		out[channelID] = append(out[channelID], o)
	}
	return out, rows.Err()
}

// Channel implements guild.Store.
func (s *Guilds) Channel(ctx context.Context, id string) (guild.Channel, error) {
	return readChannel(ctx, s.db.reader(), id)
}

// Channels implements guild.Store.
func (s *Guilds) Channels(ctx context.Context, guildID string) ([]guild.Channel, error) {
	if err := requireLiveGuild(ctx, s.db.reader(), guildID); err != nil {
		return nil, err
	}

	rows, err := s.db.reader().QueryContext(ctx,
		channelSelect+` AND c.guild_id = $1 ORDER BY c.position, c.id`, guildID)
	if err != nil {
		return nil, fmt.Errorf("list channels of guild %s: %w", guildID, err)
	}
	channels, err := scanAll(rows, scanChannel)
	if err != nil {
		return nil, fmt.Errorf("list channels of guild %s: %w", guildID, err)
	}

	rows, err = s.db.reader().QueryContext(ctx,
		`SELECT o.channel_id, o.target_id, o.target_type, o.allow, o.deny
		 FROM channel_overwrites o JOIN channels c ON c.id = o.channel_id
		 WHERE c.guild_id = $1 AND c.deleted_at IS NULL ORDER BY o.channel_id, o.target_id`, guildID)
	if err != nil {
		return nil, fmt.Errorf("list overwrites of guild %s: %w", guildID, err)
	}
	overwrites, err := collectOverwrites(rows)
	if err != nil {
		return nil, fmt.Errorf("list overwrites of guild %s: %w", guildID, err)
	}
	for i := range channels {
		channels[i].Overwrites = overwrites[channels[i].ID]
	}
	return channels, nil
}

func insertChannel(ctx context.Context, tx *sql.Tx, c guild.Channel) error {
	_, err := tx.ExecContext(ctx,
		`INSERT INTO channels (id, guild_id, kind, name, topic, parent_id, position, slowmode_seconds, created_at)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		c.ID, nullString(c.GuildID), c.Kind, c.Name, c.Topic, nullString(c.ParentID),
		c.Position, c.SlowmodeSeconds, Millis(c.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert channel %s: %w", c.ID, err)
	}
	return nil
}

// lockChannel locks what a change to channel id needs until tx ends and
// returns the channel. A guild channel locks its guild's row, so the lock
// order matches the other guild writers, and a DM locks its own row.
func (s *Guilds) lockChannel(ctx context.Context, tx *sql.Tx, id string) (guild.Channel, error) {
	var guildID sql.NullString
	err := tx.QueryRowContext(ctx,
		`SELECT guild_id FROM channels WHERE id = $1 AND deleted_at IS NULL`, id).Scan(&guildID)
	if errors.Is(err, sql.ErrNoRows) {
		return guild.Channel{}, guild.ErrNotFound
	}
	if err != nil {
		return guild.Channel{}, fmt.Errorf("read channel %s: %w", id, err)
	}

	if guildID.Valid {
		if _, err := s.lockGuild(ctx, tx, guildID.String); err != nil {
			return guild.Channel{}, err
		}
	} else {
		var locked string
		err := tx.QueryRowContext(ctx, `SELECT id FROM channels WHERE id = $1`+s.rowLock(), id).Scan(&locked)
		if err != nil {
			return guild.Channel{}, fmt.Errorf("lock channel %s: %w", id, err)
		}
	}

	// Read again under the lock: a concurrent delete may have won.
	return readChannel(ctx, tx, id)
}

// nextLogSeq returns the sequence that the next event appended to logID
// in tx gets, and on PostgreSQL locks the log's counter so that no other
// writer takes that number first. Channel event data carries it as
// last_seq, so the channel an event shows matches the log after the event.
func (s *Guilds) nextLogSeq(ctx context.Context, tx *sql.Tx, logID string) (int64, error) {
	var last int64
	err := tx.QueryRowContext(ctx, `SELECT last_seq FROM event_logs WHERE log_id = $1`+s.rowLock(), logID).Scan(&last)
	if errors.Is(err, sql.ErrNoRows) {
		return 1, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read last sequence of log %s: %w", logID, err)
	}
	return last + 1, nil
}

// requireCategory returns guild.ErrNotFound unless parentID is a live
// category of the guild. Checking inside the transaction keeps a
// concurrently deleted category from becoming a parent.
func requireCategory(ctx context.Context, tx *sql.Tx, guildID, parentID string) error {
	var found int
	err := tx.QueryRowContext(ctx,
		`SELECT 1 FROM channels WHERE id = $1 AND guild_id = $2 AND kind = $3 AND deleted_at IS NULL`,
		parentID, guildID, guild.KindCategory).Scan(&found)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read category %s: %w", parentID, guild.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("read category %s: %w", parentID, err)
	}
	return nil
}

// CreateChannel implements guild.Store. It returns guild.ErrNotFound when
// the guild is missing or c.ParentID names no live category of it.
func (s *Guilds) CreateChannel(ctx context.Context, c guild.Channel) (guild.Channel, []event.Event, error) {
	c.CreatedAt = normalizeTime(c.CreatedAt)
	c.Overwrites, c.ParticipantIDs = nil, nil
	c.LastSeq = 1 // channel_create opens the channel's new log

	var events []event.Event
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.lockGuild(ctx, tx, c.GuildID); err != nil {
			return err
		}
		if c.ParentID != "" {
			if err := requireCategory(ctx, tx, c.GuildID, c.ParentID); err != nil {
				return err
			}
		}
		if err := insertChannel(ctx, tx, c); err != nil {
			return err
		}

		var err error
		events, err = s.db.appendEvents(ctx, tx, c.CreatedAt, channelEvent(c, event.ChannelCreate, apijson.NewChannel(c, "")))
		return err
	})
	if err != nil {
		return guild.Channel{}, nil, err
	}
	return c, events, nil
}

// UpdateChannel implements guild.Store. It returns guild.ErrNotFound when
// the channel is missing or u.ParentID names no live category of its
// guild. It appends one channel_update event, even when u changes nothing.
func (s *Guilds) UpdateChannel(ctx context.Context, id string, u guild.ChannelUpdate) (guild.Channel, []event.Event, error) {
	var c guild.Channel
	var events []event.Event
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if c, err = s.lockChannel(ctx, tx, id); err != nil {
			return err
		}
		if err := applyChannelUpdate(ctx, tx, &c, u); err != nil {
			return err
		}

		_, err = tx.ExecContext(ctx,
			`UPDATE channels SET name = $1, topic = $2, position = $3, parent_id = $4, slowmode_seconds = $5
			 WHERE id = $6`,
			c.Name, c.Topic, c.Position, nullString(c.ParentID), c.SlowmodeSeconds, id)
		if err != nil {
			return fmt.Errorf("update channel %s: %w", id, err)
		}

		if c.LastSeq, err = s.nextLogSeq(ctx, tx, id); err != nil {
			return err
		}
		events, err = s.db.appendEvents(ctx, tx, s.now(), channelEvent(c, event.ChannelUpdate, apijson.NewChannel(c, "")))
		return err
	})
	if err != nil {
		return guild.Channel{}, nil, err
	}
	return c, events, nil
}

func applyChannelUpdate(ctx context.Context, tx *sql.Tx, c *guild.Channel, u guild.ChannelUpdate) error {
	if u.ParentID != nil && *u.ParentID != "" {
		if err := requireCategory(ctx, tx, c.GuildID, *u.ParentID); err != nil {
			return err
		}
	}

	if u.Name != nil {
		c.Name = *u.Name
	}
	if u.Topic != nil {
		c.Topic = *u.Topic
	}
	if u.Position != nil {
		c.Position = *u.Position
	}
	if u.ParentID != nil {
		c.ParentID = *u.ParentID
	}
	if u.SlowmodeSeconds != nil {
		c.SlowmodeSeconds = *u.SlowmodeSeconds
	}
	return nil
}

// DeleteChannel implements guild.Store. The channel keeps its row, marked
// deleted, so its event log stays readable, and loses its overwrites.
// Deleting a category moves its channels out of it with a channel_update
// in each of their logs. The last event is channel_delete in the
// channel's own log.
func (s *Guilds) DeleteChannel(ctx context.Context, id string, at time.Time) ([]event.Event, error) {
	var events []event.Event
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		c, err := s.lockChannel(ctx, tx, id)
		if err != nil {
			return err
		}

		if _, err := tx.ExecContext(ctx, `UPDATE channels SET deleted_at = $1 WHERE id = $2`, Millis(at), id); err != nil {
			return fmt.Errorf("mark channel %s deleted: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM channel_overwrites WHERE channel_id = $1`, id); err != nil {
			return fmt.Errorf("delete overwrites of channel %s: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM dm_pairs WHERE channel_id = $1`, id); err != nil {
			return fmt.Errorf("delete DM pair of channel %s: %w", id, err)
		}

		var pending []event.Pending
		if c.Kind == guild.KindCategory {
			if pending, err = s.detachChildren(ctx, tx, id); err != nil {
				return err
			}
		}
		pending = append(pending, channelEvent(c, event.ChannelDelete, apijson.Deleted{ID: id, GuildID: c.GuildID}))

		events, err = s.db.appendEvents(ctx, tx, at, pending...)
		return err
	})
	return events, err
}

// detachChildren moves the live channels of category out of it and
// returns a channel_update for each, ordered by position, then id.
func (s *Guilds) detachChildren(ctx context.Context, tx *sql.Tx, category string) ([]event.Pending, error) {
	rows, err := tx.QueryContext(ctx, channelSelect+` AND c.parent_id = $1 ORDER BY c.position, c.id`, category)
	if err != nil {
		return nil, fmt.Errorf("list channels of category %s: %w", category, err)
	}
	defer rows.Close()
	var children []guild.Channel
	for rows.Next() {
		c, err := scanChannel(rows)
		if err != nil {
			return nil, fmt.Errorf("list channels of category %s: %w", category, err)
		}
		children = append(children, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list channels of category %s: %w", category, err)
	}
	rows.Close()

	if _, err := tx.ExecContext(ctx, `UPDATE channels SET parent_id = NULL WHERE parent_id = $1`, category); err != nil {
		return nil, fmt.Errorf("move channels out of category %s: %w", category, err)
	}

	pending := make([]event.Pending, 0, len(children))
	for _, c := range children {
		c.ParentID = ""
		if c.LastSeq, err = s.nextLogSeq(ctx, tx, c.ID); err != nil {
			return nil, err
		}
		pending = append(pending, channelEvent(c, event.ChannelUpdate, apijson.NewChannel(c, "")))
	}
	return pending, nil
}

// SetOverwrite implements guild.Store. It creates or replaces the
// overwrite for o.TargetID, and rejects an o.Kind that is neither role
// nor member with an error wrapping permission.ErrInvalidOverwriteKind.
func (s *Guilds) SetOverwrite(ctx context.Context, channelID string, o guild.Overwrite) ([]event.Event, error) {
	kind, err := o.Kind.MarshalText()
	if err != nil {
		return nil, fmt.Errorf("set overwrite of %s on channel %s: %w", o.TargetID, channelID, err)
	}

	var events []event.Event
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		c, err := s.lockChannel(ctx, tx, channelID)
		if err != nil {
			return err
		}

		_, err = tx.ExecContext(ctx,
			`INSERT INTO channel_overwrites (channel_id, target_id, target_type, allow, deny)
			 VALUES ($1, $2, $3, $4, $5)
			 ON CONFLICT (channel_id, target_id) DO UPDATE
			 SET target_type = excluded.target_type, allow = excluded.allow, deny = excluded.deny`,
			channelID, o.TargetID, string(kind), int64(o.Allow), int64(o.Deny))
		if err != nil {
			return fmt.Errorf("store overwrite of %s on channel %s: %w", o.TargetID, channelID, err)
		}

		events, err = s.db.appendEvents(ctx, tx, s.now(),
			channelEvent(c, event.OverwriteUpdate, apijson.NewOverwrite(channelID, o)))
		return err
	})
	return events, err
}

// DeleteOverwrite implements guild.Store.
func (s *Guilds) DeleteOverwrite(ctx context.Context, channelID, targetID string) ([]event.Event, error) {
	var events []event.Event
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		c, err := s.lockChannel(ctx, tx, channelID)
		if err != nil {
			return err
		}

		res, err := tx.ExecContext(ctx,
			`DELETE FROM channel_overwrites WHERE channel_id = $1 AND target_id = $2`, channelID, targetID)
		if err != nil {
			return fmt.Errorf("delete overwrite of %s on channel %s: %w", targetID, channelID, err)
		}
		if err := expectOneRow(res, guild.ErrNotFound); err != nil {
			return err
		}

		events, err = s.db.appendEvents(ctx, tx, s.now(), channelEvent(c, event.OverwriteDelete, overwriteDeleted(channelID, targetID)))
		return err
	})
	return events, err
}

// overwriteDeleted returns the data of an overwrite_delete event.
func overwriteDeleted(channelID, targetID string) map[string]string {
	return map[string]string{"channel_id": channelID, "target_id": targetID}
}
