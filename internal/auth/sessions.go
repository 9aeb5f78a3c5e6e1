package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/openguild/openguild/internal/validate"
)

// LoginRequest is a login attempt from one device.
type LoginRequest struct {
	Username   string
	Password   string
	DeviceID   string
	DeviceName string
	UserAgent  string
	IP         string // the client address, the throttle's per-IP key
}

// Login checks the credentials and starts a session for the device,
// replacing that device's earlier session. It returns
// ErrInvalidCredentials with the same timing for an unknown user and a
// wrong password, *ThrottledError while failures are throttled, and a
// *validate.Error for a bad device.
func (s *Service) Login(ctx context.Context, req LoginRequest) (Tokens, error) {
	if err := checkDevice(&req); err != nil {
		return Tokens{}, err
	}
	accountKey := throttleKey(req.Username)
	if err := s.checkThrottles(accountKey, req.IP); err != nil {
		s.logins.WithLabelValues("throttled").Inc()
		return Tokens{}, err
	}

	user, err := s.verifyCredentials(ctx, req.Username, req.Password)
	if errors.Is(err, ErrInvalidCredentials) {
		s.logins.WithLabelValues("invalid_credentials").Inc()
		accountWait := s.byAccount.Fail(accountKey)
		ipWait := s.byIP.Fail(req.IP)
		if accountWait > 0 || ipWait > 0 {
			s.security.Warn("failed logins throttled", "username", accountKey, "client_ip", req.IP,
				"account_wait", accountWait.String(), "ip_wait", ipWait.String())
		}
		return Tokens{}, err
	}
	if err != nil {
		return Tokens{}, err
	}
	s.byAccount.Reset(accountKey)
	s.logins.WithLabelValues("success").Inc()

	return s.startSession(ctx, user, req)
}

func checkDevice(req *LoginRequest) error {
	if !validDeviceID(req.DeviceID) {
		return &validate.Error{Field: "device.id", Message: "must be 1 to 128 printable ASCII characters"}
	}
	if strings.TrimSpace(req.DeviceName) == "" {
		req.DeviceName = "Unknown device"
	}
	name, err := validate.DisplayName("device.name", req.DeviceName)
	if err != nil {
		return err
	}
	req.DeviceName = name
	if len(req.UserAgent) > 512 {
		req.UserAgent = req.UserAgent[:512]
	}
	return nil
}

func (s *Service) checkThrottles(accountKey, ip string) error {
	if wait := s.byAccount.Check(accountKey); wait > 0 {
		return &ThrottledError{RetryAfter: wait, Scope: "user"}
	}
	if wait := s.byIP.Check(ip); wait > 0 {
		return &ThrottledError{RetryAfter: wait, Scope: "ip"}
	}
	return nil
}

// verifyCredentials spends one password verification whether or not the
// account exists, so timing does not reveal which names are taken.
func (s *Service) verifyCredentials(ctx context.Context, username, password string) (User, error) {
	key, nameErr := validate.Username(username)
	if nameErr != nil || len(password) == 0 || len(password) > validate.PasswordMax {
		if err := s.passwords.VerifyDummy(ctx, []byte(password)); err != nil {
			return User{}, err
		}
		return User{}, ErrInvalidCredentials
	}

	user, hash, err := s.store.UserCredentials(ctx, key)
	if errors.Is(err, ErrNotFound) {
		if err := s.passwords.VerifyDummy(ctx, []byte(password)); err != nil {
			return User{}, err
		}
		return User{}, ErrInvalidCredentials
	}
	if err != nil {
		return User{}, err
	}

	ok, rehash, err := s.passwords.Verify(ctx, []byte(password), hash)
	if err != nil {
		return User{}, fmt.Errorf("verify password of user %s: %w", user.ID, err)
	}
	if !ok {
		return User{}, ErrInvalidCredentials
	}
	if rehash {
		s.upgradeHash(ctx, user.ID, password)
	}
	return user, nil
}

// upgradeHash re-hashes a password whose stored hash used older
// parameters. A failure is logged and the login goes ahead.
func (s *Service) upgradeHash(ctx context.Context, userID, password string) {
	hash, err := s.passwords.Hash(ctx, []byte(password))
	if err == nil {
		err = s.store.SetPasswordHash(ctx, userID, hash)
	}
	if err != nil {
		s.logger.Warn("password hash upgrade failed; will retry at next login", "user_id", userID, "err", err)
	}
}

