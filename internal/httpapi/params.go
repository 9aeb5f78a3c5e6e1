package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
)

// queryInt reads an optional integer query parameter within [min, max],
// returning def when it is absent.
func queryInt(r *http.Request, name string, def, min, max int64) (int64, error) {
	raw := r.URL.Query().Get(name)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < min || n > max {
		return 0, validationError(FieldError{Field: name, Message: fmt.Sprintf("must be a whole number from %d to %d", min, max)})
	}
	return n, nil
}

// noContent answers 204.
func noContent(w http.ResponseWriter) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
}
