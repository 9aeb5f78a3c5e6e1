package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// migrations holds one schema history per dialect. Each file runs in its
// own transaction, so a migration that fails half-way leaves the schema
// as it was before that file.
//
//go:embed migrations
var migrations embed.FS

// MigrationStatus reports the schema version in the database and the
// newest version this binary knows.
type MigrationStatus struct {
	Current int64
	Latest  int64
}

// Pending reports whether the database is behind this binary.
func (s MigrationStatus) Pending() bool { return s.Current < s.Latest }

// Migrate applies every pending migration and returns how many ran. On
// PostgreSQL a session lock keeps two nodes from migrating at once.
func (db *DB) Migrate(ctx context.Context) (int, error) {
	return db.migrate(ctx, db.embeddedMigrations())
}

func (db *DB) migrate(ctx context.Context, dir fs.FS) (int, error) {
	// The provider is not closed: its Close would close db.write.
	provider, err := db.migrationProvider(dir)
	if err != nil {
		return 0, err
	}

	results, err := provider.Up(ctx)
	if err != nil {
		var partial *goose.PartialError
		if errors.As(err, &partial) && partial.Failed != nil {
			return len(partial.Applied), fmt.Errorf("apply migration %s: %w", partial.Failed.Source.Path, partial.Err)
		}
		return len(results), fmt.Errorf("apply migrations: %w", err)
	}
	return len(results), nil
}

// MigrationStatus compares the database's schema version with this
// binary's newest migration.
func (db *DB) MigrationStatus(ctx context.Context) (MigrationStatus, error) {
	provider, err := db.migrationProvider(db.embeddedMigrations())
	if err != nil {
		return MigrationStatus{}, err
	}

	current, latest, err := provider.GetVersions(ctx)
	if err != nil {
		return MigrationStatus{}, fmt.Errorf("read schema version: %w", err)
	}
	return MigrationStatus{Current: current, Latest: latest}, nil
}

// embeddedMigrations returns this dialect's folder of migrations.
func (db *DB) embeddedMigrations() fs.FS {
	dir, err := fs.Sub(migrations, "migrations/"+string(db.dialect))
	if err != nil {
		// fs.Sub fails only for an invalid path, and this one is constant.
		panic(fmt.Sprintf("open embedded migrations for %s: %v", db.dialect, err))
	}
	return dir
}

func (db *DB) migrationProvider(dir fs.FS) (*goose.Provider, error) {
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	dialect := goose.DialectSQLite3
	if db.dialect == Postgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, fmt.Errorf("create migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}

	provider, err := goose.NewProvider(dialect, db.write, dir, opts...)
	if err != nil {
		return nil, fmt.Errorf("load migrations for %s: %w", db.dialect, err)
	}
	return provider, nil
}
