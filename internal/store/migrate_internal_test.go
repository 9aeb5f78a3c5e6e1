package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func TestFailedMigrationRollsBack(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Options{URL: "sqlite:" + filepath.Join(t.TempDir(), "test.db")})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()

	broken := fstest.MapFS{
		"00001_good.sql": {Data: []byte("-- +goose Up\nCREATE TABLE first (id INTEGER PRIMARY KEY);\n")},
		"00002_broken.sql": {Data: []byte("-- +goose Up\n" +
			"CREATE TABLE second (id INTEGER PRIMARY KEY);\n" +
			"INSERT INTO no_such_table VALUES (1);\n")},
	}

	applied, err := db.migrate(ctx, broken)
	if err == nil {
		t.Fatal("migrate succeeded, want the broken migration's error")
	}
	if !strings.Contains(err.Error(), "00002_broken.sql") {
		t.Errorf("error %q does not name the failed file", err)
	}
	if applied != 1 {
		t.Errorf("applied %d migrations before the failure, want 1", applied)
	}

	var n int
	err = db.Reader().QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'second'`).Scan(&n)
	if err != nil {
		t.Fatalf("look up table: %v", err)
	}
	if n != 0 {
		t.Error("table from the failed migration exists, want its transaction rolled back")
	}
}
