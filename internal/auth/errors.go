package auth

import "errors"

// ErrInvalidToken is wrapped by every error that AccessTokens.Verify
// returns: the token is malformed, forged, expired, not yet valid, signed
// by an unknown or retired key, or issued by another server. The HTTP
// layer maps it to 401 invalid_token.
var ErrInvalidToken = errors.New("invalid access token")

// ErrInvalidPasswordHash is wrapped by the error that
// PasswordHasher.Verify returns when the stored hash is not a PHC-format
// Argon2id string with supported parameters. It means corrupt data, not
// a wrong password.
var ErrInvalidPasswordHash = errors.New("invalid password hash")
