package httpapi_test

import (
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/openguild/openguild/internal/permission"
	"github.com/openguild/openguild/internal/servertest"
)

// actor is one kind of caller in the authorization matrix.
type actor string

// The actors of the matrix. The guild's roles, from the top down, are
// admin, moderator, target and junior, then @everyone. The target role
// grants nothing and marks the "higher" member whom junior may not act on.
const (
	anonymous actor = "anonymous" // sends no token
	outsider  actor = "outsider"  // registered, never a member
	banned    actor = "banned"    // joined, then banned
	member    actor = "member"    // holds only @everyone
	// blind is a plain member whom a member overwrite on the matrix
	// category denies VIEW_CHANNEL, inherited by the channels in it.
	blind actor = "blind"
	// junior holds KICK_MEMBERS, BAN_MEMBERS, MANAGE_NICKNAMES and
	// MANAGE_ROLES on the lowest role, so the hierarchy stops it from
	// acting on the target role and on members who hold it.
	junior actor = "junior"
	// restricted holds the moderator role, but a member overwrite on the
	// matrix category denies MANAGE_CHANNELS and MANAGE_ROLES in its
	// channels.
	restricted actor = "restricted"
	// moderator holds MANAGE_GUILD, MANAGE_CHANNELS, MANAGE_ROLES,
	// KICK_MEMBERS, BAN_MEMBERS and MANAGE_NICKNAMES above the target role.
	moderator actor = "moderator"
	// admin holds ADMINISTRATOR on the highest role. ADMINISTRATOR grants
	// every permission, but the hierarchy still binds its holder, so admin
	// cannot manage its own role.
	admin actor = "admin"
	owner actor = "owner" // created the guild
)

// matrixActors is the order in which each route runs its actors. The owner
// comes last, so the owner's deletion of the guild ends the matrix.
var matrixActors = []actor{anonymous, outsider, banned, member, blind, junior, restricted, moderator, admin, owner}

// outcome is the status and error code that a request must get. The code
// is "" for a success.
type outcome struct {
	status int
	code   string
}

var (
	wantOK               = outcome{http.StatusOK, ""}
	wantCreated          = outcome{http.StatusCreated, ""}
	wantNoContent        = outcome{http.StatusNoContent, ""}
	wantForbidden        = outcome{http.StatusForbidden, "forbidden"}
	wantNotFound         = outcome{http.StatusNotFound, "not_found"}
	wantBanned           = outcome{http.StatusForbidden, "banned"}
	wantTransferRequired = outcome{http.StatusConflict, "ownership_transfer_required"}
	wantUnauthorized     = outcome{http.StatusUnauthorized, "unauthorized"}
)

// expected is a route's outcome for each actor but anonymous, which
// always gets 401 unauthorized.
type expected struct {
	owner, admin, moderator, restricted, junior, blind, member, outsider, banned outcome
}

func (e expected) of(caller actor) outcome {
	switch caller {
	case owner:
		return e.owner
	case admin:
		return e.admin
	case moderator:
		return e.moderator
	case restricted:
		return e.restricted
	case junior:
		return e.junior
	case blind:
		return e.blind
	case member:
		return e.member
	case outsider:
		return e.outsider
	case banned:
		return e.banned
	}
	return wantUnauthorized
}

// matrixFixture is the guild that the matrix runs against, built through
// the API once per dialect.
type matrixFixture struct {
	s        *servertest.Server
	guildID  string
	accounts map[actor]account  // the anonymous actor's account has no token
	roles    map[actor][]string // the roles each actor holds besides @everyone

	juniorRole, targetRole, moderatorRole, adminRole string

	category string // carries the member overwrites of blind and restricted
	channel  string // a text channel in category, with no overwrites of its own for actors
	dm       string // the DM of owner and member

	lower     account // a member with no roles, ranked below junior
	higher    account // a member holding the target role, ranked above junior
	bystander account // registered, never a member, banned ahead of time by "lift ban" and sent DMs
}

