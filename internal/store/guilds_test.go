package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openguild/openguild/internal/apijson"
	"github.com/openguild/openguild/internal/auth"
	"github.com/openguild/openguild/internal/event"
	"github.com/openguild/openguild/internal/guild"
	"github.com/openguild/openguild/internal/permission"
	"github.com/openguild/openguild/internal/store"
	"github.com/openguild/openguild/internal/storetest"
)

// guildsRaceTimeout bounds each race test, so a deadlock fails the test
// instead of hanging it.
const guildsRaceTimeout = 30 * time.Second

// guildsEpoch is the time of every guild fixture and of the store's
// clock. It has a millisecond part, so a store that drops milliseconds
// fails.
func guildsEpoch() time.Time {
	return time.Date(2030, time.March, 4, 5, 6, 7, 89_000_000, time.UTC)
}

// guildsFixture is the guild store of one test database, with helpers
// that fail the test when a setup step fails.
type guildsFixture struct {
	t     *testing.T
	db    *store.DB
	store *store.Guilds

	joinCodes map[string]string // guild id to an unlimited invite code made by join
}

func newGuildsFixture(t *testing.T, db *store.DB) *guildsFixture {
	t.Helper()
	return &guildsFixture{t: t, db: db, store: db.Guilds().WithClock(guildsEpoch), joinCodes: map[string]string{}}
}

func (f *guildsFixture) ctx() context.Context { return f.t.Context() }

// createUsers creates an account per id, named after the id.
func (f *guildsFixture) createUsers(ids ...string) {
	f.t.Helper()
	for _, id := range ids {
		_, err := f.db.Accounts().CreateUser(f.ctx(), auth.NewUser{
			ID: id, Username: id, UsernameKey: strings.ToLower(id), DisplayName: "User " + id,
			PasswordHash: "hash-of-" + id, CreatedAt: guildsEpoch(),
		})
		if err != nil {
			f.t.Fatalf("CreateUser %s: %v", id, err)
		}
	}
}

// createGuild creates guild id owned by ownerID with a text channel
// named "general" whose id is id+"-general".
func (f *guildsFixture) createGuild(id, ownerID string) []event.Event {
	f.t.Helper()
	g := guild.Guild{ID: id, Name: "Guild " + id, OwnerID: ownerID, CreatedAt: guildsEpoch()}
	everyone := guild.Role{Name: "@everyone", Permissions: permission.EveryoneDefault, CreatedAt: guildsEpoch()}
	first := guild.Channel{ID: id + "-general", Kind: guild.KindText, Name: "general", CreatedAt: guildsEpoch()}
	events, err := f.store.CreateGuild(f.ctx(), g, everyone, first)
	if err != nil {
		f.t.Fatalf("CreateGuild %s: %v", id, err)
	}
	return events
}

func (f *guildsFixture) createChannel(guildID, id, kind, parentID string, position int) guild.Channel {
	f.t.Helper()
	c := guild.Channel{
		ID: id, GuildID: guildID, Kind: kind, Name: id, ParentID: parentID, Position: position, CreatedAt: guildsEpoch(),
	}
	created, _, err := f.store.CreateChannel(f.ctx(), c)
	if err != nil {
		f.t.Fatalf("CreateChannel %s: %v", id, err)
	}
	return created
}

func (f *guildsFixture) createRole(guildID, id string, position int) []event.Event {
	f.t.Helper()
	r := guild.Role{ID: id, GuildID: guildID, Name: id, Position: position, CreatedAt: guildsEpoch()}
	_, events, err := f.store.CreateRole(f.ctx(), r)
	if err != nil {
		f.t.Fatalf("CreateRole %s at %d: %v", id, position, err)
	}
	return events
}

func (f *guildsFixture) createInvite(code, guildID, inviterID string, maxUses int, expiresAt time.Time) {
	f.t.Helper()
	inv := guild.Invite{
		Code: code, GuildID: guildID, InviterID: inviterID, CreatedAt: guildsEpoch(), ExpiresAt: expiresAt, MaxUses: maxUses,
	}
	if err := f.store.CreateInvite(f.ctx(), inv); err != nil {
		f.t.Fatalf("CreateInvite %s: %v", code, err)
	}
}

// join makes each user a member of guildID through an unlimited invite
// from the guild's owner.
func (f *guildsFixture) join(guildID string, userIDs ...string) {
	f.t.Helper()
	code, ok := f.joinCodes[guildID]
	if !ok {
		g, err := f.store.Guild(f.ctx(), guildID)
		if err != nil {
			f.t.Fatalf("Guild %s: %v", guildID, err)
		}
		code = "join-" + guildID
		f.createInvite(code, guildID, g.OwnerID, 0, time.Time{})
		f.joinCodes[guildID] = code
	}
	for _, userID := range userIDs {
		if _, _, err := f.store.AcceptInvite(f.ctx(), code, userID, guildsEpoch()); err != nil {
			f.t.Fatalf("AcceptInvite %s as %s: %v", code, userID, err)
		}
	}
}

// logEvents returns every event of a log.
func (f *guildsFixture) logEvents(logID string) []event.Event {
	f.t.Helper()
	events, err := f.db.Events(f.ctx(), logID, 0, 1000)
	if err != nil {
		f.t.Fatalf("Events of log %s: %v", logID, err)
	}
	return events
}

// roleOrder returns the ids that Roles lists, and fails the test unless
// their positions are 0, 1, 2, … in that order.
func (f *guildsFixture) roleOrder(guildID string) []string {
	f.t.Helper()
	roles, err := f.store.Roles(f.ctx(), guildID)
	if err != nil {
		f.t.Fatalf("Roles %s: %v", guildID, err)
	}
	ids := make([]string, 0, len(roles))
	for i, r := range roles {
		if r.Position != i {
			f.t.Errorf("role %s is at position %d, want %d", r.ID, r.Position, i)
		}
		ids = append(ids, r.ID)
	}
	return ids
}

func (f *guildsFixture) memberIDs(guildID string) []string {
	f.t.Helper()
	members, err := f.store.Members(f.ctx(), guildID, "", 1000)
	if err != nil {
		f.t.Fatalf("Members %s: %v", guildID, err)
	}
	return memberUserIDs(members)
}

func memberUserIDs(members []guild.Member) []string {
	ids := []string{}
	for _, m := range members {
		ids = append(ids, m.User.ID)
	}
	return ids
}

// eventSummary is what the tests compare of an event: its log, type and
// sequence number.
type eventSummary struct {
	LogID string
	Type  event.Type
	Seq   int64
}

func summarize(events []event.Event) []eventSummary {
	out := []eventSummary{}
	for _, e := range events {
		out = append(out, eventSummary{LogID: e.LogID, Type: e.Type, Seq: e.Seq})
	}
	return out
}

// assertGapFree checks that the events of one log are numbered 1 to n.
func assertGapFree(t *testing.T, logID string, events []event.Event) {
	t.Helper()
	for i, e := range events {
		if e.Seq != int64(i+1) {
			t.Errorf("event %d of log %s has seq %d, want %d", i, logID, e.Seq, i+1)
		}
	}
}

// decodeData decodes the data of an event into a value of type T.
func decodeData[T any](t *testing.T, e event.Event) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(e.Data, &v); err != nil {
		t.Fatalf("decode data of %s event %d in log %s: %v", e.Type, e.Seq, e.LogID, err)
	}
	return v
}

