package keys

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"time"
)

// Purpose names what a key signs. A key signs for exactly one purpose, so a
// token key can never verify a federation event and the other way round.
type Purpose string

// The purposes a key may serve.
const (
	// PurposeAccessToken keys sign the JWT access tokens that clients
	// present as bearer tokens.
	PurposeAccessToken Purpose = "access_token"

	// PurposeEventSigning keys sign events sent to federated servers.
	PurposeEventSigning Purpose = "event_signing"
)

// known reports whether p is one of the purposes declared above. Keys of
// other purposes may still be loaded, written by a newer version, but the
// keyring creates and rotates only known ones.
func (p Purpose) known() bool {
	switch p {
	case PurposeAccessToken, PurposeEventSigning:
		return true
	}

	return false
}

// keyIDPrefix starts every key id and names the algorithm, so ids stay
// unambiguous if another algorithm is added.
const keyIDPrefix = "ed25519:"

// keyIDRandomBytes is the number of random bytes in a key id. 64 bits make
// a collision among the few keys a server ever creates negligible, and the
// store rejects a duplicate id anyway.
const keyIDRandomBytes = 8

// Key is one Ed25519 signing key of the keyring.
//
// A key id has the form "ed25519:" followed by 11 characters of unpadded
// base64url (8 random bytes), for example "ed25519:q0YdAGp_3mQ". Ids are
// safe in URLs, JSON and JWT headers without escaping.
type Key struct {
	// ID identifies the key in the kid header of tokens and in JWKS.
	ID string

	// Purpose is the kind of data the key signs.
	Purpose Purpose

	// Public is the 32-byte public key.
	Public ed25519.PublicKey

	// Private is the 64-byte private key whose second half is Public.
	Private ed25519.PrivateKey

	// CreatedAt is when the key was generated.
	CreatedAt time.Time

	// RetiredAt is when the key stopped signing, or zero while it is
	// active.
	RetiredAt time.Time

	// VerifyUntil is the end of a retired key's verification period, or
	// zero while the key is active. From that instant on, the key verifies
	// nothing.
	VerifyUntil time.Time
}

// Active reports whether the key is its purpose's signing key.
func (k Key) Active() bool {
	return k.RetiredAt.IsZero()
}

// Verifies reports whether signatures made with the key are accepted at
// now: always while the key is active, and before VerifyUntil once it is
// retired.
func (k Key) Verifies(now time.Time) bool {
	return k.Active() || now.Before(k.VerifyUntil)
}

// validate checks the invariants that every stored key must satisfy, so a
// corrupt row cannot reach signing or verification.
func (k Key) validate() error {
	switch {
	case k.ID == "":
		return errors.New("empty key id")
	case k.Purpose == "":
		return errors.New("empty purpose")
	case len(k.Public) != ed25519.PublicKeySize:
		return fmt.Errorf("public key has %d bytes, want %d", len(k.Public), ed25519.PublicKeySize)
	case len(k.Private) != ed25519.PrivateKeySize:
		return fmt.Errorf("private key has %d bytes, want %d", len(k.Private), ed25519.PrivateKeySize)
	case !k.Public.Equal(k.Private.Public()):
		return errors.New("public key does not match private key")
	case k.RetiredAt.IsZero() != k.VerifyUntil.IsZero():
		return errors.New("retired_at and verify_until must be set together")
	case k.VerifyUntil.Before(k.RetiredAt):
		return errors.New("verify_until is before retired_at")
	}

	return nil
}

// generateKey creates an active key for purpose, reading the key id and
// the private key seed from random.
func generateKey(random io.Reader, purpose Purpose, now time.Time) (Key, error) {
	var idBytes [keyIDRandomBytes]byte
	if _, err := io.ReadFull(random, idBytes[:]); err != nil {
		return Key{}, fmt.Errorf("read random key id: %w", err)
	}

	seed := make([]byte, ed25519.SeedSize)
	if _, err := io.ReadFull(random, seed); err != nil {
		return Key{}, fmt.Errorf("read random key seed: %w", err)
	}

	private := ed25519.NewKeyFromSeed(seed)
	key := Key{
		ID:        keyIDPrefix + base64.RawURLEncoding.EncodeToString(idBytes[:]),
		Purpose:   purpose,
		Public:    private.Public().(ed25519.PublicKey),
		Private:   private,
		CreatedAt: now,
	}

	return key, nil
}
