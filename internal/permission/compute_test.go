package permission

import "testing"

const (
	testGuildID = "guild-1"
	testOwnerID = "user-owner"
)

// testGuild returns a guild with @everyone at its defaults and roles
// ranked member (1) < mod (2) < muted (3) < admin (4) < manager (5).
func testGuild(t *testing.T) Guild {
	t.Helper()

	return Guild{
		ID:      testGuildID,
		OwnerID: testOwnerID,
		Roles: map[string]Role{
			testGuildID:    {ID: testGuildID, Position: 0, Permissions: EveryoneDefault},
			"role-member":  {ID: "role-member", Position: 1, Permissions: MentionEveryone},
			"role-mod":     {ID: "role-mod", Position: 2, Permissions: ManageMessages | KickMembers},
			"role-muted":   {ID: "role-muted", Position: 3},
			"role-admin":   {ID: "role-admin", Position: 4, Permissions: Administrator},
			"role-manager": {ID: "role-manager", Position: 5, Permissions: ManageRoles},
		},
	}
}

func everyoneOverwrite(allow, deny Set) Overwrite {
	return Overwrite{Kind: OverwriteRole, TargetID: testGuildID, Allow: allow, Deny: deny}
}

func roleOverwrite(roleID string, allow, deny Set) Overwrite {
	return Overwrite{Kind: OverwriteRole, TargetID: roleID, Allow: allow, Deny: deny}
}

func memberOverwrite(userID string, allow, deny Set) Overwrite {
	return Overwrite{Kind: OverwriteMember, TargetID: userID, Allow: allow, Deny: deny}
}

func TestBase(t *testing.T) {
	tests := []struct {
		name   string
		guild  func(Guild) Guild
		member Member
		want   Set
	}{
		{
			name:   "member without roles gets everyone defaults",
			member: Member{UserID: "user-a"},
			want:   EveryoneDefault,
		},
		{
			name:   "roles add to everyone",
			member: Member{UserID: "user-a", RoleIDs: []string{"role-member", "role-mod"}},
			want:   EveryoneDefault | MentionEveryone | ManageMessages | KickMembers,
		},
		{
			name:   "owner without roles gets all",
			member: Member{UserID: testOwnerID},
			want:   All,
		},
		{
			name: "owner gets all even when everyone grants nothing",
			guild: func(g Guild) Guild {
				g.Roles[testGuildID] = Role{ID: testGuildID}
				return g
			},
			member: Member{UserID: testOwnerID},
			want:   All,
		},
		{
			name:   "administrator role gets all",
			member: Member{UserID: "user-a", RoleIDs: []string{"role-admin"}},
			want:   All,
		},
		{
			name:   "unknown role ID ignored",
			member: Member{UserID: "user-a", RoleIDs: []string{"role-deleted", "role-mod"}},
			want:   EveryoneDefault | ManageMessages | KickMembers,
		},
		{
			name:   "everyone listed among roles changes nothing",
			member: Member{UserID: "user-a", RoleIDs: []string{testGuildID}},
			want:   EveryoneDefault,
		},
		{
			name: "guild without everyone role grants only member roles",
			guild: func(g Guild) Guild {
				delete(g.Roles, testGuildID)
				return g
			},
			member: Member{UserID: "user-a", RoleIDs: []string{"role-mod"}},
			want:   ManageMessages | KickMembers,
		},
		{
			name: "undefined bits from storage dropped",
			guild: func(g Guild) Guild {
				g.Roles["role-mod"] = Role{ID: "role-mod", Position: 2, Permissions: BanMembers | 1<<50}
				return g
			},
			member: Member{UserID: "user-a", RoleIDs: []string{"role-mod"}},
			want:   EveryoneDefault | BanMembers,
		},
		{
			name: "empty user ID is not an unset owner",
			guild: func(g Guild) Guild {
				g.OwnerID = ""
				return g
			},
			member: Member{},
			want:   EveryoneDefault,
		},
		{
			name:   "nil roles map grants nothing",
			guild:  func(g Guild) Guild { return Guild{ID: g.ID, OwnerID: g.OwnerID} },
			member: Member{UserID: "user-a", RoleIDs: []string{"role-mod"}},
			want:   0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := testGuild(t)
			if tt.guild != nil {
				g = tt.guild(g)
			}

			if got := Base(g, tt.member); got != tt.want {
				t.Errorf("Base = %v %v, want %v %v", got, got.Names(), tt.want, tt.want.Names())
			}
		})
	}
}

