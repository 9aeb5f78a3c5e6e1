// Package guild provides guilds, channels, roles, members, invites, bans,
// channel permission overwrites and direct-message channels, and decides
// who may see and change each of them.
//
// Every check goes through one function, Service.permissions, which
// computes a member's effective permissions with the permission package
// and caches them per guild, user and channel. Every change to a guild
// invalidates its cache entries before the change's response is sent, so a
// revoked permission applies from the very next request.
//
// State changes are written with their events in one transaction by the
// Store; the Service publishes the committed events afterwards.
//
// A Service is safe for concurrent use and starts no goroutines.
package guild
