package store

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/openguild/openguild/internal/apijson"
	"github.com/openguild/openguild/internal/event"
	"github.com/openguild/openguild/internal/media"
	"github.com/openguild/openguild/internal/message"
)

// insertRowsMax bounds the rows of one multi-row INSERT, which keeps its
// parameters well under PostgreSQL's limit per statement.
const insertRowsMax = 500

// AppendBatch implements message.Store. It checks all drafts with one
// query per kind of check, then writes the drafts that passed, so a batch
// costs a few round trips whatever its size. A failed draft writes nothing.
func (s *Messages) AppendBatch(ctx context.Context, drafts []message.Draft) ([]message.Appended, error) {
	results := make([]message.Appended, len(drafts))
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		b := &appendBatch{s: s, tx: tx, drafts: drafts, results: results}
		return b.run(ctx)
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// nonceKey names a nonce: it repeats a message only for the same author
// in the same channel.
type nonceKey struct{ author, channel, nonce string }

// storedNonce is a nonce row found for a draft.
type storedNonce struct {
	messageID string
	created   int64
}

// appendBatch is one AppendBatch transaction in progress.
type appendBatch struct {
	s       *Messages
	tx      *sql.Tx
	drafts  []message.Draft
	results []message.Appended

	nonces      map[nonceKey]storedNonce
	replies     map[string]string      // live message id to its channel id
	attachments map[string]media.Media // by media id

	accepted []int // indexes of the drafts to write, in order
	messages map[int]*message.Message
	repeats  map[int]int // a draft repeating an accepted draft's nonce, to that draft
}

func (b *appendBatch) run(ctx context.Context) error {
	if err := b.load(ctx); err != nil {
		return err
	}
	if err := b.check(ctx); err != nil {
		return err
	}
	if len(b.accepted) == 0 {
		return nil
	}

	if err := b.allocateSeqs(ctx); err != nil {
		return err
	}
	events, err := b.write(ctx)
	if err != nil {
		return err
	}
	for n, i := range b.accepted {
		b.results[i] = message.Appended{Message: *b.messages[i], Events: []event.Event{events[n]}}
	}
	for i, first := range b.repeats {
		b.results[i] = message.Appended{Message: *b.messages[first], Existing: true}
	}
	return nil
}

// load reads what the checks need: the stored nonces, the replied-to
// messages and the attached media of every draft.
func (b *appendBatch) load(ctx context.Context) error {
	var err error
	if b.nonces, err = b.loadNonces(ctx); err != nil {
		return err
	}
	if b.replies, err = b.loadReplies(ctx); err != nil {
		return err
	}
	b.attachments, err = b.loadAttachedMedia(ctx)
	return err
}

func (b *appendBatch) loadNonces(ctx context.Context) (map[nonceKey]storedNonce, error) {
	var authors, channels, nonces []any
	for _, d := range b.drafts {
		if d.Nonce != "" {
			authors = append(authors, d.AuthorID)
			channels = append(channels, d.ChannelID)
			nonces = append(nonces, d.Nonce)
		}
	}
	found := map[nonceKey]storedNonce{}
	if len(nonces) == 0 {
		return found, nil
	}

	// Each column matches any listed value, so the primary key index
	// serves the query and it may return more than the drafts' triples.
	// The map keeps the exact ones.
	n := len(nonces)
	rows, err := b.tx.QueryContext(ctx,
		`SELECT author_id, channel_id, nonce, message_id, created_at FROM message_nonces
		 WHERE author_id IN (`+placeholders(1, n)+`) AND channel_id IN (`+placeholders(n+1, n)+`)
		 AND nonce IN (`+placeholders(2*n+1, n)+`)`,
		slices.Concat(authors, channels, nonces)...)
	if err != nil {
		return nil, fmt.Errorf("look up nonces: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k nonceKey
		var n storedNonce
		if err := rows.Scan(&k.author, &k.channel, &k.nonce, &n.messageID, &n.created); err != nil {
			return nil, fmt.Errorf("look up nonces: %w", err)
		}
		found[k] = n
	}
	return found, rows.Err()
}

func (b *appendBatch) loadReplies(ctx context.Context) (map[string]string, error) {
	var ids []any
	for _, d := range b.drafts {
		if d.ReplyTo != "" {
			ids = append(ids, d.ReplyTo)
		}
	}
	live := map[string]string{}
	if len(ids) == 0 {
		return live, nil
	}

	rows, err := b.tx.QueryContext(ctx,
		`SELECT id, channel_id FROM messages WHERE id IN (`+placeholders(1, len(ids))+`) AND deleted_at IS NULL`, ids...)
	if err != nil {
		return nil, fmt.Errorf("look up replied-to messages: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, channelID string
		if err := rows.Scan(&id, &channelID); err != nil {
			return nil, fmt.Errorf("look up replied-to messages: %w", err)
		}
		live[id] = channelID
	}
	return live, rows.Err()
}

func (b *appendBatch) loadAttachedMedia(ctx context.Context) (map[string]media.Media, error) {
	var ids []any
	for _, d := range b.drafts {
		for _, id := range d.AttachmentIDs {
			ids = append(ids, id)
		}
	}
	byID := map[string]media.Media{}
	if len(ids) == 0 {
		return byID, nil
	}

	// On PostgreSQL the share lock keeps the uploader or the collector
	// from deleting the media between this check and the commit.
	lock := ""
	if b.s.db.dialect == Postgres {
		lock = ` FOR KEY SHARE`
	}
	rows, err := b.tx.QueryContext(ctx,
		`SELECT `+mediaColumns+` FROM media md WHERE md.id IN (`+placeholders(1, len(ids))+`)`+lock, ids...)
	if err != nil {
		return nil, fmt.Errorf("look up attachments: %w", err)
	}
	found, err := scanAll(rows, scanMedia)
	if err != nil {
		return nil, fmt.Errorf("look up attachments: %w", err)
	}
	for _, m := range found {
		byID[m.ID] = m
	}
	return byID, nil
}

// check decides each draft's fate in order. A nonce already used in the
// window returns its message, one repeated within the batch returns the
// first draft's, and a reply or an attachment that does not check out
// fails the draft. The rest are accepted.
func (b *appendBatch) check(ctx context.Context) error {
	b.messages = map[int]*message.Message{}
	b.repeats = map[int]int{}
	firstWith := map[nonceKey]int{}
	for i, d := range b.drafts {
		key := nonceKey{d.AuthorID, d.ChannelID, d.Nonce}
		if d.Nonce != "" {
			if first, ok := firstWith[key]; ok {
				b.repeats[i] = first
				continue
			}
			if stored, ok := b.nonces[key]; ok {
				repeated, err := b.resolveStoredNonce(ctx, d, stored)
				if err != nil {
					return err
				}
				if repeated != nil {
					b.results[i] = message.Appended{Message: *repeated, Existing: true}
					continue
				}
			}
		}

		m, err := b.newMessage(d)
		if err != nil {
			b.results[i] = message.Appended{Err: err}
			continue
		}
		if d.Nonce != "" {
			firstWith[key] = i
		}
		b.accepted = append(b.accepted, i)
		b.messages[i] = m
	}
	return nil
}

// resolveStoredNonce returns the message of a nonce still inside the
// draft's window. A nonce past it is deleted, so the draft can take it,
// and nil is returned.
func (b *appendBatch) resolveStoredNonce(ctx context.Context, d message.Draft, stored storedNonce) (*message.Message, error) {
	if stored.created <= Millis(d.NonceSince) {
		_, err := b.tx.ExecContext(ctx, `DELETE FROM message_nonces WHERE author_id = $1 AND channel_id = $2 AND nonce = $3`,
			d.AuthorID, d.ChannelID, d.Nonce)
		if err != nil {
			return nil, fmt.Errorf("delete expired nonce: %w", err)
		}
		return nil, nil
	}

	row := b.tx.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages m JOIN channels c ON c.id = m.channel_id WHERE m.id = $1`, stored.messageID)
	m, err := scanMessage(row)
	if err != nil {
		return nil, fmt.Errorf("read message %s of nonce: %w", stored.messageID, err)
	}
	list := []message.Message{m}
	if err := loadAttachments(ctx, b.tx, list); err != nil {
		return nil, err
	}
	return &list[0], nil
}

// newMessage builds the message of a draft whose reply and attachments
// check out, without its seq.
func (b *appendBatch) newMessage(d message.Draft) (*message.Message, error) {
	if d.ReplyTo != "" && b.replies[d.ReplyTo] != d.ChannelID {
		return nil, message.ErrReplyNotFound
	}
	m := &message.Message{ID: d.ID, ChannelID: d.ChannelID, GuildID: d.GuildID, AuthorID: d.AuthorID,
		Content: d.Content, Nonce: d.Nonce, ReplyTo: d.ReplyTo, Mentions: d.Mentions,
		CreatedAt: FromMillis(Millis(d.CreatedAt))}
	if len(d.AttachmentIDs) > 0 {
		m.Attachments = make([]media.Media, len(d.AttachmentIDs))
		for i, id := range d.AttachmentIDs {
			md, ok := b.attachments[id]
			if !ok || md.UploaderID != d.AuthorID {
				return nil, message.ErrAttachmentNotFound
			}
			m.Attachments[i] = md
		}
	}
	return m, nil
}

// allocateSeqs takes the next seqs of each channel for its accepted
// drafts, in draft order. It locks the channels' logs in id order, so two
// batches that share channels cannot deadlock on them.
func (b *appendBatch) allocateSeqs(ctx context.Context) error {
	counts := map[string]int64{}
	guildOf := map[string]string{}
	for _, i := range b.accepted {
		d := b.drafts[i]
		counts[d.ChannelID]++
		guildOf[d.ChannelID] = d.GuildID
	}

	next := map[string]int64{}
	for _, channelID := range slices.Sorted(maps.Keys(counts)) {
		var last int64
		err := b.s.db.queryRowTx(ctx, b.tx,
			`INSERT INTO event_logs (log_id, guild_id, last_seq) VALUES ($1, $2, $3)
			 ON CONFLICT (log_id) DO UPDATE SET last_seq = event_logs.last_seq + $3
			 RETURNING last_seq`, channelID, nullString(guildOf[channelID]), counts[channelID]).Scan(&last)
		if err != nil {
			return fmt.Errorf("allocate sequences in log %s: %w", channelID, err)
		}
		next[channelID] = last - counts[channelID] + 1
	}
	for _, i := range b.accepted {
		m := b.messages[i]
		m.Seq = next[m.ChannelID]
		next[m.ChannelID]++
	}
	return nil
}

// write inserts the accepted drafts' messages, nonces, attachments and
// message_create events, and returns the events in draft order.
func (b *appendBatch) write(ctx context.Context) ([]event.Event, error) {
	var messageRows, nonceRows, attachmentRows, eventRows [][]any
	events := make([]event.Event, 0, len(b.accepted))
	for _, i := range b.accepted {
		d, m := b.drafts[i], b.messages[i]
		mentions, err := event.Canonical(m.Mentions)
		if err != nil {
			return nil, err
		}
		data, err := event.Canonical(apijson.NewMessage(*m))
		if err != nil {
			return nil, err
		}

		messageRows = append(messageRows, []any{m.ID, m.ChannelID, m.Seq, m.AuthorID, m.Content,
			nullString(m.Nonce), nullString(m.ReplyTo), string(mentions), Millis(m.CreatedAt)})
		if m.Nonce != "" {
			nonceRows = append(nonceRows, []any{m.AuthorID, m.ChannelID, m.Nonce, m.ID, Millis(m.CreatedAt)})
		}
		for position, md := range m.Attachments {
			attachmentRows = append(attachmentRows, []any{m.ID, md.ID, position})
		}
		at := Millis(d.CreatedAt)
		eventRows = append(eventRows, []any{m.ChannelID, m.Seq, string(event.MessageCreate), string(data), at, m.ID})
		events = append(events, event.Event{LogID: m.ChannelID, GuildID: m.GuildID, Seq: m.Seq,
			Type: event.MessageCreate, Data: data, CreatedAt: FromMillis(at)})
	}

	inserts := []struct {
		what, head string
		rows       [][]any
	}{
		{"messages", `INSERT INTO messages (id, channel_id, seq, author_id, content, nonce, reply_to, mentions, created_at) VALUES `, messageRows},
		{"nonces", `INSERT INTO message_nonces (author_id, channel_id, nonce, message_id, created_at) VALUES `, nonceRows},
		{"attachments", `INSERT INTO message_attachments (message_id, media_id, position) VALUES `, attachmentRows},
		{"message events", `INSERT INTO events (log_id, seq, type, data, created_at, subject_id) VALUES `, eventRows},
	}
	for _, ins := range inserts {
		if err := b.insertRows(ctx, ins.head, ins.rows); err != nil {
			return nil, fmt.Errorf("insert %s: %w", ins.what, err)
		}
	}
	return events, nil
}

// insertRows runs head followed by the rows' values. Every row has the
// same number of values. PostgreSQL gets up to insertRowsMax rows a
// statement, which saves round trips. SQLite runs in process, so it gets
// one prepared single-row statement per row, which saves parsing.
func (b *appendBatch) insertRows(ctx context.Context, head string, rows [][]any) error {
	if b.s.db.dialect == SQLite && len(rows) > 0 {
		query := head + "(" + placeholders(1, len(rows[0])) + ")"
		for _, row := range rows {
			if _, err := b.s.db.execTx(ctx, b.tx, query, row...); err != nil {
				return err
			}
		}
		return nil
	}

	for chunk := range slices.Chunk(rows, insertRowsMax) {
		var query strings.Builder
		query.WriteString(head)
		args := make([]any, 0, len(chunk)*len(chunk[0]))
		for r, row := range chunk {
			if r > 0 {
				query.WriteString(", ")
			}
			query.WriteString("(" + placeholders(len(args)+1, len(row)) + ")")
			args = append(args, row...)
		}
		if _, err := b.tx.ExecContext(ctx, query.String(), args...); err != nil {
			return err
		}
	}
	return nil
}
