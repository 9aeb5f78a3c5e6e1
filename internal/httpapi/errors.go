package httpapi

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/openguild/openguild/internal/auth"
	"github.com/openguild/openguild/internal/guild"
	"github.com/openguild/openguild/internal/media"
	"github.com/openguild/openguild/internal/message"
	"github.com/openguild/openguild/internal/metrics"
	"github.com/openguild/openguild/internal/validate"
)

// Error codes of the client API. The set is fixed by the API contract;
// clients branch on these strings.
const (
	CodeValidation       = "validation_error"
	CodeInvalidJSON      = "invalid_json"
	CodePayloadTooLarge  = "payload_too_large"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeForbidden        = "forbidden"
	CodeUnauthorized     = "unauthorized"
	CodeInvalidToken     = "invalid_token"
	CodeRateLimited      = "rate_limited"
	CodeInternal         = "internal_error"
)

// Rate-limit scopes reported with CodeRateLimited.
const (
	ScopeUser    = "user"
	ScopeIP      = "ip"
	ScopeChannel = "channel"
	ScopeGlobal  = "global"
)

// FieldError names one invalid field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is a client-facing error: a status, a contract code and a message
// that is safe to show. Cause, if set, goes only to the log.
type Error struct {
	Status  int
	Code    string
	Message string
	Details []FieldError

	// RetryAfter and Scope are set for CodeRateLimited.
	RetryAfter time.Duration
	Scope      string

	Cause error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

// errorBody is the JSON envelope of every error response.
type errorBody struct {
	Error        string       `json:"error"`
	Message      string       `json:"message"`
	Details      []FieldError `json:"details,omitempty"`
	RetryAfterMS *int64       `json:"retry_after_ms,omitempty"`
	Scope        string       `json:"scope,omitempty"`
}

// Constructors for the errors handlers return most often.

func validationError(details ...FieldError) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeValidation,
		Message: "The request has invalid fields.", Details: details}
}

func notFound() *Error {
	return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "The requested resource does not exist."}
}

func forbidden(message string) *Error {
	return &Error{Status: http.StatusForbidden, Code: CodeForbidden, Message: message}
}

// errorMapping maps a domain sentinel error to its client-facing form.
type errorMapping struct {
	err     error
	status  int
	code    string
	message string
}

// errorTable maps domain errors to contract codes, in one place. Later
// features add their sentinels here; an error that matches nothing is an
// internal error.
func errorTable() []errorMapping {
	return []errorMapping{
		{auth.ErrInvalidToken, http.StatusUnauthorized, CodeInvalidToken, "The access token is invalid or expired."},
		{auth.ErrSessionRevoked, http.StatusUnauthorized, CodeInvalidToken, "The session of this access token has ended."},
		{auth.ErrInvalidCredentials, http.StatusUnauthorized, "invalid_credentials", "The user name or password is wrong."},
		{auth.ErrInvalidRefreshToken, http.StatusUnauthorized, "invalid_refresh_token", "The refresh token is invalid, expired or revoked; log in again."},
		{auth.ErrUsernameTaken, http.StatusConflict, "username_taken", "That user name is taken."},
		{auth.ErrRegistrationClosed, http.StatusForbidden, "registration_closed", "This server does not accept new registrations."},
		{auth.ErrInvalidRegistrationToken, http.StatusForbidden, "invalid_registration_token", "Registration needs a valid registration token."},
		{auth.ErrNotFound, http.StatusNotFound, CodeNotFound, "The requested resource does not exist."},
		{guild.ErrNotFound, http.StatusNotFound, CodeNotFound, "The requested resource does not exist."},
		{guild.ErrOutranked, http.StatusForbidden, CodeForbidden, "Your highest role must rank above the role or member this acts on."},
		{guild.ErrGrantForbidden, http.StatusForbidden, CodeForbidden, "A role can only get permissions that you hold yourself."},
		{guild.ErrForbidden, http.StatusForbidden, CodeForbidden, "You lack the permission this needs."},
		{guild.ErrBanned, http.StatusForbidden, "banned", "You are banned from this guild."},
		{guild.ErrOwnershipTransferRequired, http.StatusConflict, "ownership_transfer_required", "You own a guild; transfer its ownership first."},
		{message.ErrNotFound, http.StatusNotFound, CodeNotFound, "The requested resource does not exist."},
		{message.ErrTooManyReactions, http.StatusBadRequest, "too_many_reactions", "The message already has the maximum number of distinct reactions."},
		{message.ErrNewEmojiForbidden, http.StatusForbidden, CodeForbidden, "Adding a new reaction needs the ADD_REACTIONS permission."},
		{message.ErrNotAuthor, http.StatusForbidden, CodeForbidden, "Only the message's author may do this."},
		{message.ErrReadOnlyDM, http.StatusForbidden, CodeForbidden, "This conversation is read-only: every other participant has deleted their account."},
		{message.ErrForbidden, http.StatusForbidden, CodeForbidden, "You may not do this in this channel."},
		{message.ErrClosed, http.StatusServiceUnavailable, "unavailable", "The server is shutting down; retry on another node or shortly."},
		{media.ErrNotFound, http.StatusNotFound, CodeNotFound, "The requested resource does not exist."},
		{media.ErrForbidden, http.StatusForbidden, CodeForbidden, "Only the uploader may delete this file."},
		{media.ErrInUse, http.StatusConflict, "media_in_use", "A message has this file attached; delete the message first."},
		{media.ErrQuotaExceeded, http.StatusRequestEntityTooLarge, "quota_exceeded", "This upload would exceed your storage quota; delete files you no longer need."},
		{media.ErrInvalidImage, http.StatusUnprocessableEntity, "invalid_image", "The file is not an image that can be thumbnailed: it is another type, truncated, corrupt or too large."},
		{media.ErrIncomplete, http.StatusBadRequest, "upload_incomplete", "The upload ended before the whole file arrived."},
		{guild.ErrDMBlocked, http.StatusForbidden, "dm_blocked", "A recipient accepts direct messages only from people who share a guild with them."},
	}
}

