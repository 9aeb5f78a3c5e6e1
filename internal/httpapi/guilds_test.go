package httpapi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openguild/openguild/internal/permission"
	"github.com/openguild/openguild/internal/servertest"
)

// account is a registered test user. Token is empty for a user who never
// logged in and for the anonymous caller.
type account struct {
	ID    string
	Name  string
	Token string
}

// headers returns the Authorization header of a, or none when a has no
// token.
func (a account) headers() []string {
	if a.Token == "" {
		return nil
	}
	return bearer(a.Token)
}

type guildJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	OwnerID     string `json:"owner_id"`
}

type channelJSON struct {
	ID           string   `json:"id"`
	GuildID      *string  `json:"guild_id"`
	Kind         string   `json:"kind"`
	Name         string   `json:"name"`
	ParentID     *string  `json:"parent_id"`
	Position     int      `json:"position"`
	LastSeq      int64    `json:"last_seq"`
	RecipientIDs []string `json:"recipient_ids"`
}

type roleJSON struct {
	ID          string `json:"id"`
	GuildID     string `json:"guild_id"`
	Name        string `json:"name"`
	Permissions string `json:"permissions"`
	Position    int    `json:"position"`
	Managed     bool   `json:"managed"`
}

type memberJSON struct {
	User struct {
		ID string `json:"id"`
	} `json:"user"`
	Nickname *string  `json:"nickname"`
	RoleIDs  []string `json:"role_ids"`
}

type inviteJSON struct {
	Code      string  `json:"code"`
	GuildID   string  `json:"guild_id"`
	InviterID string  `json:"inviter_id"`
	ExpiresAt *string `json:"expires_at"`
	MaxUses   *int    `json:"max_uses"`
	Uses      int     `json:"uses"`
}

type banJSON struct {
	User struct {
		ID string `json:"id"`
	} `json:"user"`
	Reason string `json:"reason"`
}

type logEventJSON struct {
	Seq       int64  `json:"seq"`
	ChannelID string `json:"channel_id"`
	Type      string `json:"type"`
}

// rawRequest sends one client API request without a testing.T, so that
// goroutines other than the test's own can use it.
func rawRequest(s *servertest.Server, token, method, path string, body any) (int, []byte, error) {
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return 0, nil, fmt.Errorf("encode body of %s %s: %w", method, path, err)
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, s.URL+"/api/v1"+path, reader)
	if err != nil {
		return 0, nil, fmt.Errorf("build request %s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("read response of %s %s: %w", method, path, err)
	}
	return resp.StatusCode, data, nil
}

