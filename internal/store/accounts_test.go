package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openguild/openguild/internal/auth"
	"github.com/openguild/openguild/internal/store"
	"github.com/openguild/openguild/internal/storetest"
)

// accountsRaceCallers is the number of goroutines in the race tests.
const accountsRaceCallers = 8

// accountsRaceTimeout bounds each race test, so a deadlock fails the test
// instead of hanging it.
const accountsRaceTimeout = 30 * time.Second

// refreshTokenLifetime is the lifetime of the refresh tokens the tests
// store. The store does not interpret it.
const refreshTokenLifetime = 30 * 24 * time.Hour

// accountsEpoch is when the tests' first account is created. It has a
// millisecond part, so a store that drops milliseconds fails.
func accountsEpoch() time.Time {
	return time.Date(2030, time.January, 2, 3, 4, 5, 678_000_000, time.UTC)
}

// unnormalizedTime returns t plus 123,456 ns, in a zone other than UTC.
// The store keeps whole milliseconds in UTC, so it must read the result
// back as t when t is in UTC with no sub-millisecond part.
func unnormalizedTime(t time.Time) time.Time {
	return t.Add(123_456 * time.Nanosecond).In(time.FixedZone("UTC+2", 2*60*60))
}

// accountsFixture is the account store of one test database, with
// helpers that fail the test when a setup step fails.
type accountsFixture struct {
	t     *testing.T
	db    *store.DB
	store auth.Store
}

func newAccountsFixture(t *testing.T, db *store.DB) *accountsFixture {
	t.Helper()
	return &accountsFixture{t: t, db: db, store: db.Accounts()}
}

func (f *accountsFixture) ctx() context.Context { return f.t.Context() }

// newUser returns a request for an account created at accountsEpoch. The
// username key is the lower-cased name, as validate.Username derives it.
func (f *accountsFixture) newUser(id, username string) auth.NewUser {
	return auth.NewUser{
		ID:           id,
		Username:     username,
		UsernameKey:  strings.ToLower(username),
		DisplayName:  username,
		PasswordHash: "hash-of-" + id,
		CreatedAt:    accountsEpoch(),
	}
}

func (f *accountsFixture) createUser(id, username string) auth.User {
	f.t.Helper()
	u, err := f.store.CreateUser(f.ctx(), f.newUser(id, username))
	if err != nil {
		f.t.Fatalf("CreateUser %s (%s): %v", id, username, err)
	}
	return u
}

func (f *accountsFixture) user(id string) auth.User {
	f.t.Helper()
	u, err := f.store.User(f.ctx(), id)
	if err != nil {
		f.t.Fatalf("User %s: %v", id, err)
	}
	return u
}

func (f *accountsFixture) deleteUser(id string, at time.Time) []string {
	f.t.Helper()
	revoked, err := f.store.DeleteUser(f.ctx(), id, at)
	if err != nil {
		f.t.Fatalf("DeleteUser %s: %v", id, err)
	}
	return revoked
}

// newSession returns a session of userID on deviceID, created and last
// seen at createdAt.
func (f *accountsFixture) newSession(id, userID, deviceID string, createdAt time.Time) auth.Session {
	return auth.Session{
		ID:         id,
		UserID:     userID,
		DeviceID:   deviceID,
		DeviceName: "Device " + deviceID,
		UserAgent:  "openguild-test/1.0",
		CreatedAt:  createdAt,
		LastSeenAt: createdAt,
		LastIP:     "192.0.2.1",
	}
}

// firstRefreshToken returns the refresh token stored with session s.
func (f *accountsFixture) firstRefreshToken(s auth.Session) auth.RefreshToken {
	return auth.RefreshToken{
		Hash:      tokenHash("refresh-" + s.ID),
		SessionID: s.ID,
		CreatedAt: s.CreatedAt,
		ExpiresAt: s.CreatedAt.Add(refreshTokenLifetime),
	}
}

// createSession stores s with its first refresh token and returns the ids
// of the sessions it replaced.
func (f *accountsFixture) createSession(s auth.Session) []string {
	f.t.Helper()
	replaced, err := f.store.CreateSession(f.ctx(), s, f.firstRefreshToken(s))
	if err != nil {
		f.t.Fatalf("CreateSession %s: %v", s.ID, err)
	}
	return replaced
}

func (f *accountsFixture) session(id string) auth.Session {
	f.t.Helper()
	s, err := f.store.Session(f.ctx(), id)
	if err != nil {
		f.t.Fatalf("Session %s: %v", id, err)
	}
	return s
}

// liveSessionIDs returns the ids that Sessions lists for userID, in its
// order.
func (f *accountsFixture) liveSessionIDs(userID string) []string {
	f.t.Helper()
	sessions, err := f.store.Sessions(f.ctx(), userID)
	if err != nil {
		f.t.Fatalf("Sessions %s: %v", userID, err)
	}
	ids := make([]string, 0, len(sessions))
	for _, s := range sessions {
		ids = append(ids, s.ID)
	}
	return ids
}

func (f *accountsFixture) refreshToken(hash []byte) auth.RefreshToken {
	f.t.Helper()
	rt, err := f.store.RefreshToken(f.ctx(), hash)
	if err != nil {
		f.t.Fatalf("RefreshToken %x: %v", hash, err)
	}
	return rt
}

// tokenHash returns the SHA-256 hash of name, the form in which the store
// keeps refresh and registration tokens.
func tokenHash(name string) []byte {
	sum := sha256.Sum256([]byte(name))
	return sum[:]
}

// assertUTCMillis checks that a time read from the store is in UTC and
// has no sub-millisecond part.
func assertUTCMillis(t *testing.T, field string, got time.Time) {
	t.Helper()
	if got.Location() != time.UTC {
		t.Errorf("%s is in zone %s, want UTC", field, got.Location())
	}
	if got.Nanosecond()%int(time.Millisecond) != 0 {
		t.Errorf("%s = %s has a sub-millisecond part", field, got.Format(time.RFC3339Nano))
	}
}

