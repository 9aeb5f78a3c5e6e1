package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/openguild/openguild/internal/media"
)

// Media implements media.Store on a DB.
type Media struct{ db *DB }

// Media returns the media store.
func (db *DB) Media() *Media { return &Media{db: db} }

var _ media.Store = (*Media)(nil)

const mediaColumns = `md.id, md.uploader_id, md.sha256, md.filename, md.content_type, md.size,
	COALESCE(md.width, 0), COALESCE(md.height, 0), md.created_at`

func scanMedia(row scanner) (media.Media, error) {
	var m media.Media
	var created int64
	err := row.Scan(&m.ID, &m.UploaderID, &m.SHA256, &m.Filename, &m.ContentType, &m.Size, &m.Width, &m.Height, &created)
	if err != nil {
		return media.Media{}, err
	}
	m.CreatedAt = FromMillis(created)
	return m, nil
}

// attachedToLive is the condition that a live message in a live channel
// has the media row md attached. Deleting a guild deletes its channels.
const attachedToLive = `EXISTS (SELECT 1 FROM message_attachments a
	JOIN messages m ON m.id = a.message_id JOIN channels c ON c.id = m.channel_id
	WHERE a.media_id = md.id AND m.deleted_at IS NULL AND c.deleted_at IS NULL)`

// liveReference is the condition that md is attached to a message that
// is live, or was deleted after the cutoff in parameter $2, in a channel
// that is live or was deleted after the cutoff.
const liveReference = `EXISTS (SELECT 1 FROM message_attachments a
	JOIN messages m ON m.id = a.message_id JOIN channels c ON c.id = m.channel_id
	WHERE a.media_id = md.id AND (m.deleted_at IS NULL OR m.deleted_at >= $2)
	AND (c.deleted_at IS NULL OR c.deleted_at >= $2))`

// ObjectState implements media.Store.
func (s *Media) ObjectState(ctx context.Context, sha string) (bool, bool, error) {
	var deleting int
	err := s.db.queryRowRead(ctx, `SELECT deleting FROM media_objects WHERE sha256 = $1`, sha).Scan(&deleting)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("read state of media object %s: %w", sha, err)
	}
	return true, deleting != 0, nil
}

// Create implements media.Store. On PostgreSQL it locks the uploader's
// account row so that two uploads of one user check the quota in turn.
func (s *Media) Create(ctx context.Context, m media.Media, quota int64) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if s.db.dialect == Postgres {
			if _, err := tx.ExecContext(ctx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, m.UploaderID); err != nil {
				return fmt.Errorf("lock uploader %s: %w", m.UploaderID, err)
			}
		}
		var used int64
		err := s.db.queryRowTx(ctx, tx, `SELECT COALESCE(SUM(size), 0) FROM media WHERE uploader_id = $1`, m.UploaderID).Scan(&used)
		if err != nil {
			return fmt.Errorf("read media usage of %s: %w", m.UploaderID, err)
		}
		if used+m.Size > quota {
			return media.ErrQuotaExceeded
		}
		if err := s.reference(ctx, tx, m); err != nil {
			return err
		}
		_, err = s.db.execTx(ctx, tx,
			`INSERT INTO media (id, uploader_id, sha256, filename, content_type, size, width, height, created_at)
			 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			m.ID, m.UploaderID, m.SHA256, m.Filename, m.ContentType, m.Size, nullInt(m.Width), nullInt(m.Height), Millis(m.CreatedAt))
		if err != nil {
			return fmt.Errorf("insert media %s: %w", m.ID, err)
		}
		return nil
	})
}

// reference takes a reference on the object of m, creating its row, or
// returns media.ErrObjectDeleting when the collector has claimed it.
func (s *Media) reference(ctx context.Context, tx *sql.Tx, m media.Media) error {
	res, err := s.db.execTx(ctx, tx,
		`INSERT INTO media_objects (sha256, size, refs, deleting, released_at) VALUES ($1, $2, 1, 0, $3)
		 ON CONFLICT (sha256) DO UPDATE SET refs = media_objects.refs + 1, released_at = $3
		 WHERE media_objects.deleting = 0`,
		m.SHA256, m.Size, Millis(m.CreatedAt))
	if err != nil {
		return fmt.Errorf("reference media object %s: %w", m.SHA256, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err != nil {
			return fmt.Errorf("reference media object %s: %w", m.SHA256, err)
		}
		return media.ErrObjectDeleting
	}
	return nil
}

// Media implements media.Store.
func (s *Media) Media(ctx context.Context, id string) (media.Media, error) {
	m, err := scanMedia(s.db.queryRowRead(ctx, `SELECT `+mediaColumns+` FROM media md WHERE md.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return media.Media{}, media.ErrNotFound
	}
	if err != nil {
		return media.Media{}, fmt.Errorf("read media %s: %w", id, err)
	}
	return m, nil
}

