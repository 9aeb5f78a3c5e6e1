package store_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openguild/openguild/internal/store"
	"github.com/openguild/openguild/internal/storetest"
)

func TestMigrateIsIdempotent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()

		applied, err := db.Migrate(ctx)
		if err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		if applied != 0 {
			t.Errorf("second Migrate applied %d migrations, want 0", applied)
		}

		status, err := db.MigrationStatus(ctx)
		if err != nil {
			t.Fatalf("MigrationStatus: %v", err)
		}
		if status.Pending() {
			t.Errorf("status %+v reports pending migrations after Migrate", status)
		}
		if status.Latest < 1 {
			t.Errorf("latest version %d, want at least 1", status.Latest)
		}
	})
}

func TestMigrationStatusOnEmptyDatabase(t *testing.T) {
	for _, dialect := range storetest.Dialects() {
		t.Run(string(dialect), func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, store.Options{URL: storetest.URL(t, dialect)})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer db.Close()

			status, err := db.MigrationStatus(ctx)
			if err != nil {
				t.Fatalf("MigrationStatus: %v", err)
			}
			if !status.Pending() || status.Current != 0 {
				t.Errorf("status %+v, want version 0 with migrations pending", status)
			}
		})
	}
}

func TestClaimServerInfoKeepsFirstValue(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()

		got, err := db.ClaimServerInfo(ctx, "server_name", "chat.example.org")
		if err != nil {
			t.Fatalf("first claim: %v", err)
		}
		if got != "chat.example.org" {
			t.Errorf("first claim stored %q, want chat.example.org", got)
		}

		got, err = db.ClaimServerInfo(ctx, "server_name", "other.example.org")
		if err != nil {
			t.Fatalf("second claim: %v", err)
		}
		if got != "chat.example.org" {
			t.Errorf("second claim returned %q, want the first value chat.example.org", got)
		}
	})
}

func TestTxRollsBackOnError(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		errStop := errors.New("stop")

		err := db.Tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO server_info (key, value) VALUES ('k', 'v')`); err != nil {
				return err
			}
			return errStop
		})
		if !errors.Is(err, errStop) {
			t.Fatalf("Tx returned %v, want the callback's error", err)
		}

		var n int
		if err := db.Reader().QueryRowContext(ctx, `SELECT count(*) FROM server_info WHERE key = 'k'`).Scan(&n); err != nil {
			t.Fatalf("count rows: %v", err)
		}
		if n != 0 {
			t.Errorf("found %d rows after rollback, want 0", n)
		}
	})
}

func TestOpenRejectsUnusableTargets(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		opts    store.Options
		wantErr string
	}{
		{
			name:    "data directory below a regular file",
			opts:    store.Options{DataDir: filepath.Join(blocker, "data")},
			wantErr: "create data directory",
		},
		{
			name:    "unsupported URL scheme",
			opts:    store.Options{URL: "mysql://127.0.0.1/db"},
			wantErr: `unsupported scheme "mysql"`,
		},
		{
			name:    "postgres port with nothing listening",
			opts:    store.Options{URL: "postgres://postgres:secret@127.0.0.1:1/db?connect_timeout=2"},
			wantErr: "connect to postgres database 127.0.0.1:1/db",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := store.Open(context.Background(), tt.opts)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q leaks the password", err)
			}
		})
	}
}

func TestOpenPostgresWithUnknownRole(t *testing.T) {
	base := storetest.SkipUnlessConfigured(t, storetest.PostgresURLVariable, "postgres://postgres@127.0.0.1:5432/test")
	bad := strings.Replace(base, "://", "://no_such_role_og:secret@", 1)
	if strings.Contains(base, "@") {
		bad = "postgres://no_such_role_og:secret@" + base[strings.Index(base, "@")+1:]
	}

	db, err := store.Open(context.Background(), store.Options{URL: bad})
	if err == nil {
		db.Close()
		t.Fatal("Open with an unknown role succeeded, want an error")
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error %q leaks the password", err)
	}
}