// rawJSON sends a request with rawRequest and decodes a response of the
// wanted status into out.
func rawJSON(s *servertest.Server, token, method, path string, body any, want int, out any) error {
	status, data, err := rawRequest(s, token, method, path, body)
	if err != nil {
		return err
	}
	if status != want {
		return fmt.Errorf("%s %s: status %d, want %d; body %s", method, path, status, want, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode response of %s %s: %w", method, path, err)
	}
	return nil
}

// inParallel runs fn(i) for i in [0, n) in parallel and fails the test
// with every error returned. Argon2id hashing makes each sign-up and login
// cost an estimated 50 to 100 ms, so tests create their users this way.
func inParallel(t *testing.T, n int, fn func(i int) error) {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = fn(i) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// newUsers registers users who never log in and returns them without
// tokens.
func newUsers(t *testing.T, s *servertest.Server, names ...string) []account {
	t.Helper()
	users := make([]account, len(names))
	inParallel(t, len(names), func(i int) error {
		var body struct {
			User struct {
				ID string `json:"id"`
			} `json:"user"`
		}
		err := rawJSON(s, "", "POST", "/auth/register",
			map[string]string{"username": names[i], "password": testPassword}, http.StatusCreated, &body)
		users[i] = account{ID: body.User.ID, Name: names[i]}
		return err
	})
	return users
}

// newAccounts registers users and logs each in once.
func newAccounts(t *testing.T, s *servertest.Server, names ...string) []account {
	t.Helper()
	accounts := newUsers(t, s, names...)
	inParallel(t, len(accounts), func(i int) error {
		var tok tokens
		err := rawJSON(s, "", "POST", "/auth/login", map[string]any{
			"username": accounts[i].Name, "password": testPassword,
			"device": map[string]string{"id": "test-device", "name": "Test device"},
		}, http.StatusOK, &tok)
		accounts[i].Token = tok.AccessToken
		return err
	})
	return accounts
}

// call sends a request under /api/v1 as a.
func call(t *testing.T, s *servertest.Server, a account, method, path string, body any) *servertest.Response {
	t.Helper()
	return s.Do(t, method, "/api/v1"+path, body, a.headers()...)
}

// mustCall sends a request under /api/v1 as a and stops the test unless
// the response has the given status.
func mustCall(t *testing.T, s *servertest.Server, a account, method, path string, body any, status int) *servertest.Response {
	t.Helper()
	resp := call(t, s, a, method, path, body)
	if resp.StatusCode != status {
		t.Fatalf("%s %s as %s: status %d, want %d; body %s", method, path, a.Name, resp.StatusCode, status, resp.Body)
	}
	return resp
}

func createGuild(t *testing.T, s *servertest.Server, owner account, name string) guildJSON {
	t.Helper()
	var g guildJSON
	mustCall(t, s, owner, "POST", "/guilds", map[string]string{"name": name}, http.StatusCreated).JSON(t, &g)
	return g
}

func createInvite(t *testing.T, s *servertest.Server, a account, guildID string, body map[string]any) inviteJSON {
	t.Helper()
	var inv inviteJSON
	mustCall(t, s, a, "POST", "/guilds/"+guildID+"/invites", body, http.StatusCreated).JSON(t, &inv)
	return inv
}

// join makes each user a member of the guild through an invite that the
// inviter creates.
func join(t *testing.T, s *servertest.Server, inviter account, guildID string, users ...account) {
	t.Helper()
	inv := createInvite(t, s, inviter, guildID, nil)
	for _, u := range users {
		mustCall(t, s, u, "POST", "/invites/"+inv.Code+"/accept", nil, http.StatusOK)
	}
}

// createRole creates a role. A position of 0 leaves it out of the request.
func createRole(t *testing.T, s *servertest.Server, a account, guildID, name string, perms permission.Set, position int) roleJSON {
	t.Helper()
	body := map[string]any{"name": name, "permissions": perms.String()}
	if position != 0 {
		body["position"] = position
	}
	var r roleJSON
	mustCall(t, s, a, "POST", "/guilds/"+guildID+"/roles", body, http.StatusCreated).JSON(t, &r)
	return r
}

func grantRole(t *testing.T, s *servertest.Server, a account, guildID, userID, roleID string) {
	t.Helper()
	mustCall(t, s, a, "PUT", "/guilds/"+guildID+"/members/"+userID+"/roles/"+roleID, nil, http.StatusNoContent)
}

// createChannel creates a channel. An empty parentID leaves it out of the
// request.
func createChannel(t *testing.T, s *servertest.Server, a account, guildID, name, kind, parentID string) channelJSON {
	t.Helper()
	body := map[string]any{"name": name, "kind": kind}
	if parentID != "" {
		body["parent_id"] = parentID
	}
	var c channelJSON
	mustCall(t, s, a, "POST", "/guilds/"+guildID+"/channels", body, http.StatusCreated).JSON(t, &c)
	return c
}

// overwrite is a channel permission overwrite to set.
type overwrite struct {
	targetID string
	kind     string // "role" or "member"
	allow    permission.Set
	deny     permission.Set
}

func setOverwrite(t *testing.T, s *servertest.Server, a account, channelID string, o overwrite) {
	t.Helper()
	body := map[string]string{"type": o.kind, "allow": o.allow.String(), "deny": o.deny.String()}
	mustCall(t, s, a, "PUT", "/channels/"+channelID+"/permissions/"+o.targetID, body, http.StatusNoContent)
}

func listRoles(t *testing.T, s *servertest.Server, a account, guildID string) []roleJSON {
	t.Helper()
	var roles []roleJSON
	mustCall(t, s, a, "GET", "/guilds/"+guildID+"/roles", nil, http.StatusOK).JSON(t, &roles)
	return roles
}

// roleIDsByPosition returns the ids of the guild's roles from position 0
// up, and fails the test unless the positions are exactly 0 to n-1.
func roleIDsByPosition(t *testing.T, s *servertest.Server, a account, guildID string) []string {
	t.Helper()
	roles := listRoles(t, s, a, guildID)
	slices.SortFunc(roles, func(x, y roleJSON) int { return x.Position - y.Position })
	ids := make([]string, len(roles))
	for i, r := range roles {
		if r.Position != i {
			t.Errorf("role %s (%s) has position %d, want %d: positions must be unique and dense", r.Name, r.ID, r.Position, i)
		}
		ids[i] = r.ID
	}
	return ids
}

// positionOf returns the current position of a role.
func positionOf(t *testing.T, s *servertest.Server, a account, guildID, roleID string) int {
	t.Helper()
	for _, r := range listRoles(t, s, a, guildID) {
		if r.ID == roleID {
			return r.Position
		}
	}
	t.Fatalf("guild %s has no role %s", guildID, roleID)
	return 0
}

func listChannelIDs(t *testing.T, s *servertest.Server, a account, guildID string) []string {
	t.Helper()
	var channels []channelJSON
	mustCall(t, s, a, "GET", "/guilds/"+guildID+"/channels", nil, http.StatusOK).JSON(t, &channels)
	ids := make([]string, len(channels))
	for i, c := range channels {
		ids[i] = c.ID
	}
	return ids
}

func listMemberIDs(t *testing.T, s *servertest.Server, a account, guildID string) []string {
	t.Helper()
	var members []memberJSON
	mustCall(t, s, a, "GET", "/guilds/"+guildID+"/members?limit=1000", nil, http.StatusOK).JSON(t, &members)
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.User.ID
	}
	return ids
}

func listEvents(t *testing.T, s *servertest.Server, a account, path string) []logEventJSON {
	t.Helper()
	var events []logEventJSON
	mustCall(t, s, a, "GET", path, nil, http.StatusOK).JSON(t, &events)
	return events
}

func eventTypes(events []logEventJSON) []string {
	types := make([]string, len(events))
	for i, e := range events {
		types[i] = e.Type
	}
	return types
}

func eventSeqs(events []logEventJSON) []int64 {
	seqs := make([]int64, len(events))
	for i, e := range events {
		seqs[i] = e.Seq
	}
	return seqs
}

// sortedCopy returns ids sorted, leaving ids as they are.
func sortedCopy(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// rejectionCount reads openguild_messaging_rejections_total for one
// reason from the metrics listener.
func rejectionCount(t *testing.T, s *servertest.Server, reason string) float64 {
	t.Helper()
	resp := s.DoMetrics(t, "GET", "/metrics")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: status %d", resp.StatusCode)
	}
	prefix := `openguild_messaging_rejections_total{reason="` + reason + `"} `
	for line := range strings.Lines(string(resp.Body)) {
		if value, ok := strings.CutPrefix(strings.TrimSpace(line), prefix); ok {
			n, err := strconv.ParseFloat(value, 64)
			if err != nil {
				t.Fatalf("metrics line %q: %v", line, err)
			}
			return n
		}
	}
	t.Fatalf("metrics have no series %s", strings.TrimSpace(prefix))
	return 0
}

func TestGuildCreateDefaults(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		owner := newAccounts(t, s, "owner")[0]

		resp := mustCall(t, s, owner, "POST", "/guilds", map[string]string{"name": "  Readers  "}, http.StatusCreated)
		var g guildJSON
		resp.JSON(t, &g)
		if g.OwnerID != owner.ID {
			t.Errorf("owner_id %q, want the creator %q", g.OwnerID, owner.ID)
		}
		if g.Name != "Readers" {
			t.Errorf("name %q, want the trimmed %q", g.Name, "Readers")
		}

		var listed []guildJSON
		mustCall(t, s, owner, "GET", "/guilds", nil, http.StatusOK).JSON(t, &listed)
		if len(listed) != 1 || listed[0].ID != g.ID {
			t.Errorf("GET /guilds lists %+v, want only guild %s", listed, g.ID)
		}

		var roles []map[string]any
		mustCall(t, s, owner, "GET", "/guilds/"+g.ID+"/roles", nil, http.StatusOK).JSON(t, &roles)
		if len(roles) != 1 {
			t.Fatalf("a new guild has %d roles, want only @everyone: %v", len(roles), roles)
		}
		everyone := roles[0]
		if everyone["id"] != g.ID {
			t.Errorf("@everyone id %v, want the guild id %s", everyone["id"], g.ID)
		}
		if everyone["position"] != float64(0) {
			t.Errorf("@everyone position %v, want 0", everyone["position"])
		}
		// VIEW_CHANNEL, SEND_MESSAGES, READ_MESSAGE_HISTORY, ADD_REACTIONS,
		// ATTACH_FILES, CREATE_INVITE, CONNECT, SPEAK and CHANGE_NICKNAME.
		wantPerms := strconv.FormatUint(1<<0|1<<1|1<<2|1<<4|1<<5|1<<7|1<<13|1<<14|1<<18, 10)
		if everyone["permissions"] != wantPerms {
			t.Errorf("@everyone permissions %#v, want the decimal string %q", everyone["permissions"], wantPerms)
		}
		if everyone["managed"] != false {
			t.Errorf("@everyone managed %v, want false", everyone["managed"])
		}

		var channels []channelJSON
		mustCall(t, s, owner, "GET", "/guilds/"+g.ID+"/channels", nil, http.StatusOK).JSON(t, &channels)
		if len(channels) != 1 {
			t.Fatalf("a new guild has %d channels, want only general", len(channels))
		}
		general := channels[0]
		if general.Name != "general" || general.Kind != "text" {
			t.Errorf("first channel %q of kind %q, want general of kind text", general.Name, general.Kind)
		}
		if general.GuildID == nil || *general.GuildID != g.ID {
			t.Errorf("general guild_id %v, want %s", general.GuildID, g.ID)
		}
		if general.ParentID != nil {
			t.Errorf("general parent_id %v, want null", *general.ParentID)
		}
	})
}