// assertRefreshToken compares every field of a refresh token.
func assertRefreshToken(t *testing.T, got, want auth.RefreshToken) {
	t.Helper()
	if !bytes.Equal(got.Hash, want.Hash) {
		t.Errorf("Hash = %x, want %x", got.Hash, want.Hash)
	}
	if got.SessionID != want.SessionID {
		t.Errorf("SessionID = %q, want %q", got.SessionID, want.SessionID)
	}
	if !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("CreatedAt = %s, want %s", got.CreatedAt, want.CreatedAt)
	}
	if !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Errorf("ExpiresAt = %s, want %s", got.ExpiresAt, want.ExpiresAt)
	}
	if !got.RotatedAt.Equal(want.RotatedAt) {
		t.Errorf("RotatedAt = %s, want %s", got.RotatedAt, want.RotatedAt)
	}
	if got.AccessKeyID != want.AccessKeyID {
		t.Errorf("AccessKeyID = %q, want %q", got.AccessKeyID, want.AccessKeyID)
	}
	if got.AccessJTI != want.AccessJTI {
		t.Errorf("AccessJTI = %q, want %q", got.AccessJTI, want.AccessJTI)
	}
}

func TestAccountsUserRoundTrip(t *testing.T) {
	cases := []struct {
		name    string
		isAdmin bool
	}{
		{"member account", false},
		{"admin account", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, db *store.DB) {
				f := newAccountsFixture(t, db)
				req := f.newUser("user-1", "Alice")
				req.DisplayName = "Alice Liddell"
				req.PasswordHash = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"
				req.IsAdmin = tc.isAdmin
				req.CreatedAt = unnormalizedTime(accountsEpoch())
				want := auth.User{
					ID:          "user-1",
					Username:    "Alice",
					DisplayName: "Alice Liddell",
					IsAdmin:     tc.isAdmin,
					DMPolicy:    auth.DMPolicyEveryone,
					CreatedAt:   accountsEpoch(),
				}

				created, err := f.store.CreateUser(f.ctx(), req)
				if err != nil {
					t.Fatalf("CreateUser: %v", err)
				}
				assertUTCMillis(t, "CreateUser CreatedAt", created.CreatedAt)
				if created != want {
					t.Errorf("CreateUser returned %+v, want %+v", created, want)
				}

				byID := f.user("user-1")
				assertUTCMillis(t, "User CreatedAt", byID.CreatedAt)
				if byID != want {
					t.Errorf("User returned %+v, want %+v", byID, want)
				}

				byName, hash, err := f.store.UserCredentials(f.ctx(), "alice")
				if err != nil {
					t.Fatalf("UserCredentials: %v", err)
				}
				if byName != want {
					t.Errorf("UserCredentials returned %+v, want %+v", byName, want)
				}
				if hash != req.PasswordHash {
					t.Errorf("UserCredentials returned hash %q, want %q", hash, req.PasswordHash)
				}

				hash, err = f.store.PasswordHash(f.ctx(), "user-1")
				if err != nil {
					t.Fatalf("PasswordHash: %v", err)
				}
				if hash != req.PasswordHash {
					t.Errorf("PasswordHash returned %q, want %q", hash, req.PasswordHash)
				}
			})
		})
	}
}

func TestAccountsUsernameTaken(t *testing.T) {
	cases := []struct {
		name     string
		username string
	}{
		{"same spelling", "Alice"},
		{"lower case", "alice"},
		{"upper case", "ALICE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, db *store.DB) {
				f := newAccountsFixture(t, db)
				f.createUser("user-1", "Alice")

				_, err := f.store.CreateUser(f.ctx(), f.newUser("user-2", tc.username))
				if !errors.Is(err, auth.ErrUsernameTaken) {
					t.Fatalf("CreateUser %q returned %v, want ErrUsernameTaken", tc.username, err)
				}

				if _, err := f.store.User(f.ctx(), "user-2"); !errors.Is(err, auth.ErrNotFound) {
					t.Errorf("User of the rejected account returned %v, want ErrNotFound", err)
				}
				holder, _, err := f.store.UserCredentials(f.ctx(), "alice")
				if err != nil {
					t.Fatalf("UserCredentials: %v", err)
				}
				if holder.ID != "user-1" {
					t.Errorf("name alice belongs to %s, want user-1", holder.ID)
				}
			})
		})
	}
}

func TestAccountsConcurrentCreateSameUsername(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newAccountsFixture(t, db)
		ctx, cancel := context.WithTimeout(f.ctx(), accountsRaceTimeout)
		defer cancel()

		errs := make([]error, accountsRaceCallers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range accountsRaceCallers {
			req := f.newUser(fmt.Sprintf("user-%d", i), "Alice")
			wg.Go(func() {
				<-start
				_, errs[i] = f.store.CreateUser(ctx, req)
			})
		}
		close(start)
		wg.Wait()

		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Errorf("callers %d and %d both created the name", winner, i)
			case err == nil:
				winner = i
			case !errors.Is(err, auth.ErrUsernameTaken):
				t.Errorf("caller %d got %v, want nil or ErrUsernameTaken", i, err)
			}
		}
		if winner < 0 {
			t.Fatal("no caller created the name")
		}

		holder, _, err := f.store.UserCredentials(f.ctx(), "alice")
		if err != nil {
			t.Fatalf("UserCredentials: %v", err)
		}
		if want := fmt.Sprintf("user-%d", winner); holder.ID != want {
			t.Errorf("name alice belongs to %s, want the winner %s", holder.ID, want)
		}
	})
}

