package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/openguild/openguild/internal/validate"
)

// deletedUsername is the name every deleted account shows, so no live
// account may take it.
const deletedUsername = "deleted-user"

// RegisterRequest is a new account's details.
type RegisterRequest struct {
	Username          string
	Password          string
	DisplayName       string // optional: the username when empty
	RegistrationToken string // needed in invite mode
}

// Register creates an account under the configured registration mode. It
// returns a *validate.Error for a bad field, ErrRegistrationClosed,
// ErrInvalidRegistrationToken or ErrUsernameTaken.
func (s *Service) Register(ctx context.Context, req RegisterRequest) (User, error) {
	var tokenHash []byte
	switch s.opts.Registration {
	case RegistrationClosed:
		return User{}, ErrRegistrationClosed
	case RegistrationInvite:
		if req.RegistrationToken == "" {
			return User{}, ErrInvalidRegistrationToken
		}
		tokenHash = hashSecret(req.RegistrationToken)
	}

	u, err := s.createUser(ctx, req, false, tokenHash)
	if err != nil {
		return User{}, err
	}
	s.security.Info("account registered", "user_id", u.ID, "username", u.Username)
	return u, nil
}

// CreateUser creates an account in any registration mode, for the admin
// command. It returns the same errors as Register.
func (s *Service) CreateUser(ctx context.Context, username, password string, admin bool) (User, error) {
	u, err := s.createUser(ctx, RegisterRequest{Username: username, Password: password}, admin, nil)
	if err != nil {
		return User{}, err
	}
	s.security.Info("account created by administrator", "user_id", u.ID, "username", u.Username, "admin", admin)
	return u, nil
}

func (s *Service) createUser(ctx context.Context, req RegisterRequest, admin bool, tokenHash []byte) (User, error) {
	key, err := validate.Username(req.Username)
	if err != nil {
		return User{}, err
	}
	if key == deletedUsername {
		return User{}, ErrUsernameTaken // the name deleted accounts show
	}
	if err := validate.Password("password", req.Password); err != nil {
		return User{}, err
	}
	displayName := req.DisplayName
	if displayName == "" {
		displayName = req.Username
	}
	if displayName, err = validate.DisplayName("display_name", displayName); err != nil {
		return User{}, err
	}

	hash, err := s.passwords.Hash(ctx, []byte(req.Password))
	if err != nil {
		return User{}, fmt.Errorf("hash password: %w", err)
	}
	now := s.now()
	return s.store.CreateUser(ctx, NewUser{
		ID:                    newID(),
		Username:              req.Username,
		UsernameKey:           key,
		DisplayName:           displayName,
		PasswordHash:          hash,
		IsAdmin:               admin,
		CreatedAt:             now,
		RegistrationTokenHash: tokenHash,
		ReleaseDeletedBefore:  now.Add(-s.opts.UsernameQuarantine),
	})
}

// CreateRegistrationToken returns a new registration token for invite
// mode. maxUses 0 means unlimited; ttl 0 means it never expires. Only the
// token's hash is stored, so the token is shown once.
func (s *Service) CreateRegistrationToken(ctx context.Context, maxUses int, ttl time.Duration) (string, error) {
	if maxUses < 0 || ttl < 0 {
		return "", errors.New("create registration token: uses and lifetime must not be negative")
	}
	token := newSecret(registrationTokenPrefix)
	now := s.now()
	var expires time.Time
	if ttl > 0 {
		expires = now.Add(ttl)
	}
	if err := s.store.CreateRegistrationToken(ctx, hashSecret(token), now, expires, maxUses); err != nil {
		return "", err
	}
	s.security.Info("registration token created", "max_uses", maxUses, "ttl", ttl.String())
	return token, nil
}

// User returns an account by id. ErrNotFound.
func (s *Service) User(ctx context.Context, id string) (User, error) {
	return s.store.User(ctx, id)
}

// ProfileRequest changes the fields that are not nil.
type ProfileRequest struct {
	DisplayName *string
	DMPolicy    *string
}

// UpdateProfile changes the caller's display name or DM policy. It
// returns a *validate.Error for a bad field.
func (s *Service) UpdateProfile(ctx context.Context, p Principal, req ProfileRequest) (User, error) {
	var update ProfileUpdate
	if req.DisplayName != nil {
		name, err := validate.DisplayName("display_name", *req.DisplayName)
		if err != nil {
			return User{}, err
		}
		update.DisplayName = &name
	}
	if req.DMPolicy != nil {
		if *req.DMPolicy != DMPolicyEveryone && *req.DMPolicy != DMPolicySharedGuilds {
			return User{}, &validate.Error{Field: "dm_policy", Message: "must be everyone or shared_guilds"}
		}
		update.DMPolicy = req.DMPolicy
	}
	return s.store.UpdateProfile(ctx, p.UserID, update)
}

// ChangePassword replaces the caller's password after checking the
// current one, and ends every other session. It returns
// ErrInvalidCredentials for a wrong current password.
func (s *Service) ChangePassword(ctx context.Context, p Principal, current, next string) error {
	if err := validate.Password("new_password", next); err != nil {
		return err
	}
	if err := s.checkPassword(ctx, p.UserID, "current_password", current); err != nil {
		return err
	}

	hash, err := s.passwords.Hash(ctx, []byte(next))
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	if err := s.store.SetPasswordHash(ctx, p.UserID, hash); err != nil {
		return err
	}
	revoked, err := s.store.RevokeOtherSessions(ctx, p.UserID, p.SessionID, "password_changed", s.now())
	if err != nil {
		return err
	}
	s.sessions.invalidate(revoked...)
	s.security.Info("password changed", "user_id", p.UserID, "session_id", p.SessionID, "sessions_revoked", len(revoked))
	return nil
}

// DeleteAccount deletes the caller's account after checking the password:
// the user leaves every guild, every session ends at once, and the
// profile reads as a deleted user. It returns ErrInvalidCredentials for a
// wrong password, or the error of Departures.CheckDeparture, such as the
// one for a guild owner.
func (s *Service) DeleteAccount(ctx context.Context, p Principal, password string) error {
	if err := s.checkPassword(ctx, p.UserID, "password", password); err != nil {
		return err
	}
	if d := s.opts.Departures; d != nil {
		if err := d.CheckDeparture(ctx, p.UserID); err != nil {
			return err
		}
		if err := d.Depart(ctx, p.UserID); err != nil {
			return err
		}
	}
	revoked, err := s.store.DeleteUser(ctx, p.UserID, s.now())
	if err != nil {
		return err
	}
	s.sessions.invalidate(revoked...)
	s.security.Info("account deleted", "user_id", p.UserID, "sessions_revoked", len(revoked))
	return nil
}

// checkPassword confirms the caller's password before a sensitive
// change. Wrong guesses count toward a throttle keyed by the account, so a
// stolen access token cannot be used to guess the password without limit.
func (s *Service) checkPassword(ctx context.Context, userID, field, password string) error {
	if password == "" {
		return &validate.Error{Field: field, Message: "must not be empty"}
	}
	key := "user-id:" + userID
	if wait := s.byAccount.Check(key); wait > 0 {
		return &ThrottledError{RetryAfter: wait, Scope: "user"}
	}

	hash, err := s.store.PasswordHash(ctx, userID)
	if err != nil {
		return err
	}
	ok, _, err := s.passwords.Verify(ctx, []byte(password), hash)
	if err != nil {
		return fmt.Errorf("verify password of user %s: %w", userID, err)
	}
	if !ok {
		s.byAccount.Fail(key)
		return ErrInvalidCredentials
	}
	s.byAccount.Reset(key)
	return nil
}