// TestOverwriteOrder checks each step of the overwrite order through the
// API: @everyone's overwrite, then the union of the member's role
// overwrites (deny, then allow), then the member's own overwrite, with a
// category's overwrites inherited per target. Each case gets a channel of
// its own, and the viewer holds roles A and B, neither of which grants
// anything at guild level.
func TestOverwriteOrder(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		users := newAccounts(t, s, "owner", "viewer")
		owner, viewer := users[0], users[1]
		g := createGuild(t, s, owner, "Overwrites")
		join(t, s, owner, g.ID, viewer)
		roleA := createRole(t, s, owner, g.ID, "A", 0, 0)
		roleB := createRole(t, s, owner, g.ID, "B", 0, 0)
		grantRole(t, s, owner, g.ID, viewer.ID, roleA.ID)
		grantRole(t, s, owner, g.ID, viewer.ID, roleB.ID)

		view := permission.ViewChannel
		manage := permission.ManageChannels
		everyone := func(allow, deny permission.Set) overwrite { return overwrite{g.ID, "role", allow, deny} }
		onA := func(allow, deny permission.Set) overwrite { return overwrite{roleA.ID, "role", allow, deny} }
		onB := func(allow, deny permission.Set) overwrite { return overwrite{roleB.ID, "role", allow, deny} }
		onViewer := func(allow, deny permission.Set) overwrite { return overwrite{viewer.ID, "member", allow, deny} }

		tests := []struct {
			name     string
			category []overwrite // nil: the channel has no category
			channel  []overwrite
			// wantView and wantPatch are the viewer's statuses for GET and
			// PATCH of the channel, and wantCategory for GET of the category.
			wantView, wantPatch, wantCategory int
		}{
			{"no overwrites", nil, nil, 200, 403, 0},
			{"everyone deny view hides", nil, []overwrite{everyone(0, view)}, 404, 404, 0},
			{"role allow view beats everyone deny",
				nil, []overwrite{everyone(0, view), onA(view, 0)}, 200, 403, 0},
			{"role allow beats another role's deny",
				nil, []overwrite{onA(0, view), onB(view, 0)}, 200, 403, 0},
			{"role deny alone hides", nil, []overwrite{onA(0, view)}, 404, 404, 0},
			{"member deny beats role allow",
				nil, []overwrite{everyone(0, view), onA(view, 0), onViewer(0, view)}, 404, 404, 0},
			{"member allow beats role deny",
				nil, []overwrite{onA(0, view), onViewer(view, 0)}, 200, 403, 0},
			{"role allow of manage channels lets a member edit",
				nil, []overwrite{onA(manage, 0)}, 200, 200, 0},
			{"member deny of manage channels beats role allow",
				nil, []overwrite{onA(manage, 0), onViewer(0, manage)}, 200, 403, 0},
			{"category everyone deny is inherited",
				[]overwrite{everyone(0, view)}, nil, 404, 404, 404},
			{"category role allow is inherited",
				[]overwrite{onA(manage, 0)}, nil, 200, 200, 200},
			{"channel's own everyone overwrite beats the category's",
				[]overwrite{everyone(0, view)}, []overwrite{everyone(view, 0)}, 200, 403, 404},
			{"category member deny applies beside channel's role overwrite",
				[]overwrite{onViewer(0, view)}, []overwrite{onA(view, 0)}, 404, 404, 404},
			{"channel's empty member overwrite hides the category's",
				[]overwrite{onViewer(0, view)}, []overwrite{onViewer(0, 0)}, 200, 403, 404},
			{"category role allow applies under channel's everyone deny",
				[]overwrite{onA(view, 0)}, []overwrite{everyone(0, view)}, 200, 403, 200},
		}

		wantListed := []string{listChannelIDs(t, s, owner, g.ID)[0]} // general
		created := 1
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				parentID := ""
				if tt.category != nil {
					category := createChannel(t, s, owner, g.ID, fmt.Sprintf("category-%d", i), "category", "")
					created++
					for _, o := range tt.category {
						setOverwrite(t, s, owner, category.ID, o)
					}
					parentID = category.ID
					got := call(t, s, viewer, "GET", "/channels/"+category.ID, nil).StatusCode
					if got != tt.wantCategory {
						t.Errorf("viewer GET category: status %d, want %d", got, tt.wantCategory)
					}
					if got == http.StatusOK {
						wantListed = append(wantListed, category.ID)
					}
				}
				channel := createChannel(t, s, owner, g.ID, fmt.Sprintf("channel-%d", i), "text", parentID)
				created++
				for _, o := range tt.channel {
					setOverwrite(t, s, owner, channel.ID, o)
				}

				if got := call(t, s, viewer, "GET", "/channels/"+channel.ID, nil).StatusCode; got != tt.wantView {
					t.Errorf("viewer GET channel: status %d, want %d", got, tt.wantView)
				}
				patch := call(t, s, viewer, "PATCH", "/channels/"+channel.ID, map[string]string{"topic": "edited"})
				if patch.StatusCode != tt.wantPatch {
					t.Errorf("viewer PATCH channel: status %d, want %d; body %s", patch.StatusCode, tt.wantPatch, patch.Body)
				}
				if got := call(t, s, owner, "GET", "/channels/"+channel.ID, nil).StatusCode; got != http.StatusOK {
					t.Errorf("owner GET channel: status %d, want 200 whatever the overwrites", got)
				}
				if tt.wantView == http.StatusOK {
					wantListed = append(wantListed, channel.ID)
				}
			})
		}

		got := sortedCopy(listChannelIDs(t, s, viewer, g.ID))
		if want := sortedCopy(wantListed); !slices.Equal(got, want) {
			t.Errorf("viewer's channel list %v, want exactly the viewable %v", got, want)
		}
		if n := len(listChannelIDs(t, s, owner, g.ID)); n != created {
			t.Errorf("owner's channel list has %d channels, want all %d", n, created)
		}
	})
}

func TestRevokedRoleAppliesAtOnce(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		users := newAccounts(t, s, "owner", "editor")
		owner, editor := users[0], users[1]
		g := createGuild(t, s, owner, "Revocation")
		join(t, s, owner, g.ID, editor)
		editors := createRole(t, s, owner, g.ID, "editors", permission.ManageChannels, 0)
		grantRole(t, s, owner, g.ID, editor.ID, editors.ID)
		secret := createChannel(t, s, owner, g.ID, "secret", "text", "")
		setOverwrite(t, s, owner, secret.ID, overwrite{g.ID, "role", 0, permission.ViewChannel})
		setOverwrite(t, s, owner, secret.ID, overwrite{editors.ID, "role", permission.ViewChannel, 0})
		topic := map[string]string{"topic": "edited"}

		// Each request below fills the permission cache, so the next one
		// shows whether the change that follows it invalidated the cache.
		mustCall(t, s, editor, "PATCH", "/channels/"+secret.ID, topic, http.StatusOK)
		mustCall(t, s, owner, "PATCH", "/guilds/"+g.ID+"/roles/"+editors.ID, map[string]string{"permissions": "0"}, http.StatusOK)
		expectStatus(t, "PATCH after the role lost MANAGE_CHANNELS", call(t, s, editor, "PATCH", "/channels/"+secret.ID, topic), http.StatusForbidden, "forbidden")
		expectStatus(t, "GET after the role lost MANAGE_CHANNELS", call(t, s, editor, "GET", "/channels/"+secret.ID, nil), http.StatusOK, "")

		mustCall(t, s, owner, "DELETE", "/guilds/"+g.ID+"/members/"+editor.ID+"/roles/"+editors.ID, nil, http.StatusNoContent)
		expectStatus(t, "GET after the role that allowed viewing was removed", call(t, s, editor, "GET", "/channels/"+secret.ID, nil), http.StatusNotFound, "not_found")

		grantRole(t, s, owner, g.ID, editor.ID, editors.ID)
		mustCall(t, s, editor, "GET", "/channels/"+secret.ID, nil, http.StatusOK)
		setOverwrite(t, s, owner, secret.ID, overwrite{editor.ID, "member", 0, permission.ViewChannel})
		expectStatus(t, "GET after a member overwrite denied viewing", call(t, s, editor, "GET", "/channels/"+secret.ID, nil), http.StatusNotFound, "not_found")

		mustCall(t, s, editor, "GET", "/guilds/"+g.ID, nil, http.StatusOK)
		mustCall(t, s, owner, "DELETE", "/guilds/"+g.ID+"/members/"+editor.ID, nil, http.StatusNoContent)
		expectStatus(t, "GET guild after a kick", call(t, s, editor, "GET", "/guilds/"+g.ID, nil), http.StatusNotFound, "not_found")
	})
}

func TestInviteExpires(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		users := newAccounts(t, s, "owner", "early", "late")
		owner, early, late := users[0], users[1], users[2]
		g := createGuild(t, s, owner, "Expiry")
		inv := createInvite(t, s, owner, g.ID, map[string]any{"max_age_seconds": 1})
		if inv.ExpiresAt == nil {
			t.Fatalf("invite with max_age_seconds 1 has no expires_at")
		}

		expectStatus(t, "accept before expiry", call(t, s, early, "POST", "/invites/"+inv.Code+"/accept", nil), http.StatusOK, "")
		s.Clock.Advance(2 * time.Second)
		expectStatus(t, "accept after expiry", call(t, s, late, "POST", "/invites/"+inv.Code+"/accept", nil), http.StatusNotFound, "not_found")
		if slices.Contains(listMemberIDs(t, s, owner, g.ID), late.ID) {
			t.Errorf("a user who accepted an expired invite is a member")
		}
	})
}

