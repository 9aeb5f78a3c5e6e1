// Package store provides the homeserver's persistence on SQLite or
// PostgreSQL.
//
// One DB value hides the dialect: SQLite (the embedded default, through
// modernc.org/sqlite) gets one writer connection and a pool of read-only
// readers, and PostgreSQL (through pgx) one pool for both. SQL is written
// once with $1-style placeholders, which both drivers accept, and times are
// stored as Unix milliseconds so both dialects compare them the same way.
// Schema changes are embedded goose migrations, one history per dialect.
//
// A DB is safe for concurrent use.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Dialect names the database engine behind a DB.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// SQLiteFileName is the database file created in the data directory when
// no database URL is configured.
const SQLiteFileName = "openguild.db"

// Options configures Open.
type Options struct {
	// URL selects the database: empty for SQLite in DataDir, sqlite:PATH
	// for a SQLite file elsewhere, or a postgres:// URL.
	URL string

	// DataDir holds the SQLite file when URL is empty. It is created if
	// missing.
	DataDir string

	// ConnectTimeout bounds the first connection check. Zero means 10s.
	ConnectTimeout time.Duration
}

// DB is an open database with its dialect.
type DB struct {
	dialect Dialect
	target  string // where the data lives, safe to log: a path or host/database

	write *sql.DB // SQLite: exactly one connection, so writers queue here
	read  *sql.DB // SQLite: read-only pool; PostgreSQL: the same pool as write

	stmtMu  sync.Mutex // guards stmts and pending
	stmts   map[stmtKey]*sql.Stmt
	pending map[string]bool // write queries seen inside transactions, to prepare before the next one
}

// stmtKey names a prepared statement of one pool.
type stmtKey struct {
	pool  *sql.DB
	query string
}

// Open connects to the database that opts selects and checks that it
// answers. It does not migrate; call Migrate next.
func Open(ctx context.Context, opts Options) (*DB, error) {
	if opts.ConnectTimeout == 0 {
		opts.ConnectTimeout = 10 * time.Second
	}

	dialect, location, err := parseURL(opts.URL, opts.DataDir)
	if err != nil {
		return nil, err
	}

	var db *DB
	switch dialect {
	case SQLite:
		db, err = openSQLite(location)
	case Postgres:
		db, err = openPostgres(location)
	}
	if err != nil {
		return nil, err
	}

	pingCtx, cancel := context.WithTimeout(ctx, opts.ConnectTimeout)
	defer cancel()
	if err := db.Ping(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s database %s: %w", db.dialect, db.target, err)
	}
	return db, nil
}

// parseURL returns the dialect and, for SQLite, the file path, or for
// PostgreSQL, the URL itself.
func parseURL(raw, dataDir string) (Dialect, string, error) {
	if raw == "" {
		if err := ensureWritableDir(dataDir); err != nil {
			return "", "", err
		}
		return SQLite, filepath.Join(dataDir, SQLiteFileName), nil
	}

	u, err := url.Parse(raw)
	if err != nil {
		return "", "", errors.New("parse database URL: the value is not a URL")
	}
	switch u.Scheme {
	case "postgres", "postgresql":
		return Postgres, raw, nil
	case "sqlite":
		path := u.Opaque
		if path == "" {
			path = u.Path
		}
		if err := ensureWritableDir(filepath.Dir(path)); err != nil {
			return "", "", err
		}
		return SQLite, path, nil
	default:
		return "", "", fmt.Errorf("parse database URL: unsupported scheme %q, want postgres or sqlite", u.Scheme)
	}
}

// ensureWritableDir creates dir if needed and proves it is writable, so a
// read-only data directory fails at start with its path in the message
// rather than at the first write.
func ensureWritableDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	probe, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return fmt.Errorf("data directory %s is not writable: %w", dir, err)
	}
	name := probe.Name()
	probe.Close()
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("remove write check file in %s: %w", dir, err)
	}
	return nil
}

// Dialect reports the database engine.
func (db *DB) Dialect() Dialect { return db.dialect }

// Target describes where the data lives, without credentials, for logs.
func (db *DB) Target() string { return db.target }

// Writer returns the pool for statements that change data. On SQLite it
// holds a single connection, so callers must not keep a transaction open
// while waiting on anything else.
func (db *DB) Writer() *sql.DB { return db.write }

// Reader returns the pool for read-only queries.
func (db *DB) Reader() *sql.DB { return db.read }

// Ping checks that both pools can reach the database.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return err
	}
	if db.read != db.write {
		return db.read.PingContext(ctx)
	}
	return nil
}

