package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Bounds that PasswordParams.Validate enforces. Verify applies them to the
// parameters read from a stored hash too, so a corrupt hash can neither
// crash argon2 nor make it allocate unbounded memory.
const (
	maxPasswordMemoryKiB  = 1 << 20 // 1 GiB
	maxPasswordIterations = 100
	minPasswordSaltLength = 8 // the minimum that RFC 9106 allows
	maxPasswordSaltLength = 64
	minPasswordKeyLength  = 16
	maxPasswordKeyLength  = 64

	// maxPasswordHashLength bounds the encoded hash that Verify parses.
	// With the largest parameters, salt and key it is about 210 bytes.
	maxPasswordHashLength = 512
)

// passwordHashPrefix starts every encoded hash: the PHC string format's
// algorithm id and the Argon2 version, 19 (0x13), which is argon2.Version.
const passwordHashPrefix = "$argon2id$v=19$"

// PasswordParams are the Argon2id cost parameters of a password hash.
type PasswordParams struct {
	Memory      uint32 // memory per hash, in KiB
	Iterations  uint32 // passes over the memory
	Parallelism uint8  // lanes, each computed by its own goroutine
	SaltLength  uint32 // random salt, in bytes
	KeyLength   uint32 // derived key stored in the hash, in bytes
}

// DefaultPasswordParams returns the parameters used when none are
// configured: 19 MiB of memory, 2 passes and 1 lane, the minimum Argon2id
// configuration recommended by the OWASP Password Storage Cheat Sheet,
// with the 16-byte salt that RFC 9106 recommends and a 32-byte key. The
// memory is kept at that minimum because the hasher runs several hashes
// at once (see PasswordHasherOptions.MaxConcurrent).
func DefaultPasswordParams() PasswordParams {
	return PasswordParams{
		Memory:      19 * 1024,
		Iterations:  2,
		Parallelism: 1,
		SaltLength:  16,
		KeyLength:   32,
	}
}

// Validate checks that Argon2id accepts the parameters and that they stay
// within resource bounds: at most 1 GiB of memory and 100 passes, a salt of
// 8 to 64 bytes and a key of 16 to 64 bytes. It sets no security floor
// below the default, so tests may use cheap parameters.
func (p PasswordParams) Validate() error {
	switch {
	case p.Parallelism == 0:
		return errors.New("password parallelism is 0, want at least 1")
	case p.Memory < 8*uint32(p.Parallelism):
		// Argon2 needs 8 KiB per lane.
		return fmt.Errorf("password memory %d KiB is under 8 KiB per lane (%d lanes)", p.Memory, p.Parallelism)
	case p.Memory > maxPasswordMemoryKiB:
		return fmt.Errorf("password memory %d KiB is over the maximum of %d KiB", p.Memory, maxPasswordMemoryKiB)
	case p.Iterations == 0 || p.Iterations > maxPasswordIterations:
		return fmt.Errorf("password iterations %d is outside 1 to %d", p.Iterations, maxPasswordIterations)
	case p.SaltLength < minPasswordSaltLength || p.SaltLength > maxPasswordSaltLength:
		return fmt.Errorf("password salt length %d is outside %d to %d bytes", p.SaltLength, minPasswordSaltLength, maxPasswordSaltLength)
	case p.KeyLength < minPasswordKeyLength || p.KeyLength > maxPasswordKeyLength:
		return fmt.Errorf("password key length %d is outside %d to %d bytes", p.KeyLength, minPasswordKeyLength, maxPasswordKeyLength)
	}

	return nil
}

// PasswordHasherOptions configures NewPasswordHasher.
type PasswordHasherOptions struct {
	// Params are the parameters of new hashes. The zero value means
	// DefaultPasswordParams().
	Params PasswordParams

	// MaxConcurrent is the number of hashes computed at once. Further
	// calls wait for a free slot, so peak memory is about MaxConcurrent
	// times Params.Memory. Zero means GOMAXPROCS, and at least 1.
	MaxConcurrent int
}

// PasswordHasher hashes and verifies passwords with Argon2id, computing at
// most a fixed number of hashes at once so that a flood of logins cannot
// exhaust memory. It is safe for concurrent use.
type PasswordHasher struct {
	params PasswordParams

	// slots holds one token per running hash. Its capacity is the
	// concurrency limit.
	slots chan struct{}

	// kdf derives the key. Tests replace it to observe concurrency.
	kdf func(password, salt []byte, params PasswordParams) []byte

	// dummySalt and dummyKey make VerifyDummy do the work of a real
	// verification against a hash that no password matches in practice.
	dummySalt []byte
	dummyKey  []byte
}

