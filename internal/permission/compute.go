package permission

// overwritable is the set of permissions that a channel overwrite may allow
// or deny. Administrator is left out because it is a guild-level grant, and
// an overwrite that allowed it would grant one member the whole guild.
const overwritable = All &^ Administrator

// Base returns the member's guild-level permissions. The owner and members
// holding Administrator through any role get [All]. Everyone else gets the
// union of @everyone and the member's roles. Role IDs that the guild does
// not have are ignored, and so are bits that no permission uses.
//
// Base assumes that m is a member of g, and it does not check that.
func Base(g Guild, m Member) Set {
	if isOwner(g, m) {
		return All
	}

	perms := g.Roles[g.ID].Permissions
	for _, id := range m.RoleIDs {
		if role, ok := g.Roles[id]; ok {
			perms |= role.Permissions
		}
	}

	if perms.Has(Administrator) {
		return All
	}
	return perms & All
}

// InChannel returns the member's permissions in a guild channel. The owner
// and Administrator holders get [All] regardless of overwrites. For
// everyone else, InChannel starts from [Base] and applies the overwrites in
// the order the package documentation gives, taking the overwrite for each
// target from ch, or else from the category parent. A result without
// [ViewChannel] is 0, because a member who cannot see a channel can do
// nothing in it.
//
// parent is ch's category, and is ignored when ch.ParentID is "". When
// ch.ParentID is set but parent is nil or has another ID, the category's
// overwrites are unknown, so InChannel returns 0 to everyone but the owner
// and Administrator holders rather than risk granting what the category
// denies.
func InChannel(g Guild, m Member, ch Channel, parent *Channel) Set {
	if isOwner(g, m) {
		return All
	}

	scope, parentKnown := channelScope(ch, parent)
	perms, roleAllow, roleDeny := scanRoles(g, m, scope)
	if perms.Has(Administrator) {
		return All
	}
	if !parentKnown {
		return 0
	}
	perms &= All

	if ow, ok := scope.find(OverwriteRole, g.ID); ok {
		perms = ow.apply(perms)
	}

	perms = perms&^roleDeny | roleAllow

	if ow, ok := scope.find(OverwriteMember, m.UserID); ok {
		perms = ow.apply(perms)
	}

	if !perms.Has(ViewChannel) {
		return 0
	}
	return perms
}

// DM returns the permissions of a user in a direct message or group DM
// channel: [DMParticipant] for a participant and 0 for anyone else.
func DM(participant bool) Set {
	if participant {
		return DMParticipant
	}
	return 0
}

// isOwner reports whether m is the owner of g. An empty user ID never is,
// so that a zero Member cannot match a Guild whose OwnerID was not loaded.
func isOwner(g Guild, m Member) bool {
	return m.UserID != "" && m.UserID == g.OwnerID
}

// scanRoles returns what Base computes before its Administrator check,
// and the unions of the allows and denies of the overwrites in scope for
// the member's roles. Role IDs that the guild does not have are skipped.
// So is @everyone among RoleIDs, whose overwrite has a step of its own. One
// pass serves both results, so that each role costs one map lookup.
func scanRoles(g Guild, m Member, scope overwriteScope) (perms, allow, deny Set) {
	perms = g.Roles[g.ID].Permissions
	for _, id := range m.RoleIDs {
		role, ok := g.Roles[id]
		if !ok || id == g.ID {
			continue
		}
		perms |= role.Permissions

		if ow, ok := scope.find(OverwriteRole, id); ok {
			allow |= ow.Allow & overwritable
			deny |= ow.Deny & overwritable
		}
	}
	return perms, allow, deny
}

// channelScope returns the overwrites that apply in ch, and false when ch
// is in a category but parent is not that category.
func channelScope(ch Channel, parent *Channel) (overwriteScope, bool) {
	scope := overwriteScope{own: ch.Overwrites}
	if ch.ParentID == "" {
		return scope, true
	}
	if parent == nil || parent.ID != ch.ParentID {
		return overwriteScope{}, false
	}
	scope.inherited = parent.Overwrites
	return scope, true
}

// overwriteScope holds the overwrites that apply to one channel: its own
// and those of its category.
type overwriteScope struct {
	own       []Overwrite
	inherited []Overwrite
}

// find returns the channel's own overwrite for the target, or else its
// category's. A channel's own overwrite hides the category's for the same
// target even when it allows and denies nothing.
func (s overwriteScope) find(kind OverwriteKind, targetID string) (Overwrite, bool) {
	if ow, ok := findOverwrite(s.own, kind, targetID); ok {
		return ow, true
	}
	return findOverwrite(s.inherited, kind, targetID)
}

func findOverwrite(overwrites []Overwrite, kind OverwriteKind, targetID string) (Overwrite, bool) {
	for _, ow := range overwrites {
		if ow.Kind == kind && ow.TargetID == targetID {
			return ow, true
		}
	}
	return Overwrite{}, false
}

// apply removes the overwrite's denied permissions from perms, then adds
// its allowed ones.
func (ow Overwrite) apply(perms Set) Set {
	return perms&^(ow.Deny&overwritable) | ow.Allow&overwritable
}
