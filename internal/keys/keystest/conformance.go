package keystest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/openguild/openguild/internal/keys"
)

// concurrentWriters is the number of goroutines in the race subtests.
const concurrentWriters = 8

// TestStore runs the keys.Store conformance suite. newStore must return an
// empty store each time it is called. The suite writes times in whole
// milliseconds, the precision that keys.Keyring uses, and expects to read
// them back unchanged.
func TestStore(t *testing.T, newStore func(t *testing.T) keys.Store) {
	cases := []struct {
		name string
		run  func(t *testing.T, store keys.Store)
	}{
		{"empty store lists no keys", testEmptyStore},
		{"inserted key reads back unchanged", testRoundTrip},
		{"second active key of purpose rejected", testSecondActive},
		{"active keys of two purposes coexist", testTwoPurposes},
		{"replacement retires previous key", testReplacement},
		{"replacement of stale key rejected", testStaleReplacement},
		{"replacement without active key rejected", testReplaceMissing},
		{"replacement of other purpose's key rejected", testReplaceOtherPurpose},
		{"duplicate key id rejected", testDuplicateID},
		{"concurrent first inserts admit one", testConcurrentFirst},
		{"concurrent replacements admit one", testConcurrentReplace},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, newStore(t))
		})
	}
}

// testEpoch is the creation time of the first key in each subtest.
func testEpoch() time.Time {
	return time.Date(2030, time.January, 2, 3, 4, 5, 678_000_000, time.UTC)
}

// NewTestKey returns an active key of purpose with a fresh random key pair
// and id, created at createdAt.
func NewTestKey(t testing.TB, purpose keys.Purpose, createdAt time.Time) keys.Key {
	t.Helper()

	public, private, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("generate test key: %v", err)
	}

	idBytes := make([]byte, 8)
	if _, err := rand.Read(idBytes); err != nil {
		t.Fatalf("generate test key id: %v", err)
	}

	return keys.Key{
		ID:        "ed25519:" + base64.RawURLEncoding.EncodeToString(idBytes),
		Purpose:   purpose,
		Public:    public,
		Private:   private,
		CreatedAt: createdAt,
	}
}

func testEmptyStore(t *testing.T, store keys.Store) {
	if got := mustList(t, store); len(got) != 0 {
		t.Fatalf("ListSigningKeys on an empty store returned %d keys, want 0", len(got))
	}
}

func testRoundTrip(t *testing.T, store keys.Store) {
	key := NewTestKey(t, keys.PurposeAccessToken, testEpoch())
	mustInsert(t, store, key, nil)

	got := mustList(t, store)
	if len(got) != 1 {
		t.Fatalf("ListSigningKeys returned %d keys, want 1", len(got))
	}
	assertSameKey(t, got[0], key)
}

func testSecondActive(t *testing.T, store keys.Store) {
	first := NewTestKey(t, keys.PurposeAccessToken, testEpoch())
	mustInsert(t, store, first, nil)

	second := NewTestKey(t, keys.PurposeAccessToken, testEpoch().Add(time.Second))
	err := store.InsertSigningKey(context.Background(), second, nil)
	if !errors.Is(err, keys.ErrActiveKeyExists) {
		t.Fatalf("InsertSigningKey of a second active key: err = %v, want ErrActiveKeyExists", err)
	}

	assertKeyIDs(t, mustList(t, store), first.ID)
}

func testTwoPurposes(t *testing.T, store keys.Store) {
	tokenKey := NewTestKey(t, keys.PurposeAccessToken, testEpoch())
	eventKey := NewTestKey(t, keys.PurposeEventSigning, testEpoch())
	mustInsert(t, store, tokenKey, nil)
	mustInsert(t, store, eventKey, nil)

	got := mustList(t, store)
	assertKeyIDs(t, got, tokenKey.ID, eventKey.ID)
	for _, key := range got {
		if !key.Active() {
			t.Errorf("key %s of purpose %s is retired, want active", key.ID, key.Purpose)
		}
	}
}

func testReplacement(t *testing.T, store keys.Store) {
	previous := NewTestKey(t, keys.PurposeAccessToken, testEpoch())
	mustInsert(t, store, previous, nil)

	next := NewTestKey(t, keys.PurposeAccessToken, testEpoch().Add(time.Hour))
	retirement := keys.Retirement{
		KeyID:       previous.ID,
		RetiredAt:   next.CreatedAt,
		VerifyUntil: next.CreatedAt.Add(16 * time.Minute),
	}
	mustInsert(t, store, next, &retirement)

	byID := indexByID(mustList(t, store))
	assertKeyIDs(t, mustList(t, store), previous.ID, next.ID)

	wantPrevious := previous
	wantPrevious.RetiredAt = retirement.RetiredAt
	wantPrevious.VerifyUntil = retirement.VerifyUntil
	assertSameKey(t, byID[previous.ID], wantPrevious)
	assertSameKey(t, byID[next.ID], next)
}

