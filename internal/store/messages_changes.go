package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/openguild/openguild/internal/apijson"
	"github.com/openguild/openguild/internal/event"
	"github.com/openguild/openguild/internal/message"
)

// liveMessage reads a live message inside tx, or message.ErrNotFound.
func liveMessage(ctx context.Context, tx *sql.Tx, channelID, messageID string) (message.Message, error) {
	row := tx.QueryRowContext(ctx,
		`SELECT `+messageColumns+` FROM messages m JOIN channels c ON c.id = m.channel_id
		 WHERE m.id = $1 AND m.channel_id = $2 AND m.deleted_at IS NULL`, messageID, channelID)
	m, err := scanMessage(row)
	if errors.Is(err, sql.ErrNoRows) {
		return message.Message{}, message.ErrNotFound
	}
	if err != nil {
		return message.Message{}, fmt.Errorf("read message %s: %w", messageID, err)
	}
	list := []message.Message{m}
	if err := loadAttachments(ctx, tx, list); err != nil {
		return message.Message{}, err
	}
	return list[0], nil
}

// Edit implements message.Store.
func (s *Messages) Edit(ctx context.Context, channelID, messageID, content string, mentions message.Mentions, at time.Time) (message.Message, []event.Event, error) {
	var m message.Message
	var events []event.Event
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if m, err = liveMessage(ctx, tx, channelID, messageID); err != nil {
			return err
		}
		encoded, err := event.Canonical(mentions)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE messages SET content = $1, mentions = $2, edited_at = $3 WHERE id = $4`,
			content, string(encoded), Millis(at), messageID)
		if err != nil {
			return fmt.Errorf("update message %s: %w", messageID, err)
		}
		m.Content, m.Mentions, m.EditedAt = content, mentions, FromMillis(Millis(at))
		m.Reactions, err = reactionsIn(ctx, tx, messageID)
		if err != nil {
			return err
		}

		events, err = s.db.appendEvents(ctx, tx, at, event.Pending{LogID: channelID, GuildID: m.GuildID,
			Type: event.MessageUpdate, Data: apijson.NewMessage(m), SubjectID: messageID})
		return err
	})
	return m, events, err
}

// Delete implements message.Store. The content goes from the projection,
// from the payload of every earlier event of the message (which become
// tombstones keeping their seq, type and ids), and the reactions go too.
func (s *Messages) Delete(ctx context.Context, channelID, messageID string, at time.Time) ([]event.Event, error) {
	var events []event.Event
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		m, err := liveMessage(ctx, tx, channelID, messageID)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx,
			`UPDATE messages SET content = '', mentions = '{"everyone":false,"roles":[],"users":[]}', deleted_at = $1 WHERE id = $2`,
			Millis(at), messageID)
		if err != nil {
			return fmt.Errorf("erase message %s: %w", messageID, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM reactions WHERE message_id = $1`, messageID); err != nil {
			return fmt.Errorf("delete reactions of message %s: %w", messageID, err)
		}

		tombstone := apijson.MessageDeleted{ID: messageID, ChannelID: channelID, GuildID: m.GuildID, Deleted: true}
		raw, err := event.Canonical(tombstone)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx,
			`UPDATE events SET data = $1 WHERE subject_id = $2 AND log_id = $3 AND type IN ('message_create', 'message_update')`,
			string(raw), messageID, channelID)
		if err != nil {
			return fmt.Errorf("erase events of message %s: %w", messageID, err)
		}

		events, err = s.db.appendEvents(ctx, tx, at, event.Pending{LogID: channelID, GuildID: m.GuildID,
			Type: event.MessageDelete, Data: tombstone, SubjectID: messageID})
		return err
	})
	return events, err
}