func TestInChannelOverwriteOrder(t *testing.T) {
	tests := []struct {
		name       string
		overwrites []Overwrite
		member     Member
		want       Set
	}{
		{
			name:   "no overwrites gives base",
			member: Member{UserID: "user-a", RoleIDs: []string{"role-mod"}},
			want:   EveryoneDefault | ManageMessages | KickMembers,
		},
		{
			name:       "everyone deny removes permission",
			overwrites: []Overwrite{everyoneOverwrite(0, SendMessages)},
			member:     Member{UserID: "user-a"},
			want:       EveryoneDefault &^ SendMessages,
		},
		{
			name:       "everyone allow adds permission",
			overwrites: []Overwrite{everyoneOverwrite(ManageMessages, 0)},
			member:     Member{UserID: "user-a"},
			want:       EveryoneDefault | ManageMessages,
		},
		{
			name:       "everyone allow beats its own deny",
			overwrites: []Overwrite{everyoneOverwrite(SendMessages, SendMessages)},
			member:     Member{UserID: "user-a"},
			want:       EveryoneDefault,
		},
		{
			name: "role allow restores everyone deny",
			overwrites: []Overwrite{
				everyoneOverwrite(0, SendMessages),
				roleOverwrite("role-member", SendMessages, 0),
			},
			member: Member{UserID: "user-a", RoleIDs: []string{"role-member"}},
			want:   EveryoneDefault | MentionEveryone,
		},
		{
			name: "role deny beats everyone allow",
			overwrites: []Overwrite{
				everyoneOverwrite(ManageMessages, 0),
				roleOverwrite("role-muted", 0, SendMessages|AddReactions),
			},
			member: Member{UserID: "user-a", RoleIDs: []string{"role-muted"}},
			want:   (EveryoneDefault | ManageMessages) &^ (SendMessages | AddReactions),
		},
		{
			name: "role allow beats other role deny",
			overwrites: []Overwrite{
				roleOverwrite("role-muted", 0, SendMessages),
				roleOverwrite("role-mod", SendMessages, 0),
			},
			member: Member{UserID: "user-a", RoleIDs: []string{"role-muted", "role-mod"}},
			want:   EveryoneDefault | ManageMessages | KickMembers,
		},
		{
			name: "role allow beats other role deny whatever the role order",
			overwrites: []Overwrite{
				roleOverwrite("role-mod", SendMessages, 0),
				roleOverwrite("role-muted", 0, SendMessages),
			},
			member: Member{UserID: "user-a", RoleIDs: []string{"role-mod", "role-muted"}},
			want:   EveryoneDefault | ManageMessages | KickMembers,
		},
		{
			name: "member deny beats role allow",
			overwrites: []Overwrite{
				roleOverwrite("role-mod", AttachFiles|MentionEveryone, 0),
				memberOverwrite("user-a", 0, MentionEveryone),
			},
			member: Member{UserID: "user-a", RoleIDs: []string{"role-mod"}},
			want:   EveryoneDefault | ManageMessages | KickMembers,
		},
		{
			name: "member allow beats role deny",
			overwrites: []Overwrite{
				roleOverwrite("role-muted", 0, SendMessages),
				memberOverwrite("user-a", SendMessages, 0),
			},
			member: Member{UserID: "user-a", RoleIDs: []string{"role-muted"}},
			want:   EveryoneDefault,
		},
		{
			name:       "member deny of view channel gives nothing",
			overwrites: []Overwrite{memberOverwrite("user-a", SendMessages, ViewChannel)},
			member:     Member{UserID: "user-a", RoleIDs: []string{"role-mod"}},
			want:       0,
		},
		{
			name:       "everyone deny of view channel gives nothing",
			overwrites: []Overwrite{everyoneOverwrite(0, ViewChannel)},
			member:     Member{UserID: "user-a", RoleIDs: []string{"role-mod"}},
			want:       0,
		},
		{
			name: "private channel visible through role allow",
			overwrites: []Overwrite{
				everyoneOverwrite(0, ViewChannel),
				roleOverwrite("role-mod", ViewChannel, 0),
			},
			member: Member{UserID: "user-a", RoleIDs: []string{"role-mod"}},
			want:   EveryoneDefault | ManageMessages | KickMembers,
		},
		{
			name:       "send messages denied keeps view channel",
			overwrites: []Overwrite{everyoneOverwrite(0, SendMessages|AttachFiles)},
			member:     Member{UserID: "user-a"},
			want:       EveryoneDefault &^ (SendMessages | AttachFiles),
		},
		{
			name: "administrator ignores channel denies",
			overwrites: []Overwrite{
				everyoneOverwrite(0, ViewChannel|SendMessages),
				roleOverwrite("role-admin", 0, All),
				memberOverwrite("user-a", 0, All),
			},
			member: Member{UserID: "user-a", RoleIDs: []string{"role-admin"}},
			want:   All,
		},
		{
			name: "owner ignores channel denies",
			overwrites: []Overwrite{
				everyoneOverwrite(0, All),
				memberOverwrite(testOwnerID, 0, All),
			},
			member: Member{UserID: testOwnerID},
			want:   All,
		},
		{
			name:       "overwrite cannot grant administrator",
			overwrites: []Overwrite{memberOverwrite("user-a", Administrator|ManageChannels, 0)},
			member:     Member{UserID: "user-a"},
			want:       EveryoneDefault | ManageChannels,
		},
		{
			name:       "role overwrite cannot grant administrator",
			overwrites: []Overwrite{roleOverwrite("role-member", Administrator, 0)},
			member:     Member{UserID: "user-a", RoleIDs: []string{"role-member"}},
			want:       EveryoneDefault | MentionEveryone,
		},
		{
			name: "overwrites for roles and members not held ignored",
			overwrites: []Overwrite{
				roleOverwrite("role-mod", ManageChannels, 0),
				memberOverwrite("user-b", 0, ViewChannel),
			},
			member: Member{UserID: "user-a", RoleIDs: []string{"role-member"}},
			want:   EveryoneDefault | MentionEveryone,
		},
		{
			name:       "overwrite for role the guild lacks ignored",
			overwrites: []Overwrite{roleOverwrite("role-deleted", ManageChannels, 0)},
			member:     Member{UserID: "user-a", RoleIDs: []string{"role-deleted"}},
			want:       EveryoneDefault,
		},
		{
			name: "everyone among member roles applies once",
			overwrites: []Overwrite{
				everyoneOverwrite(SendMessages, 0),
				roleOverwrite("role-muted", 0, SendMessages),
			},
			member: Member{UserID: "user-a", RoleIDs: []string{testGuildID, "role-muted"}},
			want:   EveryoneDefault &^ SendMessages,
		},
		{
			name:       "member overwrite does not match a role with that ID",
			overwrites: []Overwrite{memberOverwrite("role-mod", ManageChannels, 0)},
			member:     Member{UserID: "user-a", RoleIDs: []string{"role-mod"}},
			want:       EveryoneDefault | ManageMessages | KickMembers,
		},
		{
			name:       "overwrite of zero kind ignored",
			overwrites: []Overwrite{{TargetID: "user-a", Deny: ViewChannel}},
			member:     Member{UserID: "user-a"},
			want:       EveryoneDefault,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := testGuild(t)
			ch := Channel{ID: "channel-1", Overwrites: tt.overwrites}

			if got := InChannel(g, tt.member, ch, nil); got != tt.want {
				t.Errorf("InChannel = %v %v, want %v %v", got, got.Names(), tt.want, tt.want.Names())
			}
		})
	}
}

