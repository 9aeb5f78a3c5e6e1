package keys_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/openguild/openguild/internal/keys"
	"github.com/openguild/openguild/internal/keys/keystest"
)

func TestKeyringBeforeLoad(t *testing.T) {
	keyring := newTestKeyring(&keystest.MemoryStore{}, newFakeClock())

	if _, err := keyring.Active(keys.PurposeAccessToken); !errors.Is(err, keys.ErrNoActiveKey) {
		t.Errorf("Active before Load: err = %v, want ErrNoActiveKey", err)
	}
	if _, err := keyring.Lookup("ed25519:AAAAAAAAAAA"); !errors.Is(err, keys.ErrUnknownKey) {
		t.Errorf("Lookup before Load: err = %v, want ErrUnknownKey", err)
	}
	if got := keyring.Keys(); len(got) != 0 {
		t.Errorf("Keys before Load returned %d keys, want 0", len(got))
	}
}

func TestKeyringEnsureActive(t *testing.T) {
	tests := []struct {
		name     string
		existing func(store *keystest.MemoryStore, clock *fakeClock) // keys present before EnsureActive
		purposes []keys.Purpose
		wantErr  bool
		wantKeys int // keys in the store afterwards
	}{
		{
			name:     "empty store gets one key per purpose",
			purposes: []keys.Purpose{keys.PurposeAccessToken, keys.PurposeEventSigning},
			wantKeys: 2,
		},
		{
			name: "existing active key is kept",
			existing: func(store *keystest.MemoryStore, clock *fakeClock) {
				mustEnsureActive(t, newTestKeyring(store, clock), keys.PurposeAccessToken)
			},
			purposes: []keys.Purpose{keys.PurposeAccessToken},
			wantKeys: 1,
		},
		{
			name:     "no purposes is a reload only",
			purposes: nil,
			wantKeys: 0,
		},
		{
			name:     "unknown purpose rejected",
			purposes: []keys.Purpose{"tea_making"},
			wantErr:  true,
			wantKeys: 0,
		},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store, clock := &keystest.MemoryStore{}, newFakeClock()
			if tc.existing != nil {
				tc.existing(store, clock)
			}
			before, _ := store.ListSigningKeys(context.Background())

			keyring := newTestKeyring(store, clock)
			err := keyring.EnsureActive(context.Background(), tc.purposes...)
			if (err != nil) != tc.wantErr {
				t.Fatalf("EnsureActive: err = %v, want error: %v", err, tc.wantErr)
			}

			after, _ := store.ListSigningKeys(context.Background())
			if len(after) != tc.wantKeys {
				t.Fatalf("store holds %d keys, want %d", len(after), tc.wantKeys)
			}
			for _, key := range before {
				if got := mustActive(t, keyring, key.Purpose); got.ID != key.ID {
					t.Errorf("active %s key = %s, want the existing key %s", key.Purpose, got.ID, key.ID)
				}
			}
			if !tc.wantErr {
				for _, purpose := range tc.purposes {
					mustActive(t, keyring, purpose)
				}
			}
		})
	}
}

func TestKeyringEnsureActiveRandomFailure(t *testing.T) {
	keyring := keys.New(&keystest.MemoryStore{}, keys.Options{Rand: errReader{}})

	err := keyring.EnsureActive(context.Background(), keys.PurposeAccessToken)
	if err == nil {
		t.Fatal("EnsureActive with a failing random source succeeded, want an error")
	}
}

