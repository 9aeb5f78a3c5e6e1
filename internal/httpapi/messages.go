package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/openguild/openguild/internal/apijson"
	"github.com/openguild/openguild/internal/auth"
	"github.com/openguild/openguild/internal/message"
	"github.com/openguild/openguild/internal/metrics"
	"github.com/openguild/openguild/internal/ratelimit"
	"github.com/openguild/openguild/internal/validate"
)

// sendBody is a message send. Sender and AuthorID exist only to reject a
// body that claims another author.
type sendBody struct {
	Content       json.RawMessage `json:"content"`
	Nonce         string          `json:"nonce"`
	ReplyTo       string          `json:"reply_to"`
	AttachmentIDs []string        `json:"attachment_ids"`
	Sender        *string         `json:"sender"`
	AuthorID      *string         `json:"author_id"`
}

// handleSendMessage decodes and sends. The per-IP and per-user limits
// run inside Send, after a nonce retry has been answered, because a
// retry must not be rejected by limits a new message would meet.
func (a *API) handleSendMessage(messages *message.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		body, content, err := a.decodeSend(r, p)
		if err != nil {
			return err
		}
		m, created, err := messages.Send(r.Context(), p.UserID, r.PathValue("channel_id"), message.SendRequest{
			Content: content, Nonce: body.Nonce, ReplyTo: body.ReplyTo, AttachmentIDs: body.AttachmentIDs,
			Admit: func() error { return a.limitSend(w, r, p) },
		})
		if err != nil {
			return err
		}
		status := http.StatusCreated
		if !created {
			status = http.StatusOK
		}
		writeJSON(w, status, apijson.NewMessage(m))
		return nil
	}
}

func (a *API) decodeSend(r *http.Request, p auth.Principal) (sendBody, string, error) {
	var body sendBody
	if err := decodeJSON(r, &body); err != nil {
		if errors.Is(err, errInvalidEncoding) {
			a.metrics.Reject(metrics.ReasonInvalidEncoding)
		}
		return sendBody{}, "", err
	}
	for _, claimed := range []*string{body.Sender, body.AuthorID} {
		if claimed != nil && *claimed != p.UserID {
			a.metrics.Reject(metrics.ReasonForbidden)
			return sendBody{}, "", &Error{Status: http.StatusForbidden, Code: CodeForbidden,
				Message: "A message's author is always the caller; sender and author_id must name you or be left out."}
		}
	}
	var content string
	if body.Content == nil && len(body.AttachmentIDs) > 0 {
		return body, "", nil // a message of attachments alone
	}
	if body.Content == nil {
		return sendBody{}, "", validationError(FieldError{Field: "content", Message: "is required unless attachment_ids lists a file"})
	}
	if err := json.Unmarshal(body.Content, &content); err != nil {
		return sendBody{}, "", validationError(FieldError{Field: "content", Message: "must be a string"})
	}
	return body, content, nil
}

// limitSend applies the per-IP and then the per-user message limits. A
// per-IP rejection carries that limit's RateLimit headers; otherwise the
// headers describe the per-user limit.
func (a *API) limitSend(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	ip := a.messageIPLimit.Allow(ClientIP(r).String())
	if !ip.Allowed {
		a.metrics.Reject(metrics.ReasonIPRateLimit)
		setRateLimitHeaders(w, ip)
		return rateLimited(ip, ScopeIP, "Too many messages from this address.")
	}
	user := a.messageUserLimit.Allow(p.UserID)
	setRateLimitHeaders(w, user)
	if !user.Allowed {
		a.metrics.Reject(metrics.ReasonMessageRateLimit)
		a.logPenalty(r, p, user)
		return rateLimited(user, ScopeUser, "You are sending messages too fast.")
	}
	return nil
}

// logPenalty records that a user is serving a penalty, at most once a
// minute per user, so a client hammering through its penalty does not
// flood the log.
func (a *API) logPenalty(r *http.Request, p auth.Principal, d ratelimit.Decision) {
	if d.Penalized && a.banLogLimit.Allow("penalty:"+p.UserID).Allowed {
		a.logger.Warn("message sender penalized for ignoring rate limits",
			"user_id", p.UserID, "client_ip", ClientIP(r).String(), "penalty", d.RetryAfter.String())
	}
}

func rateLimited(d ratelimit.Decision, scope, message string) *Error {
	return &Error{Status: http.StatusTooManyRequests, Code: CodeRateLimited, Message: message + " Retry after the given time.",
		RetryAfter: d.RetryAfter, Scope: scope}
}

// setRateLimitHeaders writes the RateLimit-Limit, -Remaining and -Reset
// headers of the IETF httpapi rate-limit draft, in whole seconds.
func setRateLimitHeaders(w http.ResponseWriter, d ratelimit.Decision) {
	h := w.Header()
	h.Set("RateLimit-Limit", strconv.Itoa(d.Limit))
	h.Set("RateLimit-Remaining", strconv.Itoa(d.Remaining))
	reset := d.Reset
	if d.RetryAfter > reset {
		reset = d.RetryAfter
	}
	h.Set("RateLimit-Reset", strconv.FormatInt(int64((reset+time.Second-1)/time.Second), 10))
}

func handleListMessages(messages *message.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		limit, err := queryInt(r, "limit", 50, 1, 100)
		if err != nil {
			return err
		}
		q := r.URL.Query()
		list, err := messages.History(r.Context(), p.UserID, r.PathValue("channel_id"), q.Get("before"), q.Get("after"), int(limit))
		if err != nil {
			return err
		}
		out := make([]apijson.Message, len(list))
		for i, m := range list {
			out[i] = apijson.NewMessage(m)
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

func handleGetMessage(messages *message.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		m, err := messages.Get(r.Context(), p.UserID, r.PathValue("channel_id"), r.PathValue("message_id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, apijson.NewMessage(m))
		return nil
	}
}

func (a *API) handleEditMessage(messages *message.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		var body struct {
			Content json.RawMessage `json:"content"`
		}
		if err := decodeJSON(r, &body); err != nil {
			if errors.Is(err, errInvalidEncoding) {
				a.metrics.Reject(metrics.ReasonInvalidEncoding)
			}
			return err
		}
		var content string
		if err := json.Unmarshal(body.Content, &content); err != nil {
			return validationError(FieldError{Field: "content", Message: "must be a string"})
		}
		m, err := messages.Edit(r.Context(), p.UserID, r.PathValue("channel_id"), r.PathValue("message_id"), content)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, apijson.NewMessage(m))
		return nil
	}
}

func handleDeleteMessage(messages *message.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		if err := messages.Delete(r.Context(), p.UserID, r.PathValue("channel_id"), r.PathValue("message_id")); err != nil {
			return err
		}
		return noContent(w)
	}
}

// emojiParam reads the {emoji} path value, which clients percent-encode.
func emojiParam(r *http.Request) (string, error) {
	emoji, err := url.PathUnescape(r.PathValue("emoji"))
	if err != nil {
		return "", &validate.Error{Field: "emoji", Message: "must be percent-encoded UTF-8"}
	}
	return emoji, nil
}

func handleReact(messages *message.Service, add bool) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		emoji, err := emojiParam(r)
		if err != nil {
			return err
		}
		channelID, messageID := r.PathValue("channel_id"), r.PathValue("message_id")
		if add {
			err = messages.React(r.Context(), p.UserID, channelID, messageID, emoji)
		} else {
			err = messages.Unreact(r.Context(), p.UserID, channelID, messageID, emoji)
		}
		if err != nil {
			return err
		}
		return noContent(w)
	}
}