func TestAccountsUnknownIDsNotFound(t *testing.T) {
	cases := []struct {
		name string
		call func(ctx context.Context, s auth.Store) error
	}{
		{"User", func(ctx context.Context, s auth.Store) error {
			_, err := s.User(ctx, "user-missing")
			return err
		}},
		{"Session", func(ctx context.Context, s auth.Store) error {
			_, err := s.Session(ctx, "session-missing")
			return err
		}},
		{"RefreshToken", func(ctx context.Context, s auth.Store) error {
			_, err := s.RefreshToken(ctx, tokenHash("refresh-missing"))
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, db *store.DB) {
				err := tc.call(t.Context(), db.Accounts())
				if !errors.Is(err, auth.ErrNotFound) {
					t.Errorf("%s of an unknown id returned %v, want ErrNotFound", tc.name, err)
				}
			})
		})
	}
}

// TestAccountsMissingAccountNotFound checks the methods that act only on
// live accounts against an id that never existed and a deleted account.
func TestAccountsMissingAccountNotFound(t *testing.T) {
	targets := []struct {
		name        string
		userID      string
		usernameKey string
		deleteFirst bool
	}{
		{"unknown account", "user-missing", "nobody", false},
		{"deleted account", "user-1", "alice", true},
	}
	calls := []struct {
		name string
		call func(ctx context.Context, s auth.Store, userID, usernameKey string) error
	}{
		{"UserCredentials", func(ctx context.Context, s auth.Store, _, usernameKey string) error {
			_, _, err := s.UserCredentials(ctx, usernameKey)
			return err
		}},
		{"PasswordHash", func(ctx context.Context, s auth.Store, userID, _ string) error {
			_, err := s.PasswordHash(ctx, userID)
			return err
		}},
		{"SetPasswordHash", func(ctx context.Context, s auth.Store, userID, _ string) error {
			return s.SetPasswordHash(ctx, userID, "new-hash")
		}},
		{"UpdateProfile", func(ctx context.Context, s auth.Store, userID, _ string) error {
			name := "New Name"
			_, err := s.UpdateProfile(ctx, userID, auth.ProfileUpdate{DisplayName: &name})
			return err
		}},
		{"DeleteUser", func(ctx context.Context, s auth.Store, userID, _ string) error {
			_, err := s.DeleteUser(ctx, userID, accountsEpoch().Add(2*time.Hour))
			return err
		}},
	}
	for _, target := range targets {
		for _, call := range calls {
			t.Run(call.name+" of "+target.name, func(t *testing.T) {
				storetest.Run(t, func(t *testing.T, db *store.DB) {
					f := newAccountsFixture(t, db)
					f.createUser("user-1", "Alice")
					if target.deleteFirst {
						f.deleteUser("user-1", accountsEpoch().Add(time.Hour))
					}

					err := call.call(f.ctx(), f.store, target.userID, target.usernameKey)
					if !errors.Is(err, auth.ErrNotFound) {
						t.Errorf("%s returned %v, want ErrNotFound", call.name, err)
					}
				})
			})
		}
	}
}

func TestAccountsUpdateProfile(t *testing.T) {
	newName := "Alice Liddell"
	sharedGuilds := auth.DMPolicySharedGuilds
	cases := []struct {
		name            string
		update          auth.ProfileUpdate
		wantDisplayName string
		wantDMPolicy    string
	}{
		{"no fields", auth.ProfileUpdate{}, "Alice", auth.DMPolicyEveryone},
		{"display name only", auth.ProfileUpdate{DisplayName: &newName}, newName, auth.DMPolicyEveryone},
		{"DM policy only", auth.ProfileUpdate{DMPolicy: &sharedGuilds}, "Alice", sharedGuilds},
		{"both fields", auth.ProfileUpdate{DisplayName: &newName, DMPolicy: &sharedGuilds}, newName, sharedGuilds},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, db *store.DB) {
				f := newAccountsFixture(t, db)
				want := f.createUser("user-1", "Alice")
				want.DisplayName = tc.wantDisplayName
				want.DMPolicy = tc.wantDMPolicy
				other := f.createUser("user-2", "Bob")

				updated, err := f.store.UpdateProfile(f.ctx(), "user-1", tc.update)
				if err != nil {
					t.Fatalf("UpdateProfile: %v", err)
				}
				if updated != want {
					t.Errorf("UpdateProfile returned %+v, want %+v", updated, want)
				}
				if got := f.user("user-1"); got != want {
					t.Errorf("User after UpdateProfile returned %+v, want %+v", got, want)
				}
				if got := f.user("user-2"); got != other {
					t.Errorf("other account changed to %+v, want %+v", got, other)
				}
			})
		})
	}
}

func TestAccountsSetPasswordHash(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newAccountsFixture(t, db)
		f.createUser("user-1", "Alice")
		f.createUser("user-2", "Bob")

		if err := f.store.SetPasswordHash(f.ctx(), "user-1", "replacement-hash"); err != nil {
			t.Fatalf("SetPasswordHash: %v", err)
		}

		hash, err := f.store.PasswordHash(f.ctx(), "user-1")
		if err != nil {
			t.Fatalf("PasswordHash: %v", err)
		}
		if hash != "replacement-hash" {
			t.Errorf("PasswordHash returned %q, want replacement-hash", hash)
		}

		_, hash, err = f.store.UserCredentials(f.ctx(), "alice")
		if err != nil {
			t.Fatalf("UserCredentials: %v", err)
		}
		if hash != "replacement-hash" {
			t.Errorf("UserCredentials returned hash %q, want replacement-hash", hash)
		}

		hash, err = f.store.PasswordHash(f.ctx(), "user-2")
		if err != nil {
			t.Fatalf("PasswordHash of other account: %v", err)
		}
		if hash != "hash-of-user-2" {
			t.Errorf("other account's hash changed to %q, want hash-of-user-2", hash)
		}
	})
}

