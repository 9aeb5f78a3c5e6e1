package keys

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Clock returns the current time. Tests pass a fake one.
type Clock interface {
	Now() time.Time
}

// systemClock is the Clock used when Options.Clock is nil.
type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Options configures a Keyring.
type Options struct {
	// Clock supplies the current time. Nil means the system clock.
	Clock Clock

	// Retention sets, per purpose, how long a retired key keeps verifying
	// after Rotate retires it. For PurposeAccessToken it should be at least
	// the access-token lifetime plus the clock leeway that verification
	// allows, which auth.AccessKeyRetention computes. A shorter value cuts
	// off tokens signed just before a rotation. Rotate rejects a purpose
	// that has no entry here rather than guess a period.
	Retention map[Purpose]time.Duration

	// Rand is the source of key seeds and key ids. Nil means crypto/rand.
	// It must be safe for concurrent use when EnsureActive or Rotate run
	// concurrently.
	Rand io.Reader
}

// Keyring serves the signing keys of one server from a snapshot of a
// Store. Create it with New, then call Load or EnsureActive before use.
type Keyring struct {
	store     Store
	clock     Clock
	retention map[Purpose]time.Duration
	random    io.Reader

	// current is the snapshot that lookups read. It is never nil.
	current atomic.Pointer[snapshot]

	// loadMu serializes reloads, so that a slow Load that read the store
	// earlier never replaces the snapshot of a later one.
	loadMu sync.Mutex
}

// New returns a Keyring backed by store. It holds no keys until Load or
// EnsureActive has run.
func New(store Store, opts Options) *Keyring {
	r := &Keyring{
		store:     store,
		clock:     opts.Clock,
		retention: maps.Clone(opts.Retention),
		random:    opts.Rand,
	}

	if r.clock == nil {
		r.clock = systemClock{}
	}
	if r.random == nil {
		r.random = rand.Reader
	}

	r.current.Store(&snapshot{byID: map[string]Key{}, active: map[Purpose]Key{}})

	return r
}

// now returns the clock's time in UTC, cut to whole milliseconds so that
// times written to the store read back unchanged.
func (r *Keyring) now() time.Time {
	return r.clock.Now().UTC().Truncate(time.Millisecond)
}

// Load reads every key from the store and replaces the snapshot that
// lookups use. On error the previous snapshot stays in use. Load rejects
// stored data that breaks the Store contract, such as two active keys for
// one purpose or a malformed key.
func (r *Keyring) Load(ctx context.Context) error {
	r.loadMu.Lock()
	defer r.loadMu.Unlock()

	stored, err := r.store.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("list signing keys: %w", err)
	}

	snap, err := newSnapshot(stored)
	if err != nil {
		return fmt.Errorf("load signing keys: %w", err)
	}

	r.current.Store(snap)

	return nil
}

// Active returns the signing key of purpose. It returns ErrNoActiveKey
// when the purpose has none.
func (r *Keyring) Active(purpose Purpose) (Key, error) {
	key, ok := r.current.Load().active[purpose]
	if !ok {
		return Key{}, fmt.Errorf("find active key for %s: %w", purpose, ErrNoActiveKey)
	}

	return key, nil
}

// Lookup returns the key with the given id if it still verifies. It
// returns ErrUnknownKey for an id that names no key and for a retired key
// whose VerifyUntil has passed. Callers must also check the key's Purpose.
func (r *Keyring) Lookup(id string) (Key, error) {
	key, ok := r.current.Load().byID[id]
	if !ok || !key.Verifies(r.clock.Now()) {
		return Key{}, fmt.Errorf("look up key %q: %w", id, ErrUnknownKey)
	}

	return key, nil
}

// Verifying returns the keys of purpose that verify now: the active key
// first, then the retired keys whose VerifyUntil has not passed, newest
// first. This is the set to publish in a JWKS document.
func (r *Keyring) Verifying(purpose Purpose) []Key {
	now := r.clock.Now()
	snap := r.current.Load()

	var verifying []Key
	if active, ok := snap.active[purpose]; ok {
		verifying = append(verifying, active)
	}
	for i := len(snap.all) - 1; i >= 0; i-- {
		key := snap.all[i]
		if key.Purpose == purpose && !key.Active() && key.Verifies(now) {
			verifying = append(verifying, key)
		}
	}

	return verifying
}

