package store

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

func openSQLite(path string) (*DB, error) {
	// Create the file owner-only before SQLite does: it holds password
	// hashes, and SQLite gives its -wal and -shm files the same mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create sqlite database %s: %w", path, err)
	}
	f.Close()

	write, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		return nil, fmt.Errorf("open sqlite database %s: %w", path, err)
	}
	// One writer connection: SQLite serialises writers anyway, and queueing
	// in the pool is cheaper than retrying SQLITE_BUSY.
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)

	read, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite database %s: %w", path, err)
	}
	readers := max(4, 2*runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)
	read.SetConnMaxIdleTime(5 * time.Minute)

	return &DB{dialect: SQLite, target: path, write: write, read: read}, nil
}

func sqliteDSN(path string, readOnly bool) string {
	// WAL lets readers run beside the writer. synchronous=FULL makes a
	// commit durable before it returns, which the API promises for every
	// 201. The busy timeout covers locks taken by a checkpoint or by
	// another process such as `openguild admin`.
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(10000)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		// BEGIN IMMEDIATE takes the write lock at the start of a
		// transaction, so a transaction never fails half-way on upgrade.
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

func openPostgres(raw string) (*DB, error) {
	pool, err := sql.Open("pgx", raw)
	if err != nil {
		return nil, fmt.Errorf("open postgres database %s: %w", describePostgres(raw), err)
	}
	pool.SetMaxOpenConns(32)
	pool.SetMaxIdleConns(32)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	return &DB{dialect: Postgres, target: describePostgres(raw), write: pool, read: pool}, nil
}