func (s *Service) startSession(ctx context.Context, user User, req LoginRequest) (Tokens, error) {
	now := s.now()
	session := Session{
		ID: newID(), UserID: user.ID, DeviceID: req.DeviceID, DeviceName: req.DeviceName,
		UserAgent: req.UserAgent, CreatedAt: now, LastSeenAt: now, LastIP: req.IP,
	}
	refresh := newSecret(refreshTokenPrefix)
	stored := RefreshToken{Hash: hashSecret(refresh), SessionID: session.ID, CreatedAt: now,
		ExpiresAt: now.Add(s.opts.RefreshTokenLifetime)}

	replaced, err := s.store.CreateSession(ctx, session, stored)
	if err != nil {
		return Tokens{}, err
	}
	s.sessions.invalidate(replaced...)

	access, err := s.tokens.issue(user.ID, session.ID)
	if err != nil {
		return Tokens{}, err
	}
	s.security.Info("login", "user_id", user.ID, "session_id", session.ID, "client_ip", req.IP,
		"sessions_replaced", len(replaced))
	return Tokens{
		AccessToken: access.Token, AccessExpiresAt: access.ExpiresAt,
		RefreshToken: refresh, RefreshExpiresAt: stored.ExpiresAt,
		SessionID: session.ID, User: user,
	}, nil
}

// RefreshRequest exchanges a refresh token.
type RefreshRequest struct {
	Token    string
	DeviceID string
	IP       string
}

// Refresh exchanges a refresh token for a new pair. The same token
// presented again within the grace window gets the same pair, so two tabs
// refreshing at once stay logged in; presented after it, the token counts
// as stolen and its whole session is revoked. Every failure is
// ErrInvalidRefreshToken.
func (s *Service) Refresh(ctx context.Context, req RefreshRequest) (Tokens, error) {
	stored, session, err := s.lookupRefresh(ctx, req)
	if err != nil {
		return Tokens{}, err
	}
	user, err := s.store.User(ctx, session.UserID)
	if err != nil {
		return Tokens{}, err
	}
	if user.Deleted() {
		return Tokens{}, ErrInvalidRefreshToken
	}

	if stored.RotatedAt.IsZero() {
		tokens, err := s.rotate(ctx, req, stored, user)
		if !errors.Is(err, ErrAlreadyRotated) {
			return tokens, err
		}
		// A concurrent request rotated it first: answer as its twin.
		if stored, err = s.store.RefreshToken(ctx, stored.Hash); err != nil {
			return Tokens{}, err
		}
	}
	return s.replayRotation(ctx, req, stored, user)
}

func (s *Service) lookupRefresh(ctx context.Context, req RefreshRequest) (RefreshToken, Session, error) {
	if !strings.HasPrefix(req.Token, refreshTokenPrefix) || len(req.Token) > 128 {
		return RefreshToken{}, Session{}, ErrInvalidRefreshToken
	}
	stored, err := s.store.RefreshToken(ctx, hashSecret(req.Token))
	if errors.Is(err, ErrNotFound) {
		return RefreshToken{}, Session{}, ErrInvalidRefreshToken
	}
	if err != nil {
		return RefreshToken{}, Session{}, err
	}

	session, err := s.store.Session(ctx, stored.SessionID)
	if err != nil {
		return RefreshToken{}, Session{}, err
	}
	if !session.RevokedAt.IsZero() || !s.now().Before(stored.ExpiresAt) {
		return RefreshToken{}, Session{}, ErrInvalidRefreshToken
	}
	if subtle.ConstantTimeCompare([]byte(session.DeviceID), []byte(req.DeviceID)) != 1 {
		s.security.Warn("refresh token presented with another device id", "session_id", session.ID,
			"user_id", session.UserID, "client_ip", req.IP)
		return RefreshToken{}, Session{}, ErrInvalidRefreshToken
	}
	return stored, session, nil
}