// Close closes the pools. It is safe to call more than once.
func (db *DB) Close() error {
	db.stmtMu.Lock()
	stmts := db.stmts
	db.stmts = nil
	db.stmtMu.Unlock()
	for _, stmt := range stmts {
		stmt.Close()
	}

	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Tx runs fn in a write transaction, committing when fn returns nil and
// rolling back otherwise.
func (db *DB) Tx(ctx context.Context, fn func(*sql.Tx) error) error {
	db.preparePending(ctx)
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback() // the error from fn is the one worth reporting
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

// prepared returns a statement of pool prepared once and cached. The
// write path's statements are parsed once instead of on every call,
// which profiling showed to be the largest cost of a message append on
// SQLite; pgx caches its own statements, so PostgreSQL gains little.
func (db *DB) prepared(ctx context.Context, pool *sql.DB, query string) (*sql.Stmt, error) {
	key := stmtKey{pool: pool, query: query}
	db.stmtMu.Lock()
	stmt, ok := db.stmts[key]
	db.stmtMu.Unlock()
	if ok {
		return stmt, nil
	}

	// Prepare without holding stmtMu: preparing on the write pool waits
	// for the single SQLite writer connection, and a transaction holding
	// it may need stmtMu to finish, which would deadlock.
	stmt, err := pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare statement: %w", err)
	}

	db.stmtMu.Lock()
	existing, ok := db.stmts[key]
	if !ok {
		if db.stmts == nil {
			db.stmts = make(map[stmtKey]*sql.Stmt)
		}
		db.stmts[key] = stmt
	}
	db.stmtMu.Unlock()

	if ok {
		// Another goroutine prepared it first. Close outside stmtMu:
		// closing waits for every connection the statement was prepared
		// on, one of which may run a query blocked on a row lock whose
		// transaction needs stmtMu to finish.
		stmt.Close()
		return existing, nil
	}
	return stmt, nil
}

// cachedWrite returns the prepared form of a write query, or nil when it
// is not prepared yet. It never prepares: inside a transaction the
// single SQLite writer connection is taken, so preparing on the pool
// would wait for it forever. A missing query is prepared before the
// next transaction begins.
func (db *DB) cachedWrite(query string) *sql.Stmt {
	db.stmtMu.Lock()
	defer db.stmtMu.Unlock()
	if stmt, ok := db.stmts[stmtKey{pool: db.write, query: query}]; ok {
		return stmt
	}
	if db.pending == nil {
		db.pending = make(map[string]bool)
	}
	db.pending[query] = true
	return nil
}

// preparePending prepares the write queries seen since the last call.
// A failure leaves the query unprepared, which costs speed, not
// correctness.
func (db *DB) preparePending(ctx context.Context) {
	db.stmtMu.Lock()
	queries := db.pending
	db.pending = nil
	db.stmtMu.Unlock()
	for query := range queries {
		db.prepared(ctx, db.write, query)
	}
}

// execTx runs a write statement inside tx, prepared once it has been
// seen before.
func (db *DB) execTx(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if stmt := db.cachedWrite(query); stmt != nil {
		return tx.StmtContext(ctx, stmt).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// queryRowTx runs a single-row query inside tx, prepared once it has
// been seen before.
func (db *DB) queryRowTx(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	if stmt := db.cachedWrite(query); stmt != nil {
		return tx.StmtContext(ctx, stmt).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, query, args...)
}

// queryRead runs a cached query on the read pool.
func (db *DB) queryRead(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	stmt, err := db.prepared(ctx, db.read, query)
	if err != nil {
		return nil, err
	}
	return stmt.QueryContext(ctx, args...)
}

// queryRowRead runs a cached single-row query on the read pool.
func (db *DB) queryRowRead(ctx context.Context, query string, args ...any) *sql.Row {
	stmt, err := db.prepared(ctx, db.read, query)
	if err != nil {
		return db.read.QueryRowContext(ctx, query, args...)
	}
	return stmt.QueryRowContext(ctx, args...)
}

// Millis converts t to the Unix milliseconds stored in time columns.
func Millis(t time.Time) int64 { return t.UnixMilli() }

// FromMillis converts a stored time column back to UTC time.
func FromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// describePostgres returns host:port/database for logs, never the password.
func describePostgres(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "postgres"
	}
	return u.Host + "/" + strings.TrimPrefix(u.Path, "/")
}

// preparedReader runs queries on the read pool with each statement
// prepared once.
type preparedReader struct{ db *DB }

func (r preparedReader) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return r.db.queryRead(ctx, query, args...)
}

func (r preparedReader) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return r.db.queryRowRead(ctx, query, args...)
}

// reader returns the read pool with prepared statements.
func (db *DB) reader() preparedReader { return preparedReader{db: db} }

// scanAll reads every row with scan and closes rows.
func scanAll[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