// TestKeyringEnsureActiveRace starts several keyrings, as several nodes
// would, and holds each one after its first read of the store until all
// have read it. So every keyring finds no key and tries to create one.
func TestKeyringEnsureActiveRace(t *testing.T) {
	const nodes = 8
	store, clock := &keystest.MemoryStore{}, newFakeClock()

	var allListed sync.WaitGroup
	allListed.Add(nodes)
	keyrings := make([]*keys.Keyring, nodes)
	for i := range keyrings {
		var once sync.Once
		gated := &hookStore{MemoryStore: store}
		gated.afterList = func() {
			once.Do(func() {
				allListed.Done()
				allListed.Wait()
			})
		}
		keyrings[i] = newTestKeyring(gated, clock)
	}

	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i, keyring := range keyrings {
		wg.Go(func() {
			errs[i] = keyring.EnsureActive(context.Background(), keys.PurposeAccessToken, keys.PurposeEventSigning)
		})
	}
	wg.Wait()

	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: EnsureActive: %v", i, err)
		}
	}

	stored, _ := store.ListSigningKeys(context.Background())
	if len(stored) != 2 {
		t.Fatalf("store holds %d keys after the race, want one per purpose (2)", len(stored))
	}
	for _, purpose := range []keys.Purpose{keys.PurposeAccessToken, keys.PurposeEventSigning} {
		want := mustActive(t, keyrings[0], purpose)
		for i, keyring := range keyrings[1:] {
			if got := mustActive(t, keyring, purpose); got.ID != want.ID {
				t.Errorf("node %d: active %s key = %s, want %s as on node 0", i+1, purpose, got.ID, want.ID)
			}
		}
	}
}

func TestKeyringRotate(t *testing.T) {
	store, clock := &keystest.MemoryStore{}, newFakeClock()
	keyring := newTestKeyring(store, clock)
	mustEnsureActive(t, keyring, keys.PurposeAccessToken, keys.PurposeEventSigning)
	previous := mustActive(t, keyring, keys.PurposeAccessToken)
	eventKey := mustActive(t, keyring, keys.PurposeEventSigning)

	clock.Advance(time.Hour)
	rotatedAt := clock.Now()
	next := mustRotate(t, keyring, keys.PurposeAccessToken)

	if next.ID == previous.ID {
		t.Fatalf("Rotate returned the previous key %s", next.ID)
	}
	if got := mustActive(t, keyring, keys.PurposeAccessToken); got.ID != next.ID {
		t.Errorf("active key after Rotate = %s, want the new key %s", got.ID, next.ID)
	}
	if got := mustActive(t, keyring, keys.PurposeEventSigning); got.ID != eventKey.ID {
		t.Errorf("event signing key changed to %s by rotating access token keys, want %s", got.ID, eventKey.ID)
	}

	retired, err := keyring.Lookup(previous.ID)
	if err != nil {
		t.Fatalf("Lookup(previous key) right after Rotate: %v", err)
	}
	if !retired.RetiredAt.Equal(rotatedAt) {
		t.Errorf("previous key RetiredAt = %v, want %v", retired.RetiredAt, rotatedAt)
	}
	if want := rotatedAt.Add(retention); !retired.VerifyUntil.Equal(want) {
		t.Errorf("previous key VerifyUntil = %v, want %v", retired.VerifyUntil, want)
	}
}

// TestKeyringRetiredKeyLifetime checks what a rotated-out key does as the
// clock passes its VerifyUntil.
func TestKeyringRetiredKeyLifetime(t *testing.T) {
	tests := []struct {
		name          string
		sinceRotation time.Duration
		wantVerifies  bool
	}{
		{"retired key verifies right after rotation", 0, true},
		{"retired key verifies just before verify_until", retention - time.Millisecond, true},
		{"retired key stops at verify_until", retention, false},
		{"retired key stays stopped after verify_until", 24 * time.Hour, false},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			keyring := newTestKeyring(&keystest.MemoryStore{}, clock)
			mustEnsureActive(t, keyring, keys.PurposeAccessToken)
			previous := mustActive(t, keyring, keys.PurposeAccessToken)
			clock.Advance(time.Minute)
			next := mustRotate(t, keyring, keys.PurposeAccessToken)

			clock.Advance(tc.sinceRotation)

			_, err := keyring.Lookup(previous.ID)
			if tc.wantVerifies && err != nil {
				t.Errorf("Lookup(retired key): %v, want the key", err)
			}
			if !tc.wantVerifies && !errors.Is(err, keys.ErrUnknownKey) {
				t.Errorf("Lookup(retired key): err = %v, want ErrUnknownKey", err)
			}

			wantIDs := []string{next.ID}
			if tc.wantVerifies {
				wantIDs = append(wantIDs, previous.ID)
			}
			assertIDs(t, "Verifying", keyring.Verifying(keys.PurposeAccessToken), wantIDs...)
			assertIDs(t, "Keys", keyring.Keys(), previous.ID, next.ID)
		})
	}
}