func newMatrixFixture(t *testing.T, s *servertest.Server) *matrixFixture {
	t.Helper()
	names := []actor{owner, admin, moderator, restricted, junior, blind, member, outsider, banned}
	logins := make([]string, 0, len(names)+2)
	for _, name := range names {
		logins = append(logins, string(name))
	}
	users := newAccounts(t, s, append(logins, "lower", "higher")...)
	f := &matrixFixture{
		s:         s,
		accounts:  map[actor]account{anonymous: {Name: string(anonymous)}},
		roles:     map[actor][]string{},
		lower:     users[len(names)],
		higher:    users[len(names)+1],
		bystander: newUsers(t, s, "bystander")[0],
	}
	for i, name := range names {
		f.accounts[name] = users[i]
	}
	own := f.accounts[owner]

	f.guildID = createGuild(t, s, own, "Matrix").ID
	memberPerms := permission.KickMembers | permission.BanMembers | permission.ManageNicknames
	moderatorPerms := memberPerms | permission.ManageGuild | permission.ManageChannels | permission.ManageRoles
	f.juniorRole = createRole(t, s, own, f.guildID, "junior", memberPerms|permission.ManageRoles, 1).ID
	f.targetRole = createRole(t, s, own, f.guildID, "target", 0, 2).ID
	f.moderatorRole = createRole(t, s, own, f.guildID, "moderator", moderatorPerms, 3).ID
	f.adminRole = createRole(t, s, own, f.guildID, "admin", permission.Administrator, 4).ID
	wantOrder := []string{f.guildID, f.juniorRole, f.targetRole, f.moderatorRole, f.adminRole}
	if got := roleIDsByPosition(t, s, own, f.guildID); !slices.Equal(got, wantOrder) {
		t.Fatalf("matrix roles by position %v, want %v", got, wantOrder)
	}

	f.roles[admin] = []string{f.adminRole}
	f.roles[moderator] = []string{f.moderatorRole}
	f.roles[restricted] = []string{f.moderatorRole}
	f.roles[junior] = []string{f.juniorRole}
	for _, caller := range []actor{admin, moderator, restricted, junior, blind, member, banned} {
		f.ensureMember(t, f.accounts[caller], f.roles[caller]...)
	}
	f.ensureMember(t, f.lower)
	f.ensureMember(t, f.higher, f.targetRole)
	mustCall(t, s, own, "PUT", "/guilds/"+f.guildID+"/bans/"+f.accounts[banned].ID, nil, http.StatusNoContent)

	f.category = createChannel(t, s, own, f.guildID, "matrix", "category", "").ID
	f.channel = createChannel(t, s, own, f.guildID, "matrix-text", "text", f.category).ID
	setOverwrite(t, s, own, f.category, overwrite{f.accounts[blind].ID, "member", 0, permission.ViewChannel})
	setOverwrite(t, s, own, f.category, overwrite{f.accounts[restricted].ID, "member", 0, permission.ManageChannels | permission.ManageRoles})

	var dm channelJSON
	mustCall(t, s, own, "POST", "/dms", map[string][]string{"recipient_ids": {f.accounts[member].ID}}, http.StatusCreated).JSON(t, &dm)
	f.dm = dm.ID
	return f
}

// ensureMember makes u a member holding roles, unbanning and re-inviting
// a user whom a case kicked, banned or made leave. It does nothing for a
// user who is a member.
func (f *matrixFixture) ensureMember(t *testing.T, u account, roles ...string) {
	t.Helper()
	if call(t, f.s, u, "GET", "/guilds/"+f.guildID, nil).StatusCode == http.StatusOK {
		return
	}
	own := f.accounts[owner]
	call(t, f.s, own, "DELETE", "/guilds/"+f.guildID+"/bans/"+u.ID, nil) // 404 when u is not banned
	join(t, f.s, own, f.guildID, u)
	for _, role := range roles {
		grantRole(t, f.s, own, f.guildID, u.ID, role)
	}
}

// asOwner sends a request as the owner to put the fixture back. Callers
// ignore its status, because a restore runs whether or not the case
// changed anything.
func (f *matrixFixture) asOwner(t *testing.T, method, path string, body any) *servertest.Response {
	t.Helper()
	return call(t, f.s, f.accounts[owner], method, path, body)
}

// expand replaces the placeholders of a route's path or body value with
// the fixture's ids. {fresh} names what the route's setup created.
func (f *matrixFixture) expand(s, fresh string) string {
	return strings.NewReplacer(
		"{guild}", f.guildID,
		"{channel}", f.channel,
		"{dm}", f.dm,
		"{owner}", f.accounts[owner].ID,
		"{lower}", f.lower.ID,
		"{higher}", f.higher.ID,
		"{bystander}", f.bystander.ID,
		"{targetRole}", f.targetRole,
		"{moderatorRole}", f.moderatorRole,
		"{adminRole}", f.adminRole,
		"{fresh}", fresh,
	).Replace(s)
}

func (f *matrixFixture) expandBody(body map[string]any, fresh string) map[string]any {
	if body == nil {
		return nil
	}
	out := make(map[string]any, len(body))
	for k, v := range body {
		switch v := v.(type) {
		case string:
			out[k] = f.expand(v, fresh)
		case []string:
			list := make([]string, len(v))
			for i, s := range v {
				list[i] = f.expand(s, fresh)
			}
			out[k] = list
		default:
			out[k] = v
		}
	}
	return out
}

// matrixRoute is one request of the matrix, sent by every actor.
type matrixRoute struct {
	name    string
	pattern string // the route's pattern in routes.go
	method  string
	path    string         // under /api/v1, with placeholders for expand
	body    map[string]any // string values may hold placeholders
	// setup creates the resource that {fresh} names, for a request that
	// would otherwise destroy or change what later cases use.
	setup func(t *testing.T, f *matrixFixture) string
	// restore undoes what the request may have changed. It runs whatever
	// status the request returned, so it must not depend on statuses.
	restore func(t *testing.T, f *matrixFixture, caller actor, fresh string, resp *servertest.Response)
	want    expected
}

