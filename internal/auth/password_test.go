package auth

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// cheapPasswordParams keep tests fast. They pass Validate but are far too
// weak for real use.
func cheapPasswordParams() PasswordParams {
	return PasswordParams{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
}

func newTestPasswordHasher(t *testing.T, opts PasswordHasherOptions) *PasswordHasher {
	t.Helper()

	hasher, err := NewPasswordHasher(opts)
	if err != nil {
		t.Fatalf("NewPasswordHasher: %v", err)
	}

	return hasher
}

func mustHashPassword(t *testing.T, hasher *PasswordHasher, password []byte) string {
	t.Helper()

	encoded, err := hasher.Hash(context.Background(), password)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}

	return encoded
}

func TestPasswordHashFormat(t *testing.T) {
	if argon2.Version != 0x13 {
		t.Fatalf("argon2.Version = %#x, but passwordHashPrefix writes v=19 (0x13)", argon2.Version)
	}

	hasher := newTestPasswordHasher(t, PasswordHasherOptions{})
	encoded := mustHashPassword(t, hasher, []byte("correct horse battery staple"))

	format := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !format.MatchString(encoded) {
		t.Errorf("Hash = %q, want a match for %s", encoded, format)
	}
}

// TestPasswordHashMatchesArgon2id recomputes the key of a hash directly
// with argon2.IDKey, so a mix-up of parameters in encoding or decoding
// cannot go unnoticed.
func TestPasswordHashMatchesArgon2id(t *testing.T) {
	params := PasswordParams{Memory: 96, Iterations: 3, Parallelism: 2, SaltLength: 12, KeyLength: 24}
	hasher := newTestPasswordHasher(t, PasswordHasherOptions{Params: params})
	password := []byte("correct horse battery staple")

	fields := strings.Split(mustHashPassword(t, hasher, password), "$")
	if len(fields) != 6 || fields[3] != "m=96,t=3,p=2" {
		t.Fatalf("hash fields = %q, want 6 fields with parameters m=96,t=3,p=2", fields)
	}
	salt, err := base64.RawStdEncoding.DecodeString(fields[4])
	if err != nil || len(salt) != 12 {
		t.Fatalf("salt field %q: %d bytes, err %v; want 12 bytes", fields[4], len(salt), err)
	}

	want := argon2.IDKey(password, salt, 3, 96, 2, 24)
	if got := fields[5]; got != base64.RawStdEncoding.EncodeToString(want) {
		t.Errorf("key field = %s, want argon2.IDKey output %s", got, base64.RawStdEncoding.EncodeToString(want))
	}
}

func TestPasswordVerify(t *testing.T) {
	hasher := newTestPasswordHasher(t, PasswordHasherOptions{})
	encoded := mustHashPassword(t, hasher, []byte("correct horse battery staple"))

	tests := []struct {
		name     string
		password string
		wantOK   bool
	}{
		{"same password", "correct horse battery staple", true},
		{"wrong password", "correct horse battery stable", false},
		{"password with an extra byte", "correct horse battery staple ", false},
		{"empty password", "", false},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, needsRehash, err := hasher.Verify(context.Background(), []byte(tc.password), encoded)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if ok != tc.wantOK {
				t.Errorf("Verify ok = %v, want %v", ok, tc.wantOK)
			}
			if needsRehash {
				t.Error("Verify needsRehash = true for a hash with the current parameters")
			}
		})
	}
}

func TestPasswordHashSaltsEachHash(t *testing.T) {
	hasher := newTestPasswordHasher(t, PasswordHasherOptions{Params: cheapPasswordParams()})

	first := mustHashPassword(t, hasher, []byte("same password"))
	second := mustHashPassword(t, hasher, []byte("same password"))
	if first == second {
		t.Errorf("two hashes of one password are equal (%s), want distinct salts", first)
	}
}