func (s *Service) rotate(ctx context.Context, req RefreshRequest, stored RefreshToken, user User) (Tokens, error) {
	now := s.now()
	access, err := s.tokens.issue(user.ID, stored.SessionID)
	if err != nil {
		return Tokens{}, err
	}
	successor := s.successorOf(req.Token)
	next := RefreshToken{Hash: hashSecret(successor), SessionID: stored.SessionID, CreatedAt: now,
		ExpiresAt: now.Add(s.opts.RefreshTokenLifetime)}

	err = s.store.RotateRefreshToken(ctx, Rotation{
		OldHash: stored.Hash, Successor: next, RotatedAt: now,
		AccessKeyID: access.KeyID, AccessJTI: access.TokenID, SeenIP: req.IP,
	})
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{
		AccessToken: access.Token, AccessExpiresAt: access.ExpiresAt,
		RefreshToken: successor, RefreshExpiresAt: next.ExpiresAt,
		SessionID: stored.SessionID, User: user,
	}, nil
}

// replayRotation answers a token that was already exchanged: with the
// same pair inside the grace window, and by revoking the session after.
func (s *Service) replayRotation(ctx context.Context, req RefreshRequest, stored RefreshToken, user User) (Tokens, error) {
	if s.now().Sub(stored.RotatedAt) > s.opts.RefreshGrace {
		return Tokens{}, s.revokeForReuse(ctx, stored, user, req.IP)
	}

	access, err := s.tokens.reissue(user.ID, stored.SessionID, stored.AccessKeyID, stored.AccessJTI, stored.RotatedAt)
	if err != nil {
		return Tokens{}, err
	}
	// The successor row was written with the rotation time, so its expiry
	// is the same one the first answer carried.
	expires := stored.RotatedAt.Add(s.opts.RefreshTokenLifetime)
	return Tokens{
		AccessToken: access.Token, AccessExpiresAt: access.ExpiresAt,
		RefreshToken: s.successorOf(req.Token), RefreshExpiresAt: expires,
		SessionID: stored.SessionID, User: user,
	}, nil
}

func (s *Service) revokeForReuse(ctx context.Context, stored RefreshToken, user User, ip string) error {
	err := s.store.RevokeSession(ctx, user.ID, stored.SessionID, "refresh_token_reuse", s.now())
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	s.sessions.invalidate(stored.SessionID)
	s.refreshReuse.Inc()
	s.security.Warn("rotated refresh token reused; session revoked", "session_id", stored.SessionID,
		"user_id", user.ID, "client_ip", ip, "rotated_at", stored.RotatedAt)
	return ErrInvalidRefreshToken
}

// Authenticate checks an access token and that its session is live. It
// returns an error wrapping ErrInvalidToken, or ErrSessionRevoked.
func (s *Service) Authenticate(ctx context.Context, token, ip string) (Principal, error) {
	claims, err := s.tokens.Verify(token)
	if err != nil {
		return Principal{}, err
	}
	if err := s.sessions.check(ctx, claims.UserID, claims.SessionID, ip); err != nil {
		return Principal{}, err
	}
	return Principal{UserID: claims.UserID, SessionID: claims.SessionID}, nil
}

// Logout ends the caller's session: its access and refresh tokens stop
// working at once.
func (s *Service) Logout(ctx context.Context, p Principal) error {
	return s.RevokeSession(ctx, p, p.SessionID)
}

// Sessions lists the caller's live sessions.
func (s *Service) Sessions(ctx context.Context, p Principal) ([]Session, error) {
	return s.store.Sessions(ctx, p.UserID)
}

// RevokeSession ends one of the caller's sessions. ErrNotFound when it is
// not theirs or already ended.
func (s *Service) RevokeSession(ctx context.Context, p Principal, sessionID string) error {
	reason := "revoked_by_user"
	if sessionID == p.SessionID {
		reason = "logout"
	}
	if err := s.store.RevokeSession(ctx, p.UserID, sessionID, reason, s.now()); err != nil {
		return err
	}
	s.sessions.invalidate(sessionID)
	s.security.Info("session revoked", "user_id", p.UserID, "session_id", sessionID, "reason", reason)
	return nil
}

// RevokeOtherSessions ends every session of the caller but the current
// one and returns how many ended.
func (s *Service) RevokeOtherSessions(ctx context.Context, p Principal) (int, error) {
	revoked, err := s.store.RevokeOtherSessions(ctx, p.UserID, p.SessionID, "revoked_by_user", s.now())
	if err != nil {
		return 0, err
	}
	s.sessions.invalidate(revoked...)
	return len(revoked), nil
}

// sessionTouchInterval is how often a session's last-seen time and
// address are written: often enough for the sessions page, rarely enough
// to keep writes off the hot path.
const sessionTouchInterval = time.Minute