func (f *matrixFixture) run(t *testing.T, route matrixRoute, caller actor) {
	fresh := ""
	if route.setup != nil {
		fresh = route.setup(t, f)
	}
	path := f.expand(route.path, fresh)
	var body any
	if route.body != nil {
		body = f.expandBody(route.body, fresh)
	}

	resp := call(t, f.s, f.accounts[caller], route.method, path, body)
	if route.restore != nil {
		route.restore(t, f, caller, fresh, resp)
	}
	want := route.want.of(caller)
	expectStatus(t, route.method+" "+path+" as "+string(caller), resp, want.status, want.code)
}

// Setups and restores shared by several routes.

func freshChannel(t *testing.T, f *matrixFixture) string {
	return createChannel(t, f.s, f.accounts[owner], f.guildID, "fresh", "text", f.category).ID
}

func freshInvite(t *testing.T, f *matrixFixture) string {
	return createInvite(t, f.s, f.accounts[owner], f.guildID, nil).Code
}

// freshRole creates a role just below the target role, so above junior's.
func freshRole(t *testing.T, f *matrixFixture) string {
	position := positionOf(t, f.s, f.accounts[owner], f.guildID, f.targetRole)
	return createRole(t, f.s, f.accounts[owner], f.guildID, "fresh", 0, position).ID
}

func deleteFreshChannel(t *testing.T, f *matrixFixture, _ actor, fresh string, _ *servertest.Response) {
	f.asOwner(t, "DELETE", "/channels/"+fresh, nil)
}

func deleteFreshRole(t *testing.T, f *matrixFixture, _ actor, fresh string, _ *servertest.Response) {
	f.asOwner(t, "DELETE", "/guilds/"+f.guildID+"/roles/"+fresh, nil)
}

// deleteCreated deletes the channel or role that a successful create
// returned; pathOf gives its path from its id.
func deleteCreated(pathOf func(f *matrixFixture, id string) string) func(*testing.T, *matrixFixture, actor, string, *servertest.Response) {
	return func(t *testing.T, f *matrixFixture, _ actor, _ string, resp *servertest.Response) {
		if resp.StatusCode != http.StatusCreated {
			return
		}
		var created struct {
			ID string `json:"id"`
		}
		resp.JSON(t, &created)
		f.asOwner(t, "DELETE", pathOf(f, created.ID), nil)
	}
}

func rejoinLower(t *testing.T, f *matrixFixture, _ actor, _ string, _ *servertest.Response) {
	f.ensureMember(t, f.lower)
}

func rejoinHigher(t *testing.T, f *matrixFixture, _ actor, _ string, _ *servertest.Response) {
	f.ensureMember(t, f.higher, f.targetRole)
}

// rejoinActor brings back an actor who was a member before the case.
func rejoinActor(t *testing.T, f *matrixFixture, caller actor, _ string, _ *servertest.Response) {
	if caller == anonymous || caller == outsider || caller == banned {
		return
	}
	f.ensureMember(t, f.accounts[caller], f.roles[caller]...)
}

// takeFromLower removes a role from the lower victim.
func takeFromLower(role func(f *matrixFixture) string) func(*testing.T, *matrixFixture, actor, string, *servertest.Response) {
	return func(t *testing.T, f *matrixFixture, _ actor, _ string, _ *servertest.Response) {
		f.asOwner(t, "DELETE", "/guilds/"+f.guildID+"/members/"+f.lower.ID+"/roles/"+role(f), nil)
	}
}

func targetRoleOf(f *matrixFixture) string    { return f.targetRole }
func moderatorRoleOf(f *matrixFixture) string { return f.moderatorRole }