func TestInviteUsedUp(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		users := newAccounts(t, s, "owner", "first", "second")
		owner, first, second := users[0], users[1], users[2]
		g := createGuild(t, s, owner, "One seat")
		inv := createInvite(t, s, owner, g.ID, map[string]any{"max_uses": 1})
		if inv.MaxUses == nil || *inv.MaxUses != 1 || inv.Uses != 0 {
			t.Errorf("new invite max_uses %v uses %d, want 1 and 0", inv.MaxUses, inv.Uses)
		}

		expectStatus(t, "first accept", call(t, s, first, "POST", "/invites/"+inv.Code+"/accept", nil), http.StatusOK, "")
		expectStatus(t, "accept again by a member", call(t, s, first, "POST", "/invites/"+inv.Code+"/accept", nil), http.StatusOK, "")
		expectStatus(t, "second user's accept", call(t, s, second, "POST", "/invites/"+inv.Code+"/accept", nil), http.StatusNotFound, "not_found")

		var invites []inviteJSON
		mustCall(t, s, owner, "GET", "/guilds/"+g.ID+"/invites", nil, http.StatusOK).JSON(t, &invites)
		if len(invites) != 1 || invites[0].Uses != 1 {
			t.Errorf("invites %+v, want one with uses 1", invites)
		}
	})
}

func TestInviteRevoked(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		users := newAccounts(t, s, "owner", "joiner")
		owner, joiner := users[0], users[1]
		g := createGuild(t, s, owner, "Revoked")
		inv := createInvite(t, s, owner, g.ID, nil)

		mustCall(t, s, owner, "DELETE", "/invites/"+inv.Code, nil, http.StatusNoContent)
		expectStatus(t, "accept a revoked invite", call(t, s, joiner, "POST", "/invites/"+inv.Code+"/accept", nil), http.StatusNotFound, "not_found")
		expectStatus(t, "revoke it again", call(t, s, owner, "DELETE", "/invites/"+inv.Code, nil), http.StatusNotFound, "not_found")
	})
}

func TestInviteCreatorMayRevokeOwn(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		users := newAccounts(t, s, "owner", "creator", "other")
		owner, creator, other := users[0], users[1], users[2]
		g := createGuild(t, s, owner, "Own invites")
		join(t, s, owner, g.ID, creator, other)

		own := createInvite(t, s, creator, g.ID, nil)
		if own.InviterID != creator.ID {
			t.Errorf("inviter_id %q, want the creator %q", own.InviterID, creator.ID)
		}
		expectStatus(t, "list invites without MANAGE_GUILD", call(t, s, creator, "GET", "/guilds/"+g.ID+"/invites", nil), http.StatusForbidden, "forbidden")
		expectStatus(t, "revoke another member's invite without MANAGE_GUILD", call(t, s, other, "DELETE", "/invites/"+own.Code, nil), http.StatusForbidden, "forbidden")
		expectStatus(t, "revoke own invite without MANAGE_GUILD", call(t, s, creator, "DELETE", "/invites/"+own.Code, nil), http.StatusNoContent, "")

		owners := createInvite(t, s, owner, g.ID, nil)
		expectStatus(t, "revoke the owner's invite without MANAGE_GUILD", call(t, s, creator, "DELETE", "/invites/"+owners.Code, nil), http.StatusForbidden, "forbidden")
	})
}

func TestInviteConcurrentJoinsTakeOneUse(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		const joiners = 8
		names := []string{"owner"}
		for i := range joiners {
			names = append(names, fmt.Sprintf("joiner%d", i))
		}
		users := newAccounts(t, s, names...)
		owner, racers := users[0], users[1:]
		g := createGuild(t, s, owner, "Race")
		inv := createInvite(t, s, owner, g.ID, map[string]any{"max_uses": 1})

		// The goroutines wait on start so that their requests go out together.
		statuses := make([]int, joiners)
		errs := make([]error, joiners)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range joiners {
			wg.Go(func() {
				<-start
				statuses[i], _, errs[i] = rawRequest(s, racers[i].Token, "POST", "/invites/"+inv.Code+"/accept", nil)
			})
		}
		close(start)
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}

		counts := map[int]int{}
		for _, status := range statuses {
			counts[status]++
		}
		if counts[http.StatusOK] != 1 {
			t.Errorf("%d accepts answered 200, want exactly 1 (statuses %v)", counts[http.StatusOK], statuses)
		}
		if counts[http.StatusNotFound] != joiners-1 {
			t.Errorf("%d accepts answered 404, want %d (statuses %v)", counts[http.StatusNotFound], joiners-1, statuses)
		}

		members := listMemberIDs(t, s, owner, g.ID)
		if len(members) != 2 {
			t.Errorf("guild has %d members, want the owner and one joiner", len(members))
		}
		for i, status := range statuses {
			if status == http.StatusOK && !slices.Contains(members, racers[i].ID) {
				t.Errorf("joiner%d got 200 but is not a member", i)
			}
		}
	})
}

func TestBanBlocksRejoinUntilUnban(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		users := newAccounts(t, s, "owner", "troll")
		owner, troll := users[0], users[1]
		g := createGuild(t, s, owner, "Moderated")
		old := createInvite(t, s, owner, g.ID, nil)
		mustCall(t, s, troll, "POST", "/invites/"+old.Code+"/accept", nil, http.StatusOK)

		mustCall(t, s, owner, "PUT", "/guilds/"+g.ID+"/bans/"+troll.ID, map[string]string{"reason": "spam links"}, http.StatusNoContent)
		if slices.Contains(listMemberIDs(t, s, owner, g.ID), troll.ID) {
			t.Errorf("banned user is still in the members list")
		}
		expectStatus(t, "banned user GET guild", call(t, s, troll, "GET", "/guilds/"+g.ID, nil), http.StatusNotFound, "not_found")
		expectStatus(t, "banned user accepts the invite they joined with", call(t, s, troll, "POST", "/invites/"+old.Code+"/accept", nil), http.StatusForbidden, "banned")
		fresh := createInvite(t, s, owner, g.ID, nil)
		expectStatus(t, "banned user accepts a new invite", call(t, s, troll, "POST", "/invites/"+fresh.Code+"/accept", nil), http.StatusForbidden, "banned")

		var bans []banJSON
		mustCall(t, s, owner, "GET", "/guilds/"+g.ID+"/bans", nil, http.StatusOK).JSON(t, &bans)
		if len(bans) != 1 {
			t.Fatalf("bans list has %d entries, want 1", len(bans))
		}
		if bans[0].User.ID != troll.ID {
			t.Errorf("ban names user %q, want %q", bans[0].User.ID, troll.ID)
		}
		if bans[0].Reason != "spam links" {
			t.Errorf("ban reason %q, want %q", bans[0].Reason, "spam links")
		}

		mustCall(t, s, owner, "DELETE", "/guilds/"+g.ID+"/bans/"+troll.ID, nil, http.StatusNoContent)
		expectStatus(t, "accept after unban", call(t, s, troll, "POST", "/invites/"+fresh.Code+"/accept", nil), http.StatusOK, "")
		if !slices.Contains(listMemberIDs(t, s, owner, g.ID), troll.ID) {
			t.Errorf("unbanned user who accepted an invite is not a member")
		}
		mustCall(t, s, owner, "GET", "/guilds/"+g.ID+"/bans", nil, http.StatusOK).JSON(t, &bans)
		if len(bans) != 0 {
			t.Errorf("bans list after unban %+v, want empty", bans)
		}
	})
}