// Usage implements media.Store.
func (s *Media) Usage(ctx context.Context, userID string) (int64, error) {
	var used int64
	err := s.db.queryRowRead(ctx, `SELECT COALESCE(SUM(size), 0) FROM media WHERE uploader_id = $1`, userID).Scan(&used)
	if err != nil {
		return 0, fmt.Errorf("read media usage of %s: %w", userID, err)
	}
	return used, nil
}

// AttachedChannels implements media.Store.
func (s *Media) AttachedChannels(ctx context.Context, mediaID string) ([]string, error) {
	rows, err := s.db.queryRead(ctx,
		`SELECT DISTINCT m.channel_id FROM message_attachments a
		 JOIN messages m ON m.id = a.message_id JOIN channels c ON c.id = m.channel_id
		 WHERE a.media_id = $1 AND m.deleted_at IS NULL AND c.deleted_at IS NULL`, mediaID)
	if err != nil {
		return nil, fmt.Errorf("read channels of media %s: %w", mediaID, err)
	}
	return scanAll(rows, scanString)
}

// Delete implements media.Store.
func (s *Media) Delete(ctx context.Context, id string, at time.Time) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.lockMedia(ctx, tx, id); err != nil {
			return err
		}
		var inUse bool
		err := s.db.queryRowTx(ctx, tx,
			`SELECT `+attachedToLive+` FROM media md WHERE md.id = $1`, id).Scan(&inUse)
		if errors.Is(err, sql.ErrNoRows) {
			return media.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("check references of media %s: %w", id, err)
		}
		if inUse {
			return media.ErrInUse
		}
		_, err = s.remove(ctx, tx, id, at)
		return err
	})
}