func testStaleReplacement(t *testing.T, store keys.Store) {
	first := NewTestKey(t, keys.PurposeAccessToken, testEpoch())
	mustInsert(t, store, first, nil)

	second := NewTestKey(t, keys.PurposeAccessToken, testEpoch().Add(time.Hour))
	mustInsert(t, store, second, retire(first.ID, second.CreatedAt))

	// A process that still believes first is active tries to rotate it.
	third := NewTestKey(t, keys.PurposeAccessToken, testEpoch().Add(2*time.Hour))
	err := store.InsertSigningKey(context.Background(), third, retire(first.ID, third.CreatedAt))
	if !errors.Is(err, keys.ErrKeyChanged) {
		t.Fatalf("InsertSigningKey replacing a retired key: err = %v, want ErrKeyChanged", err)
	}

	byID := indexByID(mustList(t, store))
	assertKeyIDs(t, mustList(t, store), first.ID, second.ID)
	if !byID[second.ID].Active() {
		t.Errorf("key %s was retired by a rejected replacement", second.ID)
	}
	if !byID[first.ID].RetiredAt.Equal(second.CreatedAt) {
		t.Errorf("key %s RetiredAt = %v after a rejected replacement, want %v", first.ID, byID[first.ID].RetiredAt, second.CreatedAt)
	}
}

func testReplaceMissing(t *testing.T, store keys.Store) {
	key := NewTestKey(t, keys.PurposeAccessToken, testEpoch())

	err := store.InsertSigningKey(context.Background(), key, retire("ed25519:missing", key.CreatedAt))
	if !errors.Is(err, keys.ErrKeyChanged) {
		t.Fatalf("InsertSigningKey replacing an absent key: err = %v, want ErrKeyChanged", err)
	}

	assertKeyIDs(t, mustList(t, store))
}

func testReplaceOtherPurpose(t *testing.T, store keys.Store) {
	eventKey := NewTestKey(t, keys.PurposeEventSigning, testEpoch())
	mustInsert(t, store, eventKey, nil)

	tokenKey := NewTestKey(t, keys.PurposeAccessToken, testEpoch().Add(time.Hour))
	err := store.InsertSigningKey(context.Background(), tokenKey, retire(eventKey.ID, tokenKey.CreatedAt))
	if !errors.Is(err, keys.ErrKeyChanged) {
		t.Fatalf("InsertSigningKey replacing another purpose's key: err = %v, want ErrKeyChanged", err)
	}

	got := mustList(t, store)
	assertKeyIDs(t, got, eventKey.ID)
	if !got[0].Active() {
		t.Errorf("key %s of another purpose was retired", eventKey.ID)
	}
}

func testDuplicateID(t *testing.T, store keys.Store) {
	first := NewTestKey(t, keys.PurposeAccessToken, testEpoch())
	mustInsert(t, store, first, nil)

	duplicate := NewTestKey(t, keys.PurposeEventSigning, testEpoch())
	duplicate.ID = first.ID
	if err := store.InsertSigningKey(context.Background(), duplicate, nil); err == nil {
		t.Fatalf("InsertSigningKey with an existing key id succeeded, want an error")
	}

	got := mustList(t, store)
	assertKeyIDs(t, got, first.ID)
	assertSameKey(t, got[0], first)
}

func testConcurrentFirst(t *testing.T, store keys.Store) {
	candidates := make([]keys.Key, concurrentWriters)
	for i := range candidates {
		candidates[i] = NewTestKey(t, keys.PurposeAccessToken, testEpoch())
	}

	errs := runConcurrently(candidates, func(key keys.Key) error {
		return store.InsertSigningKey(context.Background(), key, nil)
	})

	winners := countResults(t, errs, keys.ErrActiveKeyExists)
	if winners != 1 {
		t.Fatalf("%d concurrent first inserts succeeded, want exactly 1", winners)
	}
	if got := mustList(t, store); len(got) != 1 {
		t.Fatalf("store contains %d keys after concurrent first inserts, want 1", len(got))
	}
}