func TestRolePositionsStayDense(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		owner := newAccounts(t, s, "owner")[0]
		g := createGuild(t, s, owner, "Positions")
		step := func(what string, want ...string) {
			t.Helper()
			if got := roleIDsByPosition(t, s, owner, g.ID); !slices.Equal(got, want) {
				t.Errorf("after %s: roles by position %v, want %v", what, got, want)
			}
		}

		a := createRole(t, s, owner, g.ID, "A", 0, 0)
		if a.Position != 1 {
			t.Errorf("first role created without position has position %d, want 1", a.Position)
		}
		step("creating A", g.ID, a.ID)

		b := createRole(t, s, owner, g.ID, "B", 0, 0)
		if b.Position != 1 {
			t.Errorf("second role created without position has position %d, want 1", b.Position)
		}
		step("creating B without position", g.ID, b.ID, a.ID)

		c := createRole(t, s, owner, g.ID, "C", 0, 2)
		if c.Position != 2 {
			t.Errorf("role created at position 2 has position %d", c.Position)
		}
		step("creating C at position 2", g.ID, b.ID, c.ID, a.ID)

		var moved roleJSON
		mustCall(t, s, owner, "PATCH", "/guilds/"+g.ID+"/roles/"+b.ID, map[string]int{"position": 3}, http.StatusOK).JSON(t, &moved)
		if moved.Position != 3 {
			t.Errorf("B moved to position 3 reports position %d", moved.Position)
		}
		step("moving B to the top", g.ID, c.ID, a.ID, b.ID)

		mustCall(t, s, owner, "PATCH", "/guilds/"+g.ID+"/roles/"+b.ID, map[string]int{"position": 1}, http.StatusOK)
		step("moving B to the bottom", g.ID, b.ID, c.ID, a.ID)

		mustCall(t, s, owner, "DELETE", "/guilds/"+g.ID+"/roles/"+c.ID, nil, http.StatusNoContent)
		step("deleting C from the middle", g.ID, b.ID, a.ID)

		expectStatus(t, "delete @everyone", call(t, s, owner, "DELETE", "/guilds/"+g.ID+"/roles/"+g.ID, nil), http.StatusBadRequest, "validation_error")
		expectStatus(t, "move @everyone", call(t, s, owner, "PATCH", "/guilds/"+g.ID+"/roles/"+g.ID, map[string]int{"position": 1}), http.StatusBadRequest, "validation_error")
		step("the rejected changes to @everyone", g.ID, b.ID, a.ID)
	})
}

// TestRoleHierarchyAndGrants gives a moderator MANAGE_ROLES, KICK_MEMBERS,
// BAN_MEMBERS and MANAGE_NICKNAMES on a role between "low" and "high".
func TestRoleHierarchyAndGrants(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		users := newAccounts(t, s, "owner", "moderator", "admin", "lower", "higher")
		owner, moderator, admin, lower, higher := users[0], users[1], users[2], users[3], users[4]
		g := createGuild(t, s, owner, "Hierarchy")
		join(t, s, owner, g.ID, moderator, admin, lower, higher)

		low := createRole(t, s, owner, g.ID, "low", 0, 1)
		modPerms := permission.ManageRoles | permission.KickMembers | permission.BanMembers | permission.ManageNicknames
		mod := createRole(t, s, owner, g.ID, "mod", modPerms, 2)
		high := createRole(t, s, owner, g.ID, "high", 0, 3)
		admins := createRole(t, s, owner, g.ID, "admins", permission.Administrator, 4)
		grantRole(t, s, owner, g.ID, moderator.ID, mod.ID)
		grantRole(t, s, owner, g.ID, admin.ID, admins.ID)
		grantRole(t, s, owner, g.ID, lower.ID, low.ID)
		grantRole(t, s, owner, g.ID, higher.ID, high.ID)
		roles := "/guilds/" + g.ID + "/roles"
		members := "/guilds/" + g.ID + "/members/"

		t.Run("grants", func(t *testing.T) {
			body := func(perms permission.Set) map[string]string {
				return map[string]string{"name": "granted", "permissions": perms.String()}
			}
			expectStatus(t, "create a role with ADMINISTRATOR", call(t, s, moderator, "POST", roles, body(permission.Administrator)), http.StatusForbidden, "forbidden")
			expectStatus(t, "create a role with MANAGE_GUILD, which the moderator lacks", call(t, s, moderator, "POST", roles, body(permission.ManageGuild)), http.StatusForbidden, "forbidden")
			expectStatus(t, "edit a lower role to add MANAGE_CHANNELS", call(t, s, moderator, "PATCH", roles+"/"+low.ID, map[string]string{"permissions": permission.ManageChannels.String()}), http.StatusForbidden, "forbidden")
			expectStatus(t, "create a role with held KICK_MEMBERS", call(t, s, moderator, "POST", roles, body(permission.KickMembers)), http.StatusCreated, "")
			expectStatus(t, "administrator creates a role with ADMINISTRATOR", call(t, s, admin, "POST", roles, body(permission.Administrator)), http.StatusCreated, "")
		})

		t.Run("roles at or above the highest", func(t *testing.T) {
			rename := map[string]string{"name": "renamed"}
			expectStatus(t, "edit own role", call(t, s, moderator, "PATCH", roles+"/"+mod.ID, rename), http.StatusForbidden, "forbidden")
			expectStatus(t, "edit a higher role", call(t, s, moderator, "PATCH", roles+"/"+high.ID, rename), http.StatusForbidden, "forbidden")
			expectStatus(t, "delete own role", call(t, s, moderator, "DELETE", roles+"/"+mod.ID, nil), http.StatusForbidden, "forbidden")
			giveOwn := call(t, s, moderator, "PUT", members+lower.ID+"/roles/"+mod.ID, nil)
			expectStatus(t, "give own role to a member", giveOwn, http.StatusForbidden, "forbidden")
			if !strings.Contains(string(giveOwn.Body), "must rank above") {
				t.Errorf("give own role: message %s does not name the role hierarchy", giveOwn.Body)
			}
			expectStatus(t, "take a higher role from its member", call(t, s, moderator, "DELETE", members+higher.ID+"/roles/"+high.ID, nil), http.StatusForbidden, "forbidden")
			// The roles created in "grants" moved mod up, so read where it is.
			own := positionOf(t, s, owner, g.ID, mod.ID)
			expectStatus(t, "move a lower role to own position", call(t, s, moderator, "PATCH", roles+"/"+low.ID, map[string]int{"position": own}), http.StatusForbidden, "forbidden")
			expectStatus(t, "move a lower role above own", call(t, s, moderator, "PATCH", roles+"/"+low.ID, map[string]int{"position": own + 1}), http.StatusForbidden, "forbidden")
			expectStatus(t, "create a role at own position", call(t, s, moderator, "POST", roles, map[string]any{"name": "peer", "permissions": "0", "position": own}), http.StatusForbidden, "forbidden")
			expectStatus(t, "administrator edits own role", call(t, s, admin, "PATCH", roles+"/"+admins.ID, rename), http.StatusForbidden, "forbidden")
			expectStatus(t, "edit a lower role", call(t, s, moderator, "PATCH", roles+"/"+low.ID, rename), http.StatusOK, "")
			expectStatus(t, "give a lower role to a member", call(t, s, moderator, "PUT", members+higher.ID+"/roles/"+low.ID, nil), http.StatusNoContent, "")
		})

		t.Run("members ranked at or above", func(t *testing.T) {
			nick := map[string]string{"nickname": "renamed"}
			expectStatus(t, "nickname a higher member", call(t, s, moderator, "PATCH", members+higher.ID, nick), http.StatusForbidden, "forbidden")
			expectStatus(t, "kick a higher member", call(t, s, moderator, "DELETE", members+higher.ID, nil), http.StatusForbidden, "forbidden")
			expectStatus(t, "ban a higher member", call(t, s, moderator, "PUT", "/guilds/"+g.ID+"/bans/"+higher.ID, nil), http.StatusForbidden, "forbidden")
			expectStatus(t, "kick the administrator", call(t, s, moderator, "DELETE", members+admin.ID, nil), http.StatusForbidden, "forbidden")
			expectStatus(t, "nickname a lower member", call(t, s, moderator, "PATCH", members+lower.ID, nick), http.StatusOK, "")
			expectStatus(t, "kick a lower member", call(t, s, moderator, "DELETE", members+lower.ID, nil), http.StatusNoContent, "")
		})

		t.Run("nobody acts on the owner", func(t *testing.T) {
			for _, actor := range []account{moderator, admin} {
				expectStatus(t, actor.Name+" kicks the owner", call(t, s, actor, "DELETE", members+owner.ID, nil), http.StatusForbidden, "forbidden")
				expectStatus(t, actor.Name+" bans the owner", call(t, s, actor, "PUT", "/guilds/"+g.ID+"/bans/"+owner.ID, nil), http.StatusForbidden, "forbidden")
				expectStatus(t, actor.Name+" sets the owner's nickname", call(t, s, actor, "PATCH", members+owner.ID, map[string]string{"nickname": "x"}), http.StatusForbidden, "forbidden")
			}
			expectStatus(t, "owner bans themself", call(t, s, owner, "PUT", "/guilds/"+g.ID+"/bans/"+owner.ID, nil), http.StatusForbidden, "forbidden")
			if !slices.Contains(listMemberIDs(t, s, owner, g.ID), owner.ID) {
				t.Errorf("the owner is no longer a member")
			}
		})
	})
}

