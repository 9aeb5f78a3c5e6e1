package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/openguild/openguild/internal/metrics"
)

// readyTimeout bounds the database checks behind GET /ready, so a hung
// database makes the probe fail rather than hang.
const readyTimeout = 2 * time.Second

func handleHealth() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return nil
	}
}

// handleReady reports 200 when the database answers and its schema is
// current, and 503 with the failing check otherwise.
func handleReady(db Database) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()

		checks := map[string]string{"database": "ok", "migrations": "ok"}
		if err := db.Ping(ctx); err != nil {
			checks["database"] = "unreachable"
			checks["migrations"] = "unknown"
		} else if status, err := db.MigrationStatus(ctx); err != nil {
			checks["migrations"] = "unknown"
		} else if status.Pending() {
			checks["migrations"] = "pending"
		}

		for _, v := range checks {
			if v != "ok" {
				writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "not_ready", "checks": checks})
				return nil
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "checks": checks})
		return nil
	}
}

func handleVersion(build metrics.Build) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		writeJSON(w, http.StatusOK, map[string]string{"version": build.Version, "commit": build.Commit})
		return nil
	}
}