func TestGuildsCreateGuild(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newGuildsFixture(t, db)
		f.createUsers("alice")

		events := f.createGuild("g1", "alice")

		want := []eventSummary{
			{LogID: "g1", Type: event.MemberAdd, Seq: 1},
			{LogID: "g1", Type: event.RoleCreate, Seq: 2},
			{LogID: "g1-general", Type: event.ChannelCreate, Seq: 1},
		}
		if got := summarize(events); !slices.Equal(got, want) {
			t.Errorf("events = %+v, want %+v", got, want)
		}
		for _, e := range events {
			if e.GuildID != "g1" {
				t.Errorf("%s event has guild id %q, want g1", e.Type, e.GuildID)
			}
		}
		if got := summarize(f.logEvents("g1")); !slices.Equal(got, want[:2]) {
			t.Errorf("guild log = %+v, want %+v", got, want[:2])
		}
		if got := summarize(f.logEvents("g1-general")); !slices.Equal(got, want[2:]) {
			t.Errorf("channel log = %+v, want %+v", got, want[2:])
		}

		member := decodeData[apijson.Member](t, events[0])
		if member.User.ID != "alice" {
			t.Errorf("member_add user = %q, want alice", member.User.ID)
		}
		everyone := decodeData[apijson.Role](t, events[1])
		if everyone.ID != "g1" || everyone.Position != 0 {
			t.Errorf("role_create = id %q position %d, want id g1 position 0", everyone.ID, everyone.Position)
		}
		channel := decodeData[apijson.Channel](t, events[2])
		if channel.LastSeq != 1 {
			t.Errorf("channel_create last_seq = %d, want 1, the event's own seq", channel.LastSeq)
		}

		g, err := f.store.Guild(f.ctx(), "g1")
		if err != nil {
			t.Fatalf("Guild: %v", err)
		}
		if g.OwnerID != "alice" {
			t.Errorf("OwnerID = %q, want alice", g.OwnerID)
		}
		if !g.CreatedAt.Equal(guildsEpoch()) {
			t.Errorf("CreatedAt = %s, want %s", g.CreatedAt, guildsEpoch())
		}
		if got := f.roleOrder("g1"); !slices.Equal(got, []string{"g1"}) {
			t.Errorf("roles = %v, want [g1]", got)
		}

		c, err := f.store.Channel(f.ctx(), "g1-general")
		if err != nil {
			t.Fatalf("Channel: %v", err)
		}
		if c.GuildID != "g1" {
			t.Errorf("channel GuildID = %q, want g1", c.GuildID)
		}
		if c.LastSeq != 1 {
			t.Errorf("channel LastSeq = %d, want 1", c.LastSeq)
		}

		access, err := f.store.Access(f.ctx(), "g1", "alice")
		if err != nil {
			t.Fatalf("Access: %v", err)
		}
		if access.Guild.OwnerID != "alice" {
			t.Errorf("Access owner = %q, want alice", access.Guild.OwnerID)
		}
		if got := access.Guild.Roles["g1"].Permissions; got != permission.EveryoneDefault {
			t.Errorf("Access @everyone permissions = %d, want %d", got, permission.EveryoneDefault)
		}
	})
}

func TestGuildsUpdateGuild(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newGuildsFixture(t, db)
		f.createUsers("alice", "bob", "carol")
		f.createGuild("g1", "alice")
		f.join("g1", "bob")

		name, description := "Renamed", "About the guild"
		g, events, err := f.store.UpdateGuild(f.ctx(), "g1", guild.GuildUpdate{Name: &name, Description: &description})
		if err != nil {
			t.Fatalf("UpdateGuild name: %v", err)
		}
		if g.Name != name || g.Description != description || g.OwnerID != "alice" {
			t.Errorf("UpdateGuild = %+v, want name %q, description %q, owner alice", g, name, description)
		}
		if got, want := summarize(events), []eventSummary{{"g1", event.GuildUpdate, 4}}; !slices.Equal(got, want) {
			t.Errorf("events = %+v, want %+v", got, want)
		}
		if data := decodeData[apijson.Guild](t, events[0]); data.Name != name {
			t.Errorf("guild_update name = %q, want %q", data.Name, name)
		}

		carol := "carol"
		_, _, err = f.store.UpdateGuild(f.ctx(), "g1", guild.GuildUpdate{Name: &carol, OwnerID: &carol})
		if !errors.Is(err, guild.ErrNotMember) {
			t.Errorf("UpdateGuild owner to non-member: err = %v, want ErrNotMember", err)
		}
		if g, _ := f.store.Guild(f.ctx(), "g1"); g.Name != name || g.OwnerID != "alice" {
			t.Errorf("after rejected update guild = %+v, want it unchanged", g)
		}

		bob := "bob"
		g, _, err = f.store.UpdateGuild(f.ctx(), "g1", guild.GuildUpdate{OwnerID: &bob})
		if err != nil {
			t.Fatalf("UpdateGuild owner to member: %v", err)
		}
		if g.OwnerID != "bob" {
			t.Errorf("OwnerID = %q, want bob", g.OwnerID)
		}

		log := f.logEvents("g1")
		assertGapFree(t, "g1", log)
		wantTypes := []event.Type{event.MemberAdd, event.RoleCreate, event.MemberAdd, event.GuildUpdate, event.GuildUpdate}
		var gotTypes []event.Type
		for _, e := range log {
			gotTypes = append(gotTypes, e.Type)
		}
		if !slices.Equal(gotTypes, wantTypes) {
			t.Errorf("guild log types = %v, want %v", gotTypes, wantTypes)
		}

		_, _, err = f.store.UpdateGuild(f.ctx(), "missing", guild.GuildUpdate{Name: &name})
		if !errors.Is(err, guild.ErrNotFound) {
			t.Errorf("UpdateGuild of missing guild: err = %v, want ErrNotFound", err)
		}
	})
}

func TestGuildsDeletedGuildNotFound(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newGuildsFixture(t, db)
		f.createUsers("alice", "bob")
		f.createGuild("g1", "alice")
		f.join("g1", "bob")
		f.createRole("g1", "r1", 1)
		f.createInvite("code-1", "g1", "alice", 0, time.Time{})

		events, err := f.store.DeleteGuild(f.ctx(), "g1", guildsEpoch().Add(time.Hour))
		if err != nil {
			t.Fatalf("DeleteGuild: %v", err)
		}
		if got, want := summarize(events), []eventSummary{{"g1", event.GuildDelete, 5}}; !slices.Equal(got, want) {
			t.Errorf("events = %+v, want %+v", got, want)
		}
		assertGapFree(t, "g1", f.logEvents("g1"))

		cases := []struct {
			name string
			call func() error
		}{
			{"Guild", func() error { _, err := f.store.Guild(f.ctx(), "g1"); return err }},
			{"Access", func() error { _, err := f.store.Access(f.ctx(), "g1", "alice"); return err }},
			{"Channel", func() error { _, err := f.store.Channel(f.ctx(), "g1-general"); return err }},
			{"Channels", func() error { _, err := f.store.Channels(f.ctx(), "g1"); return err }},
			{"Roles", func() error { _, err := f.store.Roles(f.ctx(), "g1"); return err }},
			{"Members", func() error { _, err := f.store.Members(f.ctx(), "g1", "", 10); return err }},
			{"Member", func() error { _, err := f.store.Member(f.ctx(), "g1", "bob"); return err }},
			{"Invite", func() error { _, err := f.store.Invite(f.ctx(), "code-1"); return err }},
			{"AcceptInvite", func() error { _, _, err := f.store.AcceptInvite(f.ctx(), "code-1", "bob", guildsEpoch()); return err }},
			{"CreateChannel", func() error {
				_, _, err := f.store.CreateChannel(f.ctx(), guild.Channel{ID: "late", GuildID: "g1", Kind: guild.KindText, Name: "late"})
				return err
			}},
			{"DeleteGuild again", func() error { _, err := f.store.DeleteGuild(f.ctx(), "g1", guildsEpoch()); return err }},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if err := tc.call(); !errors.Is(err, guild.ErrNotFound) {
					t.Errorf("err = %v, want ErrNotFound", err)
				}
			})
		}

		if guilds, err := f.store.GuildsOf(f.ctx(), "alice"); err != nil || len(guilds) != 0 {
			t.Errorf("GuildsOf = %v, %v, want none", guilds, err)
		}
		if n, err := f.store.OwnedGuilds(f.ctx(), "alice"); err != nil || n != 0 {
			t.Errorf("OwnedGuilds = %d, %v, want 0", n, err)
		}
		if shared, err := f.store.SharesGuild(f.ctx(), "alice", "bob"); err != nil || shared {
			t.Errorf("SharesGuild = %v, %v, want false", shared, err)
		}
	})
}

