package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/openguild/openguild/internal/apijson"
	"github.com/openguild/openguild/internal/event"
	"github.com/openguild/openguild/internal/message"
)

// Messages implements message.Store on a DB.
type Messages struct{ db *DB }

// Messages returns the message store.
func (db *DB) Messages() *Messages { return &Messages{db: db} }

var _ message.Store = (*Messages)(nil)

const messageColumns = `m.id, m.channel_id, COALESCE(c.guild_id, ''), m.seq, m.author_id, m.content,
	COALESCE(m.nonce, ''), COALESCE(m.reply_to, ''), m.mentions, m.created_at, m.edited_at`

func scanMessage(row interface{ Scan(...any) error }) (message.Message, error) {
	var m message.Message
	var mentions string
	var created int64
	var edited sql.NullInt64
	err := row.Scan(&m.ID, &m.ChannelID, &m.GuildID, &m.Seq, &m.AuthorID, &m.Content,
		&m.Nonce, &m.ReplyTo, &mentions, &created, &edited)
	if err != nil {
		return message.Message{}, err
	}
	if err := json.Unmarshal([]byte(mentions), &m.Mentions); err != nil {
		return message.Message{}, fmt.Errorf("decode mentions of message %s: %w", m.ID, err)
	}
	m.CreatedAt = FromMillis(created)
	m.EditedAt = fromNullMillis(edited)
	return m, nil
}