func TestAccountsRegistrationTokenUses(t *testing.T) {
	registerAt := accountsEpoch()
	cases := []struct {
		name        string
		maxUses     int
		expiresAt   time.Time
		presented   []byte // nil presents the stored token
		attempts    int
		wantCreated int // the first wantCreated attempts succeed
	}{
		{name: "limited token admits max uses", maxUses: 2, attempts: 3, wantCreated: 2},
		{name: "unlimited token admits every use", attempts: 3, wantCreated: 3},
		{name: "unexpired token admits use", expiresAt: registerAt.Add(time.Millisecond), attempts: 1, wantCreated: 1},
		{name: "expired token rejected", expiresAt: registerAt.Add(-time.Millisecond), attempts: 1, wantCreated: 0},
		{name: "expired limited token rejected", maxUses: 5, expiresAt: registerAt.Add(-time.Hour), attempts: 1, wantCreated: 0},
		{name: "unknown token rejected", presented: tokenHash("registration-unknown"), attempts: 1, wantCreated: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, db *store.DB) {
				f := newAccountsFixture(t, db)
				stored := tokenHash("registration-1")
				err := f.store.CreateRegistrationToken(f.ctx(), stored, registerAt.Add(-24*time.Hour), tc.expiresAt, tc.maxUses)
				if err != nil {
					t.Fatalf("CreateRegistrationToken: %v", err)
				}
				presented := stored
				if tc.presented != nil {
					presented = tc.presented
				}

				for i := range tc.attempts {
					req := f.newUser(fmt.Sprintf("user-%d", i), fmt.Sprintf("member%d", i))
					req.CreatedAt = registerAt
					req.RegistrationTokenHash = presented

					_, err := f.store.CreateUser(f.ctx(), req)
					if i < tc.wantCreated {
						if err != nil {
							t.Errorf("attempt %d: CreateUser returned %v, want success", i, err)
						}
						continue
					}
					if !errors.Is(err, auth.ErrInvalidRegistrationToken) {
						t.Errorf("attempt %d: CreateUser returned %v, want ErrInvalidRegistrationToken", i, err)
					}
					if _, err := f.store.User(f.ctx(), req.ID); !errors.Is(err, auth.ErrNotFound) {
						t.Errorf("attempt %d: User of the rejected account returned %v, want ErrNotFound", i, err)
					}
					if _, _, err := f.store.UserCredentials(f.ctx(), req.UsernameKey); !errors.Is(err, auth.ErrNotFound) {
						t.Errorf("attempt %d: UserCredentials of the rejected name returned %v, want ErrNotFound", i, err)
					}
				}
			})
		})
	}
}

// TestAccountsRegistrationTokenKeptOnFailedCreate checks that a creation
// rejected for its name rolls back the token use it consumed.
func TestAccountsRegistrationTokenKeptOnFailedCreate(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newAccountsFixture(t, db)
		f.createUser("user-1", "Alice")
		token := tokenHash("registration-1")
		if err := f.store.CreateRegistrationToken(f.ctx(), token, accountsEpoch(), time.Time{}, 1); err != nil {
			t.Fatalf("CreateRegistrationToken: %v", err)
		}

		duplicate := f.newUser("user-2", "ALICE")
		duplicate.RegistrationTokenHash = token
		if _, err := f.store.CreateUser(f.ctx(), duplicate); !errors.Is(err, auth.ErrUsernameTaken) {
			t.Fatalf("CreateUser with a taken name returned %v, want ErrUsernameTaken", err)
		}

		free := f.newUser("user-3", "Bob")
		free.RegistrationTokenHash = token
		if _, err := f.store.CreateUser(f.ctx(), free); err != nil {
			t.Fatalf("CreateUser after the failed attempt returned %v, want success because that attempt must not consume the token's only use", err)
		}

		extra := f.newUser("user-4", "Carol")
		extra.RegistrationTokenHash = token
		if _, err := f.store.CreateUser(f.ctx(), extra); !errors.Is(err, auth.ErrInvalidRegistrationToken) {
			t.Errorf("CreateUser beyond max uses returned %v, want ErrInvalidRegistrationToken", err)
		}
	})
}

func TestAccountsRegistrationTokenConcurrentUses(t *testing.T) {
	const maxUses = 3
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newAccountsFixture(t, db)
		token := tokenHash("registration-1")
		if err := f.store.CreateRegistrationToken(f.ctx(), token, accountsEpoch(), time.Time{}, maxUses); err != nil {
			t.Fatalf("CreateRegistrationToken: %v", err)
		}
		ctx, cancel := context.WithTimeout(f.ctx(), accountsRaceTimeout)
		defer cancel()

		errs := make([]error, accountsRaceCallers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range accountsRaceCallers {
			req := f.newUser(fmt.Sprintf("user-%d", i), fmt.Sprintf("member%d", i))
			req.RegistrationTokenHash = token
			wg.Go(func() {
				<-start
				_, errs[i] = f.store.CreateUser(ctx, req)
			})
		}
		close(start)
		wg.Wait()

		created := 0
		for i, err := range errs {
			switch {
			case err == nil:
				created++
			case !errors.Is(err, auth.ErrInvalidRegistrationToken):
				t.Errorf("caller %d got %v, want nil or ErrInvalidRegistrationToken", i, err)
			}
		}
		if created != maxUses {
			t.Errorf("%d accounts created with a token of %d uses, want %d", created, maxUses, maxUses)
		}
	})
}

func TestAccountsQuarantine(t *testing.T) {
	deletedAt := accountsEpoch().Add(24 * time.Hour)
	cases := []struct {
		name    string
		release time.Time
		wantErr error
	}{
		{"no release time keeps name", time.Time{}, auth.ErrUsernameTaken},
		{"release before deletion keeps name", deletedAt.Add(-time.Millisecond), auth.ErrUsernameTaken},
		{"release at deletion keeps name", deletedAt, auth.ErrUsernameTaken},
		{"release after deletion frees name", deletedAt.Add(time.Millisecond), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, db *store.DB) {
				f := newAccountsFixture(t, db)
				f.createUser("user-1", "Alice")
				f.deleteUser("user-1", deletedAt)

				req := f.newUser("user-2", "alice")
				req.CreatedAt = deletedAt.Add(48 * time.Hour)
				req.ReleaseDeletedBefore = tc.release
				_, err := f.store.CreateUser(f.ctx(), req)
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("CreateUser returned %v, want %v", err, tc.wantErr)
				}

				deleted := f.user("user-1")
				if !deleted.DeletedAt.Equal(deletedAt) {
					t.Errorf("deleted account's DeletedAt = %s, want %s", deleted.DeletedAt, deletedAt)
				}

				holder, _, err := f.store.UserCredentials(f.ctx(), "alice")
				if tc.wantErr != nil {
					if !errors.Is(err, auth.ErrNotFound) {
						t.Errorf("UserCredentials of the quarantined name returned %+v, %v, want ErrNotFound", holder, err)
					}
					return
				}
				if err != nil {
					t.Fatalf("UserCredentials of the released name: %v", err)
				}
				if holder.ID != "user-2" {
					t.Errorf("released name belongs to %s, want user-2", holder.ID)
				}
			})
		})
	}
}