func TestGuildsRolePositionsStayDense(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newGuildsFixture(t, db)
		f.createUsers("alice")
		f.createGuild("g", "alice")

		move := func(id string, position int) func() {
			return func() {
				if _, _, err := f.store.UpdateRole(f.ctx(), "g", id, guild.RoleUpdate{Position: &position}); err != nil {
					t.Fatalf("move role %s to %d: %v", id, position, err)
				}
			}
		}
		deleteRole := func(id string) func() {
			return func() {
				if _, err := f.store.DeleteRole(f.ctx(), "g", id); err != nil {
					t.Fatalf("DeleteRole %s: %v", id, err)
				}
			}
		}
		create := func(id string, position int) func() {
			return func() { f.createRole("g", id, position) }
		}

		// The steps share one guild, so each starts from the order the
		// previous one left.
		steps := []struct {
			name string
			do   func()
			want []string
		}{
			{"create first role at 1", create("a", 1), []string{"g", "a"}},
			{"create at 1 below existing", create("b", 1), []string{"g", "b", "a"}},
			{"create far above highest", create("c", 99), []string{"g", "b", "a", "c"}},
			{"create below zero", create("d", -5), []string{"g", "d", "b", "a", "c"}},
			{"create in the middle", create("e", 3), []string{"g", "d", "b", "e", "a", "c"}},
			{"move top role down to 1", move("c", 1), []string{"g", "c", "d", "b", "e", "a"}},
			{"move role up past highest", move("d", 50), []string{"g", "c", "b", "e", "a", "d"}},
			{"move role down by one", move("e", 2), []string{"g", "c", "e", "b", "a", "d"}},
			{"move role up by two", move("c", 3), []string{"g", "e", "b", "c", "a", "d"}},
			{"move role to 0", move("a", 0), []string{"g", "a", "e", "b", "c", "d"}},
			{"delete middle role", deleteRole("b"), []string{"g", "a", "e", "c", "d"}},
			{"delete top role", deleteRole("d"), []string{"g", "a", "e", "c"}},
			{"delete lowest role", deleteRole("a"), []string{"g", "e", "c"}},
		}
		for _, step := range steps {
			step.do()
			if got := f.roleOrder("g"); !slices.Equal(got, step.want) {
				t.Errorf("after %s: roles = %v, want %v", step.name, got, step.want)
			}
		}
	})
}

func TestGuildsRoleEvents(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newGuildsFixture(t, db)
		f.createUsers("alice")
		f.createGuild("g", "alice")
		f.createRole("g", "r1", 1)
		f.createRole("g", "r2", 2)

		type rolePosition struct {
			Type     event.Type
			ID       string
			Position int
		}
		positions := func(events []event.Event) []rolePosition {
			out := []rolePosition{}
			for _, e := range events {
				r := decodeData[apijson.Role](t, e)
				out = append(out, rolePosition{e.Type, r.ID, r.Position})
			}
			return out
		}

		events := f.createRole("g", "r3", 1)
		want := []rolePosition{{event.RoleUpdate, "r1", 2}, {event.RoleUpdate, "r2", 3}, {event.RoleCreate, "r3", 1}}
		if got := positions(events); !slices.Equal(got, want) {
			t.Errorf("CreateRole at 1 events = %+v, want %+v", got, want)
		}

		name := "renamed"
		position := 3
		r, events, err := f.store.UpdateRole(f.ctx(), "g", "r3", guild.RoleUpdate{Name: &name, Position: &position})
		if err != nil {
			t.Fatalf("UpdateRole: %v", err)
		}
		if r.Position != 3 || r.Name != name {
			t.Errorf("UpdateRole = position %d name %q, want 3 %q", r.Position, r.Name, name)
		}
		want = []rolePosition{{event.RoleUpdate, "r1", 1}, {event.RoleUpdate, "r2", 2}, {event.RoleUpdate, "r3", 3}}
		if got := positions(events); !slices.Equal(got, want) {
			t.Errorf("UpdateRole move up events = %+v, want %+v", got, want)
		}
		if data := decodeData[apijson.Role](t, events[2]); data.Name != name {
			t.Errorf("role_update of the moved role has name %q, want %q", data.Name, name)
		}

		perms := permission.ManageRoles
		_, events, err = f.store.UpdateRole(f.ctx(), "g", "r1", guild.RoleUpdate{Permissions: &perms})
		if err != nil {
			t.Fatalf("UpdateRole permissions: %v", err)
		}
		if got, want := positions(events), []rolePosition{{event.RoleUpdate, "r1", 1}}; !slices.Equal(got, want) {
			t.Errorf("UpdateRole without move events = %+v, want %+v", got, want)
		}

		events, err = f.store.DeleteRole(f.ctx(), "g", "r1")
		if err != nil {
			t.Fatalf("DeleteRole: %v", err)
		}
		want = []rolePosition{{event.RoleUpdate, "r2", 1}, {event.RoleUpdate, "r3", 2}, {event.RoleDelete, "r1", 0}}
		if got := positions(events); !slices.Equal(got, want) {
			t.Errorf("DeleteRole events = %+v, want %+v", got, want)
		}

		assertGapFree(t, "g", f.logEvents("g"))
	})
}

func TestGuildsEveryoneRoleStaysAtZero(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newGuildsFixture(t, db)
		f.createUsers("alice")
		f.createGuild("g", "alice")
		f.createRole("g", "r1", 1)

		position := 1
		if _, _, err := f.store.UpdateRole(f.ctx(), "g", "g", guild.RoleUpdate{Position: &position}); err == nil {
			t.Error("moving @everyone to 1 succeeded, want an error")
		}
		if _, err := f.store.DeleteRole(f.ctx(), "g", "g"); err == nil {
			t.Error("deleting @everyone succeeded, want an error")
		}

		zero := 0
		name := "everyone"
		if _, _, err := f.store.UpdateRole(f.ctx(), "g", "g", guild.RoleUpdate{Name: &name, Position: &zero}); err != nil {
			t.Errorf("renaming @everyone with position 0: %v", err)
		}
		if got := f.roleOrder("g"); !slices.Equal(got, []string{"g", "r1"}) {
			t.Errorf("roles = %v, want [g r1]", got)
		}
	})
}

func TestGuildsDeleteRoleCleansUp(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newGuildsFixture(t, db)
		f.createUsers("alice", "bob")
		f.createGuild("g", "alice")
		f.join("g", "bob")
		f.createRole("g", "r1", 1)
		if _, err := f.store.AddMemberRole(f.ctx(), "g", "bob", "r1"); err != nil {
			t.Fatalf("AddMemberRole: %v", err)
		}
		ow := guild.Overwrite{TargetID: "r1", Kind: permission.OverwriteRole, Deny: permission.SendMessages}
		if _, err := f.store.SetOverwrite(f.ctx(), "g-general", ow); err != nil {
			t.Fatalf("SetOverwrite: %v", err)
		}

		events, err := f.store.DeleteRole(f.ctx(), "g", "r1")
		if err != nil {
			t.Fatalf("DeleteRole: %v", err)
		}

		want := []eventSummary{{"g-general", event.OverwriteDelete, 3}, {"g", event.RoleDelete, 6}}
		if got := summarize(events); !slices.Equal(got, want) {
			t.Errorf("events = %+v, want %+v", got, want)
		}
		m, err := f.store.Member(f.ctx(), "g", "bob")
		if err != nil {
			t.Fatalf("Member: %v", err)
		}
		if len(m.RoleIDs) != 0 {
			t.Errorf("member roles = %v, want none", m.RoleIDs)
		}
		c, err := f.store.Channel(f.ctx(), "g-general")
		if err != nil {
			t.Fatalf("Channel: %v", err)
		}
		if len(c.Overwrites) != 0 {
			t.Errorf("channel overwrites = %+v, want none", c.Overwrites)
		}
		if _, err := f.store.DeleteRole(f.ctx(), "g", "r1"); !errors.Is(err, guild.ErrNotFound) {
			t.Errorf("second DeleteRole: err = %v, want ErrNotFound", err)
		}
	})
}

