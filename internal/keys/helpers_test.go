package keys_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/openguild/openguild/internal/keys"
	"github.com/openguild/openguild/internal/keys/keystest"
)

// retention is the verification period of retired keys in these tests:
// a 15-minute token lifetime plus 30 seconds of leeway.
const retention = 15*time.Minute + 30*time.Second

// fakeClock is a Clock that moves only when a test advances it.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2030, time.March, 4, 5, 6, 7, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()

	c.now = c.now.Add(d)
}

// newTestKeyring returns a keyring over store with the fake clock and the
// test retention for both purposes.
func newTestKeyring(store keys.Store, clock *fakeClock) *keys.Keyring {
	return keys.New(store, keys.Options{
		Clock: clock,
		Retention: map[keys.Purpose]time.Duration{
			keys.PurposeAccessToken:  retention,
			keys.PurposeEventSigning: retention,
		},
	})
}

// mustEnsureActive creates the first key of each purpose or fails the test.
func mustEnsureActive(t *testing.T, keyring *keys.Keyring, purposes ...keys.Purpose) {
	t.Helper()

	if err := keyring.EnsureActive(context.Background(), purposes...); err != nil {
		t.Fatalf("EnsureActive(%v): %v", purposes, err)
	}
}

func mustActive(t *testing.T, keyring *keys.Keyring, purpose keys.Purpose) keys.Key {
	t.Helper()

	key, err := keyring.Active(purpose)
	if err != nil {
		t.Fatalf("Active(%s): %v", purpose, err)
	}

	return key
}

func mustRotate(t *testing.T, keyring *keys.Keyring, purpose keys.Purpose) keys.Key {
	t.Helper()

	key, err := keyring.Rotate(context.Background(), purpose)
	if err != nil {
		t.Fatalf("Rotate(%s): %v", purpose, err)
	}

	return key
}

// fixedStore lists a fixed set of keys, or listErr, and rejects writes.
// It simulates a store whose data broke the Store contract.
type fixedStore struct {
	stored  []keys.Key
	listErr error
}

func (s *fixedStore) ListSigningKeys(context.Context) ([]keys.Key, error) {
	return s.stored, s.listErr
}

func (s *fixedStore) InsertSigningKey(context.Context, keys.Key, *keys.Retirement) error {
	return errors.New("fixed store rejects writes")
}

// hookStore wraps a MemoryStore and calls afterList, when set, after each
// successful ListSigningKeys, so a test can interleave another process's
// write between a keyring's read and its write.
type hookStore struct {
	*keystest.MemoryStore
	afterList func()
}

func (s *hookStore) ListSigningKeys(ctx context.Context) ([]keys.Key, error) {
	listed, err := s.MemoryStore.ListSigningKeys(ctx)
	if err == nil && s.afterList != nil {
		s.afterList()
	}

	return listed, err
}

// errReader is an io.Reader that always fails, standing in for a broken
// random source.
type errReader struct{}

func (errReader) Read([]byte) (int, error) {
	return 0, errors.New("random source unavailable")
}
