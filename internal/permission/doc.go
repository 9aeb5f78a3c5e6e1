// Package permission computes what guild members may do in a guild and in
// each of its channels, checks the role hierarchy, and caches the results.
//
// The package does no I/O. Callers load a [Guild], a [Member] and a
// [Channel] from storage and pass them in, and every function returns the
// same result for the same input.
//
// # Permission sets
//
// A [Set] is a bitset of permissions, one bit per permission of the client
// API, from [ViewChannel] at bit 0 to [ManageWebhooks] at bit 21, plus
// [Administrator] at bit 40. On the wire a Set is a decimal string, such
// as "1027". [ParseSet] and [Set.UnmarshalJSON] reject bits that no
// permission uses, so clients cannot store bits that a later version may
// give a meaning to.
//
// # Guild permissions
//
// [Base] returns a member's guild-level permissions: the union of the
// @everyone role, whose ID is the guild's ID, and the member's other roles.
// The owner, and anyone holding Administrator through a role, gets [All].
//
// # Channel overwrites
//
// [InChannel] returns a member's permissions in a channel. The owner and
// Administrator holders get All regardless of overwrites. For anyone
// else it starts from Base and applies the channel's overwrites in this
// order:
//
//  1. The overwrite for @everyone: its deny, then its allow.
//  2. The overwrites for the member's roles, taken together: the union of
//     their denies, then the union of their allows. So when one of the
//     member's roles denies a permission and another allows it, the allow
//     wins.
//  3. The overwrite for the member: its deny, then its allow. It beats the
//     role overwrites in both directions.
//
// A channel in a category inherits the category's overwrite for each
// target (@everyone, a role or a member) for which the channel has no
// overwrite of its own. A channel's own overwrite for a target replaces the
// category's for that target only, even when it allows and denies nothing,
// and the category's overwrites for other targets still apply.
//
// Overwrites cannot allow or deny Administrator, which exists only at guild
// level. A result without [ViewChannel] is 0, because a member who cannot
// see a channel can do nothing in it. No other permission removes others:
// a member without [SendMessages] keeps ViewChannel and the rest.
//
// # Role hierarchy
//
// Roles rank by position, @everyone at 0 and higher positions above it.
// [HighestPosition] returns a member's rank, and the owner ranks above
// every role. A member manages only roles below their own highest role
// ([CanManageRole]), acts only on members whose highest role is below
// their own ([CanActOn]), and grants only permissions they hold
// ([CanGrant]). Administrator holders are bound by these rules too, and
// only the owner is exempt from them.
//
// # Direct messages
//
// Participants of a direct message or group DM hold [DMParticipant] there
// and nothing else ([DM]).
//
// # Caching
//
// A [Cache] stores computed sets per guild, user and channel, bounded in
// size. [Cache.InvalidateGuild] moves a guild to a new [Generation], and
// entries of older generations never return, so a revoked permission
// takes effect on the next lookup.
//
// # Concurrency
//
// The functions of this package only read their arguments, so they are
// safe to call concurrently on shared values that no goroutine modifies.
// A Cache is safe for concurrent use. Its rule is to take the guild's
// generation before reading the data that a set is computed from, and to
// store the set under that generation. A set computed across an
// invalidation of its guild is then never returned, because [Cache.Put]
// drops it or a lookup finds its generation stale. [Cache.GetOrCompute]
// follows the rule by itself. The package starts no goroutines.
package permission