func TestGuildsCreateChannel(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newGuildsFixture(t, db)
		f.createUsers("alice")
		f.createGuild("g", "alice")
		f.createChannel("g", "cat", guild.KindCategory, "", 1)

		c := guild.Channel{ID: "voice", GuildID: "g", Kind: guild.KindVoice, Name: "Voice", ParentID: "cat", Position: 2, CreatedAt: guildsEpoch()}
		created, events, err := f.store.CreateChannel(f.ctx(), c)
		if err != nil {
			t.Fatalf("CreateChannel: %v", err)
		}
		if created.LastSeq != 1 {
			t.Errorf("LastSeq = %d, want 1", created.LastSeq)
		}
		if got, want := summarize(events), []eventSummary{{"voice", event.ChannelCreate, 1}}; !slices.Equal(got, want) {
			t.Errorf("events = %+v, want %+v", got, want)
		}
		if events[0].GuildID != "g" {
			t.Errorf("event guild id = %q, want g", events[0].GuildID)
		}
		data := decodeData[apijson.Channel](t, events[0])
		if data.ParentID == nil || *data.ParentID != "cat" {
			t.Errorf("channel_create parent_id = %v, want cat", data.ParentID)
		}

		cases := []struct {
			name   string
			parent string
		}{
			{"parent missing", "nope"},
			{"parent not a category", "g-general"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				bad := guild.Channel{ID: "bad-" + tc.parent, GuildID: "g", Kind: guild.KindText, Name: "bad", ParentID: tc.parent}
				if _, _, err := f.store.CreateChannel(f.ctx(), bad); !errors.Is(err, guild.ErrNotFound) {
					t.Errorf("err = %v, want ErrNotFound", err)
				}
			})
		}

		channels, err := f.store.Channels(f.ctx(), "g")
		if err != nil {
			t.Fatalf("Channels: %v", err)
		}
		var ids []string
		for _, c := range channels {
			ids = append(ids, c.ID)
		}
		if want := []string{"g-general", "cat", "voice"}; !slices.Equal(ids, want) {
			t.Errorf("channels = %v, want %v (by position, then id)", ids, want)
		}
	})
}

func TestGuildsUpdateChannel(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newGuildsFixture(t, db)
		f.createUsers("alice")
		f.createGuild("g", "alice")
		f.createChannel("g", "cat", guild.KindCategory, "", 1)

		parent, topic, slowmode := "cat", "News", 30
		c, events, err := f.store.UpdateChannel(f.ctx(), "g-general",
			guild.ChannelUpdate{ParentID: &parent, Topic: &topic, SlowmodeSeconds: &slowmode})
		if err != nil {
			t.Fatalf("UpdateChannel into category: %v", err)
		}
		if c.ParentID != "cat" || c.Topic != topic || c.SlowmodeSeconds != slowmode {
			t.Errorf("UpdateChannel = %+v, want parent cat, topic %q, slowmode %d", c, topic, slowmode)
		}
		if got, want := summarize(events), []eventSummary{{"g-general", event.ChannelUpdate, 2}}; !slices.Equal(got, want) {
			t.Errorf("events = %+v, want %+v", got, want)
		}
		if data := decodeData[apijson.Channel](t, events[0]); data.LastSeq != 2 {
			t.Errorf("channel_update last_seq = %d, want 2, the event's own seq", data.LastSeq)
		}

		none := ""
		if _, _, err := f.store.UpdateChannel(f.ctx(), "g-general", guild.ChannelUpdate{ParentID: &none}); err != nil {
			t.Fatalf("UpdateChannel out of category: %v", err)
		}
		stored, err := f.store.Channel(f.ctx(), "g-general")
		if err != nil {
			t.Fatalf("Channel: %v", err)
		}
		if stored.ParentID != "" {
			t.Errorf("ParentID = %q, want empty", stored.ParentID)
		}
		if stored.Topic != topic {
			t.Errorf("Topic = %q, want %q kept", stored.Topic, topic)
		}
		if stored.LastSeq != 3 {
			t.Errorf("LastSeq = %d, want 3", stored.LastSeq)
		}

		general := "g-general"
		if _, _, err := f.store.UpdateChannel(f.ctx(), "cat", guild.ChannelUpdate{ParentID: &general}); !errors.Is(err, guild.ErrNotFound) {
			t.Errorf("UpdateChannel with a text channel as parent: err = %v, want ErrNotFound", err)
		}
	})
}

func TestGuildsDeleteCategoryDetachesChildren(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newGuildsFixture(t, db)
		f.createUsers("alice")
		f.createGuild("g", "alice")
		f.createChannel("g", "cat", guild.KindCategory, "", 1)
		f.createChannel("g", "t2", guild.KindText, "cat", 3)
		f.createChannel("g", "t1", guild.KindText, "cat", 2)

		events, err := f.store.DeleteChannel(f.ctx(), "cat", guildsEpoch().Add(time.Minute))
		if err != nil {
			t.Fatalf("DeleteChannel: %v", err)
		}

		want := []eventSummary{
			{"t1", event.ChannelUpdate, 2},
			{"t2", event.ChannelUpdate, 2},
			{"cat", event.ChannelDelete, 2},
		}
		if got := summarize(events); !slices.Equal(got, want) {
			t.Errorf("events = %+v, want %+v", got, want)
		}
		for _, e := range events[:2] {
			if data := decodeData[apijson.Channel](t, e); data.ParentID != nil {
				t.Errorf("channel_update of %s has parent_id %q, want null", e.LogID, *data.ParentID)
			}
		}
		if data := decodeData[apijson.Deleted](t, events[2]); data.ID != "cat" || data.GuildID != "g" {
			t.Errorf("channel_delete data = %+v, want id cat, guild g", data)
		}

		for _, id := range []string{"t1", "t2"} {
			c, err := f.store.Channel(f.ctx(), id)
			if err != nil {
				t.Fatalf("Channel %s: %v", id, err)
			}
			if c.ParentID != "" {
				t.Errorf("channel %s ParentID = %q, want empty", id, c.ParentID)
			}
		}
		if _, err := f.store.Channel(f.ctx(), "cat"); !errors.Is(err, guild.ErrNotFound) {
			t.Errorf("Channel of deleted category: err = %v, want ErrNotFound", err)
		}
		channels, err := f.store.Channels(f.ctx(), "g")
		if err != nil {
			t.Fatalf("Channels: %v", err)
		}
		if len(channels) != 3 {
			t.Errorf("Channels lists %d channels, want 3 without the deleted category", len(channels))
		}
		if _, err := f.store.DeleteChannel(f.ctx(), "cat", guildsEpoch()); !errors.Is(err, guild.ErrNotFound) {
			t.Errorf("second DeleteChannel: err = %v, want ErrNotFound", err)
		}
	})
}