// writeError sends err as the error envelope. An *Error is sent as it is;
// a mapped sentinel gets its row of errorTable; anything else is logged
// with the request id and answered with a generic 500.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client went away; nobody reads this answer, and it is not a
		// server failure. 499 is the de facto code for it in access logs.
		a.logger.DebugContext(r.Context(), "client closed request", "request_id", requestID(r), "route", routeOf(r))
		w.WriteHeader(499)
		return
	}
	apiErr := a.toError(err)
	if apiErr.Status >= 500 {
		a.logger.ErrorContext(r.Context(), "request failed",
			"request_id", requestID(r), "route", routeOf(r), "err", err)
	}

	body := errorBody{Error: apiErr.Code, Message: apiErr.Message, Details: apiErr.Details, Scope: apiErr.Scope}
	if apiErr.Code == CodeRateLimited {
		ms := apiErr.RetryAfter.Milliseconds()
		if apiErr.RetryAfter%time.Millisecond != 0 {
			ms++
		}
		body.RetryAfterMS = &ms
		seconds := int64(math.Ceil(apiErr.RetryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.FormatInt(max(seconds, 1), 10))
	}
	switch apiErr.Code {
	case CodeUnauthorized:
		// RFC 6750 section 3.1: no error attribute when no token was sent.
		w.Header().Set("WWW-Authenticate", "Bearer")
	case CodeInvalidToken:
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	default:
		if apiErr.Status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", "Bearer")
		}
	}
	writeJSON(w, apiErr.Status, body)
}

// toError finds the client-facing form of err: an *Error as it is, a
// field rejection as validation_error (counted under its reason, if it
// has one), a throttled login as rate_limited, then errorTable.
func (a *API) toError(err error) *Error {
	var apiErr *Error
	if errors.As(err, &apiErr) {
		return apiErr
	}
	var fieldErr *validate.Error
	if errors.As(err, &fieldErr) {
		if fieldErr.Reason != "" {
			a.metrics.Reject(fieldErr.Reason)
		}
		return validationError(FieldError{Field: fieldErr.Field, Message: fieldErr.Message})
	}
	switch {
	case errors.Is(err, message.ErrReplyNotFound):
		return validationError(FieldError{Field: "reply_to", Message: "must name a message of this channel"})
	case errors.Is(err, message.ErrAttachmentNotFound):
		return validationError(FieldError{Field: "attachment_ids", Message: "must name files that you uploaded"})
	case errors.Is(err, message.ErrNotTextChannel):
		return validationError(FieldError{Field: "channel_id", Message: "must name a text channel or a DM; this channel holds no messages"})
	}
	var slow *message.SlowmodeError
	if errors.As(err, &slow) {
		a.metrics.Reject(metrics.ReasonSlowmode)
		return &Error{Status: http.StatusTooManyRequests, Code: CodeRateLimited,
			Message: "This channel has slowmode on; wait before sending again.", RetryAfter: slow.RetryAfter, Scope: ScopeChannel}
	}
	var throttled *auth.ThrottledError
	if errors.As(err, &throttled) {
		return &Error{Status: http.StatusTooManyRequests, Code: CodeRateLimited,
			Message: "Too many failed logins; wait before trying again.", RetryAfter: throttled.RetryAfter, Scope: throttled.Scope}
	}
	if errors.Is(err, guild.ErrForbidden) || errors.Is(err, message.ErrForbidden) ||
		errors.Is(err, message.ErrNotAuthor) || errors.Is(err, message.ErrNewEmojiForbidden) {
		a.metrics.Reject(metrics.ReasonForbidden)
	}
	for _, m := range errorTable() {
		if errors.Is(err, m.err) {
			return &Error{Status: m.status, Code: m.code, Message: m.message, Cause: err}
		}
	}
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal,
		Message: "The server could not complete the request.", Cause: err}
}

func base64URL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