func TestPasswordHashAcceptsAnyBytes(t *testing.T) {
	hasher := newTestPasswordHasher(t, PasswordHasherOptions{Params: cheapPasswordParams()})
	tests := []struct {
		name     string
		password []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"NUL bytes", []byte{0, 0, 0, 0, 0, 0, 0, 0}},
		{"invalid UTF-8", []byte{0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28}},
		{"1024 bytes", bytes.Repeat([]byte("p"), 1024)},
		{"1 MiB", bytes.Repeat([]byte("p"), 1<<20)},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			encoded := mustHashPassword(t, hasher, tc.password)

			ok, _, err := hasher.Verify(context.Background(), tc.password, encoded)
			if err != nil || !ok {
				t.Errorf("Verify of the hashed bytes: ok = %v, err = %v; want true, nil", ok, err)
			}
		})
	}
}

func TestPasswordNeedsRehash(t *testing.T) {
	base := cheapPasswordParams()
	tests := []struct {
		name string
		edit func(p *PasswordParams)
		want bool
	}{
		{"same parameters", func(*PasswordParams) {}, false},
		{"more memory", func(p *PasswordParams) { p.Memory *= 2 }, true},
		{"more iterations", func(p *PasswordParams) { p.Iterations++ }, true},
		{"more lanes", func(p *PasswordParams) { p.Parallelism = 2 }, true},
		{"longer salt", func(p *PasswordParams) { p.SaltLength = 32 }, true},
		{"longer key", func(p *PasswordParams) { p.KeyLength = 64 }, true},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			password := []byte("correct horse battery staple")
			encoded := mustHashPassword(t, newTestPasswordHasher(t, PasswordHasherOptions{Params: base}), password)

			current := base
			tc.edit(&current)
			hasher := newTestPasswordHasher(t, PasswordHasherOptions{Params: current})

			ok, needsRehash, err := hasher.Verify(context.Background(), password, encoded)
			if err != nil || !ok {
				t.Fatalf("Verify with changed parameters: ok = %v, err = %v; want true, nil", ok, err)
			}
			if needsRehash != tc.want {
				t.Errorf("needsRehash = %v, want %v", needsRehash, tc.want)
			}

			ok, needsRehash, err = hasher.Verify(context.Background(), []byte("wrong password"), encoded)
			if err != nil || ok || needsRehash {
				t.Errorf("Verify of a wrong password = %v, %v, %v; want false, false, nil", ok, needsRehash, err)
			}
		})
	}
}