// React implements message.Store.
func (s *Messages) React(ctx context.Context, channelID, messageID, emoji, userID string, maxEmoji int, requireExisting bool, at time.Time) ([]event.Event, error) {
	var events []event.Event
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		m, err := liveMessage(ctx, tx, channelID, messageID)
		if err != nil {
			return err
		}
		present, distinct, mine, err := reactionState(ctx, tx, messageID, emoji, userID)
		if err != nil {
			return err
		}
		switch {
		case mine:
			return nil // already reacted: nothing changes
		case !present && requireExisting:
			return message.ErrNewEmojiForbidden
		case !present && distinct >= maxEmoji:
			return message.ErrTooManyReactions
		}

		_, err = tx.ExecContext(ctx, `INSERT INTO reactions (message_id, emoji, user_id, created_at) VALUES ($1, $2, $3, $4)`,
			messageID, emoji, userID, Millis(at))
		if err != nil {
			return fmt.Errorf("insert reaction on message %s: %w", messageID, err)
		}
		events, err = s.db.appendEvents(ctx, tx, at, event.Pending{LogID: channelID, GuildID: m.GuildID, Type: event.ReactionAdd,
			Data: apijson.ReactionChange{MessageID: messageID, ChannelID: channelID, UserID: userID, Emoji: emoji}})
		return err
	})
	return events, err
}

// reactionState reports whether emoji is on the message, how many
// distinct emoji it has, and whether userID reacted with emoji.
func reactionState(ctx context.Context, tx *sql.Tx, messageID, emoji, userID string) (present bool, distinct int, mine bool, err error) {
	var count, own int
	err = tx.QueryRowContext(ctx,
		`SELECT COUNT(DISTINCT emoji),
		        COUNT(CASE WHEN emoji = $2 THEN 1 END),
		        COUNT(CASE WHEN emoji = $2 AND user_id = $3 THEN 1 END)
		 FROM reactions WHERE message_id = $1`, messageID, emoji, userID).Scan(&distinct, &count, &own)
	if err != nil {
		return false, 0, false, fmt.Errorf("read reactions of message %s: %w", messageID, err)
	}
	return count > 0, distinct, own > 0, nil
}

// Unreact implements message.Store.
func (s *Messages) Unreact(ctx context.Context, channelID, messageID, emoji, userID string, at time.Time) ([]event.Event, error) {
	var events []event.Event
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		m, err := liveMessage(ctx, tx, channelID, messageID)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM reactions WHERE message_id = $1 AND emoji = $2 AND user_id = $3`,
			messageID, emoji, userID)
		if err != nil {
			return fmt.Errorf("delete reaction on message %s: %w", messageID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // nothing to remove
		}
		events, err = s.db.appendEvents(ctx, tx, at, event.Pending{LogID: channelID, GuildID: m.GuildID, Type: event.ReactionRemove,
			Data: apijson.ReactionChange{MessageID: messageID, ChannelID: channelID, UserID: userID, Emoji: emoji}})
		return err
	})
	return events, err
}

func reactionsIn(ctx context.Context, tx *sql.Tx, messageID string) ([]message.Reaction, error) {
	rows, err := tx.QueryContext(ctx,
		`SELECT emoji, COUNT(*), MIN(created_at) AS first FROM reactions WHERE message_id = $1 GROUP BY emoji ORDER BY first, emoji`, messageID)
	if err != nil {
		return nil, fmt.Errorf("read reactions of message %s: %w", messageID, err)
	}
	defer rows.Close()
	var out []message.Reaction
	for rows.Next() {
		var r message.Reaction
		var first int64
		if err := rows.Scan(&r.Emoji, &r.Count, &first); err != nil {
			return nil, fmt.Errorf("read reactions of message %s: %w", messageID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// PurgeNonces implements message.Store.
func (s *Messages) PurgeNonces(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.write.ExecContext(ctx, `DELETE FROM message_nonces WHERE created_at < $1`, Millis(before))
	if err != nil {
		return 0, fmt.Errorf("purge message nonces: %w", err)
	}
	return res.RowsAffected()
}
