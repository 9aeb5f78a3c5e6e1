package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/openguild/openguild/internal/auth"
	"github.com/openguild/openguild/internal/config"
	"github.com/openguild/openguild/internal/keys"
	"github.com/openguild/openguild/internal/store"
)

// eventKeyRetention is how long a retired event-signing key keeps
// verifying. Federation will rely on it for events signed before a
// rotation.
const eventKeyRetention = 365 * 24 * time.Hour

// Clock supplies the time to every part that reads it. Tests pass one
// they can move forward.
type Clock interface{ Now() time.Time }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Auth is the account machinery shared by the server and the admin
// commands.
type Auth struct {
	Service *auth.Service
	Keyring *keys.Keyring
}

// NewAuth loads the keyring (creating the first keys on a new database),
// the refresh-token key and the password hasher, and returns the account
// service over db.
// clock may be nil for the system clock; departures and onRevoke may be
// nil where no account is deleted and no gateway runs.
func NewAuth(ctx context.Context, cfg config.Config, db *store.DB, logger *slog.Logger, reg prometheus.Registerer, clock Clock, departures auth.Departures, onRevoke func([]string)) (*Auth, error) {
	if clock == nil {
		clock = systemClock{}
	}
	keyring := keys.New(db.SigningKeys(), keys.Options{Clock: clock, Retention: map[keys.Purpose]time.Duration{
		keys.PurposeAccessToken:  auth.AccessKeyRetention(cfg.Auth.AccessTokenLifetime),
		keys.PurposeEventSigning: eventKeyRetention,
	}})
	if err := keyring.EnsureActive(ctx, keys.PurposeAccessToken, keys.PurposeEventSigning); err != nil {
		return nil, fmt.Errorf("prepare signing keys: %w", err)
	}

	refreshKey, err := refreshTokenKey(ctx, db)
	if err != nil {
		return nil, err
	}

	tokens, err := auth.NewAccessTokens(keyring, auth.AccessTokenOptions{
		Issuer: cfg.ServerName, Lifetime: cfg.Auth.AccessTokenLifetime, Clock: clock,
	})
	if err != nil {
		return nil, err
	}
	hasher, err := auth.NewPasswordHasher(auth.PasswordHasherOptions{
		Params: auth.PasswordParams{
			Memory:      uint32(cfg.Auth.PasswordMemoryKiB),
			Iterations:  uint32(cfg.Auth.PasswordIterations),
			Parallelism: uint8(cfg.Auth.PasswordParallelism),
			SaltLength:  auth.DefaultPasswordParams().SaltLength,
			KeyLength:   auth.DefaultPasswordParams().KeyLength,
		},
		MaxConcurrent: cfg.Auth.PasswordMaxConcurrent,
	})
	if err != nil {
		return nil, err
	}

	service, err := auth.NewService(db.Accounts(), tokens, hasher, auth.Options{
		Registration:            cfg.Registration,
		RefreshTokenLifetime:    cfg.Auth.RefreshTokenLifetime,
		RefreshGrace:            cfg.Auth.RefreshGrace,
		UsernameQuarantine:      cfg.Auth.UsernameQuarantine,
		LoginFailuresPerAccount: cfg.Auth.LoginFailuresPerAccount,
		LoginFailuresPerIP:      cfg.Auth.LoginFailuresPerIP,
		LoginFailureWindow:      cfg.Auth.LoginFailureWindow,
		LoginBaseDelay:          cfg.Auth.LoginBaseDelay,
		LoginMaxDelay:           cfg.Auth.LoginMaxDelay,
		RefreshKey:              refreshKey,
		Clock:                   clock,
		Departures:              departures,
		OnRevoke:                onRevoke,
	}, logger, reg)
	if err != nil {
		return nil, err
	}
	return &Auth{Service: service, Keyring: keyring}, nil
}

// refreshTokenKey returns the deployment's refresh-token HMAC key,
// creating it on first start. It lives in the database so every node
// derives the same successor tokens.
func refreshTokenKey(ctx context.Context, db *store.DB) ([]byte, error) {
	var fresh [32]byte
	rand.Read(fresh[:])
	stored, err := db.ClaimServerInfo(ctx, "refresh_token_key", base64.StdEncoding.EncodeToString(fresh[:]))
	if err != nil {
		return nil, err
	}
	key, err := base64.StdEncoding.DecodeString(stored)
	if err != nil || len(key) < 32 {
		return nil, fmt.Errorf("stored refresh token key is corrupt (server_info key refresh_token_key)")
	}
	return key, nil
}
