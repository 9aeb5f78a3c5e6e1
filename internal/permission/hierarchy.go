package permission

import "math"

// HighestPosition returns the position of the member's highest role: 0 for
// a member with no roles besides @everyone, and math.MaxInt for the owner,
// who ranks above every role. Role IDs that the guild does not have are
// ignored.
func HighestPosition(g Guild, m Member) int {
	if isOwner(g, m) {
		return math.MaxInt
	}

	highest := 0
	for _, id := range m.RoleIDs {
		if role, ok := g.Roles[id]; ok && role.Position > highest {
			highest = role.Position
		}
	}
	return highest
}

// CanManageRole reports whether actor may edit, delete, assign or remove
// role. The owner may manage every role. Anyone else needs [ManageRoles],
// which Administrator includes, and role must sit strictly below the
// actor's highest role. Administrator holders are bound by that position
// rule too.
//
// The @everyone role at position 0 follows the same rule, so a member with
// ManageRoles and any role above @everyone may edit it. A member whose
// ManageRoles comes from @everyone alone manages no role at all.
//
// To create a role at a position, or to move a role, check CanManageRole
// with the role at its old and at its new position.
func CanManageRole(g Guild, actor Member, role Role) bool {
	if isOwner(g, actor) {
		return true
	}
	if !Base(g, actor).Has(ManageRoles) {
		return false
	}
	return role.Position < HighestPosition(g, actor)
}

// CanActOn reports whether the role hierarchy lets actor act on target, as
// a kick, a ban or a change of the target's nickname does. No member acts
// on the owner, the owner acts on every other member, and anyone else needs a
// highest role strictly above the target's. Equal positions, such as two
// members with no roles, do not suffice.
//
// CanActOn checks only the hierarchy. The caller also checks the
// permission that the action needs, such as [KickMembers].
func CanActOn(g Guild, actor, target Member) bool {
	if isOwner(g, target) {
		return false
	}
	if isOwner(g, actor) {
		return true
	}
	return HighestPosition(g, actor) > HighestPosition(g, target)
}

// CanGrant reports whether actor holds every permission in perms at guild
// level, so that it may put them in a role or an overwrite. The owner and
// Administrator holders hold [All]. No member holds bits that no permission
// uses, so a set with such bits is never grantable.
//
// For a channel overwrite, a caller that wants the channel-level rule
// checks InChannel(...).Has(perms) instead.
func CanGrant(g Guild, actor Member, perms Set) bool {
	return Base(g, actor).Has(perms)
}
