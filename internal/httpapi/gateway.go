package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/openguild/openguild/internal/auth"
)

// Gateway is the WebSocket gateway: it upgrades requests and sends typing
// indicators and profile changes.
type Gateway interface {
	ServeHTTP(w http.ResponseWriter, r *http.Request, clientIP string,
		reject func(status int, code, scope, message string, retryAfter time.Duration))
	Typing(ctx context.Context, userID, channelID string) error
	UserUpdate(ctx context.Context, userID string, user any, leftGuildIDs []string) error
}

// handleGateway upgrades to the gateway. The token comes in the
// Authorization header or an identify frame, never in the URL, where
// proxies and logs would keep it.
func (a *API) handleGateway(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if q.Has("token") || q.Has("access_token") {
		return validationError(FieldError{Field: "token",
			Message: "tokens are not accepted in the URL; send an Authorization header or an identify frame"})
	}
	a.gateway.ServeHTTP(w, r, ClientIP(r).String(), func(status int, code, scope, message string, retryAfter time.Duration) {
		a.writeError(w, r, &Error{Status: status, Code: code, Message: message, Scope: scope, RetryAfter: retryAfter})
	})
	return nil
}

func handleTyping(gateway Gateway) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		if err := gateway.Typing(r.Context(), p.UserID, r.PathValue("channel_id")); err != nil {
			return err
		}
		return noContent(w)
	}
}
