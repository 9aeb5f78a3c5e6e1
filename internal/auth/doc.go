// Package auth provides accounts, sessions and the tokens that prove
// them: registration, login, Argon2id password hashing, Ed25519-signed
// access tokens, rotating refresh tokens and the bearer check.
//
// # Tokens
//
// An access token is a short-lived JWT (alg EdDSA, with the signing key's
// id in kid) naming the user and the session. A refresh token is an opaque
// secret stored only as its SHA-256 hash, bound to the device that logged
// in and replaced on every use. The successor of a refresh token is an
// HMAC of it under a deployment-wide key, so a retry within the grace
// window gets the same pair without the server storing any token, while
// a reuse after the window revokes the whole session.
//
// # Revocation
//
// The bearer check verifies the token's signature, then asks a session
// cache whether the session is live. Revocations made through a Service
// update that cache at once; entries also expire after a short interval,
// which bounds how long a revocation made by another node takes.
//
// # Concurrency
//
// Service, AccessTokens and PasswordHasher are safe for concurrent use.
// Password hashing runs in a bounded pool, so a flood of logins queues
// instead of exhausting memory. The package starts no goroutines.
package auth