func TestGuildsOverwrites(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newGuildsFixture(t, db)
		f.createUsers("alice")
		f.createGuild("g", "alice")

		first := guild.Overwrite{TargetID: "alice", Kind: permission.OverwriteMember, Allow: permission.ManageMessages}
		second := guild.Overwrite{TargetID: "alice", Kind: permission.OverwriteMember, Deny: permission.SendMessages}
		var events []event.Event
		for _, o := range []guild.Overwrite{first, second} {
			got, err := f.store.SetOverwrite(f.ctx(), "g-general", o)
			if err != nil {
				t.Fatalf("SetOverwrite: %v", err)
			}
			events = append(events, got...)
		}
		want := []eventSummary{{"g-general", event.OverwriteUpdate, 2}, {"g-general", event.OverwriteUpdate, 3}}
		if got := summarize(events); !slices.Equal(got, want) {
			t.Errorf("SetOverwrite events = %+v, want %+v", got, want)
		}
		if data := decodeData[apijson.Overwrite](t, events[1]); data.Type != "member" || data.Deny != permission.SendMessages {
			t.Errorf("overwrite_update data = %+v, want type member, deny %d", data, permission.SendMessages)
		}

		c, err := f.store.Channel(f.ctx(), "g-general")
		if err != nil {
			t.Fatalf("Channel: %v", err)
		}
		if len(c.Overwrites) != 1 || c.Overwrites[0] != second {
			t.Errorf("Overwrites = %+v, want only %+v", c.Overwrites, second)
		}

		events, err = f.store.DeleteOverwrite(f.ctx(), "g-general", "alice")
		if err != nil {
			t.Fatalf("DeleteOverwrite: %v", err)
		}
		if got, want := summarize(events), []eventSummary{{"g-general", event.OverwriteDelete, 4}}; !slices.Equal(got, want) {
			t.Errorf("DeleteOverwrite events = %+v, want %+v", got, want)
		}
		if data := decodeData[map[string]string](t, events[0]); data["target_id"] != "alice" || data["channel_id"] != "g-general" {
			t.Errorf("overwrite_delete data = %v, want channel g-general, target alice", data)
		}
		if _, err := f.store.DeleteOverwrite(f.ctx(), "g-general", "alice"); !errors.Is(err, guild.ErrNotFound) {
			t.Errorf("second DeleteOverwrite: err = %v, want ErrNotFound", err)
		}

		invalid := guild.Overwrite{TargetID: "alice"}
		if _, err := f.store.SetOverwrite(f.ctx(), "g-general", invalid); !errors.Is(err, permission.ErrInvalidOverwriteKind) {
			t.Errorf("SetOverwrite without kind: err = %v, want ErrInvalidOverwriteKind", err)
		}
		if _, err := f.store.SetOverwrite(f.ctx(), "missing", first); !errors.Is(err, guild.ErrNotFound) {
			t.Errorf("SetOverwrite on missing channel: err = %v, want ErrNotFound", err)
		}
		assertGapFree(t, "g-general", f.logEvents("g-general"))
	})
}

func TestGuildsMembersPagination(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newGuildsFixture(t, db)
		f.createUsers("u0", "u1", "u2", "u3", "u4", "u5")
		f.createGuild("g", "u3")
		f.join("g", "u5", "u1", "u0", "u4", "u2")

		cases := []struct {
			name  string
			after string
			limit int
			want  []string
		}{
			{"first page", "", 2, []string{"u0", "u1"}},
			{"page after a member", "u1", 2, []string{"u2", "u3"}},
			{"last page shorter than limit", "u3", 10, []string{"u4", "u5"}},
			{"after an id between members", "u2a", 1, []string{"u3"}},
			{"after the last member", "u5", 10, []string{}},
			{"all at once", "", 1000, []string{"u0", "u1", "u2", "u3", "u4", "u5"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				members, err := f.store.Members(f.ctx(), "g", tc.after, tc.limit)
				if err != nil {
					t.Fatalf("Members: %v", err)
				}
				if got := memberUserIDs(members); !slices.Equal(got, tc.want) {
					t.Errorf("members = %v, want %v", got, tc.want)
				}
			})
		}
	})
}

func TestGuildsMemberRoleIDsSorted(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newGuildsFixture(t, db)
		f.createUsers("alice", "bob")
		f.createGuild("g", "alice")
		f.join("g", "bob")
		f.createRole("g", "rb", 1)
		f.createRole("g", "ra", 2)
		for _, role := range []string{"rb", "ra"} {
			if _, err := f.store.AddMemberRole(f.ctx(), "g", "bob", role); err != nil {
				t.Fatalf("AddMemberRole %s: %v", role, err)
			}
		}

		members, err := f.store.Members(f.ctx(), "g", "", 10)
		if err != nil {
			t.Fatalf("Members: %v", err)
		}
		if len(members) != 2 {
			t.Fatalf("Members lists %d members, want 2", len(members))
		}
		if len(members[0].RoleIDs) != 0 {
			t.Errorf("alice's roles = %v, want none", members[0].RoleIDs)
		}
		if want := []string{"ra", "rb"}; !slices.Equal(members[1].RoleIDs, want) {
			t.Errorf("bob's roles = %v, want %v", members[1].RoleIDs, want)
		}
		if members[1].User.Username != "bob" {
			t.Errorf("bob's username = %q, want bob", members[1].User.Username)
		}

		access, err := f.store.Access(f.ctx(), "g", "bob")
		if err != nil {
			t.Fatalf("Access: %v", err)
		}
		if want := []string{"ra", "rb"}; !slices.Equal(access.Member.RoleIDs, want) {
			t.Errorf("Access member roles = %v, want %v", access.Member.RoleIDs, want)
		}
		if len(access.Guild.Roles) != 3 {
			t.Errorf("Access lists %d roles, want 3", len(access.Guild.Roles))
		}
		if _, err := f.store.Access(f.ctx(), "g", "stranger"); !errors.Is(err, guild.ErrNotFound) {
			t.Errorf("Access of a non-member: err = %v, want ErrNotFound", err)
		}
	})
}

func TestGuildsMemberRoleIdempotent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newGuildsFixture(t, db)
		f.createUsers("alice", "bob")
		f.createGuild("g", "alice")
		f.createGuild("other", "alice")
		f.join("g", "bob")
		f.createRole("g", "r1", 1)
		f.createRole("other", "foreign", 1)

		events, err := f.store.AddMemberRole(f.ctx(), "g", "bob", "r1")
		if err != nil {
			t.Fatalf("first AddMemberRole: %v", err)
		}
		if got, want := summarize(events), []eventSummary{{"g", event.MemberUpdate, 5}}; !slices.Equal(got, want) {
			t.Errorf("first AddMemberRole events = %+v, want %+v", got, want)
		}
		if data := decodeData[apijson.Member](t, events[0]); !slices.Equal(data.RoleIDs, []string{"r1"}) {
			t.Errorf("member_update role_ids = %v, want [r1]", data.RoleIDs)
		}

		events, err = f.store.AddMemberRole(f.ctx(), "g", "bob", "r1")
		if err != nil {
			t.Errorf("second AddMemberRole: %v", err)
		}
		if len(events) != 0 {
			t.Errorf("second AddMemberRole events = %+v, want none", summarize(events))
		}

		events, err = f.store.RemoveMemberRole(f.ctx(), "g", "bob", "r1")
		if err != nil {
			t.Fatalf("first RemoveMemberRole: %v", err)
		}
		if got, want := summarize(events), []eventSummary{{"g", event.MemberUpdate, 6}}; !slices.Equal(got, want) {
			t.Errorf("first RemoveMemberRole events = %+v, want %+v", got, want)
		}
		events, err = f.store.RemoveMemberRole(f.ctx(), "g", "bob", "r1")
		if err != nil {
			t.Errorf("second RemoveMemberRole: %v", err)
		}
		if len(events) != 0 {
			t.Errorf("second RemoveMemberRole events = %+v, want none", summarize(events))
		}

		cases := []struct {
			name         string
			user, roleID string
		}{
			{"role of another guild", "bob", "foreign"},
			{"unknown role", "bob", "nope"},
			{"not a member", "stranger", "r1"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if _, err := f.store.AddMemberRole(f.ctx(), "g", tc.user, tc.roleID); !errors.Is(err, guild.ErrNotFound) {
					t.Errorf("AddMemberRole: err = %v, want ErrNotFound", err)
				}
				if _, err := f.store.RemoveMemberRole(f.ctx(), "g", tc.user, tc.roleID); !errors.Is(err, guild.ErrNotFound) {
					t.Errorf("RemoveMemberRole: err = %v, want ErrNotFound", err)
				}
			})
		}
	})
}

func TestGuildsSetNickname(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newGuildsFixture(t, db)
		f.createUsers("alice")
		f.createGuild("g", "alice")

		nick := "Ali"
		m, events, err := f.store.SetNickname(f.ctx(), "g", "alice", &nick)
		if err != nil {
			t.Fatalf("SetNickname: %v", err)
		}
		if m.Nickname == nil || *m.Nickname != nick {
			t.Errorf("Nickname = %v, want %q", m.Nickname, nick)
		}
		if got, want := summarize(events), []eventSummary{{"g", event.MemberUpdate, 3}}; !slices.Equal(got, want) {
			t.Errorf("events = %+v, want %+v", got, want)
		}

		m, _, err = f.store.SetNickname(f.ctx(), "g", "alice", nil)
		if err != nil {
			t.Fatalf("SetNickname nil: %v", err)
		}
		if m.Nickname != nil {
			t.Errorf("Nickname = %q, want nil after clearing", *m.Nickname)
		}
		if _, _, err := f.store.SetNickname(f.ctx(), "g", "stranger", &nick); !errors.Is(err, guild.ErrNotFound) {
			t.Errorf("SetNickname of non-member: err = %v, want ErrNotFound", err)
		}
	})
}

