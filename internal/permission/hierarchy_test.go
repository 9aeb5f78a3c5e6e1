package permission

import (
	"math"
	"testing"
)

func TestHighestPosition(t *testing.T) {
	tests := []struct {
		name   string
		member Member
		want   int
	}{
		{"owner ranks above every role", Member{UserID: testOwnerID}, math.MaxInt},
		{"no roles ranks as everyone", Member{UserID: "user-a"}, 0},
		{"highest of several roles", Member{UserID: "user-a", RoleIDs: []string{"role-mod", "role-admin", "role-member"}}, 4},
		{"unknown role ignored", Member{UserID: "user-a", RoleIDs: []string{"role-deleted", "role-member"}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HighestPosition(testGuild(t), tt.member); got != tt.want {
				t.Errorf("HighestPosition = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestCanManageRole(t *testing.T) {
	// manager has ManageRoles at position 5, and admin has Administrator
	// at position 4.
	manager := Member{UserID: "user-manager", RoleIDs: []string{"role-manager"}}
	admin := Member{UserID: "user-admin", RoleIDs: []string{"role-admin"}}
	everyone := Role{ID: testGuildID, Position: 0}

	tests := []struct {
		name  string
		guild func(Guild) Guild
		actor Member
		role  Role
		want  bool
	}{
		{"role below own highest", nil, manager, Role{ID: "role-admin", Position: 4}, true},
		{"role at own highest", nil, manager, Role{ID: "role-manager", Position: 5}, false},
		{"role above own highest", nil, manager, Role{ID: "role-top", Position: 6}, false},
		{"lacking manage roles", nil, Member{UserID: "user-a", RoleIDs: []string{"role-mod"}}, Role{ID: "role-member", Position: 1}, false},
		{"administrator below own highest", nil, admin, Role{ID: "role-mod", Position: 2}, true},
		{"administrator at own highest", nil, admin, Role{ID: "role-admin", Position: 4}, false},
		{"administrator above own highest", nil, admin, Role{ID: "role-manager", Position: 5}, false},
		{"owner without roles above every role", nil, Member{UserID: testOwnerID}, Role{ID: "role-top", Position: 1000}, true},
		{"owner manages everyone", nil, Member{UserID: testOwnerID}, everyone, true},
		{"manager edits everyone", nil, manager, everyone, true},
		{
			name: "manage roles from everyone alone cannot edit everyone",
			guild: func(g Guild) Guild {
				g.Roles[testGuildID] = Role{ID: testGuildID, Permissions: EveryoneDefault | ManageRoles}
				return g
			},
			actor: Member{UserID: "user-a"},
			role:  everyone,
			want:  false,
		},
		{
			name: "manage roles from everyone with a higher role",
			guild: func(g Guild) Guild {
				g.Roles[testGuildID] = Role{ID: testGuildID, Permissions: EveryoneDefault | ManageRoles}
				return g
			},
			actor: Member{UserID: "user-a", RoleIDs: []string{"role-mod"}},
			role:  Role{ID: "role-member", Position: 1},
			want:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := testGuild(t)
			if tt.guild != nil {
				g = tt.guild(g)
			}

			if got := CanManageRole(g, tt.actor, tt.role); got != tt.want {
				t.Errorf("CanManageRole(role at %d) = %v, want %v", tt.role.Position, got, tt.want)
			}
		})
	}
}

func TestCanActOn(t *testing.T) {
	owner := Member{UserID: testOwnerID}
	admin := Member{UserID: "user-admin", RoleIDs: []string{"role-admin"}}
	mod := Member{UserID: "user-mod", RoleIDs: []string{"role-mod"}}
	otherMod := Member{UserID: "user-mod-2", RoleIDs: []string{"role-mod"}}
	plain := Member{UserID: "user-a"}
	otherPlain := Member{UserID: "user-b"}

	tests := []struct {
		name   string
		actor  Member
		target Member
		want   bool
	}{
		{"owner on administrator", owner, admin, true},
		{"owner on member without roles", owner, plain, true},
		{"owner on self", owner, owner, false},
		{"administrator on owner", admin, owner, false},
		{"member on owner", plain, owner, false},
		{"higher role on lower role", admin, mod, true},
		{"role on member without roles", mod, plain, true},
		{"lower role on higher role", mod, admin, false},
		{"equal positions", mod, otherMod, false},
		{"members without roles", plain, otherPlain, false},
		{"member on self", mod, mod, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CanActOn(testGuild(t), tt.actor, tt.target); got != tt.want {
				t.Errorf("CanActOn(%s, %s) = %v, want %v", tt.actor.UserID, tt.target.UserID, got, tt.want)
			}
		})
	}
}

func TestCanGrant(t *testing.T) {
	mod := Member{UserID: "user-mod", RoleIDs: []string{"role-mod"}}
	admin := Member{UserID: "user-admin", RoleIDs: []string{"role-admin"}}
	owner := Member{UserID: testOwnerID}

	tests := []struct {
		name  string
		actor Member
		perms Set
		want  bool
	}{
		{"held permissions", mod, ManageMessages | SendMessages, true},
		{"one permission lacking", mod, ManageMessages | BanMembers, false},
		{"administrator lacking", mod, Administrator, false},
		{"nothing", mod, 0, true},
		{"administrator grants everything", admin, All, true},
		{"owner grants everything", owner, All, true},
		{"undefined bit never held", owner, ViewChannel | 1<<50, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CanGrant(testGuild(t), tt.actor, tt.perms); got != tt.want {
				t.Errorf("CanGrant(%v) = %v, want %v", tt.perms.Names(), got, tt.want)
			}
		})
	}
}
