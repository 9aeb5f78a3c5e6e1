package keys

import "errors"

// ErrActiveKeyExists is returned by [Store.InsertSigningKey] when the
// purpose already has an active key and no retirement of it was requested.
// [Keyring.EnsureActive] treats it as losing a race to another process.
var ErrActiveKeyExists = errors.New("purpose already has an active signing key")

// ErrKeyChanged is returned by [Store.InsertSigningKey] and
// [Keyring.Rotate] when the key named for retirement is no longer the
// purpose's active key, because another process rotated it first.
var ErrKeyChanged = errors.New("active signing key changed")

// ErrUnknownKey is returned by [Keyring.Lookup] for an id that names no
// key, and for a retired key whose VerifyUntil has passed.
var ErrUnknownKey = errors.New("unknown signing key")

// ErrNoActiveKey is returned by [Keyring.Active] and [Keyring.Rotate] when
// the purpose has no active key, for example before
// [Keyring.EnsureActive] has run.
var ErrNoActiveKey = errors.New("no active signing key")
