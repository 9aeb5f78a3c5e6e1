package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/openguild/openguild/internal/servertest"
)

func TestOverwritesFollowTheRoleHierarchy(t *testing.T) {
	s := servertest.Start(t)
	c := newChat(t, s)
	createRole := func(name, perms string) string {
		t.Helper()
		var role struct {
			ID string `json:"id"`
		}
		resp := s.Do(t, "POST", "/api/v1/guilds/"+c.guild+"/roles", map[string]string{"name": name, "permissions": perms}, bearer(c.owner.AccessToken)...)
		resp.JSON(t, &role)
		return role.ID
	}
	// Each new role without a position goes to position 1, so "high",
	// created first, ends above "low".
	high := createRole("high", "0")
	low := createRole("low", "513") // VIEW_CHANNEL and MANAGE_ROLES
	if resp := s.Do(t, "PUT", "/api/v1/guilds/"+c.guild+"/members/"+c.member.User.ID+"/roles/"+low, nil, bearer(c.owner.AccessToken)...); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("assign role: %d %s", resp.StatusCode, resp.Body)
	}

	put := func(target, kind, allow, deny string) *servertest.Response {
		return s.Do(t, "PUT", "/api/v1/channels/"+c.channel+"/permissions/"+target,
			map[string]string{"type": kind, "allow": allow, "deny": deny}, bearer(c.member.AccessToken)...)
	}
	tests := []struct {
		name   string
		resp   *servertest.Response
		status int
		code   string
	}{
		{"role above the caller", put(high, "role", "0", "1"), http.StatusForbidden, "forbidden"},
		{"the caller's own highest role", put(low, "role", "0", "1"), http.StatusForbidden, "forbidden"},
		{"the owner as member target", put(c.owner.User.ID, "member", "0", "1"), http.StatusForbidden, "forbidden"},
		{"the @everyone role", put(c.guild, "role", "0", "16"), http.StatusNoContent, ""},
		{"the caller itself", put(c.member.User.ID, "member", "0", "16"), http.StatusNoContent, ""},
		{"ADMINISTRATOR bit", put(c.guild, "role", "1099511627776", "0"), http.StatusBadRequest, "validation_error"},
	}
	for _, tt := range tests {
		if tt.resp.StatusCode != tt.status || tt.resp.ErrorCode() != tt.code {
			t.Errorf("%s: %d %q, want %d %q; body %s", tt.name, tt.resp.StatusCode, tt.resp.ErrorCode(), tt.status, tt.code, tt.resp.Body)
		}
	}
}

func TestListOverwritesAndOwnPermissions(t *testing.T) {
	s := servertest.Start(t)
	c := newChat(t, s)
	register(t, s, "outsider")
	outsider := login(t, s, "outsider", "d")

	// @everyone loses SEND_MESSAGES (bit 1) in the channel.
	resp := s.Do(t, "PUT", "/api/v1/channels/"+c.channel+"/permissions/"+c.guild,
		map[string]string{"type": "role", "allow": "0", "deny": "2"}, bearer(c.owner.AccessToken)...)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("set overwrite: %d %s", resp.StatusCode, resp.Body)
	}

	var list []struct {
		ChannelID string `json:"channel_id"`
		TargetID  string `json:"target_id"`
		Type      string `json:"type"`
		Allow     string `json:"allow"`
		Deny      string `json:"deny"`
	}
	s.Do(t, "GET", "/api/v1/channels/"+c.channel+"/permissions", nil, bearer(c.member.AccessToken)...).JSON(t, &list)
	if len(list) != 1 || list[0].TargetID != c.guild || list[0].Type != "role" || list[0].Deny != "2" || list[0].Allow != "0" {
		t.Errorf("overwrites = %+v", list)
	}

	var perms struct {
		Permissions string `json:"permissions"`
	}
	s.Do(t, "GET", "/api/v1/channels/"+c.channel+"/permissions/@me", nil, bearer(c.member.AccessToken)...).JSON(t, &perms)
	// The @everyone default is 286903 (VIEW, SEND, HISTORY, REACTIONS,
	// ATTACH, CREATE_INVITE, CONNECT, SPEAK, CHANGE_NICKNAME); SEND is denied here.
	if perms.Permissions != "286901" {
		t.Errorf("member's channel permissions = %s, want 286901", perms.Permissions)
	}
	s.Do(t, "GET", "/api/v1/guilds/"+c.guild+"/permissions/@me", nil, bearer(c.member.AccessToken)...).JSON(t, &perms)
	if perms.Permissions != "286903" {
		t.Errorf("member's guild permissions = %s, want 286903", perms.Permissions)
	}
	s.Do(t, "GET", "/api/v1/guilds/"+c.guild+"/permissions/@me", nil, bearer(c.owner.AccessToken)...).JSON(t, &perms)
	if perms.Permissions == "286903" {
		t.Errorf("owner's guild permissions = %s, want every permission", perms.Permissions)
	}

	for _, path := range []string{
		"/api/v1/channels/" + c.channel + "/permissions",
		"/api/v1/channels/" + c.channel + "/permissions/@me",
		"/api/v1/guilds/" + c.guild + "/permissions/@me",
	} {
		expectStatus(t, "outsider "+path, s.Do(t, "GET", path, nil, bearer(outsider.AccessToken)...), 404, "not_found")
	}
}
