package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/openguild/openguild/internal/apijson"
	"github.com/openguild/openguild/internal/event"
	"github.com/openguild/openguild/internal/guild"
)

// errDMPairTaken reports that a concurrent CreateDM stored the pair's dm
// first, so the caller rolls back and returns that one.
var errDMPairTaken = errors.New("dm pair already has a channel")

// readParticipants fills in the participants of DM c, sorted, and marks c
// read-only when at most one of them still has an account.
func readParticipants(ctx context.Context, q querier, c *guild.Channel) error {
	rows, err := q.QueryContext(ctx,
		`SELECT p.user_id, u.deleted_at IS NULL FROM dm_participants p JOIN users u ON u.id = p.user_id
		 WHERE p.channel_id = $1 ORDER BY p.user_id`, c.ID)
	if err != nil {
		return fmt.Errorf("read participants of channel %s: %w", c.ID, err)
	}
	defer rows.Close()

	c.ParticipantIDs = nil
	live := 0
	for rows.Next() {
		var id string
		var active bool
		if err := rows.Scan(&id, &active); err != nil {
			return fmt.Errorf("read participants of channel %s: %w", c.ID, err)
		}
		c.ParticipantIDs = append(c.ParticipantIDs, id)
		if active {
			live++
		}
	}
	c.ReadOnly = live <= 1
	return rows.Err()
}

// DMs implements guild.Store. Channels are ordered by id, each with its
// participants sorted.
func (s *Guilds) DMs(ctx context.Context, userID string) ([]guild.Channel, error) {
	rows, err := s.db.reader().QueryContext(ctx,
		channelSelect+` AND c.id IN (SELECT channel_id FROM dm_participants WHERE user_id = $1) ORDER BY c.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list DMs of user %s: %w", userID, err)
	}
	defer rows.Close()
	var channels []guild.Channel
	for rows.Next() {
		c, err := scanChannel(rows)
		if err != nil {
			return nil, fmt.Errorf("list DMs of user %s: %w", userID, err)
		}
		channels = append(channels, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list DMs of user %s: %w", userID, err)
	}

	participants, err := s.participantsOfDMs(ctx, userID)
	if err != nil {
		return nil, err
	}
	for i := range channels {
		channels[i].ParticipantIDs = participants[channels[i].ID]
	}
	return channels, nil
}

// participantsOfDMs returns the participants, sorted, of every DM that
// userID takes part in, by channel id.
func (s *Guilds) participantsOfDMs(ctx context.Context, userID string) (map[string][]string, error) {
	rows, err := s.db.reader().QueryContext(ctx,
		`SELECT p.channel_id, p.user_id FROM dm_participants p
		 JOIN dm_participants me ON me.channel_id = p.channel_id
		 WHERE me.user_id = $1 ORDER BY p.channel_id, p.user_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list DM participants of user %s: %w", userID, err)
	}
	defer rows.Close()

	out := map[string][]string{}
	for rows.Next() {
		var channelID, participant string
		if err := rows.Scan(&channelID, &participant); err != nil {
			return nil, fmt.Errorf("list DM participants of user %s: %w", userID, err)
		}
		out[channelID] = append(out[channelID], participant)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list DM participants of user %s: %w", userID, err)
	}
	return out, nil
}

