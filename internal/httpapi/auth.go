package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/openguild/openguild/internal/auth"
	"github.com/openguild/openguild/internal/keys"
	"github.com/openguild/openguild/internal/metrics"
	"github.com/openguild/openguild/internal/ratelimit"
)

// timeFormat is RFC 3339 in UTC with milliseconds, the API's time form.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// userJSON is the public User of the API. A deleted account keeps its id
// and reads as a deleted user.
type userJSON struct {
	ID          string `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	CreatedAt   string `json:"created_at"`
	Deleted     bool   `json:"deleted,omitempty"`
}

func newUserJSON(u auth.User) userJSON {
	if u.Deleted() {
		return userJSON{ID: u.ID, Username: "deleted-user", DisplayName: "Deleted user",
			CreatedAt: formatTime(u.CreatedAt), Deleted: true}
	}
	return userJSON{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, CreatedAt: formatTime(u.CreatedAt)}
}

// meJSON adds the caller's own settings to their User.
type meJSON struct {
	userJSON
	DMPolicy string `json:"dm_policy"`
	IsAdmin  bool   `json:"is_admin"`
}

type tokensJSON struct {
	AccessToken      string   `json:"access_token"`
	AccessExpiresAt  string   `json:"access_expires_at"`
	RefreshToken     string   `json:"refresh_token"`
	RefreshExpiresAt string   `json:"refresh_expires_at"`
	SessionID        string   `json:"session_id"`
	User             userJSON `json:"user"`
}

func newTokensJSON(t auth.Tokens) tokensJSON {
	return tokensJSON{
		AccessToken: t.AccessToken, AccessExpiresAt: formatTime(t.AccessExpiresAt),
		RefreshToken: t.RefreshToken, RefreshExpiresAt: formatTime(t.RefreshExpiresAt),
		SessionID: t.SessionID, User: newUserJSON(t.User),
	}
}

// Accounts is the part of the auth service that the account routes use.
type Accounts interface {
	Register(ctx context.Context, req auth.RegisterRequest) (auth.User, error)
	Login(ctx context.Context, req auth.LoginRequest) (auth.Tokens, error)
	Refresh(ctx context.Context, req auth.RefreshRequest) (auth.Tokens, error)
	Authenticate(ctx context.Context, token, ip string) (auth.Principal, error)
	Logout(ctx context.Context, p auth.Principal) error
	Sessions(ctx context.Context, p auth.Principal) ([]auth.Session, error)
	RevokeSession(ctx context.Context, p auth.Principal, sessionID string) error
	User(ctx context.Context, id string) (auth.User, error)
	UpdateProfile(ctx context.Context, p auth.Principal, req auth.ProfileRequest) (auth.User, error)
	ChangePassword(ctx context.Context, p auth.Principal, current, next string) error
	DeleteAccount(ctx context.Context, p auth.Principal, password string) error
}

// PublicKeys lists the keys that verify access tokens, for JWKS.
type PublicKeys interface {
	Verifying(purpose keys.Purpose) []keys.Key
}

// authedFunc is a handler that runs only for an authenticated caller.
type authedFunc func(w http.ResponseWriter, r *http.Request, p auth.Principal) error

type principalKey struct{}

// authed wraps h in the bearer check: a missing token gets 401
// unauthorized, a bad, expired or revoked one 401 invalid_token.
func (a *API) authed(h authedFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		token, ok := bearerToken(r)
		if !ok {
			return &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized,
				Message: "This route needs an Authorization: Bearer access token."}
		}
		p, err := a.accounts.Authenticate(r.Context(), token, ClientIP(r).String())
		if err != nil {
			return err
		}
		stateOf(r).userID = p.UserID
		if a.bans != nil && a.bans.UserBanned(p.UserID) {
			a.logBan(r, "user:"+p.UserID)
			return bannedError()
		}
		return h(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)), p)
	}
}

func bearerToken(r *http.Request) (string, bool) {
	header := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// limitByIP wraps h in a per-client-IP sliding window. A rejection gets
// 429 with scope ip and counts as ip_rate_limit.
func (a *API) limitByIP(limiter *ratelimit.Window, h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		d := limiter.Allow(ClientIP(r).String())
		if !d.Allowed {
			a.metrics.Reject(metrics.ReasonIPRateLimit)
			return &Error{Status: http.StatusTooManyRequests, Code: CodeRateLimited,
				Message: "Too many requests from this address; retry later.", RetryAfter: d.RetryAfter, Scope: ScopeIP}
		}
		return h(w, r)
	}
}

func handleRegister(accounts Accounts) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var body struct {
			Username          string `json:"username"`
			Password          string `json:"password"`
			DisplayName       string `json:"display_name"`
			RegistrationToken string `json:"registration_token"`
		}
		if err := decodeJSON(r, &body); err != nil {
			return err
		}
		user, err := accounts.Register(r.Context(), auth.RegisterRequest{
			Username: body.Username, Password: body.Password,
			DisplayName: body.DisplayName, RegistrationToken: body.RegistrationToken,
		})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, map[string]any{"user": newUserJSON(user)})
		return nil
	}
}

// The refresh-token cookie is an opt-in addition to the JSON flow for
// browser clients. It is HttpOnly, so script on the page (injected script
// included) cannot read the token; SameSite=Strict, so other sites cannot
// make the browser send it; and limited to the auth routes. A response
// that sets it sends refresh_token as "" in its JSON body.
const (
	refreshCookieName = "openguild_refresh"
	refreshCookiePath = "/api/v1/auth"
)

// setRefreshCookie stores the refresh token of t in the cookie until the
// token expires. The cookie is Secure when the client used TLS, directly
// or through a trusted proxy that sets X-Forwarded-Proto.
func setRefreshCookie(w http.ResponseWriter, r *http.Request, t auth.Tokens) {
	http.SetCookie(w, &http.Cookie{
		Name: refreshCookieName, Value: t.RefreshToken, Path: refreshCookiePath,
		Expires: t.RefreshExpiresAt, HttpOnly: true, Secure: stateOf(r).secure, SameSite: http.SameSiteStrictMode,
	})
}

func clearRefreshCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: refreshCookieName, Path: refreshCookiePath, MaxAge: -1,
		HttpOnly: true, Secure: stateOf(r).secure, SameSite: http.SameSiteStrictMode,
	})
}

// writeTokens sends t as JSON, or, in cookie mode, sets the refresh
// cookie and leaves the token out of the body.
func writeTokens(w http.ResponseWriter, r *http.Request, t auth.Tokens, cookie bool) {
	body := newTokensJSON(t)
	if cookie {
		setRefreshCookie(w, r, t)
		body.RefreshToken = ""
	}
	writeJSON(w, http.StatusOK, body)
}

func handleLogin(accounts Accounts) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var body struct {
			Username string `json:"username"`
			Password string `json:"password"`
			Device   struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"device"`
			RefreshCookie bool `json:"refresh_cookie"`
		}
		if err := decodeJSON(r, &body); err != nil {
			return err
		}
		tokens, err := accounts.Login(r.Context(), auth.LoginRequest{
			Username: body.Username, Password: body.Password,
			DeviceID: body.Device.ID, DeviceName: body.Device.Name,
			UserAgent: r.UserAgent(), IP: ClientIP(r).String(),
		})
		if err != nil {
			return err
		}
		writeTokens(w, r, tokens, body.RefreshCookie)
		return nil
	}
}