func TestOwnershipTransfer(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		users := newAccounts(t, s, "founder", "heir", "admin", "stranger")
		founder, heir, admin, stranger := users[0], users[1], users[2], users[3]
		g := createGuild(t, s, founder, "Dynasty")
		join(t, s, founder, g.ID, heir, admin)
		admins := createRole(t, s, founder, g.ID, "admins", permission.Administrator, 0)
		grantRole(t, s, founder, g.ID, admin.ID, admins.ID)
		path := "/guilds/" + g.ID

		expectStatus(t, "administrator transfers ownership", call(t, s, admin, "PATCH", path, map[string]string{"owner_id": admin.ID}), http.StatusForbidden, "forbidden")
		resp := call(t, s, founder, "PATCH", path, map[string]string{"owner_id": stranger.ID})
		expectStatus(t, "transfer to a non-member", resp, http.StatusBadRequest, "validation_error")
		if !strings.Contains(string(resp.Body), `"field":"owner_id"`) {
			t.Errorf("transfer to a non-member: body %s does not name owner_id", resp.Body)
		}
		expectStatus(t, "owner leaves", call(t, s, founder, "DELETE", path+"/members/@me", nil), http.StatusConflict, "ownership_transfer_required")

		var moved guildJSON
		mustCall(t, s, founder, "PATCH", path, map[string]string{"owner_id": heir.ID}, http.StatusOK).JSON(t, &moved)
		if moved.OwnerID != heir.ID {
			t.Errorf("owner_id after transfer %q, want %q", moved.OwnerID, heir.ID)
		}
		expectStatus(t, "old owner transfers again", call(t, s, founder, "PATCH", path, map[string]string{"owner_id": founder.ID}), http.StatusForbidden, "forbidden")
		expectStatus(t, "old owner leaves", call(t, s, founder, "DELETE", path+"/members/@me", nil), http.StatusNoContent, "")
		expectStatus(t, "old owner GET guild", call(t, s, founder, "GET", path, nil), http.StatusNotFound, "not_found")

		expectStatus(t, "administrator deletes the guild", call(t, s, admin, "DELETE", path, nil), http.StatusForbidden, "forbidden")
		expectStatus(t, "new owner deletes the guild", call(t, s, heir, "DELETE", path, nil), http.StatusNoContent, "")
		for _, u := range []account{heir, admin, founder, stranger} {
			expectStatus(t, u.Name+" GET deleted guild", call(t, s, u, "GET", path, nil), http.StatusNotFound, "not_found")
			expectStatus(t, u.Name+" GET deleted guild's channels", call(t, s, u, "GET", path+"/channels", nil), http.StatusNotFound, "not_found")
			var listed []guildJSON
			mustCall(t, s, u, "GET", "/guilds", nil, http.StatusOK).JSON(t, &listed)
			if len(listed) != 0 {
				t.Errorf("%s still lists guilds %+v", u.Name, listed)
			}
		}
	})
}

func TestAccountDeletionLeavesGuilds(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		users := newAccounts(t, s, "owner", "leaver")
		owner, leaver := users[0], users[1]
		first := createGuild(t, s, owner, "First")
		second := createGuild(t, s, owner, "Second")
		join(t, s, owner, first.ID, leaver)
		join(t, s, owner, second.ID, leaver)
		password := map[string]string{"password": testPassword}

		expectStatus(t, "guild owner deletes their account", call(t, s, owner, "DELETE", "/users/@me", password), http.StatusConflict, "ownership_transfer_required")
		mustCall(t, s, owner, "GET", "/users/@me", nil, http.StatusOK)

		mustCall(t, s, leaver, "DELETE", "/users/@me", password, http.StatusNoContent)
		for _, g := range []guildJSON{first, second} {
			if slices.Contains(listMemberIDs(t, s, owner, g.ID), leaver.ID) {
				t.Errorf("guild %s still lists the deleted account as a member", g.Name)
			}
		}
	})
}

// A DM left with one account is read-only: its history stays, and new
// messages, which no one could read, are rejected. A group DM stays open
// while two participants remain.
func TestDMWithDeletedPartnerIsReadOnly(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		users := newAccounts(t, s, "alice", "bob", "carol")
		alice, bob, carol := users[0], users[1], users[2]
		var dm, group channelJSON
		call(t, s, alice, "POST", "/dms", map[string][]string{"recipient_ids": {bob.ID}}).JSON(t, &dm)
		call(t, s, alice, "POST", "/dms", map[string][]string{"recipient_ids": {bob.ID, carol.ID}}).JSON(t, &group)
		var sent messageJSON
		call(t, s, alice, "POST", "/channels/"+dm.ID+"/messages", map[string]string{"content": "before"}).JSON(t, &sent)

		password := map[string]string{"password": testPassword}
		mustCall(t, s, bob, "DELETE", "/users/@me", password, http.StatusNoContent)

		toDeleted := call(t, s, alice, "POST", "/channels/"+dm.ID+"/messages", map[string]string{"content": "are you there?"})
		expectStatus(t, "send to a deleted partner", toDeleted, http.StatusForbidden, "forbidden")
		if !strings.Contains(string(toDeleted.Body), "read-only") {
			t.Errorf("send to a deleted partner: message %s does not say why", toDeleted.Body)
		}
		expectStatus(t, "react in a read-only DM", call(t, s, alice, "PUT",
			"/channels/"+dm.ID+"/messages/"+sent.ID+"/reactions/%F0%9F%91%8D/@me", nil), http.StatusForbidden, "forbidden")
		mustCall(t, s, alice, "GET", "/channels/"+dm.ID+"/messages", nil, http.StatusOK)
		mustCall(t, s, alice, "POST", "/channels/"+group.ID+"/messages", map[string]string{"content": "still here"}, http.StatusCreated)
		reopen := call(t, s, alice, "POST", "/dms", map[string][]string{"recipient_ids": {bob.ID}})
		expectStatus(t, "open a DM with a deleted account", reopen, http.StatusBadRequest, "validation_error")
		if !strings.Contains(string(reopen.Body), "deleted their account") {
			t.Errorf("open a DM with a deleted account: message %s does not say why", reopen.Body)
		}

		mustCall(t, s, carol, "DELETE", "/users/@me", password, http.StatusNoContent)
		expectStatus(t, "send to a group DM with no one left", call(t, s, alice, "POST", "/channels/"+group.ID+"/messages",
			map[string]string{"content": "anyone?"}), http.StatusForbidden, "forbidden")
	})
}

