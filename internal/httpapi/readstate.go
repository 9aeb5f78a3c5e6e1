package httpapi

import (
	"net/http"

	"github.com/openguild/openguild/internal/auth"
	"github.com/openguild/openguild/internal/message"
)

// readBody is the body of PUT /api/v1/channels/{channel_id}/read. Seq is
// a pointer so that a missing or null seq is distinguished from 0.
type readBody struct {
	Seq *int64 `json:"seq"`
}

// handleMarkRead moves the caller's read marker in a channel forward.
// A seq below the stored one returns 204 and changes nothing.
func handleMarkRead(messages *message.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		var body readBody
		if err := decodeJSON(r, &body); err != nil {
			return err
		}
		if body.Seq == nil {
			return validationError(FieldError{Field: "seq", Message: "is required"})
		}
		if err := messages.MarkRead(r.Context(), p.UserID, r.PathValue("channel_id"), *body.Seq); err != nil {
			return err
		}
		return noContent(w)
	}
}