func TestGuildsRemoveMember(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newGuildsFixture(t, db)
		f.createUsers("alice", "bob")
		f.createGuild("g", "alice")
		f.join("g", "bob")

		events, err := f.store.RemoveMember(f.ctx(), "g", "bob")
		if err != nil {
			t.Fatalf("RemoveMember: %v", err)
		}
		if got, want := summarize(events), []eventSummary{{"g", event.MemberRemove, 4}}; !slices.Equal(got, want) {
			t.Errorf("events = %+v, want %+v", got, want)
		}
		if data := decodeData[apijson.MemberRemoved](t, events[0]); data.UserID != "bob" || data.GuildID != "g" {
			t.Errorf("member_remove data = %+v, want bob in g", data)
		}
		if _, err := f.store.RemoveMember(f.ctx(), "g", "bob"); !errors.Is(err, guild.ErrNotFound) {
			t.Errorf("second RemoveMember: err = %v, want ErrNotFound", err)
		}
	})
}

func TestGuildsBanRemovesMembership(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newGuildsFixture(t, db)
		f.createUsers("alice", "bob", "carol")
		f.createGuild("g", "alice")
		f.join("g", "bob")

		events, err := f.store.BanMember(f.ctx(), guild.Ban{GuildID: "g", User: auth.User{ID: "bob"}, Reason: "spam", CreatedAt: guildsEpoch()})
		if err != nil {
			t.Fatalf("BanMember: %v", err)
		}
		if got, want := summarize(events), []eventSummary{{"g", event.MemberRemove, 4}}; !slices.Equal(got, want) {
			t.Errorf("BanMember events = %+v, want %+v", got, want)
		}
		if _, err := f.store.Member(f.ctx(), "g", "bob"); !errors.Is(err, guild.ErrNotFound) {
			t.Errorf("Member of banned user: err = %v, want ErrNotFound", err)
		}
		if _, _, err := f.store.AcceptInvite(f.ctx(), f.joinCodes["g"], "bob", guildsEpoch()); !errors.Is(err, guild.ErrBanned) {
			t.Errorf("AcceptInvite by banned user: err = %v, want ErrBanned", err)
		}

		events, err = f.store.BanMember(f.ctx(), guild.Ban{GuildID: "g", User: auth.User{ID: "carol"}, CreatedAt: guildsEpoch().Add(time.Second)})
		if err != nil {
			t.Fatalf("BanMember of non-member: %v", err)
		}
		if len(events) != 0 {
			t.Errorf("BanMember of non-member events = %+v, want none", summarize(events))
		}

		bans, err := f.store.Bans(f.ctx(), "g")
		if err != nil {
			t.Fatalf("Bans: %v", err)
		}
		var banned []string
		for _, b := range bans {
			banned = append(banned, b.User.ID)
		}
		if want := []string{"bob", "carol"}; !slices.Equal(banned, want) {
			t.Errorf("Bans = %v, want %v oldest first", banned, want)
		}
		if len(bans) > 0 && bans[0].Reason != "spam" {
			t.Errorf("bob's ban reason = %q, want spam", bans[0].Reason)
		}
		if len(bans) > 0 && bans[0].User.Username != "bob" {
			t.Errorf("bob's ban username = %q, want bob", bans[0].User.Username)
		}

		if err := f.store.Unban(f.ctx(), "g", "bob"); err != nil {
			t.Fatalf("Unban: %v", err)
		}
		if err := f.store.Unban(f.ctx(), "g", "bob"); !errors.Is(err, guild.ErrNotFound) {
			t.Errorf("second Unban: err = %v, want ErrNotFound", err)
		}
		if _, _, err := f.store.AcceptInvite(f.ctx(), f.joinCodes["g"], "bob", guildsEpoch()); err != nil {
			t.Errorf("AcceptInvite after Unban: %v", err)
		}
		if _, err := f.store.BanMember(f.ctx(), guild.Ban{GuildID: "g", User: auth.User{ID: "nobody"}, CreatedAt: guildsEpoch()}); !errors.Is(err, guild.ErrNotFound) {
			t.Errorf("BanMember of unknown user: err = %v, want ErrNotFound", err)
		}
	})
}

func TestGuildsAcceptInviteRejects(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newGuildsFixture(t, db)
		f.createUsers("alice", "bob", "carol")
		now := guildsEpoch().Add(time.Hour)

		cases := []struct {
			name    string
			setup   func(guildID string) (code string)
			wantErr error
		}{
			{"unknown code", func(string) string { return "no-such-code" }, guild.ErrNotFound},
			{"expired", func(guildID string) string {
				f.createInvite(guildID+"-expired", guildID, "alice", 0, now.Add(-time.Millisecond))
				return guildID + "-expired"
			}, guild.ErrNotFound},
			{"expiring exactly now", func(guildID string) string {
				f.createInvite(guildID+"-now", guildID, "alice", 0, now)
				return guildID + "-now"
			}, guild.ErrNotFound},
			{"used up", func(guildID string) string {
				f.createInvite(guildID+"-once", guildID, "alice", 1, time.Time{})
				if _, _, err := f.store.AcceptInvite(f.ctx(), guildID+"-once", "carol", now); err != nil {
					t.Fatalf("first AcceptInvite: %v", err)
				}
				return guildID + "-once"
			}, guild.ErrNotFound},
			{"banned user", func(guildID string) string {
				f.createInvite(guildID+"-open", guildID, "alice", 0, time.Time{})
				if _, err := f.store.BanMember(f.ctx(), guild.Ban{GuildID: guildID, User: auth.User{ID: "bob"}, CreatedAt: now}); err != nil {
					t.Fatalf("BanMember: %v", err)
				}
				return guildID + "-open"
			}, guild.ErrBanned},
			{"deleted guild", func(guildID string) string {
				f.createInvite(guildID+"-open", guildID, "alice", 0, time.Time{})
				if _, err := f.store.DeleteGuild(f.ctx(), guildID, now); err != nil {
					t.Fatalf("DeleteGuild: %v", err)
				}
				return guildID + "-open"
			}, guild.ErrNotFound},
		}
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				guildID := fmt.Sprintf("g%d", i)
				f.createGuild(guildID, "alice")
				code := tc.setup(guildID)

				_, events, err := f.store.AcceptInvite(f.ctx(), code, "bob", now)
				if !errors.Is(err, tc.wantErr) {
					t.Errorf("err = %v, want %v", err, tc.wantErr)
				}
				if len(events) != 0 {
					t.Errorf("events = %+v, want none", summarize(events))
				}
				if _, err := f.store.Member(f.ctx(), guildID, "bob"); !errors.Is(err, guild.ErrNotFound) {
					t.Errorf("Member after rejected accept: err = %v, want ErrNotFound", err)
				}
			})
		}
	})
}