// AppendBatch implements message.Store. Each draft runs under a savepoint
// so that one draft's failure, such as a reply to an unknown message,
// rolls back only that draft.
func (s *Messages) AppendBatch(ctx context.Context, drafts []message.Draft) ([]message.Appended, error) {
	results := make([]message.Appended, len(drafts))
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		for i, d := range drafts {
			if _, err := s.db.execTx(ctx, tx, `SAVEPOINT draft`); err != nil {
				return fmt.Errorf("open savepoint: %w", err)
			}
			results[i] = s.appendDraft(ctx, tx, d)
			release := `RELEASE SAVEPOINT draft`
			if results[i].Err != nil {
				release = `ROLLBACK TO SAVEPOINT draft`
			}
			if _, err := s.db.execTx(ctx, tx, release); err != nil {
				return fmt.Errorf("close savepoint: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

func (s *Messages) appendDraft(ctx context.Context, tx *sql.Tx, d message.Draft) message.Appended {
	if d.Nonce != "" {
		existing, found, err := s.messageByNonce(ctx, tx, d)
		if err != nil || found {
			return message.Appended{Message: existing, Existing: found, Err: err}
		}
	}
	if d.ReplyTo != "" {
		if err := s.checkReply(ctx, tx, d.ChannelID, d.ReplyTo); err != nil {
			return message.Appended{Err: err}
		}
	}

	m := message.Message{ID: d.ID, ChannelID: d.ChannelID, GuildID: d.GuildID, AuthorID: d.AuthorID,
		Content: d.Content, Nonce: d.Nonce, ReplyTo: d.ReplyTo, Mentions: d.Mentions,
		CreatedAt: FromMillis(Millis(d.CreatedAt))}
	seq, err := s.db.nextSeq(ctx, tx, d.ChannelID, d.GuildID)
	if err != nil {
		return message.Appended{Err: err}
	}
	m.Seq = seq

	if err := s.insertMessage(ctx, tx, m); err != nil {
		return message.Appended{Err: err}
	}
	if len(d.AttachmentIDs) > 0 {
		if err := s.insertAttachments(ctx, tx, &m, d.AttachmentIDs); err != nil {
			return message.Appended{Err: err}
		}
	}
	e, err := s.insertEvent(ctx, tx, m.ChannelID, m.GuildID, seq, event.MessageCreate, apijson.NewMessage(m), m.ID, d.CreatedAt)
	if err != nil {
		return message.Appended{Err: err}
	}
	return message.Appended{Message: m, Events: []event.Event{e}}
}

// messageByNonce finds the author's earlier message with the same nonce
// in the channel inside the window, and deletes a nonce past it.
func (s *Messages) messageByNonce(ctx context.Context, tx *sql.Tx, d message.Draft) (message.Message, bool, error) {
	var id string
	var created int64
	err := s.db.queryRowTx(ctx, tx,
		`SELECT message_id, created_at FROM message_nonces WHERE author_id = $1 AND channel_id = $2 AND nonce = $3`,
		d.AuthorID, d.ChannelID, d.Nonce).Scan(&id, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return message.Message{}, false, nil
	}
	if err != nil {
		return message.Message{}, false, fmt.Errorf("look up nonce: %w", err)
	}
	if created <= Millis(d.NonceSince) {
		_, err := tx.ExecContext(ctx, `DELETE FROM message_nonces WHERE author_id = $1 AND channel_id = $2 AND nonce = $3`,
			d.AuthorID, d.ChannelID, d.Nonce)
		return message.Message{}, false, err
	}

	row := tx.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages m JOIN channels c ON c.id = m.channel_id WHERE m.id = $1`, id)
	m, err := scanMessage(row)
	if err != nil {
		return message.Message{}, false, fmt.Errorf("read message %s of nonce: %w", id, err)
	}
	list := []message.Message{m}
	if err := loadAttachments(ctx, tx, list); err != nil {
		return message.Message{}, false, err
	}
	return list[0], true, nil
}

func (s *Messages) checkReply(ctx context.Context, tx *sql.Tx, channelID, replyTo string) error {
	var one int
	err := s.db.queryRowTx(ctx, tx,
		`SELECT 1 FROM messages WHERE id = $1 AND channel_id = $2 AND deleted_at IS NULL`, replyTo, channelID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return message.ErrReplyNotFound
	}
	if err != nil {
		return fmt.Errorf("look up replied-to message %s: %w", replyTo, err)
	}
	return nil
}

func (s *Messages) insertMessage(ctx context.Context, tx *sql.Tx, m message.Message) error {
	mentions, err := event.Canonical(m.Mentions)
	if err != nil {
		return err
	}
	_, err = s.db.execTx(ctx, tx,
		`INSERT INTO messages (id, channel_id, seq, author_id, content, nonce, reply_to, mentions, created_at)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		m.ID, m.ChannelID, m.Seq, m.AuthorID, m.Content, nullString(m.Nonce), nullString(m.ReplyTo), string(mentions), Millis(m.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert message %s: %w", m.ID, err)
	}
	if m.Nonce != "" {
		_, err = s.db.execTx(ctx, tx,
			`INSERT INTO message_nonces (author_id, channel_id, nonce, message_id, created_at) VALUES ($1, $2, $3, $4, $5)`,
			m.AuthorID, m.ChannelID, m.Nonce, m.ID, Millis(m.CreatedAt))
		if err != nil {
			return fmt.Errorf("insert nonce of message %s: %w", m.ID, err)
		}
	}
	return nil
}

// insertEvent writes one event at a sequence already allocated in tx.
func (s *Messages) insertEvent(ctx context.Context, tx *sql.Tx, logID, guildID string, seq int64, typ event.Type, data any, subjectID string, at time.Time) (event.Event, error) {
	raw, err := event.Canonical(data)
	if err != nil {
		return event.Event{}, err
	}
	_, err = s.db.execTx(ctx, tx,
		`INSERT INTO events (log_id, seq, type, data, created_at, subject_id) VALUES ($1, $2, $3, $4, $5, $6)`,
		logID, seq, string(typ), string(raw), Millis(at), nullString(subjectID))
	if err != nil {
		return event.Event{}, fmt.Errorf("append %s event to log %s: %w", typ, logID, err)
	}
	return event.Event{LogID: logID, GuildID: guildID, Seq: seq, Type: typ, Data: raw, CreatedAt: FromMillis(Millis(at))}, nil
}

// Message implements message.Store.
func (s *Messages) Message(ctx context.Context, channelID, messageID, viewerID string) (message.Message, error) {
	row := s.db.queryRowRead(ctx,
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
	if err := s.attachReactions(ctx, list, viewerID); err != nil {
		return message.Message{}, err
	}
	if err := loadAttachments(ctx, s.db.reader(), list); err != nil {
		return message.Message{}, err
	}
	return list[0], nil
}

// ByNonce implements message.Store.
func (s *Messages) ByNonce(ctx context.Context, authorID, channelID, nonce string, since time.Time) (message.Message, bool, error) {
	row := s.db.queryRowRead(ctx,
		`SELECT `+messageColumns+` FROM message_nonces n
		 JOIN messages m ON m.id = n.message_id JOIN channels c ON c.id = m.channel_id
		 WHERE n.author_id = $1 AND n.channel_id = $2 AND n.nonce = $3 AND n.created_at > $4`,
		authorID, channelID, nonce, Millis(since))
	m, err := scanMessage(row)
	if errors.Is(err, sql.ErrNoRows) {
		return message.Message{}, false, nil
	}
	if err != nil {
		return message.Message{}, false, fmt.Errorf("look up nonce: %w", err)
	}
	list := []message.Message{m}
	if err := loadAttachments(ctx, s.db.reader(), list); err != nil {
		return message.Message{}, false, err
	}
	return list[0], true, nil
}

// MessageSeq implements message.Store.
func (s *Messages) MessageSeq(ctx context.Context, channelID, messageID string) (int64, error) {
	var seq int64
	err := s.db.queryRowRead(ctx, `SELECT seq FROM messages WHERE id = $1 AND channel_id = $2`, messageID, channelID).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, message.ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("read seq of message %s: %w", messageID, err)
	}
	return seq, nil
}

// History implements message.Store. With only an after cursor, the page
// is the oldest messages after it; otherwise the newest before the upper
// bound. Both walk the (channel_id, seq) index.
func (s *Messages) History(ctx context.Context, channelID string, page message.Page, viewerID string) ([]message.Message, error) {
	conds := []string{`m.channel_id = $1`, `m.deleted_at IS NULL`}
	args := []any{channelID}
	if page.BeforeSeq > 0 {
		args = append(args, page.BeforeSeq)
		conds = append(conds, fmt.Sprintf(`m.seq < $%d`, len(args)))
	}
	if page.AfterSeq > 0 {
		args = append(args, page.AfterSeq)
		conds = append(conds, fmt.Sprintf(`m.seq > $%d`, len(args)))
	}
	order := `DESC`
	if page.AfterSeq > 0 && page.BeforeSeq == 0 {
		order = `ASC`
	}
	args = append(args, page.Limit)
	query := `SELECT ` + messageColumns + ` FROM messages m JOIN channels c ON c.id = m.channel_id WHERE ` +
		strings.Join(conds, ` AND `) + ` ORDER BY m.seq ` + order + fmt.Sprintf(` LIMIT $%d`, len(args))

	rows, err := s.db.queryRead(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read history of channel %s: %w", channelID, err)
	}
	defer rows.Close()
	var list []message.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("read history of channel %s: %w", channelID, err)
		}
		list = append(list, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read history of channel %s: %w", channelID, err)
	}
	if order == `DESC` {
		slices.Reverse(list)
	}
	if err := s.attachReactions(ctx, list, viewerID); err != nil {
		return nil, err
	}
	if err := loadAttachments(ctx, s.db.reader(), list); err != nil {
		return nil, err
	}
	return list, nil
}

// attachReactions fills each message's reactions, in the order each
// emoji first appeared, with whether viewerID reacted.
func (s *Messages) attachReactions(ctx context.Context, list []message.Message, viewerID string) error {
	if len(list) == 0 {
		return nil
	}
	index := make(map[string]int, len(list))
	args := make([]any, 0, len(list)+1)
	args = append(args, viewerID)
	marks := make([]string, len(list))
	for i, m := range list {
		index[m.ID] = i
		args = append(args, m.ID)
		marks[i] = fmt.Sprintf("$%d", i+2)
	}
	rows, err := s.db.queryRead(ctx,
		`SELECT message_id, emoji, COUNT(*), MAX(CASE WHEN user_id = $1 THEN 1 ELSE 0 END), MIN(created_at) AS first
		 FROM reactions WHERE message_id IN (`+strings.Join(marks, ", ")+`)
		 GROUP BY message_id, emoji ORDER BY first, emoji`, args...)
	if err != nil {
		return fmt.Errorf("read reactions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var messageID string
		var r message.Reaction
		var me int
		var first int64
		if err := rows.Scan(&messageID, &r.Emoji, &r.Count, &me, &first); err != nil {
			return fmt.Errorf("read reactions: %w", err)
		}
		r.Me = me == 1
		i := index[messageID]
		list[i].Reactions = append(list[i].Reactions, r)
	}
	return rows.Err()
}