func testConcurrentReplace(t *testing.T, store keys.Store) {
	previous := NewTestKey(t, keys.PurposeAccessToken, testEpoch())
	mustInsert(t, store, previous, nil)

	candidates := make([]keys.Key, concurrentWriters)
	for i := range candidates {
		candidates[i] = NewTestKey(t, keys.PurposeAccessToken, testEpoch().Add(time.Hour))
	}

	errs := runConcurrently(candidates, func(key keys.Key) error {
		return store.InsertSigningKey(context.Background(), key, retire(previous.ID, key.CreatedAt))
	})

	winners := countResults(t, errs, keys.ErrKeyChanged)
	if winners != 1 {
		t.Fatalf("%d concurrent replacements succeeded, want exactly 1", winners)
	}

	got := mustList(t, store)
	if len(got) != 2 {
		t.Fatalf("store contains %d keys after concurrent replacements, want 2", len(got))
	}
	active := 0
	for _, key := range got {
		if key.Active() {
			active++
		}
	}
	if active != 1 {
		t.Errorf("store contains %d active keys after concurrent replacements, want 1", active)
	}
}

// retire returns a retirement of keyID at retiredAt with a 16-minute
// verification period.
func retire(keyID string, retiredAt time.Time) *keys.Retirement {
	return &keys.Retirement{KeyID: keyID, RetiredAt: retiredAt, VerifyUntil: retiredAt.Add(16 * time.Minute)}
}

// runConcurrently calls insert once per candidate, all goroutines released
// together, and returns the errors in candidate order.
func runConcurrently(candidates []keys.Key, insert func(keys.Key) error) []error {
	errs := make([]error, len(candidates))
	start := make(chan struct{})

	var wg sync.WaitGroup
	for i, key := range candidates {
		wg.Go(func() {
			<-start
			errs[i] = insert(key)
		})
	}
	close(start)
	wg.Wait()

	return errs
}

// countResults returns the number of nil errors and fails the test on any
// error other than loserErr.
func countResults(t *testing.T, errs []error, loserErr error) int {
	t.Helper()

	winners := 0
	for i, err := range errs {
		switch {
		case err == nil:
			winners++
		case !errors.Is(err, loserErr):
			t.Errorf("writer %d: err = %v, want nil or %v", i, err, loserErr)
		}
	}

	return winners
}

func mustInsert(t *testing.T, store keys.Store, key keys.Key, replaceActive *keys.Retirement) {
	t.Helper()

	if err := store.InsertSigningKey(context.Background(), key, replaceActive); err != nil {
		t.Fatalf("InsertSigningKey(%s): %v", key.ID, err)
	}
}

func mustList(t *testing.T, store keys.Store) []keys.Key {
	t.Helper()

	listed, err := store.ListSigningKeys(context.Background())
	if err != nil {
		t.Fatalf("ListSigningKeys: %v", err)
	}

	return listed
}

func indexByID(listed []keys.Key) map[string]keys.Key {
	byID := make(map[string]keys.Key, len(listed))
	for _, key := range listed {
		byID[key.ID] = key
	}

	return byID
}

// assertKeyIDs checks that listed holds exactly the keys with wantIDs, in
// any order.
func assertKeyIDs(t *testing.T, listed []keys.Key, wantIDs ...string) {
	t.Helper()

	byID := indexByID(listed)
	if len(listed) != len(wantIDs) || len(byID) != len(wantIDs) {
		t.Fatalf("store contains %d keys, want %d (%v)", len(listed), len(wantIDs), wantIDs)
	}
	for _, id := range wantIDs {
		if _, ok := byID[id]; !ok {
			t.Errorf("store lacks key %s", id)
		}
	}
}

// assertSameKey compares keys field by field, times with time.Equal so
// that a store may return them in another location.
func assertSameKey(t *testing.T, got, want keys.Key) {
	t.Helper()

	if got.ID != want.ID {
		t.Errorf("ID = %q, want %q", got.ID, want.ID)
	}
	if got.Purpose != want.Purpose {
		t.Errorf("key %s: Purpose = %q, want %q", want.ID, got.Purpose, want.Purpose)
	}
	if !got.Public.Equal(want.Public) {
		t.Errorf("key %s: Public differs from the inserted key", want.ID)
	}
	if !got.Private.Equal(want.Private) {
		t.Errorf("key %s: Private differs from the inserted key", want.ID)
	}
	assertSameTime(t, want.ID, "CreatedAt", got.CreatedAt, want.CreatedAt)
	assertSameTime(t, want.ID, "RetiredAt", got.RetiredAt, want.RetiredAt)
	assertSameTime(t, want.ID, "VerifyUntil", got.VerifyUntil, want.VerifyUntil)
}

func assertSameTime(t *testing.T, keyID, field string, got, want time.Time) {
	t.Helper()

	if !got.Equal(want) {
		t.Errorf("key %s: %s = %v, want %v", keyID, field, got, want)
	}
}