func TestAccountsQuarantineReleaseSparesLiveAccount(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newAccountsFixture(t, db)
		f.createUser("user-1", "Alice")

		req := f.newUser("user-2", "alice")
		req.ReleaseDeletedBefore = accountsEpoch().Add(365 * 24 * time.Hour)
		if _, err := f.store.CreateUser(f.ctx(), req); !errors.Is(err, auth.ErrUsernameTaken) {
			t.Fatalf("CreateUser returned %v, want ErrUsernameTaken", err)
		}

		holder, _, err := f.store.UserCredentials(f.ctx(), "alice")
		if err != nil {
			t.Fatalf("UserCredentials: %v", err)
		}
		if holder.ID != "user-1" {
			t.Errorf("name alice belongs to %s, want user-1", holder.ID)
		}
	})
}

func TestAccountsDeleteUser(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newAccountsFixture(t, db)
		f.createUser("user-1", "Alice")
		f.createUser("user-2", "Bob")
		start := accountsEpoch()
		f.createSession(f.newSession("session-laptop", "user-1", "laptop", start))
		f.createSession(f.newSession("session-phone", "user-1", "phone", start.Add(time.Minute)))
		f.createSession(f.newSession("session-old", "user-1", "tablet", start.Add(2*time.Minute)))
		f.createSession(f.newSession("session-bob", "user-2", "laptop", start))
		oldRevokedAt := start.Add(3 * time.Minute)
		if err := f.store.RevokeSession(f.ctx(), "user-1", "session-old", "logout", oldRevokedAt); err != nil {
			t.Fatalf("RevokeSession: %v", err)
		}

		deletedAt := start.Add(time.Hour)
		revoked := f.deleteUser("user-1", deletedAt)

		if got, want := slices.Sorted(slices.Values(revoked)), []string{"session-laptop", "session-phone"}; !slices.Equal(got, want) {
			t.Errorf("DeleteUser revoked %v, want %v", got, want)
		}
		for _, id := range []string{"session-laptop", "session-phone"} {
			if got := f.session(id).RevokedAt; !got.Equal(deletedAt) {
				t.Errorf("session %s RevokedAt = %s, want the deletion time %s", id, got, deletedAt)
			}
		}
		if got := f.session("session-old").RevokedAt; !got.Equal(oldRevokedAt) {
			t.Errorf("earlier revoked session's RevokedAt changed to %s, want %s", got, oldRevokedAt)
		}
		if got := f.session("session-bob").RevokedAt; !got.IsZero() {
			t.Errorf("other account's session revoked at %s, want live", got)
		}
		if got := f.liveSessionIDs("user-1"); len(got) != 0 {
			t.Errorf("Sessions of the deleted account listed %v, want none", got)
		}

		deleted := f.user("user-1")
		if !deleted.Deleted() {
			t.Errorf("User returned %+v, want it marked deleted", deleted)
		}
		if !deleted.DeletedAt.Equal(deletedAt) {
			t.Errorf("DeletedAt = %s, want %s", deleted.DeletedAt, deletedAt)
		}
		assertUTCMillis(t, "DeletedAt", deleted.DeletedAt)

		var storedHash string
		err := db.Reader().QueryRowContext(f.ctx(), `SELECT password_hash FROM users WHERE id = $1`, "user-1").Scan(&storedHash)
		if err != nil {
			t.Fatalf("read stored password hash: %v", err)
		}
		if storedHash != "" {
			t.Errorf("deleted account keeps password hash %q, want it cleared", storedHash)
		}
		if f.user("user-2").Deleted() {
			t.Error("other account was marked deleted")
		}
	})
}

func TestAccountsSessionRoundTrip(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newAccountsFixture(t, db)
		f.createUser("user-1", "Alice")
		want := f.newSession("session-1", "user-1", "laptop", accountsEpoch())
		want.LastSeenAt = accountsEpoch().Add(time.Second)
		input := want
		input.CreatedAt = unnormalizedTime(want.CreatedAt)
		input.LastSeenAt = unnormalizedTime(want.LastSeenAt)

		replaced := f.createSession(input)
		if len(replaced) != 0 {
			t.Errorf("first session replaced %v, want none", replaced)
		}

		got := f.session("session-1")
		assertUTCMillis(t, "CreatedAt", got.CreatedAt)
		assertUTCMillis(t, "LastSeenAt", got.LastSeenAt)
		if got != want {
			t.Errorf("Session returned %+v, want %+v", got, want)
		}
	})
}