func TestPasswordVerifyRejectsMalformedHash(t *testing.T) {
	hasher := newTestPasswordHasher(t, PasswordHasherOptions{Params: cheapPasswordParams()})
	valid := mustHashPassword(t, hasher, []byte("password"))
	fields := strings.Split(valid, "$") // "", "argon2id", "v=19", params, salt, key
	salt, key := fields[4], fields[5]
	join := func(parts ...string) string { return strings.Join(parts, "$") }
	b64 := base64.RawStdEncoding.EncodeToString

	tests := []struct {
		name    string
		encoded string
	}{
		{"empty string", ""},
		{"bcrypt hash", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i variant", join("", "argon2i", "v=19", "m=64,t=1,p=1", salt, key)},
		{"argon2d variant", join("", "argon2d", "v=19", "m=64,t=1,p=1", salt, key)},
		{"version 16", join("", "argon2id", "v=16", "m=64,t=1,p=1", salt, key)},
		{"version missing", join("", "argon2id", "m=64,t=1,p=1", salt, key)},
		{"key missing", join("", "argon2id", "v=19", "m=64,t=1,p=1", salt)},
		{"extra field", join("", "argon2id", "v=19", "m=64,t=1,p=1", salt, key, key)},
		{"parameters out of order", join("", "argon2id", "v=19", "t=1,m=64,p=1", salt, key)},
		{"parameter missing", join("", "argon2id", "v=19", "m=64,t=1", salt, key)},
		{"extra parameter", join("", "argon2id", "v=19", "m=64,t=1,p=1,k=2", salt, key)},
		{"leading zero", join("", "argon2id", "v=19", "m=064,t=1,p=1", salt, key)},
		{"plus sign", join("", "argon2id", "v=19", "m=+64,t=1,p=1", salt, key)},
		{"space in parameters", join("", "argon2id", "v=19", "m=64, t=1,p=1", salt, key)},
		{"memory over 32 bits", join("", "argon2id", "v=19", "m=4294967296,t=1,p=1", salt, key)},
		{"memory over 1 GiB", join("", "argon2id", "v=19", "m=4294967295,t=1,p=1", salt, key)},
		{"memory under 8 KiB per lane", join("", "argon2id", "v=19", "m=15,t=1,p=2", salt, key)},
		{"zero iterations", join("", "argon2id", "v=19", "m=64,t=0,p=1", salt, key)},
		{"too many iterations", join("", "argon2id", "v=19", "m=64,t=101,p=1", salt, key)},
		{"zero lanes", join("", "argon2id", "v=19", "m=64,t=1,p=0", salt, key)},
		{"lanes over 8 bits", join("", "argon2id", "v=19", "m=4096,t=1,p=256", salt, key)},
		{"salt of 4 bytes", join("", "argon2id", "v=19", "m=64,t=1,p=1", b64([]byte("salt")), key)},
		{"key of 8 bytes", join("", "argon2id", "v=19", "m=64,t=1,p=1", salt, b64(make([]byte, 8)))},
		{"padded salt", join("", "argon2id", "v=19", "m=64,t=1,p=1", salt+"==", key)},
		{"URL-safe base64 character", join("", "argon2id", "v=19", "m=64,t=1,p=1", "-"+salt[1:], key)},
		{"line break in key", join("", "argon2id", "v=19", "m=64,t=1,p=1", salt, key[:10]+"\n"+key[10:])},
		{"non-canonical last character", join("", "argon2id", "v=19", "m=64,t=1,p=1", salt, key[:len(key)-1]+flipLowBase64Bit(key[len(key)-1]))},
		{"oversized", valid + strings.Repeat("A", 600)},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, needsRehash, err := hasher.Verify(context.Background(), []byte("password"), tc.encoded)
			if !errors.Is(err, ErrInvalidPasswordHash) {
				t.Fatalf("Verify: err = %v, want ErrInvalidPasswordHash", err)
			}
			if ok || needsRehash {
				t.Errorf("Verify returned ok = %v, needsRehash = %v with an error", ok, needsRehash)
			}
		})
	}
}

// flipLowBase64Bit returns the standard base64 character whose value
// differs from c's in the lowest bit. In the last character of a 32-byte
// key that bit is padding, so the decoded bytes stay the same.
func flipLowBase64Bit(c byte) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

	return string(alphabet[strings.IndexByte(alphabet, c)^1])
}

func TestPasswordParamsValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(p *PasswordParams)
		wantErr bool
	}{
		{"default parameters", func(*PasswordParams) {}, false},
		{"1 GiB of memory", func(p *PasswordParams) { p.Memory = 1 << 20 }, false},
		{"memory over 1 GiB", func(p *PasswordParams) { p.Memory = 1<<20 + 1 }, true},
		{"8 KiB per lane", func(p *PasswordParams) { p.Memory, p.Parallelism = 32, 4 }, false},
		{"under 8 KiB per lane", func(p *PasswordParams) { p.Memory, p.Parallelism = 31, 4 }, true},
		{"zero lanes", func(p *PasswordParams) { p.Parallelism = 0 }, true},
		{"zero iterations", func(p *PasswordParams) { p.Iterations = 0 }, true},
		{"101 iterations", func(p *PasswordParams) { p.Iterations = 101 }, true},
		{"salt of 7 bytes", func(p *PasswordParams) { p.SaltLength = 7 }, true},
		{"salt of 65 bytes", func(p *PasswordParams) { p.SaltLength = 65 }, true},
		{"key of 15 bytes", func(p *PasswordParams) { p.KeyLength = 15 }, true},
		{"key of 65 bytes", func(p *PasswordParams) { p.KeyLength = 65 }, true},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			params := DefaultPasswordParams()
			tc.edit(&params)

			if err := params.Validate(); (err != nil) != tc.wantErr {
				t.Errorf("Validate() = %v, want error: %v", err, tc.wantErr)
			}
		})
	}
}