// lockMedia locks a media row until tx ends, before a deletion checks its
// references. A send attaching the media holds a share lock on the row,
// so the check that follows finds its message once it commits. SQLite
// needs no lock, because it runs one writer at a time.
func (s *Media) lockMedia(ctx context.Context, tx *sql.Tx, id string) error {
	if s.db.dialect != Postgres {
		return nil
	}
	var found int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM media WHERE id = $1 FOR UPDATE`, id).Scan(&found)
	if errors.Is(err, sql.ErrNoRows) {
		return media.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("lock media %s: %w", id, err)
	}
	return nil
}

// remove deletes a media row and its attachment rows and releases its
// object, returning the row's size.
func (s *Media) remove(ctx context.Context, tx *sql.Tx, id string, at time.Time) (int64, error) {
	var sha string
	var size int64
	err := s.db.queryRowTx(ctx, tx, `SELECT sha256, size FROM media WHERE id = $1`, id).Scan(&sha, &size)
	if err != nil {
		return 0, fmt.Errorf("read media %s: %w", id, err)
	}
	steps := []struct {
		query string
		arg   any
	}{
		{`DELETE FROM message_attachments WHERE media_id = $1`, id},
		{`DELETE FROM media WHERE id = $1`, id},
	}
	for _, step := range steps {
		if _, err := s.db.execTx(ctx, tx, step.query, step.arg); err != nil {
			return 0, fmt.Errorf("delete media %s: %w", id, err)
		}
	}
	_, err = s.db.execTx(ctx, tx,
		`UPDATE media_objects SET refs = refs - 1, released_at = $2 WHERE sha256 = $1`, sha, Millis(at))
	if err != nil {
		return 0, fmt.Errorf("release media object %s: %w", sha, err)
	}
	return size, nil
}

// Unreferenced implements media.Store.
func (s *Media) Unreferenced(ctx context.Context, cutoff time.Time, limit int) ([]string, error) {
	rows, err := s.db.queryRead(ctx,
		`SELECT md.id FROM media md WHERE md.created_at < $1 AND NOT `+liveReference+`
		 ORDER BY md.created_at LIMIT $3`, Millis(cutoff), Millis(cutoff), limit)
	if err != nil {
		return nil, fmt.Errorf("find unreferenced media: %w", err)
	}
	return scanAll(rows, scanString)
}

// Collect implements media.Store.
func (s *Media) Collect(ctx context.Context, id string, cutoff, at time.Time) (bool, int64, error) {
	var removed bool
	var size int64
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.lockMedia(ctx, tx, id); errors.Is(err, media.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		var unreferenced bool
		err := s.db.queryRowTx(ctx, tx,
			`SELECT md.created_at < $3 AND NOT `+liveReference+` FROM media md WHERE md.id = $1`,
			id, Millis(cutoff), Millis(cutoff)).Scan(&unreferenced)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !unreferenced) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("check references of media %s: %w", id, err)
		}
		size, err = s.remove(ctx, tx, id, at)
		removed = err == nil
		return err
	})
	return removed, size, err
}

// ReleasedObjects implements media.Store. Objects claimed by a collection
// that stopped midway are included, so the next one finishes them.
func (s *Media) ReleasedObjects(ctx context.Context, cutoff time.Time, limit int) ([]string, error) {
	rows, err := s.db.queryRead(ctx,
		`SELECT sha256 FROM media_objects WHERE refs = 0 AND released_at <= $1 ORDER BY released_at LIMIT $2`,
		Millis(cutoff), limit)
	if err != nil {
		return nil, fmt.Errorf("find released media objects: %w", err)
	}
	return scanAll(rows, scanString)
}

// ClaimObject implements media.Store.
func (s *Media) ClaimObject(ctx context.Context, sha string, at time.Time) (bool, error) {
	res, err := s.db.write.ExecContext(ctx, `UPDATE media_objects SET deleting = 1 WHERE sha256 = $1 AND refs = 0`, sha)
	if err != nil {
		return false, fmt.Errorf("claim media object %s: %w", sha, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err == nil, err
	}
	res, err = s.db.write.ExecContext(ctx,
		`INSERT INTO media_objects (sha256, size, refs, deleting, released_at) VALUES ($1, 0, 0, 1, $2)
		 ON CONFLICT (sha256) DO NOTHING`, sha, Millis(at))
	if err != nil {
		return false, fmt.Errorf("claim media object %s: %w", sha, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// UnclaimObject implements media.Store.
func (s *Media) UnclaimObject(ctx context.Context, sha string) error {
	if _, err := s.db.write.ExecContext(ctx, `UPDATE media_objects SET deleting = 0 WHERE sha256 = $1`, sha); err != nil {
		return fmt.Errorf("unclaim media object %s: %w", sha, err)
	}
	return nil
}

// ForgetObject implements media.Store.
func (s *Media) ForgetObject(ctx context.Context, sha string) error {
	if _, err := s.db.write.ExecContext(ctx, `DELETE FROM media_objects WHERE sha256 = $1 AND deleting = 1`, sha); err != nil {
		return fmt.Errorf("forget media object %s: %w", sha, err)
	}
	return nil
}

// StoredBytes implements media.Store.
func (s *Media) StoredBytes(ctx context.Context) (int64, error) {
	var total int64
	err := s.db.queryRowRead(ctx, `SELECT COALESCE(SUM(size), 0) FROM media_objects WHERE deleting = 0`).Scan(&total)
	if err != nil {
		return 0, fmt.Errorf("sum media object sizes: %w", err)
	}
	return total, nil
}

// scanString reads a row of one text column.
func scanString(row scanner) (string, error) {
	var v string
	return v, row.Scan(&v)
}

func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}
