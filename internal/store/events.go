package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/openguild/openguild/internal/event"
)

// appendEvents appends each pending event to its log inside tx and
// returns the committed form. The sequence comes from bumping the log's
// counter in the same transaction: on PostgreSQL the row lock orders
// concurrent writers of one log, on SQLite the single writer does, and a
// rollback takes the number back, so sequences never skip.
func (db *DB) appendEvents(ctx context.Context, tx *sql.Tx, at time.Time, pending ...event.Pending) ([]event.Event, error) {
	out := make([]event.Event, 0, len(pending))
	for _, p := range pending {
		data, err := event.Canonical(p.Data)
		if err != nil {
			return nil, err
		}
		seq, err := db.nextSeq(ctx, tx, p.LogID, p.GuildID)
		if err != nil {
			return nil, err
		}
		_, err = db.execTx(ctx, tx,
			`INSERT INTO events (log_id, seq, type, data, created_at, subject_id) VALUES ($1, $2, $3, $4, $5, $6)`,
			p.LogID, seq, string(p.Type), string(data), Millis(at), nullString(p.SubjectID))
		if err != nil {
			return nil, fmt.Errorf("append %s event to log %s: %w", p.Type, p.LogID, err)
		}
		out = append(out, event.Event{LogID: p.LogID, GuildID: p.GuildID, Seq: seq, Type: p.Type, Data: data, CreatedAt: FromMillis(Millis(at))})
	}
	return out, nil
}

func (db *DB) nextSeq(ctx context.Context, tx *sql.Tx, logID, guildID string) (int64, error) {
	var seq int64
	err := db.queryRowTx(ctx, tx,
		`INSERT INTO event_logs (log_id, guild_id, last_seq) VALUES ($1, $2, 1)
		 ON CONFLICT (log_id) DO UPDATE SET last_seq = event_logs.last_seq + 1
		 RETURNING last_seq`, logID, nullString(guildID)).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("allocate sequence in log %s: %w", logID, err)
	}
	return seq, nil
}

// Events returns up to limit events of a log with seq above afterSeq, in
// sequence order.
func (db *DB) Events(ctx context.Context, logID string, afterSeq int64, limit int) ([]event.Event, error) {
	rows, err := db.read.QueryContext(ctx,
		`SELECT e.seq, e.type, e.data, e.created_at, COALESCE(l.guild_id, '')
		 FROM events e JOIN event_logs l ON l.log_id = e.log_id
		 WHERE e.log_id = $1 AND e.seq > $2 ORDER BY e.seq LIMIT $3`, logID, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("read events of log %s: %w", logID, err)
	}
	defer rows.Close()

	var out []event.Event
	for rows.Next() {
		e := event.Event{LogID: logID}
		var data string
		var created int64
		if err := rows.Scan(&e.Seq, &e.Type, &data, &created, &e.GuildID); err != nil {
			return nil, fmt.Errorf("read events of log %s: %w", logID, err)
		}
		e.Data = []byte(data)
		e.CreatedAt = FromMillis(created)
		out = append(out, e)
	}
	return out, rows.Err()
}

// LastSeq returns the newest sequence number of a log, 0 if it is empty.
func (db *DB) LastSeq(ctx context.Context, logID string) (int64, error) {
	var seq int64
	err := db.read.QueryRowContext(ctx, `SELECT last_seq FROM event_logs WHERE log_id = $1`, logID).Scan(&seq)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read last sequence of log %s: %w", logID, err)
	}
	return seq, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