func TestGuildsAcceptInvite(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newGuildsFixture(t, db)
		f.createUsers("alice", "bob")
		f.createGuild("g", "alice")
		expires := guildsEpoch().Add(24 * time.Hour)
		f.createInvite("code", "g", "alice", 2, expires)
		joinedAt := guildsEpoch().Add(time.Hour)

		g, events, err := f.store.AcceptInvite(f.ctx(), "code", "bob", joinedAt)
		if err != nil {
			t.Fatalf("AcceptInvite: %v", err)
		}
		if g.ID != "g" {
			t.Errorf("AcceptInvite guild = %q, want g", g.ID)
		}
		if got, want := summarize(events), []eventSummary{{"g", event.MemberAdd, 3}}; !slices.Equal(got, want) {
			t.Errorf("events = %+v, want %+v", got, want)
		}
		m, err := f.store.Member(f.ctx(), "g", "bob")
		if err != nil {
			t.Fatalf("Member: %v", err)
		}
		if !m.JoinedAt.Equal(joinedAt) {
			t.Errorf("JoinedAt = %s, want %s", m.JoinedAt, joinedAt)
		}

		g, events, err = f.store.AcceptInvite(f.ctx(), "code", "bob", joinedAt)
		if err != nil {
			t.Fatalf("AcceptInvite by a member: %v", err)
		}
		if g.ID != "g" {
			t.Errorf("AcceptInvite by a member guild = %q, want g", g.ID)
		}
		if len(events) != 0 {
			t.Errorf("AcceptInvite by a member events = %+v, want none", summarize(events))
		}

		inv, err := f.store.Invite(f.ctx(), "code")
		if err != nil {
			t.Fatalf("Invite: %v", err)
		}
		if inv.Uses != 1 {
			t.Errorf("Uses = %d, want 1: a member's accept takes no use", inv.Uses)
		}
		if inv.MaxUses != 2 {
			t.Errorf("MaxUses = %d, want 2", inv.MaxUses)
		}
		if !inv.ExpiresAt.Equal(expires) {
			t.Errorf("ExpiresAt = %s, want %s", inv.ExpiresAt, expires)
		}
	})
}

func TestGuildsInvites(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newGuildsFixture(t, db)
		f.createUsers("alice")
		f.createGuild("g", "alice")
		f.createInvite("zz-first", "g", "alice", 0, time.Time{})
		later := guild.Invite{Code: "aa-second", GuildID: "g", InviterID: "alice", CreatedAt: guildsEpoch().Add(time.Second)}
		if err := f.store.CreateInvite(f.ctx(), later); err != nil {
			t.Fatalf("CreateInvite: %v", err)
		}

		invites, err := f.store.Invites(f.ctx(), "g")
		if err != nil {
			t.Fatalf("Invites: %v", err)
		}
		var codes []string
		for _, inv := range invites {
			codes = append(codes, inv.Code)
		}
		if want := []string{"zz-first", "aa-second"}; !slices.Equal(codes, want) {
			t.Errorf("Invites = %v, want %v oldest first", codes, want)
		}
		if len(invites) > 0 && (invites[0].MaxUses != 0 || !invites[0].ExpiresAt.IsZero()) {
			t.Errorf("unlimited invite = %+v, want MaxUses 0 and no ExpiresAt", invites[0])
		}

		if err := f.store.DeleteInvite(f.ctx(), "zz-first"); err != nil {
			t.Fatalf("DeleteInvite: %v", err)
		}
		if err := f.store.DeleteInvite(f.ctx(), "zz-first"); !errors.Is(err, guild.ErrNotFound) {
			t.Errorf("second DeleteInvite: err = %v, want ErrNotFound", err)
		}
		if _, err := f.store.Invite(f.ctx(), "zz-first"); !errors.Is(err, guild.ErrNotFound) {
			t.Errorf("Invite after delete: err = %v, want ErrNotFound", err)
		}
		missing := guild.Invite{Code: "x", GuildID: "missing", InviterID: "alice", CreatedAt: guildsEpoch()}
		if err := f.store.CreateInvite(f.ctx(), missing); !errors.Is(err, guild.ErrNotFound) {
			t.Errorf("CreateInvite for missing guild: err = %v, want ErrNotFound", err)
		}
	})
}

func TestGuildsAcceptOneUseInviteConcurrently(t *testing.T) {
	const callers = 8
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newGuildsFixture(t, db)
		f.createUsers("owner")
		users := make([]string, callers)
		for i := range users {
			users[i] = fmt.Sprintf("user-%d", i)
		}
		f.createUsers(users...)
		f.createGuild("g", "owner")
		f.createInvite("once", "g", "owner", 1, time.Time{})

		ctx, cancel := context.WithTimeout(f.ctx(), guildsRaceTimeout)
		defer cancel()
		errs := make([]error, callers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, userID := range users {
			wg.Go(func() {
				<-start
				_, _, errs[i] = f.store.AcceptInvite(ctx, "once", userID, guildsEpoch())
			})
		}
		close(start)
		wg.Wait()

		winners := 0
		for i, err := range errs {
			switch {
			case err == nil:
				winners++
			case !errors.Is(err, guild.ErrNotFound):
				t.Errorf("caller %d got %v, want nil or ErrNotFound", i, err)
			}
		}
		if winners != 1 {
			t.Errorf("%d callers joined, want exactly 1", winners)
		}
		if got := f.memberIDs("g"); len(got) != 2 {
			t.Errorf("members = %v, want the owner and one joiner", got)
		}
		inv, err := f.store.Invite(f.ctx(), "once")
		if err != nil {
			t.Fatalf("Invite: %v", err)
		}
		if inv.Uses != 1 {
			t.Errorf("Uses = %d, want 1", inv.Uses)
		}
		assertGapFree(t, "g", f.logEvents("g"))
	})
}

func TestGuildsCreateDM(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newGuildsFixture(t, db)
		f.createUsers("alice", "bob", "carol")

		dm := guild.Channel{ID: "dm-1", Kind: guild.KindDM, ParticipantIDs: []string{"bob", "alice"}, CreatedAt: guildsEpoch()}
		c, created, events, err := f.store.CreateDM(f.ctx(), dm)
		if err != nil {
			t.Fatalf("CreateDM: %v", err)
		}
		if !created {
			t.Error("created = false for a new pair, want true")
		}
		if want := []string{"alice", "bob"}; !slices.Equal(c.ParticipantIDs, want) {
			t.Errorf("ParticipantIDs = %v, want %v", c.ParticipantIDs, want)
		}
		if got, want := summarize(events), []eventSummary{{"dm-1", event.ChannelCreate, 1}}; !slices.Equal(got, want) {
			t.Errorf("events = %+v, want %+v", got, want)
		}
		if len(events) > 0 && events[0].GuildID != "" {
			t.Errorf("event guild id = %q, want empty for a DM", events[0].GuildID)
		}
		if len(events) > 0 {
			data := decodeData[apijson.Channel](t, events[0])
			if data.GuildID != nil {
				t.Errorf("channel_create guild_id = %q, want null", *data.GuildID)
			}
			if want := []string{"alice", "bob"}; !slices.Equal(data.RecipientIDs, want) {
				t.Errorf("channel_create recipient_ids = %v, want %v", data.RecipientIDs, want)
			}
		}

		again := guild.Channel{ID: "dm-2", Kind: guild.KindDM, ParticipantIDs: []string{"alice", "bob"}, CreatedAt: guildsEpoch()}
		c, created, events, err = f.store.CreateDM(f.ctx(), again)
		if err != nil {
			t.Fatalf("second CreateDM: %v", err)
		}
		if created {
			t.Error("second CreateDM created = true, want false")
		}
		if c.ID != "dm-1" {
			t.Errorf("second CreateDM returned %q, want dm-1", c.ID)
		}
		if len(events) != 0 {
			t.Errorf("second CreateDM events = %+v, want none", summarize(events))
		}

		group := guild.Channel{ID: "group-1", Kind: guild.KindGroupDM, Name: "Trio", ParticipantIDs: []string{"carol", "alice", "bob"}, CreatedAt: guildsEpoch()}
		if _, created, _, err := f.store.CreateDM(f.ctx(), group); err != nil || !created {
			t.Fatalf("CreateDM group = created %v, err %v, want created", created, err)
		}

		dms, err := f.store.DMs(f.ctx(), "alice")
		if err != nil {
			t.Fatalf("DMs: %v", err)
		}
		var ids []string
		for _, c := range dms {
			ids = append(ids, c.ID)
		}
		if want := []string{"dm-1", "group-1"}; !slices.Equal(ids, want) {
			t.Errorf("DMs of alice = %v, want %v", ids, want)
		}
		if len(dms) == 2 && !slices.Equal(dms[1].ParticipantIDs, []string{"alice", "bob", "carol"}) {
			t.Errorf("group participants = %v, want sorted [alice bob carol]", dms[1].ParticipantIDs)
		}
		if len(dms) == 2 && dms[0].LastSeq != 1 {
			t.Errorf("dm LastSeq = %d, want 1", dms[0].LastSeq)
		}

		stored, err := f.store.Channel(f.ctx(), "group-1")
		if err != nil {
			t.Fatalf("Channel of group DM: %v", err)
		}
		if stored.GuildID != "" || len(stored.ParticipantIDs) != 3 {
			t.Errorf("Channel of group DM = %+v, want no guild and 3 participants", stored)
		}

		invalid := []guild.Channel{
			{ID: "self", Kind: guild.KindDM, ParticipantIDs: []string{"alice", "alice"}},
			{ID: "three", Kind: guild.KindDM, ParticipantIDs: []string{"alice", "bob", "carol"}},
			{ID: "text", Kind: guild.KindText, ParticipantIDs: []string{"alice", "bob"}},
		}
		for _, c := range invalid {
			if _, _, _, err := f.store.CreateDM(f.ctx(), c); err == nil {
				t.Errorf("CreateDM %s succeeded, want an error", c.ID)
			}
		}
	})
}