// NewPasswordHasher returns a PasswordHasher. It returns an error when the
// parameters fail PasswordParams.Validate or MaxConcurrent is negative.
func NewPasswordHasher(opts PasswordHasherOptions) (*PasswordHasher, error) {
	params := opts.Params
	if params == (PasswordParams{}) {
		params = DefaultPasswordParams()
	}
	if err := params.Validate(); err != nil {
		return nil, fmt.Errorf("create password hasher: %w", err)
	}

	workers := opts.MaxConcurrent
	if workers < 0 {
		return nil, fmt.Errorf("create password hasher: negative max concurrent hashes %d", workers)
	}
	if workers == 0 {
		workers = max(1, runtime.GOMAXPROCS(0))
	}

	hasher := &PasswordHasher{
		params:    params,
		slots:     make(chan struct{}, workers),
		kdf:       deriveArgon2id,
		dummySalt: randomBytes(params.SaltLength),
		dummyKey:  randomBytes(params.KeyLength),
	}

	return hasher, nil
}

// deriveArgon2id is the production key derivation.
func deriveArgon2id(password, salt []byte, params PasswordParams) []byte {
	return argon2.IDKey(password, salt, params.Iterations, params.Memory, params.Parallelism, params.KeyLength)
}

// randomBytes returns n bytes from crypto/rand, which never fails: since
// Go 1.24 it crashes the program if the system's random source fails.
func randomBytes(n uint32) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)

	return b
}

// Hash derives a hash of password with a fresh random salt and returns it
// in the PHC string format,
// $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key>, where salt
// and key are unpadded standard base64. It waits for a free slot and
// returns the context's error if ctx ends first. Any password is
// accepted, the empty one included, because length rules belong to the
// caller.
func (h *PasswordHasher) Hash(ctx context.Context, password []byte) (string, error) {
	salt := randomBytes(h.params.SaltLength)

	key, err := h.derive(ctx, password, salt, h.params)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}

	return encodePasswordHash(h.params, salt, key), nil
}

// Verify reports whether password matches the encoded hash, comparing in
// constant time. needsRehash is true when the password matches but the
// hash was made with parameters other than the hasher's, so the caller
// should store a new Hash of it. Verify returns an error wrapping
// ErrInvalidPasswordHash for a malformed hash, and the context's error if
// ctx ends while waiting for a slot.
func (h *PasswordHasher) Verify(ctx context.Context, password []byte, encoded string) (ok, needsRehash bool, err error) {
	stored, err := decodePasswordHash(encoded)
	if err != nil {
		return false, false, fmt.Errorf("verify password: %w", err)
	}

	key, err := h.derive(ctx, password, stored.salt, stored.params)
	if err != nil {
		return false, false, fmt.Errorf("verify password: %w", err)
	}

	if subtle.ConstantTimeCompare(key, stored.key) != 1 {
		return false, false, nil
	}

	return true, stored.params != h.params, nil
}

// VerifyDummy does the work of verifying password against a hash with the
// hasher's parameters and discards the result. Login calls it for an
// unknown user, so the response time does not reveal whether the account
// exists. It returns only the context's error.
func (h *PasswordHasher) VerifyDummy(ctx context.Context, password []byte) error {
	key, err := h.derive(ctx, password, h.dummySalt, h.params)
	if err != nil {
		return fmt.Errorf("verify dummy password: %w", err)
	}

	subtle.ConstantTimeCompare(key, h.dummyKey)

	return nil
}

// derive computes the key in a pool slot, waiting for one until ctx ends.
// Argon2 itself cannot be interrupted, so cancellation takes effect only
// while waiting.
func (h *PasswordHasher) derive(ctx context.Context, password, salt []byte, params PasswordParams) ([]byte, error) {
	// Checked first because select picks at random when a slot is free
	// and ctx has ended too.
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("wait for password hashing slot: %w", err)
	}

	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for password hashing slot: %w", ctx.Err())
	}
	defer func() { <-h.slots }()

	return h.kdf(password, salt, params), nil
}

// encodePasswordHash formats a hash in the PHC string format.
func encodePasswordHash(params PasswordParams, salt, key []byte) string {
	var b strings.Builder
	b.WriteString(passwordHashPrefix)
	fmt.Fprintf(&b, "m=%d,t=%d,p=%d$", params.Memory, params.Iterations, params.Parallelism)
	b.WriteString(base64.RawStdEncoding.EncodeToString(salt))
	b.WriteByte('$')
	b.WriteString(base64.RawStdEncoding.EncodeToString(key))

	return b.String()
}

