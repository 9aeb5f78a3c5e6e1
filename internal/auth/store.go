package auth

import (
	"context"
	"time"
)

// User is an account. A deleted account keeps its id so messages can
// still name their author; its public fields then read as a deleted user.
type User struct {
	ID          string
	Username    string
	DisplayName string
	IsAdmin     bool
	DMPolicy    string
	CreatedAt   time.Time
	DeletedAt   time.Time // zero while the account exists
}

// Deleted reports whether the account was deleted.
func (u User) Deleted() bool { return !u.DeletedAt.IsZero() }

// DM policies: who may open a direct message with a user.
const (
	DMPolicyEveryone     = "everyone"
	DMPolicySharedGuilds = "shared_guilds"
)

// Session is one login of one device.
type Session struct {
	ID         string
	UserID     string
	DeviceID   string
	DeviceName string
	UserAgent  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	LastIP     string
	RevokedAt  time.Time // zero while the session is active
}

// RefreshToken is the stored form of a refresh token: its SHA-256 hash,
// never the token itself.
type RefreshToken struct {
	Hash      []byte
	SessionID string
	CreatedAt time.Time
	ExpiresAt time.Time

	// Set once the token has been exchanged: when, and the signing key and
	// id of the access token issued for it, so a retry inside the grace
	// window can be answered with the same pair.
	RotatedAt   time.Time
	AccessKeyID string
	AccessJTI   string
}

// NewUser is an account to create.
type NewUser struct {
	ID           string
	Username     string
	UsernameKey  string
	DisplayName  string
	PasswordHash string
	IsAdmin      bool
	CreatedAt    time.Time

	// RegistrationTokenHash, when set, must name a usable registration
	// token, whose use count the creation consumes.
	RegistrationTokenHash []byte

	// ReleaseDeletedBefore lets the name of an account deleted before this
	// time be taken: the quarantine of deleted usernames ends then.
	ReleaseDeletedBefore time.Time
}

// ProfileUpdate changes the fields that are not nil.
type ProfileUpdate struct {
	DisplayName *string
	DMPolicy    *string
}

// Rotation exchanges a refresh token for its successor.
type Rotation struct {
	OldHash     []byte
	Successor   RefreshToken
	RotatedAt   time.Time
	AccessKeyID string
	AccessJTI   string
	SeenIP      string
}

// Store persists accounts, sessions and refresh tokens. The database
// package implements it; its conformance tests run on SQLite and
// PostgreSQL.
type Store interface {
	// CreateUser stores a new account. It returns ErrUsernameTaken when the
	// name's key is held by an account that exists or is still in
	// quarantine, and ErrInvalidRegistrationToken when a token was required
	// and is unknown, expired or used up.
	CreateUser(ctx context.Context, u NewUser) (User, error)

	// User returns an account by id, deleted ones included. ErrNotFound.
	User(ctx context.Context, id string) (User, error)

	// UserCredentials returns a live account and its password hash by
	// lower-cased name. ErrNotFound.
	UserCredentials(ctx context.Context, usernameKey string) (User, string, error)

	// PasswordHash returns a live account's password hash. ErrNotFound.
	PasswordHash(ctx context.Context, userID string) (string, error)

	// SetPasswordHash replaces a live account's password hash. ErrNotFound.
	SetPasswordHash(ctx context.Context, userID, hash string) error

	// UpdateProfile applies u to a live account. ErrNotFound.
	UpdateProfile(ctx context.Context, userID string, u ProfileUpdate) (User, error)

	// DeleteUser marks an account deleted, clears its password hash and
	// revokes every session, in one transaction. It returns the revoked
	// session ids, or ErrNotFound for an unknown or deleted account.
	DeleteUser(ctx context.Context, userID string, at time.Time) ([]string, error)

	// CreateSession stores a session and its first refresh token. A live
	// session of the same user and device is revoked in the same
	// transaction; its id is returned. ErrNotFound when the user is
	// deleted, even by a deletion that races the login.
	CreateSession(ctx context.Context, s Session, token RefreshToken) (replaced []string, err error)

	// Session returns a session by id, revoked ones included. ErrNotFound.
	Session(ctx context.Context, id string) (Session, error)

	// Sessions lists a user's live sessions, oldest first.
	Sessions(ctx context.Context, userID string) ([]Session, error)

	// TouchSession records that a session was used now from ip.
	TouchSession(ctx context.Context, id string, at time.Time, ip string) error

	// RevokeSession revokes a live session of userID. ErrNotFound when the
	// session is not the user's or is already revoked.
	RevokeSession(ctx context.Context, userID, sessionID, reason string, at time.Time) error

	// RevokeOtherSessions revokes every live session of userID except
	// keep, and returns their ids.
	RevokeOtherSessions(ctx context.Context, userID, keep, reason string, at time.Time) ([]string, error)

	// RefreshToken returns a stored refresh token by hash. ErrNotFound.
	RefreshToken(ctx context.Context, hash []byte) (RefreshToken, error)

	// RotateRefreshToken marks OldHash rotated and stores Successor, in one
	// transaction. It returns ErrAlreadyRotated when OldHash was rotated
	// first by a concurrent request, and ErrNotFound when it is unknown.
	RotateRefreshToken(ctx context.Context, r Rotation) error

	// CreateRegistrationToken stores a registration token by hash.
	// expiresAt zero means it never expires; maxUses 0 means unlimited.
	CreateRegistrationToken(ctx context.Context, hash []byte, createdAt, expiresAt time.Time, maxUses int) error
}