// CreateDM implements guild.Store. c.Kind is guild.KindDM, with exactly
// two distinct participants, or guild.KindGroupDM. For a dm, the pair's
// existing channel wins: a concurrent CreateDM of the same pair returns
// the channel the first one stored, with created false and no events.
// A new channel's event is channel_create in its own log, which belongs
// to no guild.
func (s *Guilds) CreateDM(ctx context.Context, c guild.Channel) (guild.Channel, bool, []event.Event, error) {
	c, err := newDM(c)
	if err != nil {
		return guild.Channel{}, false, nil, err
	}

	var existingID string
	var events []event.Event
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if c.Kind == guild.KindDM {
			id, err := dmPairChannel(ctx, tx, c.ParticipantIDs)
			if err != nil || id != "" {
				existingID = id
				return err
			}
		}
		inserted, err := s.insertDM(ctx, tx, c)
		events = inserted
		return err
	})
	if errors.Is(err, errDMPairTaken) {
		existingID, err = dmPairChannel(ctx, s.db.reader(), c.ParticipantIDs)
		if err == nil && existingID == "" {
			err = fmt.Errorf("read DM of users %v: the pair is taken but has no channel", c.ParticipantIDs)
		}
	}
	if err != nil {
		return guild.Channel{}, false, nil, err
	}

	if existingID != "" {
		existing, err := s.Channel(ctx, existingID)
		return existing, false, nil, err
	}
	return c, true, events, nil
}

// newDM checks the kind and participants of a DM about to be created and
// returns it with its participants sorted and the fields a DM lacks
// cleared.
func newDM(c guild.Channel) (guild.Channel, error) {
	c.GuildID, c.ParentID, c.Overwrites = "", "", nil
	c.CreatedAt = normalizeTime(c.CreatedAt)
	c.LastSeq = 1 // channel_create opens the channel's new log

	participants := slices.Clone(c.ParticipantIDs)
	slices.Sort(participants)
	c.ParticipantIDs = slices.Compact(participants)

	switch c.Kind {
	case guild.KindDM:
		if len(c.ParticipantIDs) != 2 {
			return guild.Channel{}, fmt.Errorf("create DM %s: a dm needs 2 distinct participants, got %d", c.ID, len(c.ParticipantIDs))
		}
	case guild.KindGroupDM:
		if len(c.ParticipantIDs) == 0 {
			return guild.Channel{}, fmt.Errorf("create DM %s: a group_dm needs participants", c.ID)
		}
	default:
		return guild.Channel{}, fmt.Errorf("create DM %s: kind %q is not %s or %s", c.ID, c.Kind, guild.KindDM, guild.KindGroupDM)
	}
	return c, nil
}

// dmPairChannel returns the id of the live dm channel of two participants
// sorted in ascending order, or "" when they have none.
func dmPairChannel(ctx context.Context, q querier, pair []string) (string, error) {
	var id string
	err := q.QueryRowContext(ctx,
		`SELECT p.channel_id FROM dm_pairs p JOIN channels c ON c.id = p.channel_id
		 WHERE p.user_low = $1 AND p.user_high = $2 AND c.deleted_at IS NULL`, pair[0], pair[1]).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read DM of users %s and %s: %w", pair[0], pair[1], err)
	}
	return id, nil
}

// insertDM stores a DM channel, its participants and, for a dm, its pair,
// and appends channel_create. It returns errDMPairTaken when another
// transaction stored the pair first.
func (s *Guilds) insertDM(ctx context.Context, tx *sql.Tx, c guild.Channel) ([]event.Event, error) {
	if err := insertChannel(ctx, tx, c); err != nil {
		return nil, err
	}
	for _, userID := range c.ParticipantIDs {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO dm_participants (channel_id, user_id) VALUES ($1, $2)`, c.ID, userID)
		if err != nil {
			return nil, fmt.Errorf("insert participant %s of channel %s: %w", userID, c.ID, err)
		}
	}

	if c.Kind == guild.KindDM {
		// The primary key on the pair makes the second of two concurrent
		// transactions fail here once the first commits.
		_, err := tx.ExecContext(ctx,
			`INSERT INTO dm_pairs (user_low, user_high, channel_id) VALUES ($1, $2, $3)`,
			c.ParticipantIDs[0], c.ParticipantIDs[1], c.ID)
		if IsUniqueViolation(err) {
			return nil, errDMPairTaken
		}
		if err != nil {
			return nil, fmt.Errorf("insert DM pair of channel %s: %w", c.ID, err)
		}
	}

	return s.db.appendEvents(ctx, tx, c.CreatedAt, channelEvent(c, event.ChannelCreate, apijson.NewChannel(c, "")))
}