func TestAccountsSessionReplacement(t *testing.T) {
	cases := []struct {
		name         string
		secondUserID string
		secondDevice string
		wantReplaced bool
	}{
		{"same user and device replaced", "user-1", "laptop", true},
		{"other device of same user kept", "user-1", "phone", false},
		{"same device of other user kept", "user-2", "laptop", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, db *store.DB) {
				f := newAccountsFixture(t, db)
				f.createUser("user-1", "Alice")
				f.createUser("user-2", "Bob")
				f.createSession(f.newSession("session-first", "user-1", "laptop", accountsEpoch()))

				second := f.newSession("session-second", tc.secondUserID, tc.secondDevice, accountsEpoch().Add(time.Minute))
				replaced := f.createSession(second)

				firstRevokedAt := f.session("session-first").RevokedAt
				if !tc.wantReplaced {
					if len(replaced) != 0 {
						t.Errorf("CreateSession replaced %v, want none", replaced)
					}
					if !firstRevokedAt.IsZero() {
						t.Errorf("first session revoked at %s, want live", firstRevokedAt)
					}
					return
				}
				if want := []string{"session-first"}; !slices.Equal(replaced, want) {
					t.Errorf("CreateSession replaced %v, want %v", replaced, want)
				}
				if firstRevokedAt.IsZero() {
					t.Error("replaced session is still live")
				}
				if got := f.session("session-second").RevokedAt; !got.IsZero() {
					t.Errorf("new session revoked at %s, want live", got)
				}
				if got, want := f.liveSessionIDs("user-1"), []string{"session-second"}; !slices.Equal(got, want) {
					t.Errorf("Sessions listed %v, want %v", got, want)
				}
			})
		})
	}
}

func TestAccountsSessionsListLiveOldestFirst(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newAccountsFixture(t, db)
		f.createUser("user-1", "Alice")
		f.createUser("user-2", "Bob")
		f.createUser("user-3", "Carol")
		start := accountsEpoch()

		// Created out of order, so a store that lists in insertion order
		// fails.
		f.createSession(f.newSession("session-middle", "user-1", "phone", start.Add(time.Minute)))
		f.createSession(f.newSession("session-oldest", "user-1", "laptop", start))
		f.createSession(f.newSession("session-newest", "user-1", "tablet", start.Add(2*time.Minute)))
		f.createSession(f.newSession("session-revoked", "user-1", "desktop", start.Add(-time.Hour)))
		f.createSession(f.newSession("session-bob", "user-2", "laptop", start.Add(-time.Hour)))
		if err := f.store.RevokeSession(f.ctx(), "user-1", "session-revoked", "logout", start.Add(3*time.Minute)); err != nil {
			t.Fatalf("RevokeSession: %v", err)
		}

		want := []string{"session-oldest", "session-middle", "session-newest"}
		if got := f.liveSessionIDs("user-1"); !slices.Equal(got, want) {
			t.Errorf("Sessions listed %v, want %v", got, want)
		}
		if got := f.liveSessionIDs("user-3"); len(got) != 0 {
			t.Errorf("Sessions of an account without sessions listed %v, want none", got)
		}
	})
}

func TestAccountsTouchSession(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newAccountsFixture(t, db)
		f.createUser("user-1", "Alice")
		f.createSession(f.newSession("session-1", "user-1", "laptop", accountsEpoch()))
		untouched := f.newSession("session-2", "user-1", "phone", accountsEpoch())
		f.createSession(untouched)

		seenAt := accountsEpoch().Add(5 * time.Minute)
		if err := f.store.TouchSession(f.ctx(), "session-1", unnormalizedTime(seenAt), "2001:db8::7"); err != nil {
			t.Fatalf("TouchSession: %v", err)
		}

		got := f.session("session-1")
		if !got.LastSeenAt.Equal(seenAt) {
			t.Errorf("LastSeenAt = %s, want %s", got.LastSeenAt, seenAt)
		}
		assertUTCMillis(t, "LastSeenAt", got.LastSeenAt)
		if got.LastIP != "2001:db8::7" {
			t.Errorf("LastIP = %q, want 2001:db8::7", got.LastIP)
		}
		if !got.CreatedAt.Equal(accountsEpoch()) {
			t.Errorf("CreatedAt changed to %s, want %s", got.CreatedAt, accountsEpoch())
		}
		if got := f.session("session-2"); got != untouched {
			t.Errorf("other session changed to %+v, want %+v", got, untouched)
		}
	})
}

func TestAccountsRevokeSession(t *testing.T) {
	firstRevokedAt := accountsEpoch().Add(time.Minute)
	revokeAt := accountsEpoch().Add(time.Hour)
	cases := []struct {
		name          string
		revokingUser  string
		sessionID     string
		revokedBefore bool // the session was revoked at firstRevokedAt
		wantErr       error
	}{
		{"own live session revoked", "user-1", "session-1", false, nil},
		{"other user's session not found", "user-2", "session-1", false, auth.ErrNotFound},
		{"revoked session not found", "user-1", "session-1", true, auth.ErrNotFound},
		{"unknown session not found", "user-1", "session-missing", false, auth.ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, db *store.DB) {
				f := newAccountsFixture(t, db)
				f.createUser("user-1", "Alice")
				f.createUser("user-2", "Bob")
				f.createSession(f.newSession("session-1", "user-1", "laptop", accountsEpoch()))
				if tc.revokedBefore {
					if err := f.store.RevokeSession(f.ctx(), "user-1", "session-1", "logout", firstRevokedAt); err != nil {
						t.Fatalf("first RevokeSession: %v", err)
					}
				}

				err := f.store.RevokeSession(f.ctx(), tc.revokingUser, tc.sessionID, "logout", revokeAt)
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("RevokeSession returned %v, want %v", err, tc.wantErr)
				}

				var wantRevokedAt time.Time
				switch {
				case tc.revokedBefore:
					wantRevokedAt = firstRevokedAt
				case tc.wantErr == nil:
					wantRevokedAt = revokeAt
				}
				if got := f.session("session-1").RevokedAt; !got.Equal(wantRevokedAt) {
					t.Errorf("session-1 RevokedAt = %s, want %s", got, wantRevokedAt)
				}
			})
		})
	}
}