func TestGuildsCreateDMConcurrentPair(t *testing.T) {
	const callers = 4
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newGuildsFixture(t, db)
		f.createUsers("alice", "bob")

		ctx, cancel := context.WithTimeout(f.ctx(), guildsRaceTimeout)
		defer cancel()
		ids := make([]string, callers)
		createdBy := make([]bool, callers)
		errs := make([]error, callers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range callers {
			dm := guild.Channel{ID: fmt.Sprintf("dm-%d", i), Kind: guild.KindDM, ParticipantIDs: []string{"alice", "bob"}, CreatedAt: guildsEpoch()}
			wg.Go(func() {
				<-start
				var c guild.Channel
				c, createdBy[i], _, errs[i] = f.store.CreateDM(ctx, dm)
				ids[i] = c.ID
			})
		}
		close(start)
		wg.Wait()

		creators := 0
		for i := range callers {
			if errs[i] != nil {
				t.Errorf("caller %d: %v", i, errs[i])
			}
			if createdBy[i] {
				creators++
			}
			if ids[i] != ids[0] {
				t.Errorf("caller %d got channel %q, caller 0 got %q", i, ids[i], ids[0])
			}
		}
		if creators != 1 {
			t.Errorf("%d callers created the dm, want exactly 1", creators)
		}
		dms, err := f.store.DMs(f.ctx(), "alice")
		if err != nil {
			t.Fatalf("DMs: %v", err)
		}
		if len(dms) != 1 {
			t.Errorf("alice has %d DMs, want 1", len(dms))
		}
	})
}

func TestGuildsSharesGuild(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newGuildsFixture(t, db)
		f.createUsers("alice", "bob", "carol", "dave")
		f.createGuild("g1", "alice")
		f.join("g1", "bob")
		f.createGuild("g2", "carol")
		f.join("g2", "dave")
		f.createGuild("gone", "alice")
		f.join("gone", "carol")
		if _, err := f.store.DeleteGuild(f.ctx(), "gone", guildsEpoch()); err != nil {
			t.Fatalf("DeleteGuild: %v", err)
		}

		cases := []struct {
			name string
			a, b string
			want bool
		}{
			{"same guild", "alice", "bob", true},
			{"same guild reversed", "bob", "alice", true},
			{"different guilds", "bob", "dave", false},
			{"only a deleted guild in common", "alice", "carol", false},
			{"unknown user", "alice", "nobody", false},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, err := f.store.SharesGuild(f.ctx(), tc.a, tc.b)
				if err != nil {
					t.Fatalf("SharesGuild: %v", err)
				}
				if got != tc.want {
					t.Errorf("SharesGuild(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.want)
				}
			})
		}
	})
}

func TestGuildsLeaveAllGuilds(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newGuildsFixture(t, db)
		f.createUsers("alice", "bob")
		f.createGuild("g2", "alice")
		f.createGuild("g1", "alice")
		f.createGuild("g3", "alice")
		f.join("g1", "bob")
		f.join("g2", "bob")
		if _, err := f.store.AddMemberRole(f.ctx(), "g1", "bob", "g1"); err != nil {
			t.Fatalf("AddMemberRole @everyone: %v", err)
		}

		events, err := f.store.LeaveAllGuilds(f.ctx(), "bob")
		if err != nil {
			t.Fatalf("LeaveAllGuilds: %v", err)
		}
		want := []eventSummary{{"g1", event.MemberRemove, 4}, {"g2", event.MemberRemove, 4}}
		if got := summarize(events); !slices.Equal(got, want) {
			t.Errorf("events = %+v, want %+v", got, want)
		}
		if guilds, err := f.store.GuildsOf(f.ctx(), "bob"); err != nil || len(guilds) != 0 {
			t.Errorf("GuildsOf bob = %v, %v, want none", guilds, err)
		}
		if guilds, err := f.store.GuildsOf(f.ctx(), "alice"); err != nil || len(guilds) != 3 {
			t.Errorf("GuildsOf alice = %v, %v, want 3 guilds", guilds, err)
		}
		if n, err := f.store.OwnedGuilds(f.ctx(), "alice"); err != nil || n != 3 {
			t.Errorf("OwnedGuilds alice = %d, %v, want 3", n, err)
		}

		events, err = f.store.LeaveAllGuilds(f.ctx(), "bob")
		if err != nil {
			t.Errorf("second LeaveAllGuilds: %v", err)
		}
		if len(events) != 0 {
			t.Errorf("second LeaveAllGuilds events = %+v, want none", summarize(events))
		}
	})
}

func TestGuildsConcurrentWritersGapFree(t *testing.T) {
	const writers = 20
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newGuildsFixture(t, db)
		f.createUsers("alice")
		f.createGuild("g", "alice")

		ctx, cancel := context.WithTimeout(f.ctx(), guildsRaceTimeout)
		defer cancel()
		errs := make([]error, writers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range writers {
			o := guild.Overwrite{TargetID: fmt.Sprintf("target-%02d", i), Kind: permission.OverwriteMember, Allow: permission.SendMessages}
			wg.Go(func() {
				<-start
				_, errs[i] = f.store.SetOverwrite(ctx, "g-general", o)
			})
		}
		close(start)
		wg.Wait()

		for i, err := range errs {
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
		}
		log := f.logEvents("g-general")
		if len(log) != writers+1 {
			t.Errorf("channel log holds %d events, want %d", len(log), writers+1)
		}
		assertGapFree(t, "g-general", log)
		c, err := f.store.Channel(f.ctx(), "g-general")
		if err != nil {
			t.Fatalf("Channel: %v", err)
		}
		if c.LastSeq != writers+1 {
			t.Errorf("LastSeq = %d, want %d", c.LastSeq, writers+1)
		}
		if len(c.Overwrites) != writers {
			t.Errorf("channel has %d overwrites, want %d", len(c.Overwrites), writers)
		}
	})
}

func TestGuildsConcurrentCreateRoleDense(t *testing.T) {
	const callers = 8
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newGuildsFixture(t, db)
		f.createUsers("alice")
		f.createGuild("g", "alice")

		ctx, cancel := context.WithTimeout(f.ctx(), guildsRaceTimeout)
		defer cancel()
		errs := make([]error, callers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range callers {
			r := guild.Role{ID: fmt.Sprintf("role-%d", i), GuildID: "g", Name: "role", Position: 1, CreatedAt: guildsEpoch()}
			wg.Go(func() {
				<-start
				_, _, errs[i] = f.store.CreateRole(ctx, r)
			})
		}
		close(start)
		wg.Wait()

		for i, err := range errs {
			if err != nil {
				t.Errorf("caller %d: %v", i, err)
			}
		}
		if got := f.roleOrder("g"); len(got) != callers+1 {
			t.Errorf("roles = %v, want @everyone and %d more", got, callers)
		}
		assertGapFree(t, "g", f.logEvents("g"))
	})
}
