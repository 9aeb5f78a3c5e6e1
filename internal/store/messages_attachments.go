package store

import (
	"context"
	"fmt"

	"github.com/openguild/openguild/internal/media"
	"github.com/openguild/openguild/internal/message"
)

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