func TestInChannelCategoryInheritance(t *testing.T) {
	tests := []struct {
		name     string
		category []Overwrite
		channel  []Overwrite
		member   Member
		want     Set
	}{
		{
			name:     "channel without overwrites inherits everyone deny",
			category: []Overwrite{everyoneOverwrite(0, SendMessages)},
			member:   Member{UserID: "user-a"},
			want:     EveryoneDefault &^ SendMessages,
		},
		{
			name:     "private category hides channel",
			category: []Overwrite{everyoneOverwrite(0, ViewChannel)},
			member:   Member{UserID: "user-a"},
			want:     0,
		},
		{
			name:     "channel everyone overwrite replaces category one",
			category: []Overwrite{everyoneOverwrite(0, ViewChannel)},
			channel:  []Overwrite{everyoneOverwrite(0, SendMessages)},
			member:   Member{UserID: "user-a"},
			want:     EveryoneDefault &^ SendMessages,
		},
		{
			name:     "empty channel overwrite still replaces category one",
			category: []Overwrite{everyoneOverwrite(0, SendMessages)},
			channel:  []Overwrite{everyoneOverwrite(0, 0)},
			member:   Member{UserID: "user-a"},
			want:     EveryoneDefault,
		},
		{
			name: "channel everyone overwrite keeps category role overwrite",
			category: []Overwrite{
				everyoneOverwrite(0, ViewChannel),
				roleOverwrite("role-mod", ViewChannel|ManageChannels, 0),
			},
			channel: []Overwrite{everyoneOverwrite(0, ViewChannel|SendMessages)},
			member:  Member{UserID: "user-a", RoleIDs: []string{"role-mod"}},
			want:    (EveryoneDefault | ManageMessages | KickMembers | ManageChannels) &^ SendMessages,
		},
		{
			name: "channel role overwrite replaces category one for that role only",
			category: []Overwrite{
				roleOverwrite("role-mod", ManageChannels, 0),
				roleOverwrite("role-member", MoveMembers, 0),
			},
			channel: []Overwrite{roleOverwrite("role-mod", 0, AddReactions)},
			member:  Member{UserID: "user-a", RoleIDs: []string{"role-mod", "role-member"}},
			want:    (EveryoneDefault | MentionEveryone | ManageMessages | KickMembers | MoveMembers) &^ AddReactions,
		},
		{
			name:     "channel inherits member overwrite",
			category: []Overwrite{memberOverwrite("user-a", 0, ViewChannel)},
			member:   Member{UserID: "user-a"},
			want:     0,
		},
		{
			name:     "channel member overwrite replaces category one",
			category: []Overwrite{memberOverwrite("user-a", 0, ViewChannel)},
			channel:  []Overwrite{memberOverwrite("user-a", ManageMessages, 0)},
			member:   Member{UserID: "user-a"},
			want:     EveryoneDefault | ManageMessages,
		},
		{
			name:     "channel member overwrite beats inherited role overwrite",
			category: []Overwrite{roleOverwrite("role-muted", 0, SendMessages)},
			channel:  []Overwrite{memberOverwrite("user-a", SendMessages, 0)},
			member:   Member{UserID: "user-a", RoleIDs: []string{"role-muted"}},
			want:     EveryoneDefault,
		},
		{
			name:     "overwrite for another member does not block inheritance",
			category: []Overwrite{memberOverwrite("user-a", 0, SendMessages)},
			channel:  []Overwrite{memberOverwrite("user-b", 0, ViewChannel)},
			member:   Member{UserID: "user-a"},
			want:     EveryoneDefault &^ SendMessages,
		},
		{
			name:     "administrator ignores category denies",
			category: []Overwrite{everyoneOverwrite(0, ViewChannel)},
			member:   Member{UserID: "user-a", RoleIDs: []string{"role-admin"}},
			want:     All,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := testGuild(t)
			category := Channel{ID: "category-1", Overwrites: tt.category}
			ch := Channel{ID: "channel-1", ParentID: category.ID, Overwrites: tt.channel}

			if got := InChannel(g, tt.member, ch, &category); got != tt.want {
				t.Errorf("InChannel = %v %v, want %v %v", got, got.Names(), tt.want, tt.want.Names())
			}
		})
	}
}