func TestDMOpenRulesAndVisibility(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		users := newAccounts(t, s, "alice", "bob", "carol", "dave", "eve")
		alice, bob, carol, dave, eve := users[0], users[1], users[2], users[3], users[4]
		var crowd []string
		for _, u := range newUsers(t, s, "user0", "user1", "user2", "user3", "user4", "user5", "user6", "user7", "user8") {
			crowd = append(crowd, u.ID)
		}
		open := func(a account, recipients ...string) *servertest.Response {
			t.Helper()
			return call(t, s, a, "POST", "/dms", map[string][]string{"recipient_ids": recipients})
		}

		var dm channelJSON
		resp := open(alice, bob.ID)
		expectStatus(t, "open a DM", resp, http.StatusCreated, "")
		resp.JSON(t, &dm)
		if dm.Kind != "dm" {
			t.Errorf("kind %q, want dm", dm.Kind)
		}
		if !slices.Equal(dm.RecipientIDs, []string{bob.ID}) {
			t.Errorf("recipient_ids %v, want [%s]", dm.RecipientIDs, bob.ID)
		}
		if dm.GuildID != nil {
			t.Errorf("guild_id %q, want null", *dm.GuildID)
		}

		var again channelJSON
		resp = open(alice, bob.ID)
		expectStatus(t, "open the same DM again", resp, http.StatusOK, "")
		resp.JSON(t, &again)
		if again.ID != dm.ID {
			t.Errorf("second open returned channel %s, want %s", again.ID, dm.ID)
		}

		var reverse channelJSON
		resp = open(bob, alice.ID)
		expectStatus(t, "open the DM from the other side", resp, http.StatusOK, "")
		resp.JSON(t, &reverse)
		if reverse.ID != dm.ID {
			t.Errorf("reverse open returned channel %s, want %s", reverse.ID, dm.ID)
		}
		if !slices.Equal(reverse.RecipientIDs, []string{alice.ID}) {
			t.Errorf("recipient_ids seen by bob %v, want [%s]", reverse.RecipientIDs, alice.ID)
		}

		var group channelJSON
		resp = open(alice, bob.ID, carol.ID)
		expectStatus(t, "open a group DM of 2 recipients", resp, http.StatusCreated, "")
		resp.JSON(t, &group)
		if group.Kind != "group_dm" {
			t.Errorf("kind %q, want group_dm", group.Kind)
		}
		if got, want := sortedCopy(group.RecipientIDs), sortedCopy([]string{bob.ID, carol.ID}); !slices.Equal(got, want) {
			t.Errorf("group recipient_ids %v, want %v", got, want)
		}
		expectStatus(t, "open a group DM of 9 recipients", open(alice, crowd...), http.StatusCreated, "")

		expectStatus(t, "10 recipients", open(alice, append(slices.Clone(crowd), bob.ID)...), http.StatusBadRequest, "validation_error")
		expectStatus(t, "no recipients", open(alice), http.StatusBadRequest, "validation_error")
		expectStatus(t, "oneself", open(alice, alice.ID), http.StatusBadRequest, "validation_error")
		expectStatus(t, "oneself among others", open(alice, bob.ID, alice.ID), http.StatusBadRequest, "validation_error")
		expectStatus(t, "a duplicate recipient", open(alice, bob.ID, bob.ID), http.StatusBadRequest, "validation_error")
		expectStatus(t, "an unknown user", open(alice, "00000000-0000-7000-8000-000000000000"), http.StatusBadRequest, "validation_error")

		expectStatus(t, "participant GET DM", call(t, s, alice, "GET", "/channels/"+dm.ID, nil), http.StatusOK, "")
		expectStatus(t, "non-participant GET DM", call(t, s, carol, "GET", "/channels/"+dm.ID, nil), http.StatusNotFound, "not_found")
		expectStatus(t, "non-participant GET DM events", call(t, s, carol, "GET", "/channels/"+dm.ID+"/events", nil), http.StatusNotFound, "not_found")

		mustCall(t, s, dave, "PATCH", "/users/@me", map[string]string{"dm_policy": "shared_guilds"}, http.StatusOK)
		expectStatus(t, "DM to a shared_guilds user without a shared guild", open(eve, dave.ID), http.StatusForbidden, "dm_blocked")
		expectStatus(t, "group DM including a shared_guilds user without a shared guild", open(eve, dave.ID, alice.ID), http.StatusForbidden, "dm_blocked")
		g := createGuild(t, s, dave, "Shared")
		join(t, s, dave, g.ID, eve)
		expectStatus(t, "DM to a shared_guilds user who shares a guild", open(eve, dave.ID), http.StatusCreated, "")
	})
}

func TestGuildAndChannelEvents(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		users := newAccounts(t, s, "owner", "member", "outsider")
		owner, member, outsider := users[0], users[1], users[2]
		g := createGuild(t, s, owner, "Logged")
		role := createRole(t, s, owner, g.ID, "readers", 0, 0)
		join(t, s, owner, g.ID, member)
		grantRole(t, s, owner, g.ID, member.ID, role.ID)
		guildLog := "/guilds/" + g.ID + "/events"

		events := listEvents(t, s, member, guildLog)
		wantTypes := []string{"member_add", "role_create", "role_create", "member_add", "member_update"}
		if got := eventTypes(events); !slices.Equal(got, wantTypes) {
			t.Errorf("guild log types %v, want %v", got, wantTypes)
		}
		if got := eventSeqs(events); !slices.Equal(got, []int64{1, 2, 3, 4, 5}) {
			t.Errorf("guild log seqs %v, want 1 to 5", got)
		}
		for _, e := range events {
			if e.ChannelID != g.ID {
				t.Errorf("guild event %d has channel_id %q, want the guild id", e.Seq, e.ChannelID)
			}
		}

		pages := []struct {
			query string
			want  []int64
		}{
			{"?after_seq=3", []int64{4, 5}},
			{"?limit=2", []int64{1, 2}},
			{"?after_seq=1&limit=2", []int64{2, 3}},
			{"?after_seq=5", []int64{}},
			{"?limit=1000", []int64{1, 2, 3, 4, 5}},
		}
		for _, page := range pages {
			if got := eventSeqs(listEvents(t, s, member, guildLog+page.query)); !slices.Equal(got, page.want) {
				t.Errorf("guild log %s: seqs %v, want %v", page.query, got, page.want)
			}
		}
		for _, query := range []string{"?limit=0", "?limit=1001", "?limit=ten", "?after_seq=-1"} {
			expectStatus(t, "guild log "+query, call(t, s, member, "GET", guildLog+query, nil), http.StatusBadRequest, "validation_error")
		}
		expectStatus(t, "non-member reads the guild log", call(t, s, outsider, "GET", guildLog, nil), http.StatusNotFound, "not_found")

		general := listChannelIDs(t, s, owner, g.ID)[0]
		mustCall(t, s, owner, "PATCH", "/channels/"+general, map[string]string{"topic": "news"}, http.StatusOK)
		setOverwrite(t, s, owner, general, overwrite{role.ID, "role", 0, permission.AddReactions})
		mustCall(t, s, owner, "DELETE", "/channels/"+general+"/permissions/"+role.ID, nil, http.StatusNoContent)
		channelLog := "/channels/" + general + "/events"
		events = listEvents(t, s, member, channelLog)
		wantTypes = []string{"channel_create", "channel_update", "overwrite_update", "overwrite_delete"}
		if got := eventTypes(events); !slices.Equal(got, wantTypes) {
			t.Errorf("channel log types %v, want %v", got, wantTypes)
		}
		if got := eventSeqs(events); !slices.Equal(got, []int64{1, 2, 3, 4}) {
			t.Errorf("channel log seqs %v, want 1 to 4", got)
		}
		var channel channelJSON
		mustCall(t, s, member, "GET", "/channels/"+general, nil, http.StatusOK).JSON(t, &channel)
		if channel.LastSeq != 4 {
			t.Errorf("channel last_seq %d, want the newest event's seq 4", channel.LastSeq)
		}
		if got := eventSeqs(listEvents(t, s, member, channelLog+"?after_seq=2&limit=1")); !slices.Equal(got, []int64{3}) {
			t.Errorf("channel log after_seq=2&limit=1: seqs %v, want [3]", got)
		}
		expectStatus(t, "channel log limit=0", call(t, s, member, "GET", channelLog+"?limit=0", nil), http.StatusBadRequest, "validation_error")
		expectStatus(t, "channel log limit=1001", call(t, s, member, "GET", channelLog+"?limit=1001", nil), http.StatusBadRequest, "validation_error")
		expectStatus(t, "non-member reads the channel log", call(t, s, outsider, "GET", channelLog, nil), http.StatusNotFound, "not_found")

		setOverwrite(t, s, owner, general, overwrite{member.ID, "member", 0, permission.ViewChannel})
		expectStatus(t, "member who cannot view the channel reads its log", call(t, s, member, "GET", channelLog, nil), http.StatusNotFound, "not_found")
	})
}