// handleRefresh takes the refresh token from the body, or from the refresh
// cookie when the body has none. A refresh through the cookie, or one that
// sets refresh_cookie, gets its response in cookie mode.
func handleRefresh(accounts Accounts) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var body struct {
			RefreshToken  string `json:"refresh_token"`
			DeviceID      string `json:"device_id"`
			RefreshCookie bool   `json:"refresh_cookie"`
		}
		if err := decodeJSON(r, &body); err != nil {
			return err
		}
		token, fromCookie := body.RefreshToken, false
		if token == "" {
			if c, err := r.Cookie(refreshCookieName); err == nil {
				token, fromCookie = c.Value, true
			}
		}
		tokens, err := accounts.Refresh(r.Context(), auth.RefreshRequest{
			Token: token, DeviceID: body.DeviceID, IP: ClientIP(r).String(),
		})
		if err != nil {
			// A rejected cookie can never work again; drop it so the
			// browser stops sending it. Other failures keep it for a retry.
			if fromCookie && errors.Is(err, auth.ErrInvalidRefreshToken) {
				clearRefreshCookie(w, r)
			}
			return err
		}
		writeTokens(w, r, tokens, body.RefreshCookie || fromCookie)
		return nil
	}
}

func handleLogout(accounts Accounts) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		if err := accounts.Logout(r.Context(), p); err != nil {
			return err
		}
		clearRefreshCookie(w, r)
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

type sessionJSON struct {
	ID         string `json:"id"`
	DeviceID   string `json:"device_id"`
	DeviceName string `json:"device_name"`
	CreatedAt  string `json:"created_at"`
	LastSeenAt string `json:"last_seen_at"`
	LastIP     string `json:"last_ip"`
	Current    bool   `json:"current"`
}

func handleListSessions(accounts Accounts) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		sessions, err := accounts.Sessions(r.Context(), p)
		if err != nil {
			return err
		}
		out := make([]sessionJSON, len(sessions))
		for i, s := range sessions {
			out[i] = sessionJSON{
				ID: s.ID, DeviceID: s.DeviceID, DeviceName: s.DeviceName,
				CreatedAt: formatTime(s.CreatedAt), LastSeenAt: formatTime(s.LastSeenAt),
				LastIP: s.LastIP, Current: s.ID == p.SessionID,
			}
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

func handleRevokeSession(accounts Accounts) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		if err := accounts.RevokeSession(r.Context(), p, r.PathValue("session_id")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func handleGetMe(accounts Accounts) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		user, err := accounts.User(r.Context(), p.UserID)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, meJSON{userJSON: newUserJSON(user), DMPolicy: user.DMPolicy, IsAdmin: user.IsAdmin})
		return nil
	}
}