func TestAccountsRevokeOtherSessions(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newAccountsFixture(t, db)
		f.createUser("user-1", "Alice")
		f.createUser("user-2", "Bob")
		start := accountsEpoch()
		f.createSession(f.newSession("session-keep", "user-1", "laptop", start))
		f.createSession(f.newSession("session-phone", "user-1", "phone", start.Add(time.Minute)))
		f.createSession(f.newSession("session-tablet", "user-1", "tablet", start.Add(2*time.Minute)))
		f.createSession(f.newSession("session-old", "user-1", "desktop", start.Add(3*time.Minute)))
		f.createSession(f.newSession("session-bob", "user-2", "laptop", start))
		oldRevokedAt := start.Add(4 * time.Minute)
		if err := f.store.RevokeSession(f.ctx(), "user-1", "session-old", "logout", oldRevokedAt); err != nil {
			t.Fatalf("RevokeSession: %v", err)
		}

		revokeAt := start.Add(time.Hour)
		revoked, err := f.store.RevokeOtherSessions(f.ctx(), "user-1", "session-keep", "password_changed", revokeAt)
		if err != nil {
			t.Fatalf("RevokeOtherSessions: %v", err)
		}

		if got, want := slices.Sorted(slices.Values(revoked)), []string{"session-phone", "session-tablet"}; !slices.Equal(got, want) {
			t.Errorf("RevokeOtherSessions returned %v, want %v", got, want)
		}
		for _, id := range []string{"session-phone", "session-tablet"} {
			if got := f.session(id).RevokedAt; !got.Equal(revokeAt) {
				t.Errorf("session %s RevokedAt = %s, want %s", id, got, revokeAt)
			}
		}
		if got := f.session("session-old").RevokedAt; !got.Equal(oldRevokedAt) {
			t.Errorf("earlier revoked session's RevokedAt changed to %s, want %s", got, oldRevokedAt)
		}
		if got, want := f.liveSessionIDs("user-1"), []string{"session-keep"}; !slices.Equal(got, want) {
			t.Errorf("Sessions listed %v, want %v", got, want)
		}
		if got, want := f.liveSessionIDs("user-2"), []string{"session-bob"}; !slices.Equal(got, want) {
			t.Errorf("other account's Sessions listed %v, want %v", got, want)
		}
	})
}

func TestAccountsRefreshTokenRoundTrip(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newAccountsFixture(t, db)
		f.createUser("user-1", "Alice")
		s := f.newSession("session-1", "user-1", "laptop", accountsEpoch())
		want := f.firstRefreshToken(s)
		input := want
		input.CreatedAt = unnormalizedTime(want.CreatedAt)
		input.ExpiresAt = unnormalizedTime(want.ExpiresAt)
		if _, err := f.store.CreateSession(f.ctx(), s, input); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}

		got := f.refreshToken(want.Hash)
		assertRefreshToken(t, got, want)
		assertUTCMillis(t, "CreatedAt", got.CreatedAt)
		assertUTCMillis(t, "ExpiresAt", got.ExpiresAt)
	})
}

func TestAccountsRefreshTokenRotation(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newAccountsFixture(t, db)
		f.createUser("user-1", "Alice")
		s := f.newSession("session-1", "user-1", "laptop", accountsEpoch())
		f.createSession(s)
		old := f.firstRefreshToken(s)
		rotatedAt := accountsEpoch().Add(time.Hour)
		successor := auth.RefreshToken{
			Hash:      tokenHash("refresh-successor"),
			SessionID: s.ID,
			CreatedAt: rotatedAt,
			ExpiresAt: rotatedAt.Add(refreshTokenLifetime),
		}

		err := f.store.RotateRefreshToken(f.ctx(), auth.Rotation{
			OldHash:     old.Hash,
			Successor:   successor,
			RotatedAt:   unnormalizedTime(rotatedAt),
			AccessKeyID: "ed25519:key-1",
			AccessJTI:   "jti-1",
			SeenIP:      "192.0.2.9",
		})
		if err != nil {
			t.Fatalf("RotateRefreshToken: %v", err)
		}

		wantOld := old
		wantOld.RotatedAt = rotatedAt
		wantOld.AccessKeyID = "ed25519:key-1"
		wantOld.AccessJTI = "jti-1"
		gotOld := f.refreshToken(old.Hash)
		assertRefreshToken(t, gotOld, wantOld)
		assertUTCMillis(t, "RotatedAt", gotOld.RotatedAt)

		assertRefreshToken(t, f.refreshToken(successor.Hash), successor)

		session := f.session(s.ID)
		if !session.LastSeenAt.Equal(rotatedAt) {
			t.Errorf("session LastSeenAt = %s, want the rotation time %s", session.LastSeenAt, rotatedAt)
		}
		if session.LastIP != "192.0.2.9" {
			t.Errorf("session LastIP = %q, want 192.0.2.9", session.LastIP)
		}

		// The successor rotates in turn, like any token not yet rotated.
		next := auth.RefreshToken{
			Hash:      tokenHash("refresh-next"),
			SessionID: s.ID,
			CreatedAt: rotatedAt.Add(time.Hour),
			ExpiresAt: rotatedAt.Add(time.Hour + refreshTokenLifetime),
		}
		err = f.store.RotateRefreshToken(f.ctx(), auth.Rotation{
			OldHash: successor.Hash, Successor: next, RotatedAt: next.CreatedAt,
			AccessKeyID: "ed25519:key-1", AccessJTI: "jti-2", SeenIP: "192.0.2.9",
		})
		if err != nil {
			t.Fatalf("RotateRefreshToken of the successor: %v", err)
		}
		assertRefreshToken(t, f.refreshToken(next.Hash), next)
	})
}