func TestDefaultPasswordParamsMeetOWASPMinimum(t *testing.T) {
	params := DefaultPasswordParams()

	if params.Memory < 19*1024 || params.Iterations < 2 || params.Parallelism < 1 {
		t.Errorf("DefaultPasswordParams() = %+v, below m=19 MiB, t=2, p=1", params)
	}
	if params.SaltLength < 16 {
		t.Errorf("default salt length %d, want at least 16 bytes", params.SaltLength)
	}
}

func TestNewPasswordHasher(t *testing.T) {
	hasher := newTestPasswordHasher(t, PasswordHasherOptions{})
	if hasher.params != DefaultPasswordParams() {
		t.Errorf("params = %+v, want DefaultPasswordParams()", hasher.params)
	}
	if want := max(1, runtime.GOMAXPROCS(0)); cap(hasher.slots) != want {
		t.Errorf("concurrency limit = %d, want GOMAXPROCS (%d)", cap(hasher.slots), want)
	}

	invalid := cheapPasswordParams()
	invalid.Iterations = 0
	if _, err := NewPasswordHasher(PasswordHasherOptions{Params: invalid}); err == nil {
		t.Error("NewPasswordHasher with zero iterations succeeded, want an error")
	}
	if _, err := NewPasswordHasher(PasswordHasherOptions{MaxConcurrent: -1}); err == nil {
		t.Error("NewPasswordHasher with MaxConcurrent -1 succeeded, want an error")
	}
}

// blockingKDF replaces a hasher's key derivation with one that reports
// each call on entered and returns only when release is closed or sent
// to. It tracks the number of concurrent calls.
type blockingKDF struct {
	entered chan struct{}
	release chan struct{}
	running atomic.Int32
	peak    atomic.Int32
}

func newBlockingKDF() *blockingKDF {
	return &blockingKDF{entered: make(chan struct{}, 100), release: make(chan struct{})}
}

func (k *blockingKDF) derive(password, salt []byte, params PasswordParams) []byte {
	running := k.running.Add(1)
	defer k.running.Add(-1)
	for {
		peak := k.peak.Load()
		if running <= peak || k.peak.CompareAndSwap(peak, running) {
			break
		}
	}

	k.entered <- struct{}{}
	<-k.release

	return make([]byte, params.KeyLength)
}

// waitEntered waits for n calls to enter derive, failing after a
// deadline.
func (k *blockingKDF) waitEntered(t *testing.T, n int) {
	t.Helper()

	deadline := time.After(5 * time.Second)
	for i := range n {
		select {
		case <-k.entered:
		case <-deadline:
			t.Fatalf("only %d of %d hashes started within 5s", i, n)
		}
	}
}

func TestPasswordHasherBoundsConcurrency(t *testing.T) {
	const (
		limit   = 2
		callers = 6
	)
	kdf := newBlockingKDF()
	hasher := newTestPasswordHasher(t, PasswordHasherOptions{Params: cheapPasswordParams(), MaxConcurrent: limit})
	hasher.kdf = kdf.derive

	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			_, err := hasher.Hash(context.Background(), []byte("password"))
			errs <- err
		})
	}

	kdf.waitEntered(t, limit)
	select {
	case <-kdf.entered:
		t.Errorf("hash %d started while %d were running, over the limit", limit+1, limit)
	case <-time.After(50 * time.Millisecond):
	}

	for range callers {
		kdf.release <- struct{}{}
	}
	wg.Wait()
	close(errs)

	for err := range errs {
		if err != nil {
			t.Errorf("Hash: %v", err)
		}
	}
	if peak := kdf.peak.Load(); peak != limit {
		t.Errorf("peak concurrent hashes = %d, want the limit %d", peak, limit)
	}
}