func TestKeyringRotateRejected(t *testing.T) {
	tests := []struct {
		name      string
		retention map[keys.Purpose]time.Duration
		ensure    bool // create the first key before rotating
		purpose   keys.Purpose
		wantErr   error // nil: any error
	}{
		{
			name:      "purpose without active key",
			retention: map[keys.Purpose]time.Duration{keys.PurposeAccessToken: retention},
			purpose:   keys.PurposeAccessToken,
			wantErr:   keys.ErrNoActiveKey,
		},
		{
			name:      "purpose without retention",
			retention: map[keys.Purpose]time.Duration{keys.PurposeEventSigning: retention},
			ensure:    true,
			purpose:   keys.PurposeAccessToken,
		},
		{
			name:      "negative retention",
			retention: map[keys.Purpose]time.Duration{keys.PurposeAccessToken: -time.Second},
			ensure:    true,
			purpose:   keys.PurposeAccessToken,
		},
		{
			name:      "unknown purpose",
			retention: map[keys.Purpose]time.Duration{"tea_making": retention},
			purpose:   "tea_making",
		},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := &keystest.MemoryStore{}
			keyring := keys.New(store, keys.Options{Clock: newFakeClock(), Retention: tc.retention})
			if tc.ensure {
				mustEnsureActive(t, keyring, tc.purpose)
			}
			before, _ := store.ListSigningKeys(context.Background())

			_, err := keyring.Rotate(context.Background(), tc.purpose)
			if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
				t.Fatalf("Rotate: err = %v, want %v", err, tc.wantErr)
			}

			after, _ := store.ListSigningKeys(context.Background())
			if len(after) != len(before) {
				t.Errorf("rejected Rotate changed the store from %d to %d keys", len(before), len(after))
			}
		})
	}
}

// TestKeyringRotateLosesRace rotates in another process between the
// keyring's read of the store and its write.
func TestKeyringRotateLosesRace(t *testing.T) {
	memory, clock := &keystest.MemoryStore{}, newFakeClock()
	store := &hookStore{MemoryStore: memory}
	keyring := newTestKeyring(store, clock)
	mustEnsureActive(t, keyring, keys.PurposeAccessToken)

	other := newTestKeyring(memory, clock)
	var otherKey keys.Key
	store.afterList = func() {
		store.afterList = nil
		otherKey = mustRotate(t, other, keys.PurposeAccessToken)
	}

	_, err := keyring.Rotate(context.Background(), keys.PurposeAccessToken)
	if !errors.Is(err, keys.ErrKeyChanged) {
		t.Fatalf("Rotate after another process rotated: err = %v, want ErrKeyChanged", err)
	}

	if got := mustActive(t, keyring, keys.PurposeAccessToken); got.ID != otherKey.ID {
		t.Errorf("active key after the lost race = %s, want the winner's key %s", got.ID, otherKey.ID)
	}
	stored, _ := memory.ListSigningKeys(context.Background())
	if len(stored) != 2 {
		t.Errorf("store holds %d keys, want 2 (the first key and the winner's)", len(stored))
	}
}

func TestKeyringLoadSeesOtherProcess(t *testing.T) {
	store, clock := &keystest.MemoryStore{}, newFakeClock()
	server := newTestKeyring(store, clock)
	admin := newTestKeyring(store, clock)
	mustEnsureActive(t, server, keys.PurposeAccessToken)

	if err := admin.Load(context.Background()); err != nil {
		t.Fatalf("admin Load: %v", err)
	}
	next := mustRotate(t, admin, keys.PurposeAccessToken)

	if got := mustActive(t, server, keys.PurposeAccessToken); got.ID == next.ID {
		t.Fatalf("server sees the new key %s before reloading", next.ID)
	}
	if err := server.Load(context.Background()); err != nil {
		t.Fatalf("server Load: %v", err)
	}
	if got := mustActive(t, server, keys.PurposeAccessToken); got.ID != next.ID {
		t.Errorf("active key after Load = %s, want %s", got.ID, next.ID)
	}
}

