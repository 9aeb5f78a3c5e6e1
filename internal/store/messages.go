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
