// Package keys provides the server keyring: Ed25519 signing keys with ids,
// purposes and validity periods, rotated without breaking the verification
// of what older keys signed.
//
// # Keys and purposes
//
// Every [Key] serves one [Purpose], such as signing access tokens or
// signing federation events, and each purpose has at most one active key.
// The active key signs. [Keyring.Rotate] replaces it with a new key and
// retires the old one, which stops signing at once but keeps verifying
// until its VerifyUntil time: the retirement time plus the retention that
// [Options] sets for the purpose. For access tokens the retention is the
// token lifetime plus the clock leeway, so every token signed before a
// rotation still verifies until it expires.
//
// # Storage and reloading
//
// A [Store] persists the keys and is the source of truth shared by every
// process that uses them: each homeserver node and the
// `openguild admin keys` commands. A [Keyring] serves lookups from an
// immutable snapshot of the store, which [Keyring.Load] replaces. The
// package starts no goroutines, so the owner of a Keyring calls Load on a
// timer (every few seconds) to pick up a rotation made by another process.
//
// # Concurrency
//
// A Keyring is safe for concurrent use. [Keyring.Active],
// [Keyring.Lookup], [Keyring.Verifying] and [Keyring.Keys] read the current
// snapshot through an atomic pointer and take no lock, so signing and
// verification never wait for Load, EnsureActive or Rotate. A returned Key
// shares its Public and Private byte slices with the snapshot, and callers
// must not modify them.
package keys