func TestKeyringLoadRejected(t *testing.T) {
	now := newFakeClock().Now()
	good := keystest.NewTestKey(t, keys.PurposeAccessToken, now)
	otherActive := keystest.NewTestKey(t, keys.PurposeAccessToken, now)
	retiredNoUntil := keystest.NewTestKey(t, keys.PurposeEventSigning, now)
	retiredNoUntil.RetiredAt = now
	untilBeforeRetired := keystest.NewTestKey(t, keys.PurposeEventSigning, now)
	untilBeforeRetired.RetiredAt = now
	untilBeforeRetired.VerifyUntil = now.Add(-time.Second)
	shortPublic := keystest.NewTestKey(t, keys.PurposeEventSigning, now)
	shortPublic.Public = shortPublic.Public[:16]
	mismatched := keystest.NewTestKey(t, keys.PurposeEventSigning, now)
	mismatched.Public = otherActive.Public
	sameID := keystest.NewTestKey(t, keys.PurposeEventSigning, now)
	sameID.ID = good.ID
	noID := keystest.NewTestKey(t, keys.PurposeEventSigning, now)
	noID.ID = ""

	tests := []struct {
		name  string
		store *fixedStore
	}{
		{"store error", &fixedStore{listErr: errors.New("database unreachable")}},
		{"two active keys of one purpose", &fixedStore{stored: []keys.Key{good, otherActive}}},
		{"retired key without verify_until", &fixedStore{stored: []keys.Key{good, retiredNoUntil}}},
		{"verify_until before retired_at", &fixedStore{stored: []keys.Key{good, untilBeforeRetired}}},
		{"truncated public key", &fixedStore{stored: []keys.Key{good, shortPublic}}},
		{"public key of another pair", &fixedStore{stored: []keys.Key{good, mismatched}}},
		{"duplicate key id", &fixedStore{stored: []keys.Key{good, sameID}}},
		{"empty key id", &fixedStore{stored: []keys.Key{good, noID}}},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := &fixedStore{stored: []keys.Key{good}}
			keyring := newTestKeyring(store, newFakeClock())
			if err := keyring.Load(context.Background()); err != nil {
				t.Fatalf("first Load: %v", err)
			}

			*store = *tc.store
			if err := keyring.Load(context.Background()); err == nil {
				t.Fatal("Load succeeded, want an error")
			}

			if got := mustActive(t, keyring, keys.PurposeAccessToken); got.ID != good.ID {
				t.Errorf("active key after a rejected Load = %s, want the previous %s", got.ID, good.ID)
			}
		})
	}
}

func TestKeyIDFormat(t *testing.T) {
	idPattern := regexp.MustCompile(`^ed25519:[A-Za-z0-9_-]{11}$`)
	keyring := newTestKeyring(&keystest.MemoryStore{}, newFakeClock())
	mustEnsureActive(t, keyring, keys.PurposeAccessToken, keys.PurposeEventSigning)

	seen := map[string]bool{}
	for range 5 {
		mustRotate(t, keyring, keys.PurposeAccessToken)
	}
	for _, key := range keyring.Keys() {
		if !idPattern.MatchString(key.ID) {
			t.Errorf("key id %q does not match %s", key.ID, idPattern)
		}
		if seen[key.ID] {
			t.Errorf("key id %q repeated", key.ID)
		}
		seen[key.ID] = true
	}
	if len(seen) != 7 {
		t.Errorf("keyring holds %d distinct keys, want 7", len(seen))
	}
}

func TestGeneratedKeySigns(t *testing.T) {
	keyring := newTestKeyring(&keystest.MemoryStore{}, newFakeClock())
	mustEnsureActive(t, keyring, keys.PurposeAccessToken)
	key := mustActive(t, keyring, keys.PurposeAccessToken)

	message := []byte("access token signing input")
	signature := ed25519.Sign(key.Private, message)
	if !ed25519.Verify(key.Public, message, signature) {
		t.Error("signature by the generated private key does not verify with its public key")
	}
}