// storedPassword is a decoded password hash.
type storedPassword struct {
	params PasswordParams
	salt   []byte
	key    []byte
}

// decodePasswordHash parses a hash written by encodePasswordHash. It
// accepts only the canonical form: Argon2id version 19, parameters in the
// order m, t, p as decimals without leading zeros, and unpadded base64
// with no line breaks. Every error wraps ErrInvalidPasswordHash and none
// quotes the hash.
func decodePasswordHash(encoded string) (storedPassword, error) {
	if len(encoded) > maxPasswordHashLength {
		return storedPassword{}, fmt.Errorf("%w: %d bytes long, over the maximum of %d", ErrInvalidPasswordHash, len(encoded), maxPasswordHashLength)
	}

	rest, ok := strings.CutPrefix(encoded, passwordHashPrefix)
	if !ok {
		return storedPassword{}, fmt.Errorf("%w: does not start with %s", ErrInvalidPasswordHash, passwordHashPrefix)
	}

	fields := strings.Split(rest, "$")
	if len(fields) != 3 {
		return storedPassword{}, fmt.Errorf("%w: has %d fields after the version, want 3", ErrInvalidPasswordHash, len(fields))
	}

	stored, err := decodePasswordFields(fields[0], fields[1], fields[2])
	if err != nil {
		return storedPassword{}, fmt.Errorf("%w: %w", ErrInvalidPasswordHash, err)
	}

	return stored, nil
}

// decodePasswordFields decodes the parameter, salt and key fields of a
// hash and validates the parameters they imply.
func decodePasswordFields(paramField, saltField, keyField string) (storedPassword, error) {
	params, err := decodePasswordParams(paramField)
	if err != nil {
		return storedPassword{}, err
	}

	salt, err := decodeCanonicalBase64(saltField)
	if err != nil {
		return storedPassword{}, fmt.Errorf("salt: %w", err)
	}
	key, err := decodeCanonicalBase64(keyField)
	if err != nil {
		return storedPassword{}, fmt.Errorf("key: %w", err)
	}

	params.SaltLength = uint32(len(salt))
	params.KeyLength = uint32(len(key))
	if err := params.Validate(); err != nil {
		return storedPassword{}, err
	}

	return storedPassword{params: params, salt: salt, key: key}, nil
}

// decodePasswordParams parses "m=<KiB>,t=<passes>,p=<lanes>".
func decodePasswordParams(field string) (PasswordParams, error) {
	parts := strings.Split(field, ",")
	if len(parts) != 3 {
		return PasswordParams{}, fmt.Errorf("parameters have %d entries, want m, t and p", len(parts))
	}

	memory, err := parsePasswordParam(parts[0], "m=", 32)
	if err != nil {
		return PasswordParams{}, err
	}
	iterations, err := parsePasswordParam(parts[1], "t=", 32)
	if err != nil {
		return PasswordParams{}, err
	}
	parallelism, err := parsePasswordParam(parts[2], "p=", 8)
	if err != nil {
		return PasswordParams{}, err
	}

	return PasswordParams{Memory: uint32(memory), Iterations: uint32(iterations), Parallelism: uint8(parallelism)}, nil
}

// parsePasswordParam parses one "<name>=<decimal>" entry that fits in
// bitSize bits.
func parsePasswordParam(entry, prefix string, bitSize int) (uint64, error) {
	digits, ok := strings.CutPrefix(entry, prefix)
	if !ok {
		return 0, fmt.Errorf("parameter entry does not start with %q", prefix)
	}

	value, err := strconv.ParseUint(digits, 10, bitSize)
	if err != nil || strconv.FormatUint(value, 10) != digits {
		return 0, fmt.Errorf("parameter %q is not a canonical decimal of %d bits", prefix, bitSize)
	}

	return value, nil
}

// decodeCanonicalBase64 decodes unpadded standard base64 and rejects any
// other spelling of the same bytes. Go's decoder skips line breaks and
// ignores the unused low bits of the last character, so the input is
// compared with the re-encoded output.
func decodeCanonicalBase64(field string) ([]byte, error) {
	decoded, err := base64.RawStdEncoding.DecodeString(field)
	if err != nil {
		return nil, errors.New("invalid unpadded base64")
	}

	if base64.RawStdEncoding.EncodeToString(decoded) != field {
		return nil, errors.New("non-canonical base64")
	}

	return decoded, nil
}
