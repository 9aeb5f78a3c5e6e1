// Package storetest opens real databases for tests: a SQLite file in a
// temporary directory, and a PostgreSQL schema of its own per test when
// OPENGUILD_TEST_POSTGRES_URL names a server.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/openguild/openguild/internal/store"
)

// PostgresURLVariable names the environment variable that points the
// tests at a PostgreSQL server, such as
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const PostgresURLVariable = "OPENGUILD_TEST_POSTGRES_URL"

// RequireVariable, when set to 1, turns every skip for a missing test
// service into a failure. CI sets it so no real-database test is skipped.
const RequireVariable = "OPENGUILD_TEST_REQUIRE_SERVICES"

// SkipUnlessConfigured skips the test when the named variable is empty,
// with a message naming it, or fails it when RequireVariable is set.
func SkipUnlessConfigured(t testing.TB, variable, example string) string {
	t.Helper()
	value := os.Getenv(variable)
	if value != "" {
		return value
	}
	if os.Getenv(RequireVariable) == "1" {
		t.Fatalf("%s is not set but %s=1 requires it; set it to a server such as %s", variable, RequireVariable, example)
	}
	t.Skipf("skipped: set %s to a server such as %s to run this test", variable, example)
	return ""
}

const examplePostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Dialects lists the dialects every store behaviour is tested against.
func Dialects() []store.Dialect {
	return []store.Dialect{store.SQLite, store.Postgres}
}

// Run runs fn once per dialect as a subtest named after it, each with a
// freshly migrated database. The PostgreSQL subtest skips, naming the
// variable to set, when no server is configured.
func Run(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, dialect := range Dialects() {
		t.Run(string(dialect), func(t *testing.T) {
			fn(t, Open(t, dialect))
		})
	}
}

// Open returns a migrated database of the given dialect that is removed
// when the test ends.
func Open(t testing.TB, dialect store.Dialect) *store.DB {
	t.Helper()

	db, err := store.Open(context.Background(), store.Options{URL: URL(t, dialect), DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("open %s test database: %v", dialect, err)
	}
	t.Cleanup(func() { db.Close() })

	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate %s test database: %v", dialect, err)
	}
	return db
}

// URL returns a database URL for a new, empty database of the given
// dialect: a SQLite file in a temporary directory, or a PostgreSQL schema
// created for this test and dropped after it.
func URL(t testing.TB, dialect store.Dialect) string {
	t.Helper()
	switch dialect {
	case store.SQLite:
		return "sqlite:" + filepath.Join(t.TempDir(), store.SQLiteFileName)
	case store.Postgres:
		return postgresSchemaURL(t)
	default:
		t.Fatalf("unknown dialect %q", dialect)
		return ""
	}
}

func postgresSchemaURL(t testing.TB) string {
	t.Helper()

	base := SkipUnlessConfigured(t, PostgresURLVariable, examplePostgresURL)

	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open %s: %v", PostgresURLVariable, err)
	}
	defer admin.Close()

	schema := "test_" + randomHex(t, 8)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() { dropSchema(t, base, schema) })

	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresURLVariable, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func dropSchema(t testing.TB, base, schema string) {
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Errorf("open %s to drop schema %s: %v", PostgresURLVariable, schema, err)
		return
	}
	defer admin.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
		t.Errorf("drop schema %s: %v", schema, err)
	}
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("read random bytes: %v", err)
	}
	return hex.EncodeToString(b)
}