func TestAccountsRefreshTokenRotateTwice(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newAccountsFixture(t, db)
		f.createUser("user-1", "Alice")
		s := f.newSession("session-1", "user-1", "laptop", accountsEpoch())
		f.createSession(s)
		old := f.firstRefreshToken(s)
		firstAt := accountsEpoch().Add(time.Hour)
		first := auth.Rotation{
			OldHash:     old.Hash,
			Successor:   auth.RefreshToken{Hash: tokenHash("refresh-first"), SessionID: s.ID, CreatedAt: firstAt, ExpiresAt: firstAt.Add(refreshTokenLifetime)},
			RotatedAt:   firstAt,
			AccessKeyID: "ed25519:key-1",
			AccessJTI:   "jti-first",
			SeenIP:      "192.0.2.1",
		}
		if err := f.store.RotateRefreshToken(f.ctx(), first); err != nil {
			t.Fatalf("first RotateRefreshToken: %v", err)
		}

		secondAt := firstAt.Add(time.Second)
		second := auth.Rotation{
			OldHash:     old.Hash,
			Successor:   auth.RefreshToken{Hash: tokenHash("refresh-second"), SessionID: s.ID, CreatedAt: secondAt, ExpiresAt: secondAt.Add(refreshTokenLifetime)},
			RotatedAt:   secondAt,
			AccessKeyID: "ed25519:key-2",
			AccessJTI:   "jti-second",
			SeenIP:      "192.0.2.2",
		}
		err := f.store.RotateRefreshToken(f.ctx(), second)
		if !errors.Is(err, auth.ErrAlreadyRotated) {
			t.Fatalf("second RotateRefreshToken returned %v, want ErrAlreadyRotated", err)
		}

		if _, err := f.store.RefreshToken(f.ctx(), second.Successor.Hash); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("RefreshToken of the second successor returned %v, want ErrNotFound", err)
		}
		got := f.refreshToken(old.Hash)
		if !got.RotatedAt.Equal(firstAt) {
			t.Errorf("RotatedAt = %s, want the first rotation's %s", got.RotatedAt, firstAt)
		}
		if got.AccessJTI != "jti-first" {
			t.Errorf("AccessJTI = %q, want the first rotation's jti-first", got.AccessJTI)
		}
		if got.AccessKeyID != "ed25519:key-1" {
			t.Errorf("AccessKeyID = %q, want the first rotation's ed25519:key-1", got.AccessKeyID)
		}
	})
}

func TestAccountsRefreshTokenRotateUnknown(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newAccountsFixture(t, db)
		f.createUser("user-1", "Alice")
		s := f.newSession("session-1", "user-1", "laptop", accountsEpoch())
		f.createSession(s)
		at := accountsEpoch().Add(time.Hour)
		successor := auth.RefreshToken{Hash: tokenHash("refresh-successor"), SessionID: s.ID, CreatedAt: at, ExpiresAt: at.Add(refreshTokenLifetime)}

		err := f.store.RotateRefreshToken(f.ctx(), auth.Rotation{
			OldHash: tokenHash("refresh-missing"), Successor: successor, RotatedAt: at,
			AccessKeyID: "ed25519:key-1", AccessJTI: "jti-1", SeenIP: "192.0.2.1",
		})
		if err == nil {
			t.Fatal("RotateRefreshToken of an unknown token succeeded, want an error")
		}
		if _, err := f.store.RefreshToken(f.ctx(), successor.Hash); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("RefreshToken of the successor returned %v, want ErrNotFound", err)
		}
	})
}

func TestAccountsRefreshTokenConcurrentRotation(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newAccountsFixture(t, db)
		f.createUser("user-1", "Alice")
		s := f.newSession("session-1", "user-1", "laptop", accountsEpoch())
		f.createSession(s)
		old := f.firstRefreshToken(s)
		rotatedAt := accountsEpoch().Add(time.Hour)

		rotations := make([]auth.Rotation, accountsRaceCallers)
		for i := range rotations {
			rotations[i] = auth.Rotation{
				OldHash: old.Hash,
				Successor: auth.RefreshToken{
					Hash:      tokenHash(fmt.Sprintf("refresh-successor-%d", i)),
					SessionID: s.ID,
					CreatedAt: rotatedAt,
					ExpiresAt: rotatedAt.Add(refreshTokenLifetime),
				},
				RotatedAt:   rotatedAt,
				AccessKeyID: "ed25519:key-1",
				AccessJTI:   fmt.Sprintf("jti-%d", i),
				SeenIP:      "192.0.2.1",
			}
		}
		ctx, cancel := context.WithTimeout(f.ctx(), accountsRaceTimeout)
		defer cancel()

		errs := make([]error, accountsRaceCallers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, r := range rotations {
			wg.Go(func() {
				<-start
				errs[i] = f.store.RotateRefreshToken(ctx, r)
			})
		}
		close(start)
		wg.Wait()

		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Errorf("callers %d and %d both rotated the token", winner, i)
			case err == nil:
				winner = i
			case !errors.Is(err, auth.ErrAlreadyRotated):
				t.Errorf("caller %d got %v, want nil or ErrAlreadyRotated", i, err)
			}
		}
		if winner < 0 {
			t.Fatal("no caller rotated the token")
		}

		if got, want := f.refreshToken(old.Hash).AccessJTI, rotations[winner].AccessJTI; got != want {
			t.Errorf("old token's AccessJTI = %q, want the winner's %q", got, want)
		}
		for i, r := range rotations {
			_, err := f.store.RefreshToken(f.ctx(), r.Successor.Hash)
			switch {
			case i == winner && err != nil:
				t.Errorf("RefreshToken of the winner's successor: %v", err)
			case i != winner && !errors.Is(err, auth.ErrNotFound):
				t.Errorf("RefreshToken of caller %d's successor returned %v, want ErrNotFound", i, err)
			}
		}
	})
}

func TestAccountsCreateSessionForDeletedUser(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		accounts := db.Accounts()
		at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		if _, err := accounts.CreateUser(ctx, auth.NewUser{ID: "gone", Username: "gone", UsernameKey: "gone",
			DisplayName: "gone", PasswordHash: "x", CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
		if _, err := accounts.DeleteUser(ctx, "gone", at); err != nil {
			t.Fatal(err)
		}

		_, err := accounts.CreateSession(ctx,
			auth.Session{ID: "s1", UserID: "gone", DeviceID: "d", DeviceName: "d", CreatedAt: at, LastSeenAt: at},
			auth.RefreshToken{Hash: []byte("h1"), SessionID: "s1", CreatedAt: at, ExpiresAt: at.Add(time.Hour)})
		if !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("CreateSession for a deleted user returned %v, want ErrNotFound", err)
		}
	})
}