func TestGuildNameValidation(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		owner := newAccounts(t, s, "owner")[0]
		g := createGuild(t, s, owner, "Names")

		tests := []struct {
			name   string
			method string
			path   string
			body   map[string]string
			status int
			reason string // the rejection counted, or "" for none
		}{
			{"guild name of 65 characters", "POST", "/guilds", map[string]string{"name": strings.Repeat("x", 65)}, 400, "name_too_long"},
			{"guild name of 65 two-byte characters", "POST", "/guilds", map[string]string{"name": strings.Repeat("é", 65)}, 400, "name_too_long"},
			{"empty guild name", "POST", "/guilds", map[string]string{"name": ""}, 400, "name_empty"},
			{"guild name of spaces", "POST", "/guilds", map[string]string{"name": "   "}, 400, "name_empty"},
			{"guild rename to 65 characters", "PATCH", "/guilds/" + g.ID, map[string]string{"name": strings.Repeat("x", 65)}, 400, "name_too_long"},
			{"channel name of 65 characters", "POST", "/guilds/" + g.ID + "/channels", map[string]string{"name": strings.Repeat("x", 65), "kind": "text"}, 400, "name_too_long"},
			{"empty channel name", "POST", "/guilds/" + g.ID + "/channels", map[string]string{"name": "", "kind": "text"}, 400, "name_empty"},
			{"guild name of 64 characters", "POST", "/guilds", map[string]string{"name": strings.Repeat("x", 64)}, 201, ""},
			{"guild name of 64 two-byte characters", "POST", "/guilds", map[string]string{"name": strings.Repeat("é", 64)}, 201, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				tooLong := rejectionCount(t, s, "name_too_long")
				empty := rejectionCount(t, s, "name_empty")

				resp := call(t, s, owner, tt.method, tt.path, tt.body)
				wantCode := ""
				if tt.status == http.StatusBadRequest {
					wantCode = "validation_error"
				}
				expectStatus(t, tt.name, resp, tt.status, wantCode)

				wantTooLong, wantEmpty := tooLong, empty
				switch tt.reason {
				case "name_too_long":
					wantTooLong++
				case "name_empty":
					wantEmpty++
				}
				if got := rejectionCount(t, s, "name_too_long"); got != wantTooLong {
					t.Errorf("name_too_long rejections %v, want %v", got, wantTooLong)
				}
				if got := rejectionCount(t, s, "name_empty"); got != wantEmpty {
					t.Errorf("name_empty rejections %v, want %v", got, wantEmpty)
				}
			})
		}
	})
}

// TestOwnershipTransferRacingRemoval sends an ownership transfer
// to a member at the same moment as that member's leave, or as an
// administrator's ban of them. One of the two must fail, because a guild
// owned by a non-member cannot be transferred or deleted until that user
// rejoins. The requests race in each of 20 fresh guilds. A correct check
// lets no round fail, and without one the first round already failed in
// every run tried on a 2-CPU machine, with SQLite and with PostgreSQL.
func TestOwnershipTransferRacingRemoval(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		users := newAccounts(t, s, "founder", "heir", "admin")
		founder, heir, admin := users[0], users[1], users[2]

		removals := []struct {
			name   string
			remove func(guildID string) (int, []byte, error)
		}{
			{"heir leaves", func(guildID string) (int, []byte, error) {
				return rawRequest(s, heir.Token, "DELETE", "/guilds/"+guildID+"/members/@me", nil)
			}},
			{"administrator bans heir", func(guildID string) (int, []byte, error) {
				return rawRequest(s, admin.Token, "PUT", "/guilds/"+guildID+"/bans/"+heir.ID, nil)
			}},
		}
		for _, removal := range removals {
			t.Run(removal.name, func(t *testing.T) {
				for round := range 20 {
					g := createGuild(t, s, founder, fmt.Sprintf("Round %d", round))
					join(t, s, founder, g.ID, heir, admin)
					admins := createRole(t, s, founder, g.ID, "admins", permission.Administrator, 0)
					grantRole(t, s, founder, g.ID, admin.ID, admins.ID)

					// Both goroutines wait on start so that their requests go out together.
					var transferStatus, removeStatus int
					var transferErr, removeErr error
					start := make(chan struct{})
					var wg sync.WaitGroup
					wg.Go(func() {
						<-start
						transferStatus, _, transferErr = rawRequest(s, founder.Token, "PATCH", "/guilds/"+g.ID, map[string]string{"owner_id": heir.ID})
					})
					wg.Go(func() {
						<-start
						removeStatus, _, removeErr = removal.remove(g.ID)
					})
					close(start)
					wg.Wait()
					if err := errors.Join(transferErr, removeErr); err != nil {
						t.Fatal(err)
					}

					// The founder is a member whichever request wins.
					var after guildJSON
					mustCall(t, s, founder, "GET", "/guilds/"+g.ID, nil, http.StatusOK).JSON(t, &after)
					if !slices.Contains(listMemberIDs(t, s, founder, g.ID), after.OwnerID) {
						t.Fatalf("round %d: guild owned by %s, who is not a member (transfer answered %d, removal %d)",
							round, after.OwnerID, transferStatus, removeStatus)
					}
				}
			})
		}
	})
}

func TestConcurrentRoleCreatesStayDense(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		owner := newAccounts(t, s, "owner")[0]
		g := createGuild(t, s, owner, "Busy")

		const creates = 8
		statuses := make([]int, creates)
		errs := make([]error, creates)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range creates {
			wg.Go(func() {
				<-start
				body := map[string]string{"name": fmt.Sprintf("role-%d", i), "permissions": "0"}
				statuses[i], _, errs[i] = rawRequest(s, owner.Token, "POST", "/guilds/"+g.ID+"/roles", body)
			})
		}
		close(start)
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		for i, status := range statuses {
			if status != http.StatusCreated {
				t.Errorf("create role-%d: status %d, want 201", i, status)
			}
		}

		if ids := roleIDsByPosition(t, s, owner, g.ID); len(ids) != creates+1 {
			t.Errorf("guild has %d roles, want @everyone and %d more", len(ids), creates)
		}
		// The guild log holds the owner's member_add, @everyone's
		// role_create, then per create a role_update for each role it
		// moved up and its own role_create.
		events := listEvents(t, s, owner, "/guilds/"+g.ID+"/events?limit=1000")
		for i, e := range events {
			if e.Seq != int64(i+1) {
				t.Fatalf("guild log seqs %v, want 1 to %d without gaps", eventSeqs(events), len(events))
			}
		}
		roleCreates := 0
		for _, e := range events {
			if e.Type == "role_create" {
				roleCreates++
			}
		}
		if roleCreates != creates+1 {
			t.Errorf("guild log has %d role_create events, want %d", roleCreates, creates+1)
		}
	})
}

func TestConcurrentDMOpensShareOneChannel(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		users := newAccounts(t, s, "alice", "bob")
		alice, bob := users[0], users[1]

		// Half the requests come from each side of the pair.
		const opens = 8
		statuses := make([]int, opens)
		ids := make([]string, opens)
		errs := make([]error, opens)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range opens {
			from, to := alice, bob
			if i%2 == 1 {
				from, to = bob, alice
			}
			wg.Go(func() {
				<-start
				var body []byte
				statuses[i], body, errs[i] = rawRequest(s, from.Token, "POST", "/dms", map[string][]string{"recipient_ids": {to.ID}})
				var c channelJSON
				if errs[i] == nil {
					errs[i] = json.Unmarshal(body, &c)
				}
				ids[i] = c.ID
			})
		}
		close(start)
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}

		counts := map[int]int{}
		for _, status := range statuses {
			counts[status]++
		}
		if counts[http.StatusCreated] != 1 {
			t.Errorf("%d opens answered 201, want exactly 1 (statuses %v)", counts[http.StatusCreated], statuses)
		}
		if counts[http.StatusOK] != opens-1 {
			t.Errorf("%d opens answered 200, want %d (statuses %v)", counts[http.StatusOK], opens-1, statuses)
		}
		if distinct := slices.Compact(sortedCopy(ids)); len(distinct) != 1 {
			t.Errorf("opens returned channels %v, want one channel", ids)
		}

		var dms []channelJSON
		mustCall(t, s, alice, "GET", "/dms", nil, http.StatusOK).JSON(t, &dms)
		if len(dms) != 1 {
			t.Errorf("alice has %d DMs, want 1", len(dms))
		}
	})
}