func TestKeyVerifies(t *testing.T) {
	now := newFakeClock().Now()
	tests := []struct {
		name string
		key  keys.Key
		want bool
	}{
		{"active key", keys.Key{}, true},
		{"retired key before verify_until", keys.Key{RetiredAt: now.Add(-time.Minute), VerifyUntil: now.Add(time.Minute)}, true},
		{"retired key at verify_until", keys.Key{RetiredAt: now.Add(-time.Minute), VerifyUntil: now}, false},
		{"retired key after verify_until", keys.Key{RetiredAt: now.Add(-time.Hour), VerifyUntil: now.Add(-time.Minute)}, false},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.key.Verifies(now); got != tc.want {
				t.Errorf("Verifies = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestKeyringTimesInMilliseconds checks that recorded times survive a
// database that stores whole milliseconds.
func TestKeyringTimesInMilliseconds(t *testing.T) {
	clock := newFakeClock()
	clock.Advance(123_456_789 * time.Nanosecond)
	keyring := newTestKeyring(&keystest.MemoryStore{}, clock)
	mustEnsureActive(t, keyring, keys.PurposeAccessToken)
	mustRotate(t, keyring, keys.PurposeAccessToken)

	for _, key := range keyring.Keys() {
		for name, value := range map[string]time.Time{"CreatedAt": key.CreatedAt, "RetiredAt": key.RetiredAt, "VerifyUntil": key.VerifyUntil} {
			if !value.Equal(value.Truncate(time.Millisecond)) {
				t.Errorf("key %s: %s = %v has a sub-millisecond part", key.ID, name, value)
			}
		}
	}
}

// assertIDs checks that got holds the keys with wantIDs in that order.
func assertIDs(t *testing.T, what string, got []keys.Key, wantIDs ...string) {
	t.Helper()

	gotIDs := make([]string, len(got))
	for i, key := range got {
		gotIDs[i] = key.ID
	}
	if len(gotIDs) != len(wantIDs) {
		t.Fatalf("%s returned %v, want %v", what, gotIDs, wantIDs)
	}
	for i := range gotIDs {
		if gotIDs[i] != wantIDs[i] {
			t.Errorf("%s returned %v, want %v", what, gotIDs, wantIDs)
			return
		}
	}
}

// TestKeyringLoadKeepsNewestSnapshot holds one Load after it has read the
// store, rotates, and runs a second Load. However the two interleave, the
// snapshot left behind must contain the rotation.
func TestKeyringLoadKeepsNewestSnapshot(t *testing.T) {
	memory, clock := &keystest.MemoryStore{}, newFakeClock()
	store := &hookStore{MemoryStore: memory}
	keyring := newTestKeyring(store, clock)
	mustEnsureActive(t, keyring, keys.PurposeAccessToken)

	entered, release := make(chan struct{}), make(chan struct{})
	store.afterList = func() {
		store.afterList = nil
		close(entered)
		<-release
	}

	slowDone := make(chan error, 1)
	go func() { slowDone <- keyring.Load(context.Background()) }()
	<-entered

	next := mustRotate(t, newTestKeyring(memory, clock), keys.PurposeAccessToken)
	fastDone := make(chan error, 1)
	go func() { fastDone <- keyring.Load(context.Background()) }()

	// Give the second Load the chance to finish first, as it would without
	// serialization. With serialization it waits for the first.
	select {
	case err := <-fastDone:
		fastDone <- err
	case <-time.After(50 * time.Millisecond):
	}
	close(release)

	for _, done := range []chan error{slowDone, fastDone} {
		if err := <-done; err != nil {
			t.Fatalf("Load: %v", err)
		}
	}
	if got := mustActive(t, keyring, keys.PurposeAccessToken); got.ID != next.ID {
		t.Errorf("active key after both loads = %s, want the rotated-in key %s", got.ID, next.ID)
	}
}