// handleUpdateMe changes the caller's profile. A new display name goes
// out live as a user_update dispatch.
func (a *API) handleUpdateMe(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var body struct {
		DisplayName *string `json:"display_name"`
		DMPolicy    *string `json:"dm_policy"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	user, err := a.accounts.UpdateProfile(r.Context(), p, auth.ProfileRequest{DisplayName: body.DisplayName, DMPolicy: body.DMPolicy})
	if err != nil {
		return err
	}
	if body.DisplayName != nil {
		a.dispatchProfile(r, newUserJSON(user), nil)
	}
	writeJSON(w, http.StatusOK, meJSON{userJSON: newUserJSON(user), DMPolicy: user.DMPolicy, IsAdmin: user.IsAdmin})
	return nil
}

// dispatchProfile sends a committed profile change to the gateway. A
// failure costs only liveness, since clients read profiles on load, so it
// is logged and the request still succeeds.
func (a *API) dispatchProfile(r *http.Request, user userJSON, leftGuildIDs []string) {
	ctx := context.WithoutCancel(r.Context()) // the change has committed
	if err := a.gateway.UserUpdate(ctx, user.ID, user, leftGuildIDs); err != nil {
		a.logger.Warn("dispatch of profile change failed; clients see it on their next load",
			"user_id", user.ID, "request_id", requestID(r), "error", err)
	}
}

// wrongPassword turns a wrong current password on the caller's own
// account into 403, so clients do not mistake it for an expired token.
func wrongPassword(err error) error {
	if errors.Is(err, auth.ErrInvalidCredentials) {
		return &Error{Status: http.StatusForbidden, Code: "invalid_credentials", Message: "The password is wrong.", Cause: err}
	}
	return err
}

func handleChangePassword(accounts Accounts) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		var body struct {
			CurrentPassword string `json:"current_password"`
			NewPassword     string `json:"new_password"`
		}
		if err := decodeJSON(r, &body); err != nil {
			return err
		}
		if err := accounts.ChangePassword(r.Context(), p, body.CurrentPassword, body.NewPassword); err != nil {
			return wrongPassword(err)
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// handleDeleteMe deletes the caller's account, then dispatches the
// deleted profile to the members of the guilds the user left and to
// their DM partners.
func (a *API) handleDeleteMe(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var body struct {
		Password string `json:"password"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	guilds, err := a.guilds.Guilds(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	if err := a.accounts.DeleteAccount(r.Context(), p, body.Password); err != nil {
		return wrongPassword(err)
	}

	if user, err := a.accounts.User(r.Context(), p.UserID); err == nil {
		guildIDs := make([]string, 0, len(guilds))
		for _, g := range guilds {
			guildIDs = append(guildIDs, g.ID)
		}
		a.dispatchProfile(r, newUserJSON(user), guildIDs)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func handleGetUser(accounts Accounts) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		user, err := accounts.User(r.Context(), r.PathValue("user_id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, newUserJSON(user))
		return nil
	}
}

// handleJWKS publishes the keys that verify access tokens, in the RFC
// 8037 OKP form, so other services can check tokens themselves.
func handleJWKS(publicKeys PublicKeys) handlerFunc {
	type jwk struct {
		Kty string `json:"kty"`
		Crv string `json:"crv"`
		X   string `json:"x"`
		Kid string `json:"kid"`
		Alg string `json:"alg"`
		Use string `json:"use"`
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		verifying := publicKeys.Verifying(keys.PurposeAccessToken)
		set := make([]jwk, len(verifying))
		for i, k := range verifying {
			set[i] = jwk{Kty: "OKP", Crv: "Ed25519", X: base64URL(k.Public), Kid: k.ID, Alg: "EdDSA", Use: "sig"}
		}
		writeJSON(w, http.StatusOK, map[string]any{"keys": set})
		return nil
	}
}

// checkAddrBan refuses a client address on the operator's ban list
// before any other work.
func (a *API) checkAddrBan(r *http.Request) error {
	if a.bans == nil || !a.bans.AddrBanned(ClientIP(r)) {
		return nil
	}
	a.logBan(r, "ip:"+ClientIP(r).String())
	return bannedError()
}

func bannedError() *Error {
	return &Error{Status: http.StatusForbidden, Code: CodeForbidden, Message: "This account or address is banned from this server."}
}

// logBan logs a refused banned caller at most once a minute per key, so
// a banned client retrying in a loop does not flood the log.
func (a *API) logBan(r *http.Request, key string) {
	if a.banLogLimit.Allow(key).Allowed {
		a.logger.Warn("banned caller refused", "ban", key, "route", routeOf(r), "request_id", requestID(r))
	}
}