func TestInChannelParentMismatch(t *testing.T) {
	category := Channel{ID: "category-1", Overwrites: []Overwrite{everyoneOverwrite(0, SendMessages)}}
	other := Channel{ID: "category-2"}

	tests := []struct {
		name     string
		parentID string
		parent   *Channel
		member   Member
		want     Set
	}{
		{"parent missing gives nothing", category.ID, nil, Member{UserID: "user-a"}, 0},
		{"wrong parent gives nothing", category.ID, &other, Member{UserID: "user-a"}, 0},
		{"parent missing still gives owner all", category.ID, nil, Member{UserID: testOwnerID}, All},
		{
			"parent missing still gives administrator all", category.ID, nil,
			Member{UserID: "user-a", RoleIDs: []string{"role-admin"}}, All,
		},
		{"parent of channel without category ignored", "", &category, Member{UserID: "user-a"}, EveryoneDefault},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := testGuild(t)
			ch := Channel{ID: "channel-1", ParentID: tt.parentID}

			if got := InChannel(g, tt.member, ch, tt.parent); got != tt.want {
				t.Errorf("InChannel = %v %v, want %v %v", got, got.Names(), tt.want, tt.want.Names())
			}
		})
	}
}

func TestInChannelDropsUndefinedBits(t *testing.T) {
	g := testGuild(t)
	g.Roles["role-mod"] = Role{ID: "role-mod", Position: 2, Permissions: BanMembers | 1<<50}
	ch := Channel{ID: "channel-1", Overwrites: []Overwrite{roleOverwrite("role-mod", 1<<51, 0)}}
	member := Member{UserID: "user-a", RoleIDs: []string{"role-mod"}}

	if got, want := InChannel(g, member, ch, nil), EveryoneDefault|BanMembers; got != want {
		t.Errorf("InChannel = %v %v, want %v %v", got, got.Names(), want, want.Names())
	}
}

func TestDM(t *testing.T) {
	if got := DM(true); got != DMParticipant {
		t.Errorf("DM(true) = %v, want %v", got.Names(), DMParticipant.Names())
	}
	if got := DM(false); got != 0 {
		t.Errorf("DM(false) = %v, want nothing", got.Names())
	}
}