// Keys returns every loaded key, retired and expired ones included,
// oldest first.
func (r *Keyring) Keys() []Key {
	return slices.Clone(r.current.Load().all)
}

// EnsureActive creates an active key for each purpose that has none, then
// reloads. When several processes race to create the first key of a
// purpose, the store accepts one key and the others get
// ErrActiveKeyExists, which EnsureActive treats as success: the reload
// picks up the winner's key.
func (r *Keyring) EnsureActive(ctx context.Context, purposes ...Purpose) error {
	for _, purpose := range purposes {
		if !purpose.known() {
			return fmt.Errorf("ensure active key for %q: unknown purpose", purpose)
		}
	}

	if err := r.Load(ctx); err != nil {
		return err
	}

	snap := r.current.Load()
	for _, purpose := range purposes {
		if _, ok := snap.active[purpose]; ok {
			continue
		}

		if err := r.createFirst(ctx, purpose); err != nil {
			return err
		}
	}

	return r.Load(ctx)
}

// createFirst stores a new active key for a purpose that had none when the
// snapshot was taken.
func (r *Keyring) createFirst(ctx context.Context, purpose Purpose) error {
	key, err := generateKey(r.random, purpose, r.now())
	if err != nil {
		return fmt.Errorf("generate %s key: %w", purpose, err)
	}

	err = r.store.InsertSigningKey(ctx, key, nil)
	if errors.Is(err, ErrActiveKeyExists) {
		// Another process created the key after our Load. Its key wins.
		return nil
	}
	if err != nil {
		return fmt.Errorf("insert %s key %s: %w", purpose, key.ID, err)
	}

	return nil
}

// Rotate makes a new key the active key of purpose and retires the
// previous one, which keeps verifying until now plus the purpose's
// retention. Both changes happen in one store transaction, and the
// keyring reloads afterwards.
//
// Rotate returns ErrNoActiveKey when the purpose has no active key. It
// returns ErrKeyChanged when another process rotated the key first, after
// reloading, so the caller may retry. When the rotation succeeds but the
// reload fails, Rotate returns the new key together with the reload error,
// and the next successful Load picks the key up.
func (r *Keyring) Rotate(ctx context.Context, purpose Purpose) (Key, error) {
	retention, err := r.retentionFor(purpose)
	if err != nil {
		return Key{}, err
	}

	if err := r.Load(ctx); err != nil {
		return Key{}, err
	}

	previous, err := r.Active(purpose)
	if err != nil {
		return Key{}, fmt.Errorf("rotate %s key: %w", purpose, err)
	}

	key, err := r.replace(ctx, previous, retention)
	if err != nil {
		return Key{}, err
	}

	if err := r.Load(ctx); err != nil {
		return key, fmt.Errorf("reload after rotating %s key to %s: %w", purpose, key.ID, err)
	}

	return key, nil
}

// retentionFor returns the verification period of retired keys of
// purpose.
func (r *Keyring) retentionFor(purpose Purpose) (time.Duration, error) {
	if !purpose.known() {
		return 0, fmt.Errorf("rotate key for %q: unknown purpose", purpose)
	}

	retention, ok := r.retention[purpose]
	if !ok {
		return 0, fmt.Errorf("rotate %s key: no retention configured for the purpose", purpose)
	}
	if retention < 0 {
		return 0, fmt.Errorf("rotate %s key: negative retention %s", purpose, retention)
	}

	return retention, nil
}

// replace generates a key for previous.Purpose and stores it in place of
// previous. On ErrKeyChanged it reloads so that the caller sees the key
// that won.
func (r *Keyring) replace(ctx context.Context, previous Key, retention time.Duration) (Key, error) {
	now := r.now()

	key, err := generateKey(r.random, previous.Purpose, now)
	if err != nil {
		return Key{}, fmt.Errorf("generate %s key: %w", previous.Purpose, err)
	}

	retirement := &Retirement{KeyID: previous.ID, RetiredAt: now, VerifyUntil: now.Add(retention)}
	err = r.store.InsertSigningKey(ctx, key, retirement)
	if err == nil {
		return key, nil
	}

	err = fmt.Errorf("replace %s key %s with %s: %w", previous.Purpose, previous.ID, key.ID, err)
	if errors.Is(err, ErrKeyChanged) {
		if loadErr := r.Load(ctx); loadErr != nil {
			return Key{}, errors.Join(err, loadErr)
		}
	}

	return Key{}, err
}
