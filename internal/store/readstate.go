package store

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/openguild/openguild/internal/message"
)

// ReadStates implements message.ReadStates on a DB.
type ReadStates struct{ db *DB }

// ReadStates returns the read-state store.
func (db *DB) ReadStates() *ReadStates { return &ReadStates{db: db} }

var _ message.ReadStates = (*ReadStates)(nil)

// readStateChunk is the most channel ids one query names. Each id takes
// one or two bind parameters, and 500 stays far below the parameter
// limits of SQLite (32,766 since 3.32) and PostgreSQL (65,535).
const readStateChunk = 500

// SetReadState implements message.ReadStates. The upsert keeps the larger
// seq, so concurrent marks from two devices settle on the further one
// whatever order they commit in.
func (s *ReadStates) SetReadState(ctx context.Context, userID, channelID string, seq int64, at time.Time) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := s.db.execTx(ctx, tx,
			`INSERT INTO read_states (user_id, channel_id, seq, updated_at) VALUES ($1, $2, $3, $4)
			 ON CONFLICT (user_id, channel_id) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at
			 WHERE excluded.seq > read_states.seq`,
			userID, channelID, seq, Millis(at))
		if err != nil {
			return fmt.Errorf("set read state of user %s in channel %s: %w", userID, channelID, err)
		}
		return nil
	})
}

// ReadStates implements message.ReadStates, with one query per 500
// channels.
func (s *ReadStates) ReadStates(ctx context.Context, userID string, channelIDs []string) (map[string]int64, error) {
	out := make(map[string]int64)
	for chunk := range slices.Chunk(channelIDs, readStateChunk) {
		args := []any{userID}
		for _, id := range chunk {
			args = append(args, id)
		}
		// These queries run unprepared because the IN list's length
		// changes from call to call, and caching a statement per length
		// would let the statement cache grow without bound.
		rows, err := s.db.read.QueryContext(ctx,
			`SELECT channel_id, seq FROM read_states WHERE user_id = $1 AND channel_id IN (`+placeholders(2, len(chunk))+`)`,
			args...)
		if err != nil {
			return nil, fmt.Errorf("read read states of user %s: %w", userID, err)
		}
		err = scanReadStates(rows, out)
		if err != nil {
			return nil, fmt.Errorf("read read states of user %s: %w", userID, err)
		}
	}
	return out, nil
}

func scanReadStates(rows *sql.Rows, out map[string]int64) error {
	defer rows.Close()
	for rows.Next() {
		var channelID string
		var seq int64
		if err := rows.Scan(&channelID, &seq); err != nil {
			return err
		}
		out[channelID] = seq
	}
	return rows.Err()
}

// Unread implements message.ReadStates, with one query per 500 channels.
// Messages that userID wrote do not count, and neither do deleted ones.
//
// Mentions are matched with LIKE on the stored canonical JSON, such as
// {"everyone":false,"roles":["r1"],"users":["u1"]}, because the same SQL
// then runs on both dialects. The match is exact: mention ids contain
// only A-Z, a-z, 0-9 and '-', so a quoted id can only be a whole array
// element. Canonical JSON sorts its keys, so "users" is the last array:
// a user id counts only after "users":[, and a role id only between
// "roles":[ and ],"users":[. That way a role tag naming a user id, or
// a user tag naming a role id, does not count as a mention.
//
// NOTE: SQLite's LIKE ignores ASCII letter case and PostgreSQL's does
// not, so on SQLite a tag spelling an id in other case also counts.
func (s *ReadStates) Unread(ctx context.Context, userID string, roleIDs, channelIDs []string, reads map[string]int64) (map[string]message.UnreadCount, error) {
	out := make(map[string]message.UnreadCount, len(channelIDs))
	for _, id := range channelIDs {
		out[id] = message.UnreadCount{}
	}
	// A channel listed twice would be counted twice by the join below.
	unique := slices.Collect(maps.Keys(out))
	for chunk := range slices.Chunk(unique, readStateChunk) {
		query, args := unreadQuery(userID, roleIDs, chunk, reads)
		rows, err := s.db.read.QueryContext(ctx, query, args...) // unprepared, as in ReadStates
		if err != nil {
			return nil, fmt.Errorf("count unread messages of user %s: %w", userID, err)
		}
		err = scanUnread(rows, out)
		if err != nil {
			return nil, fmt.Errorf("count unread messages of user %s: %w", userID, err)
		}
	}
	return out, nil
}

// unreadQuery builds the count of one chunk of channels. The VALUES list
// pairs each channel with its read seq. SQLite keeps the left side of a
// CROSS JOIN as the outer loop, so it looks each pair up in the
// (channel_id, seq) index instead of scanning messages. PostgreSQL
// plans the join freely. The casts give the VALUES columns a type on
// PostgreSQL, which otherwise reads the parameters as text.
//
// NOTE: the count reads every unread message row, so a user far behind
// in a busy channel makes this query slow. It has no cap yet.
func unreadQuery(userID string, roleIDs, channelIDs []string, reads map[string]int64) (string, []any) {
	args := []any{userID, `%"users":[%"` + escapeLike(userID) + `"%`}
	mention := []string{`m.mentions LIKE '%"everyone":true%'`, `m.mentions LIKE $2 ESCAPE '\'`}
	for _, roleID := range roleIDs {
		args = append(args, `%"roles":[%"`+escapeLike(roleID)+`"%],"users":[%`)
		mention = append(mention, fmt.Sprintf(`m.mentions LIKE $%d ESCAPE '\'`, len(args)))
	}

	pairs := make([]string, 0, len(channelIDs))
	for _, id := range channelIDs {
		args = append(args, id, reads[id])
		pairs = append(pairs, fmt.Sprintf(`(CAST($%d AS TEXT), CAST($%d AS BIGINT))`, len(args)-1, len(args)))
	}

	query := `SELECT m.channel_id, COUNT(*),
		SUM(CASE WHEN ` + strings.Join(mention, ` OR `) + ` THEN 1 ELSE 0 END)
		FROM (VALUES ` + strings.Join(pairs, `, `) + `) AS r
		CROSS JOIN messages m
		WHERE m.channel_id = r.column1 AND m.seq > r.column2
		AND m.deleted_at IS NULL AND m.author_id <> $1
		GROUP BY m.channel_id`
	return query, args
}

func scanUnread(rows *sql.Rows, out map[string]message.UnreadCount) error {
	defer rows.Close()
	for rows.Next() {
		var channelID string
		var c message.UnreadCount
		if err := rows.Scan(&channelID, &c.Messages, &c.Mentions); err != nil {
			return err
		}
		out[channelID] = c
	}
	return rows.Err()
}

// escapeLike escapes the LIKE wildcards in s for ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// placeholders returns n comma-separated placeholders numbered from first.
func placeholders(first, n int) string {
	marks := make([]string, n)
	for i := range marks {
		marks[i] = fmt.Sprintf("$%d", first+i)
	}
	return strings.Join(marks, ", ")
}