func TestPasswordHasherCancelWhileWaiting(t *testing.T) {
	encoded := mustHashPassword(t, newTestPasswordHasher(t, PasswordHasherOptions{Params: cheapPasswordParams()}), []byte("password"))
	tests := []struct {
		name string
		call func(ctx context.Context, hasher *PasswordHasher) error
	}{
		{"Hash", func(ctx context.Context, hasher *PasswordHasher) error {
			_, err := hasher.Hash(ctx, []byte("password"))
			return err
		}},
		{"Verify", func(ctx context.Context, hasher *PasswordHasher) error {
			_, _, err := hasher.Verify(ctx, []byte("password"), encoded)
			return err
		}},
		{"VerifyDummy", func(ctx context.Context, hasher *PasswordHasher) error {
			return hasher.VerifyDummy(ctx, []byte("password"))
		}},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kdf := newBlockingKDF()
			hasher := newTestPasswordHasher(t, PasswordHasherOptions{Params: cheapPasswordParams(), MaxConcurrent: 1})
			hasher.kdf = kdf.derive

			occupied := make(chan error, 1)
			go func() {
				_, err := hasher.Hash(context.Background(), []byte("other"))
				occupied <- err
			}()
			kdf.waitEntered(t, 1)

			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- tc.call(ctx, hasher) }()
			select {
			case err := <-done:
				t.Fatalf("call returned %v while the only slot was taken, want it to wait", err)
			case <-time.After(20 * time.Millisecond):
			}
			cancel()

			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("err = %v, want context.Canceled", err)
				}
			case <-time.After(5 * time.Second):
				t.Error("call still waiting 5s after its context was cancelled")
			}

			close(kdf.release)
			if err := <-occupied; err != nil {
				t.Errorf("Hash holding the slot: %v", err)
			}
			if n := len(kdf.entered); n != 0 {
				t.Errorf("the cancelled call computed %d hashes, want 0", n)
			}
		})
	}
}

func TestPasswordHasherCancelledContextWithFreeSlot(t *testing.T) {
	hasher := newTestPasswordHasher(t, PasswordHasherOptions{Params: cheapPasswordParams()})
	calls := 0
	hasher.kdf = func(_, _ []byte, params PasswordParams) []byte {
		calls++
		return make([]byte, params.KeyLength)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	for range 20 {
		if _, err := hasher.Hash(ctx, []byte("password")); !errors.Is(err, context.Canceled) {
			t.Fatalf("Hash with a cancelled context: err = %v, want context.Canceled", err)
		}
	}
	if calls != 0 {
		t.Errorf("%d hashes computed for a cancelled context, want 0", calls)
	}
}

// TestVerifyDummyDoesRealWork checks that VerifyDummy derives a key with
// the same parameters and salt length as a real verification, which is
// what makes the two take the same time.
func TestVerifyDummyDoesRealWork(t *testing.T) {
	params := cheapPasswordParams()
	hasher := newTestPasswordHasher(t, PasswordHasherOptions{Params: params})
	encoded := mustHashPassword(t, hasher, []byte("password"))

	type derivation struct {
		params  PasswordParams
		saltLen int
	}
	var seen []derivation
	hasher.kdf = func(password, salt []byte, p PasswordParams) []byte {
		seen = append(seen, derivation{p, len(salt)})
		return deriveArgon2id(password, salt, p)
	}

	if _, _, err := hasher.Verify(context.Background(), []byte("password"), encoded); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if err := hasher.VerifyDummy(context.Background(), []byte("password")); err != nil {
		t.Fatalf("VerifyDummy: %v", err)
	}

	if len(seen) != 2 {
		t.Fatalf("key derived %d times, want once by Verify and once by VerifyDummy", len(seen))
	}
	if seen[0] != seen[1] {
		t.Errorf("VerifyDummy derived with %+v, Verify with %+v; want the same", seen[1], seen[0])
	}
	if subtle.ConstantTimeCompare(hasher.dummyKey, make([]byte, params.KeyLength)) == 1 {
		t.Error("dummy key is all zeros, want random bytes")
	}
}
