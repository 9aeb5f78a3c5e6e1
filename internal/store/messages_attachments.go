package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/openguild/openguild/internal/media"
	"github.com/openguild/openguild/internal/message"
)

// insertAttachments records the media of ids as attachments of m, in
// order, and fills m.Attachments. Each id must name media that m's author
// uploaded; otherwise it returns message.ErrAttachmentNotFound.
func (s *Messages) insertAttachments(ctx context.Context, tx *sql.Tx, m *message.Message, ids []string) error {
	args := make([]any, 0, len(ids)+1)
	args = append(args, m.AuthorID)
	for _, id := range ids {
		args = append(args, id)
	}
	rows, err := tx.QueryContext(ctx,
		`SELECT `+mediaColumns+` FROM media md WHERE md.uploader_id = $1 AND md.id IN (`+placeholders(2, len(ids))+`)`, args...)
	if err != nil {
		return fmt.Errorf("read attachments of message %s: %w", m.ID, err)
	}
	found, err := scanAll(rows, scanMedia)
	if err != nil {
		return fmt.Errorf("read attachments of message %s: %w", m.ID, err)
	}
	byID := make(map[string]media.Media, len(found))
	for _, md := range found {
		byID[md.ID] = md
	}

	m.Attachments = make([]media.Media, len(ids))
	for i, id := range ids {
		md, ok := byID[id]
		if !ok {
			return message.ErrAttachmentNotFound
		}
		m.Attachments[i] = md
		_, err := s.db.execTx(ctx, tx,
			`INSERT INTO message_attachments (message_id, media_id, position) VALUES ($1, $2, $3)`, m.ID, id, i)
		if err != nil {
			return fmt.Errorf("attach media %s to message %s: %w", id, m.ID, err)
		}
	}
	return nil
}

// loadAttachments fills the attachments of each message in list, in the
// order their sender listed them.
func loadAttachments(ctx context.Context, q querier, list []message.Message) error {
	if len(list) == 0 {
		return nil
	}
	index := make(map[string]int, len(list))
	args := make([]any, len(list))
	for i, m := range list {
		index[m.ID] = i
		args[i] = m.ID
	}
	rows, err := q.QueryContext(ctx,
		`SELECT a.message_id, `+mediaColumns+` FROM message_attachments a JOIN media md ON md.id = a.media_id
		 WHERE a.message_id IN (`+placeholders(1, len(list))+`) ORDER BY a.message_id, a.position`, args...)
	if err != nil {
		return fmt.Errorf("read attachments: %w", err)
	}
	type attached struct {
		messageID string
		media     media.Media
	}
	found, err := scanAll(rows, func(row scanner) (attached, error) {
		var a attached
		var created int64
		m := &a.media
		err := row.Scan(&a.messageID, &m.ID, &m.UploaderID, &m.SHA256, &m.Filename, &m.ContentType, &m.Size,
			&m.Width, &m.Height, &created)
		m.CreatedAt = FromMillis(created)
		return a, err
	})
	if err != nil {
		return fmt.Errorf("read attachments: %w", err)
	}
	for _, a := range found {
		i := index[a.messageID]
		list[i].Attachments = append(list[i].Attachments, a.media)
	}
	return nil
}