// matrixRoutes returns every guild, channel, invite, member, ban, role,
// overwrite, DM and event route, in the order the matrix runs them.
func matrixRoutes() []matrixRoute {
	return []matrixRoute{
		// Guilds.
		{name: "create guild", pattern: "POST /api/v1/guilds", method: "POST", path: "/guilds",
			body: map[string]any{"name": "Elsewhere"},
			want: expected{owner: wantCreated, admin: wantCreated, moderator: wantCreated, restricted: wantCreated, junior: wantCreated,
				blind: wantCreated, member: wantCreated, outsider: wantCreated, banned: wantCreated}},
		{name: "list guilds", pattern: "GET /api/v1/guilds", method: "GET", path: "/guilds",
			want: expected{owner: wantOK, admin: wantOK, moderator: wantOK, restricted: wantOK, junior: wantOK,
				blind: wantOK, member: wantOK, outsider: wantOK, banned: wantOK}},
		{name: "view guild", pattern: "GET /api/v1/guilds/{guild_id}", method: "GET", path: "/guilds/{guild}",
			want: expected{owner: wantOK, admin: wantOK, moderator: wantOK, restricted: wantOK, junior: wantOK,
				blind: wantOK, member: wantOK, outsider: wantNotFound, banned: wantNotFound}},
		{name: "rename guild", pattern: "PATCH /api/v1/guilds/{guild_id}", method: "PATCH", path: "/guilds/{guild}",
			body: map[string]any{"name": "Matrix"},
			want: expected{owner: wantOK, admin: wantOK, moderator: wantOK, restricted: wantOK, junior: wantForbidden,
				blind: wantForbidden, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},
		// The owner "transfers" the guild to themself, which changes nothing.
		{name: "transfer ownership", pattern: "PATCH /api/v1/guilds/{guild_id}", method: "PATCH", path: "/guilds/{guild}",
			body: map[string]any{"owner_id": "{owner}"},
			want: expected{owner: wantOK, admin: wantForbidden, moderator: wantForbidden, restricted: wantForbidden, junior: wantForbidden,
				blind: wantForbidden, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},
		{name: "read guild events", pattern: "GET /api/v1/guilds/{guild_id}/events", method: "GET", path: "/guilds/{guild}/events",
			want: expected{owner: wantOK, admin: wantOK, moderator: wantOK, restricted: wantOK, junior: wantOK,
				blind: wantOK, member: wantOK, outsider: wantNotFound, banned: wantNotFound}},
		{name: "own guild permissions", pattern: "GET /api/v1/guilds/{guild_id}/permissions/@me", method: "GET", path: "/guilds/{guild}/permissions/@me",
			want: expected{owner: wantOK, admin: wantOK, moderator: wantOK, restricted: wantOK, junior: wantOK,
				blind: wantOK, member: wantOK, outsider: wantNotFound, banned: wantNotFound}},

		// Channels. Restricted keeps MANAGE_CHANNELS at guild level, so only
		// the routes on a channel in the category deny it.
		{name: "create channel", pattern: "POST /api/v1/guilds/{guild_id}/channels", method: "POST", path: "/guilds/{guild}/channels",
			body:    map[string]any{"name": "created", "kind": "text"},
			restore: deleteCreated(func(_ *matrixFixture, id string) string { return "/channels/" + id }),
			want: expected{owner: wantCreated, admin: wantCreated, moderator: wantCreated, restricted: wantCreated, junior: wantForbidden,
				blind: wantForbidden, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},
		{name: "list channels", pattern: "GET /api/v1/guilds/{guild_id}/channels", method: "GET", path: "/guilds/{guild}/channels",
			want: expected{owner: wantOK, admin: wantOK, moderator: wantOK, restricted: wantOK, junior: wantOK,
				blind: wantOK, member: wantOK, outsider: wantNotFound, banned: wantNotFound}},
		{name: "view channel", pattern: "GET /api/v1/channels/{channel_id}", method: "GET", path: "/channels/{channel}",
			want: expected{owner: wantOK, admin: wantOK, moderator: wantOK, restricted: wantOK, junior: wantOK,
				blind: wantNotFound, member: wantOK, outsider: wantNotFound, banned: wantNotFound}},
		{name: "list overwrites", pattern: "GET /api/v1/channels/{channel_id}/permissions", method: "GET", path: "/channels/{channel}/permissions",
			want: expected{owner: wantOK, admin: wantOK, moderator: wantOK, restricted: wantOK, junior: wantOK,
				blind: wantNotFound, member: wantOK, outsider: wantNotFound, banned: wantNotFound}},
		{name: "own channel permissions", pattern: "GET /api/v1/channels/{channel_id}/permissions/@me", method: "GET", path: "/channels/{channel}/permissions/@me",
			want: expected{owner: wantOK, admin: wantOK, moderator: wantOK, restricted: wantOK, junior: wantOK,
				blind: wantNotFound, member: wantOK, outsider: wantNotFound, banned: wantNotFound}},
		{name: "edit channel", pattern: "PATCH /api/v1/channels/{channel_id}", method: "PATCH", path: "/channels/{channel}",
			body: map[string]any{"topic": "matrix"},
			want: expected{owner: wantOK, admin: wantOK, moderator: wantOK, restricted: wantForbidden, junior: wantForbidden,
				blind: wantNotFound, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},
		{name: "delete channel", pattern: "DELETE /api/v1/channels/{channel_id}", method: "DELETE", path: "/channels/{fresh}",
			setup: freshChannel, restore: deleteFreshChannel,
			want: expected{owner: wantNoContent, admin: wantNoContent, moderator: wantNoContent, restricted: wantForbidden, junior: wantForbidden,
				blind: wantNotFound, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},
		{name: "read channel events", pattern: "GET /api/v1/channels/{channel_id}/events", method: "GET", path: "/channels/{channel}/events",
			want: expected{owner: wantOK, admin: wantOK, moderator: wantOK, restricted: wantOK, junior: wantOK,
				blind: wantNotFound, member: wantOK, outsider: wantNotFound, banned: wantNotFound}},
		// Junior's MANAGE_ROLES suffices: @everyone ranks below every role.
		{name: "set overwrite", pattern: "PUT /api/v1/channels/{channel_id}/permissions/{target_id}", method: "PUT",
			path: "/channels/{channel}/permissions/{guild}",
			body: map[string]any{"type": "role", "allow": "0", "deny": permission.AddReactions.String()},
			want: expected{owner: wantNoContent, admin: wantNoContent, moderator: wantNoContent, restricted: wantForbidden, junior: wantNoContent,
				blind: wantNotFound, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},
		{name: "delete overwrite", pattern: "DELETE /api/v1/channels/{channel_id}/permissions/{target_id}", method: "DELETE",
			path: "/channels/{channel}/permissions/{lower}",
			setup: func(t *testing.T, f *matrixFixture) string {
				setOverwrite(t, f.s, f.accounts[owner], f.channel, overwrite{f.lower.ID, "member", 0, permission.AddReactions})
				return ""
			},
			restore: func(t *testing.T, f *matrixFixture, _ actor, _ string, _ *servertest.Response) {
				f.asOwner(t, "DELETE", "/channels/"+f.channel+"/permissions/"+f.lower.ID, nil)
			},
			want: expected{owner: wantNoContent, admin: wantNoContent, moderator: wantNoContent, restricted: wantForbidden, junior: wantNoContent,
				blind: wantNotFound, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},

		// Invites. @everyone holds CREATE_INVITE by default.
		{name: "create invite", pattern: "POST /api/v1/guilds/{guild_id}/invites", method: "POST", path: "/guilds/{guild}/invites",
			body: map[string]any{"max_uses": 1},
			want: expected{owner: wantCreated, admin: wantCreated, moderator: wantCreated, restricted: wantCreated, junior: wantCreated,
				blind: wantCreated, member: wantCreated, outsider: wantNotFound, banned: wantNotFound}},
		{name: "list invites", pattern: "GET /api/v1/guilds/{guild_id}/invites", method: "GET", path: "/guilds/{guild}/invites",
			want: expected{owner: wantOK, admin: wantOK, moderator: wantOK, restricted: wantOK, junior: wantForbidden,
				blind: wantForbidden, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},
		{name: "revoke another member's invite", pattern: "DELETE /api/v1/invites/{code}", method: "DELETE", path: "/invites/{fresh}",
			setup: freshInvite,
			want: expected{owner: wantNoContent, admin: wantNoContent, moderator: wantNoContent, restricted: wantNoContent, junior: wantForbidden,
				blind: wantForbidden, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},
		// A member accepting again stays a member and takes no use.
		{name: "accept invite", pattern: "POST /api/v1/invites/{code}/accept", method: "POST", path: "/invites/{fresh}/accept",
			setup: freshInvite,
			restore: func(t *testing.T, f *matrixFixture, caller actor, _ string, _ *servertest.Response) {
				if caller == outsider {
					f.asOwner(t, "DELETE", "/guilds/"+f.guildID+"/members/"+f.accounts[outsider].ID, nil)
				}
			},
			want: expected{owner: wantOK, admin: wantOK, moderator: wantOK, restricted: wantOK, junior: wantOK,
				blind: wantOK, member: wantOK, outsider: wantOK, banned: wantBanned}},

		// Members.
		{name: "list members", pattern: "GET /api/v1/guilds/{guild_id}/members", method: "GET", path: "/guilds/{guild}/members",
			want: expected{owner: wantOK, admin: wantOK, moderator: wantOK, restricted: wantOK, junior: wantOK,
				blind: wantOK, member: wantOK, outsider: wantNotFound, banned: wantNotFound}},
		{name: "set own nickname", pattern: "PATCH /api/v1/guilds/{guild_id}/members/{user_id}", method: "PATCH",
			path: "/guilds/{guild}/members/@me", body: map[string]any{"nickname": "Matrix nick"},
			want: expected{owner: wantOK, admin: wantOK, moderator: wantOK, restricted: wantOK, junior: wantOK,
				blind: wantOK, member: wantOK, outsider: wantNotFound, banned: wantNotFound}},
		{name: "set lower member's nickname", pattern: "PATCH /api/v1/guilds/{guild_id}/members/{user_id}", method: "PATCH",
			path: "/guilds/{guild}/members/{lower}", body: map[string]any{"nickname": "Lowered"},
			want: expected{owner: wantOK, admin: wantOK, moderator: wantOK, restricted: wantOK, junior: wantOK,
				blind: wantForbidden, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},
		{name: "set higher member's nickname", pattern: "PATCH /api/v1/guilds/{guild_id}/members/{user_id}", method: "PATCH",
			path: "/guilds/{guild}/members/{higher}", body: map[string]any{"nickname": "Raised"},
			want: expected{owner: wantOK, admin: wantOK, moderator: wantOK, restricted: wantOK, junior: wantForbidden,
				blind: wantForbidden, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},
		{name: "leave guild", pattern: "DELETE /api/v1/guilds/{guild_id}/members/{user_id}", method: "DELETE",
			path: "/guilds/{guild}/members/@me", restore: rejoinActor,
			want: expected{owner: wantTransferRequired, admin: wantNoContent, moderator: wantNoContent, restricted: wantNoContent, junior: wantNoContent,
				blind: wantNoContent, member: wantNoContent, outsider: wantNotFound, banned: wantNotFound}},
		{name: "kick lower member", pattern: "DELETE /api/v1/guilds/{guild_id}/members/{user_id}", method: "DELETE",
			path: "/guilds/{guild}/members/{lower}", restore: rejoinLower,
			want: expected{owner: wantNoContent, admin: wantNoContent, moderator: wantNoContent, restricted: wantNoContent, junior: wantNoContent,
				blind: wantForbidden, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},
		{name: "kick higher member", pattern: "DELETE /api/v1/guilds/{guild_id}/members/{user_id}", method: "DELETE",
			path: "/guilds/{guild}/members/{higher}", restore: rejoinHigher,
			want: expected{owner: wantNoContent, admin: wantNoContent, moderator: wantNoContent, restricted: wantNoContent, junior: wantForbidden,
				blind: wantForbidden, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},
		// For the owner, removing their own id is leaving.
		{name: "kick owner", pattern: "DELETE /api/v1/guilds/{guild_id}/members/{user_id}", method: "DELETE",
			path: "/guilds/{guild}/members/{owner}",
			want: expected{owner: wantTransferRequired, admin: wantForbidden, moderator: wantForbidden, restricted: wantForbidden, junior: wantForbidden,
				blind: wantForbidden, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},

		// Bans.
		{name: "ban lower member", pattern: "PUT /api/v1/guilds/{guild_id}/bans/{user_id}", method: "PUT",
			path: "/guilds/{guild}/bans/{lower}", body: map[string]any{"reason": "matrix"}, restore: rejoinLower,
			want: expected{owner: wantNoContent, admin: wantNoContent, moderator: wantNoContent, restricted: wantNoContent, junior: wantNoContent,
				blind: wantForbidden, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},
		{name: "ban higher member", pattern: "PUT /api/v1/guilds/{guild_id}/bans/{user_id}", method: "PUT",
			path: "/guilds/{guild}/bans/{higher}", body: map[string]any{"reason": "matrix"}, restore: rejoinHigher,
			want: expected{owner: wantNoContent, admin: wantNoContent, moderator: wantNoContent, restricted: wantNoContent, junior: wantForbidden,
				blind: wantForbidden, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},
		{name: "ban owner", pattern: "PUT /api/v1/guilds/{guild_id}/bans/{user_id}", method: "PUT",
			path: "/guilds/{guild}/bans/{owner}", body: map[string]any{"reason": "matrix"},
			want: expected{owner: wantForbidden, admin: wantForbidden, moderator: wantForbidden, restricted: wantForbidden, junior: wantForbidden,
				blind: wantForbidden, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},
		{name: "lift ban", pattern: "DELETE /api/v1/guilds/{guild_id}/bans/{user_id}", method: "DELETE",
			path: "/guilds/{guild}/bans/{bystander}",
			setup: func(t *testing.T, f *matrixFixture) string {
				mustCall(t, f.s, f.accounts[owner], "PUT", "/guilds/"+f.guildID+"/bans/"+f.bystander.ID, nil, http.StatusNoContent)
				return ""
			},
			restore: func(t *testing.T, f *matrixFixture, _ actor, _ string, _ *servertest.Response) {
				f.asOwner(t, "DELETE", "/guilds/"+f.guildID+"/bans/"+f.bystander.ID, nil)
			},
			want: expected{owner: wantNoContent, admin: wantNoContent, moderator: wantNoContent, restricted: wantNoContent, junior: wantNoContent,
				blind: wantForbidden, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},
		{name: "list bans", pattern: "GET /api/v1/guilds/{guild_id}/bans", method: "GET", path: "/guilds/{guild}/bans",
			want: expected{owner: wantOK, admin: wantOK, moderator: wantOK, restricted: wantOK, junior: wantOK,
				blind: wantForbidden, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},

		// Roles. A role created without a position lands at 1, which is
		// junior's own position, so junior may create none.
		{name: "create role", pattern: "POST /api/v1/guilds/{guild_id}/roles", method: "POST", path: "/guilds/{guild}/roles",
			body:    map[string]any{"name": "created", "permissions": "0"},
			restore: deleteCreated(func(f *matrixFixture, id string) string { return "/guilds/" + f.guildID + "/roles/" + id }),
			want: expected{owner: wantCreated, admin: wantCreated, moderator: wantCreated, restricted: wantCreated, junior: wantForbidden,
				blind: wantForbidden, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},
		{name: "create role granting ADMINISTRATOR", pattern: "POST /api/v1/guilds/{guild_id}/roles", method: "POST", path: "/guilds/{guild}/roles",
			body:    map[string]any{"name": "created", "permissions": permission.Administrator.String()},
			restore: deleteCreated(func(f *matrixFixture, id string) string { return "/guilds/" + f.guildID + "/roles/" + id }),
			want: expected{owner: wantCreated, admin: wantCreated, moderator: wantForbidden, restricted: wantForbidden, junior: wantForbidden,
				blind: wantForbidden, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},
		{name: "list roles", pattern: "GET /api/v1/guilds/{guild_id}/roles", method: "GET", path: "/guilds/{guild}/roles",
			want: expected{owner: wantOK, admin: wantOK, moderator: wantOK, restricted: wantOK, junior: wantOK,
				blind: wantOK, member: wantOK, outsider: wantNotFound, banned: wantNotFound}},
		{name: "edit target role", pattern: "PATCH /api/v1/guilds/{guild_id}/roles/{role_id}", method: "PATCH",
			path: "/guilds/{guild}/roles/{targetRole}", body: map[string]any{"name": "target"},
			want: expected{owner: wantOK, admin: wantOK, moderator: wantOK, restricted: wantOK, junior: wantForbidden,
				blind: wantForbidden, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},
		{name: "edit moderator role", pattern: "PATCH /api/v1/guilds/{guild_id}/roles/{role_id}", method: "PATCH",
			path: "/guilds/{guild}/roles/{moderatorRole}", body: map[string]any{"name": "moderator"},
			want: expected{owner: wantOK, admin: wantOK, moderator: wantForbidden, restricted: wantForbidden, junior: wantForbidden,
				blind: wantForbidden, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},
		{name: "edit admin role", pattern: "PATCH /api/v1/guilds/{guild_id}/roles/{role_id}", method: "PATCH",
			path: "/guilds/{guild}/roles/{adminRole}", body: map[string]any{"name": "admin"},
			want: expected{owner: wantOK, admin: wantForbidden, moderator: wantForbidden, restricted: wantForbidden, junior: wantForbidden,
				blind: wantForbidden, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},
		{name: "delete role above junior", pattern: "DELETE /api/v1/guilds/{guild_id}/roles/{role_id}", method: "DELETE",
			path: "/guilds/{guild}/roles/{fresh}", setup: freshRole, restore: deleteFreshRole,
			want: expected{owner: wantNoContent, admin: wantNoContent, moderator: wantNoContent, restricted: wantNoContent, junior: wantForbidden,
				blind: wantForbidden, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},

		// Member roles, always given to or taken from the lower member.
		{name: "give target role", pattern: "PUT /api/v1/guilds/{guild_id}/members/{user_id}/roles/{role_id}", method: "PUT",
			path: "/guilds/{guild}/members/{lower}/roles/{targetRole}", restore: takeFromLower(targetRoleOf),
			want: expected{owner: wantNoContent, admin: wantNoContent, moderator: wantNoContent, restricted: wantNoContent, junior: wantForbidden,
				blind: wantForbidden, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},
		{name: "take target role", pattern: "DELETE /api/v1/guilds/{guild_id}/members/{user_id}/roles/{role_id}", method: "DELETE",
			path: "/guilds/{guild}/members/{lower}/roles/{targetRole}",
			setup: func(t *testing.T, f *matrixFixture) string {
				grantRole(t, f.s, f.accounts[owner], f.guildID, f.lower.ID, f.targetRole)
				return ""
			},
			restore: takeFromLower(targetRoleOf),
			want: expected{owner: wantNoContent, admin: wantNoContent, moderator: wantNoContent, restricted: wantNoContent, junior: wantForbidden,
				blind: wantForbidden, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},
		{name: "give moderator role", pattern: "PUT /api/v1/guilds/{guild_id}/members/{user_id}/roles/{role_id}", method: "PUT",
			path: "/guilds/{guild}/members/{lower}/roles/{moderatorRole}", restore: takeFromLower(moderatorRoleOf),
			want: expected{owner: wantNoContent, admin: wantNoContent, moderator: wantForbidden, restricted: wantForbidden, junior: wantForbidden,
				blind: wantForbidden, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},

		// DMs. Only owner and member take part in the fixture's DM, and a
		// DM's participants may read it but not manage it.
		{name: "open DM", pattern: "POST /api/v1/dms", method: "POST", path: "/dms",
			body: map[string]any{"recipient_ids": []string{"{bystander}"}},
			want: expected{owner: wantCreated, admin: wantCreated, moderator: wantCreated, restricted: wantCreated, junior: wantCreated,
				blind: wantCreated, member: wantCreated, outsider: wantCreated, banned: wantCreated}},
		{name: "list DMs", pattern: "GET /api/v1/dms", method: "GET", path: "/dms",
			want: expected{owner: wantOK, admin: wantOK, moderator: wantOK, restricted: wantOK, junior: wantOK,
				blind: wantOK, member: wantOK, outsider: wantOK, banned: wantOK}},
		{name: "view DM", pattern: "GET /api/v1/channels/{channel_id}", method: "GET", path: "/channels/{dm}",
			want: expected{owner: wantOK, admin: wantNotFound, moderator: wantNotFound, restricted: wantNotFound, junior: wantNotFound,
				blind: wantNotFound, member: wantOK, outsider: wantNotFound, banned: wantNotFound}},
		{name: "read DM events", pattern: "GET /api/v1/channels/{channel_id}/events", method: "GET", path: "/channels/{dm}/events",
			want: expected{owner: wantOK, admin: wantNotFound, moderator: wantNotFound, restricted: wantNotFound, junior: wantNotFound,
				blind: wantNotFound, member: wantOK, outsider: wantNotFound, banned: wantNotFound}},
		{name: "edit DM", pattern: "PATCH /api/v1/channels/{channel_id}", method: "PATCH", path: "/channels/{dm}",
			body: map[string]any{"topic": "matrix"},
			want: expected{owner: wantForbidden, admin: wantNotFound, moderator: wantNotFound, restricted: wantNotFound, junior: wantNotFound,
				blind: wantNotFound, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},
		{name: "set overwrite in DM", pattern: "PUT /api/v1/channels/{channel_id}/permissions/{target_id}", method: "PUT",
			path: "/channels/{dm}/permissions/{owner}", body: map[string]any{"type": "member", "allow": "0", "deny": "0"},
			want: expected{owner: wantForbidden, admin: wantNotFound, moderator: wantNotFound, restricted: wantNotFound, junior: wantNotFound,
				blind: wantNotFound, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},
		{name: "delete DM", pattern: "DELETE /api/v1/channels/{channel_id}", method: "DELETE", path: "/channels/{dm}",
			want: expected{owner: wantForbidden, admin: wantNotFound, moderator: wantNotFound, restricted: wantNotFound, junior: wantNotFound,
				blind: wantNotFound, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},

		// Last, because the owner's request ends the guild.
		{name: "delete guild", pattern: "DELETE /api/v1/guilds/{guild_id}", method: "DELETE", path: "/guilds/{guild}",
			want: expected{owner: wantNoContent, admin: wantForbidden, moderator: wantForbidden, restricted: wantForbidden, junior: wantForbidden,
				blind: wantForbidden, member: wantForbidden, outsider: wantNotFound, banned: wantNotFound}},
	}
}

// TestAuthorizationMatrix sends every guild route as every actor and
// checks the exact status and error code. Each case that changes shared
// state acts on a fresh resource or puts the fixture back afterwards.
func TestAuthorizationMatrix(t *testing.T) {
	routes := matrixRoutes()
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		f := newMatrixFixture(t, s)
		for _, route := range routes {
			t.Run(route.name, func(t *testing.T) {
				for _, caller := range matrixActors {
					t.Run(string(caller), func(t *testing.T) { f.run(t, route, caller) })
				}
			})
		}
	})
}

// TestAuthorizationMatrixCoversGuildRoutes keeps the matrix in step with
// routes.go. Every route under /guilds, /channels, /invites and /dms needs
// a row, except the message routes, which have tests in messages_test.go.
func TestAuthorizationMatrixCoversGuildRoutes(t *testing.T) {
	source, err := os.ReadFile("routes.go")
	if err != nil {
		t.Fatalf("read routes.go: %v", err)
	}
	handle := regexp.MustCompile(`rt\.handle\("([A-Z]+ [^"]+)"`)
	inScope := regexp.MustCompile(`^[A-Z]+ /api/v1/(guilds|channels|invites|dms)\b`)
	messageRoute := regexp.MustCompile(`^[A-Z]+ /api/v1/channels/\{channel_id\}/(messages|typing|read)\b`)

	covered := map[string]bool{}
	for _, route := range matrixRoutes() {
		covered[route.pattern] = true
	}
	var routes []string
	for _, m := range handle.FindAllStringSubmatch(string(source), -1) {
		pattern := m[1]
		if !inScope.MatchString(pattern) || messageRoute.MatchString(pattern) {
			continue
		}
		routes = append(routes, pattern)
		if !covered[pattern] {
			t.Errorf("route %q has no row in the authorization matrix", pattern)
		}
	}
	for pattern := range covered {
		if !slices.Contains(routes, pattern) {
			t.Errorf("matrix row names %q, which routes.go does not serve", pattern)
		}
	}
}
