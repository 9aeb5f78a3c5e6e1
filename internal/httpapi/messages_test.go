package httpapi_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openguild/openguild/internal/config"
	"github.com/openguild/openguild/internal/servertest"
	"github.com/openguild/openguild/internal/store"
)

// chat is a guild with an owner and a member, and its general channel.
type chat struct {
	s              *servertest.Server
	owner, member  tokens
	guild, channel string
}

func newChat(t *testing.T, s *servertest.Server) chat {
	t.Helper()
	register(t, s, "owner")
	register(t, s, "member")
	c := chat{s: s, owner: login(t, s, "owner", "d"), member: login(t, s, "member", "d")}

	resp := s.Do(t, "POST", "/api/v1/guilds", map[string]string{"name": "Chat"}, bearer(c.owner.AccessToken)...)
	var g struct {
		ID string `json:"id"`
	}
	resp.JSON(t, &g)
	c.guild = g.ID

	var channels []struct {
		ID string `json:"id"`
	}
	s.Do(t, "GET", "/api/v1/guilds/"+c.guild+"/channels", nil, bearer(c.owner.AccessToken)...).JSON(t, &channels)
	c.channel = channels[0].ID

	var inv struct {
		Code string `json:"code"`
	}
	s.Do(t, "POST", "/api/v1/guilds/"+c.guild+"/invites", map[string]any{}, bearer(c.owner.AccessToken)...).JSON(t, &inv)
	if resp := s.Do(t, "POST", "/api/v1/invites/"+inv.Code+"/accept", nil, bearer(c.member.AccessToken)...); resp.StatusCode != http.StatusOK {
		t.Fatalf("member join: %d %s", resp.StatusCode, resp.Body)
	}
	return c
}

type messageJSON struct {
	ID        string `json:"id"`
	Seq       int64  `json:"seq"`
	AuthorID  string `json:"author_id"`
	Content   string `json:"content"`
	ReplyTo   string `json:"reply_to"`
	EditedAt  string `json:"edited_at"`
	Reactions []struct {
		Emoji string `json:"emoji"`
		Count int    `json:"count"`
		Me    bool   `json:"me"`
	} `json:"reactions"`
	Mentions struct {
		Users    []string `json:"users"`
		Roles    []string `json:"roles"`
		Everyone bool     `json:"everyone"`
	} `json:"mentions"`
}

func (c chat) send(t *testing.T, tok tokens, body any) *servertest.Response {
	t.Helper()
	return c.s.Do(t, "POST", "/api/v1/channels/"+c.channel+"/messages", body, bearer(tok.AccessToken)...)
}

func (c chat) mustSend(t *testing.T, tok tokens, content string) messageJSON {
	t.Helper()
	resp := c.send(t, tok, map[string]string{"content": content})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("send %q: %d %s", content, resp.StatusCode, resp.Body)
	}
	var m messageJSON
	resp.JSON(t, &m)
	return m
}

// generousLimits keeps the message limits out of tests about other things.
func generousLimits(c *config.Config) {
	c.Limits.MessagePerUser = config.Rate{Requests: 100000, Window: time.Second}
	c.Limits.MessagePerIP = config.Rate{Requests: 100000, Window: time.Second}
}

func TestSendAndReadMessages(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		c := newChat(t, s)
		first := c.mustSend(t, c.owner, "  hello <@"+c.member.User.ID+"> @everyone  ")
		if first.Content != "hello <@"+c.member.User.ID+"> @everyone" {
			t.Errorf("content %q, want it trimmed", first.Content)
		}
		if len(first.Mentions.Users) != 1 || !first.Mentions.Everyone {
			t.Errorf("mentions %+v, want the member and everyone", first.Mentions)
		}

		reply := c.send(t, c.member, map[string]string{"content": "hi", "reply_to": first.ID})
		if reply.StatusCode != http.StatusCreated {
			t.Fatalf("reply: %d %s", reply.StatusCode, reply.Body)
		}
		var got messageJSON
		s.Do(t, "GET", "/api/v1/channels/"+c.channel+"/messages/"+first.ID, nil, bearer(c.member.AccessToken)...).JSON(t, &got)
		if got.ID != first.ID || got.Seq != first.Seq {
			t.Errorf("GET message %+v, want %+v", got, first)
		}

		bad := c.send(t, c.member, map[string]string{"content": "hi", "reply_to": "0190f0c0-0000-7000-8000-000000000000"})
		expectStatus(t, "reply to unknown message", bad, http.StatusBadRequest, "validation_error")
	})
}

// Mentions keep only members of the guild and its roles other than
// @everyone, on send and on edit.
func TestMentionsNameOnlyWhatExists(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		c := newChat(t, s)
		stranger := register(t, s, "stranger")
		var role struct {
			ID string `json:"id"`
		}
		s.Do(t, "POST", "/api/v1/guilds/"+c.guild+"/roles", map[string]string{"name": "crew", "permissions": "0"},
			bearer(c.owner.AccessToken)...).JSON(t, &role)

		content := fmt.Sprintf("<@%s> <@%s> <@unknown-user> <@&%s> <@&%s> <@&unknown-role>",
			stranger, c.member.User.ID, c.guild, role.ID)
		sent := c.mustSend(t, c.owner, content)
		if !slices.Equal(sent.Mentions.Users, []string{c.member.User.ID}) || !slices.Equal(sent.Mentions.Roles, []string{role.ID}) {
			t.Errorf("mentions on send: users %v, roles %v; want the member and the crew role", sent.Mentions.Users, sent.Mentions.Roles)
		}

		var edited messageJSON
		path := "/api/v1/channels/" + c.channel + "/messages/" + sent.ID
		s.Do(t, "PATCH", path, map[string]string{"content": "<@" + stranger + "> <@&" + role.ID + ">"},
			bearer(c.owner.AccessToken)...).JSON(t, &edited)
		if len(edited.Mentions.Users) != 0 || !slices.Equal(edited.Mentions.Roles, []string{role.ID}) {
			t.Errorf("mentions on edit: users %v, roles %v; want the crew role only", edited.Mentions.Users, edited.Mentions.Roles)
		}
	})
}

func TestMemberWithoutEveryoneMentionPermission(t *testing.T) {
	s := servertest.Start(t)
	c := newChat(t, s)
	m := c.mustSend(t, c.member, "@everyone look")
	if m.Mentions.Everyone {
		t.Error("a member without MENTION_EVERYONE mentioned everyone")
	}
}

func TestSendRejections(t *testing.T) {
	s := servertest.Start(t)
	c := newChat(t, s)
	tests := []struct {
		name   string
		body   string
		status int
		code   string
		reason string
	}{
		{"empty after trimming", `{"content":"   "}`, 400, "validation_error", "content_empty"},
		{"too long", `{"content":"` + strings.Repeat("é", 4001) + `"}`, 400, "validation_error", "content_too_long"},
		{"NUL character", `{"content":"a\u0000b"}`, 400, "validation_error", "invalid_encoding"},
		{"body not UTF-8", "{\"content\":\"\xff\"}", 400, "invalid_json", "invalid_encoding"},
		{"other author claimed", `{"content":"x","author_id":"someone-else"}`, 403, "forbidden", "forbidden"},
		{"other sender claimed", `{"content":"x","sender":"someone-else"}`, 403, "forbidden", "forbidden"},
		{"content of wrong type", `{"content":7}`, 400, "validation_error", ""},
		{"unknown attachment", `{"content":"x","attachment_ids":["nope"]}`, 400, "validation_error", ""},
		{"nonce too long", `{"content":"x","nonce":"` + strings.Repeat("n", 65) + `"}`, 400, "validation_error", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := rejections(t, s, tt.reason)
			resp := c.send(t, c.member, tt.body)
			expectStatus(t, "send", resp, tt.status, tt.code)
			if tt.reason != "" {
				if after := rejections(t, s, tt.reason); after != before+1 {
					t.Errorf("rejections{reason=%q} went from %d to %d, want +1", tt.reason, before, after)
				}
			}
		})
	}

	ok := c.send(t, c.member, `{"content":"`+strings.Repeat("é", 4000)+`"}`)
	if ok.StatusCode != http.StatusCreated {
		t.Errorf("4,000-character message: %d", ok.StatusCode)
	}
	self := c.send(t, c.member, map[string]string{"content": "x", "author_id": c.member.User.ID})
	if self.StatusCode != http.StatusCreated {
		t.Errorf("author_id naming the caller: %d %s", self.StatusCode, self.Body)
	}
}

// rejections reads openguild_messaging_rejections_total for a reason.
func rejections(t *testing.T, s *servertest.Server, reason string) int {
	t.Helper()
	if reason == "" {
		return 0
	}
	body := string(s.DoMetrics(t, "GET", "/metrics").Body)
	prefix := `openguild_messaging_rejections_total{reason="` + reason + `"} `
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			var n int
			fmt.Sscan(rest, &n)
			return n
		}
	}
	t.Fatalf("no series for reason %s", reason)
	return 0
}

func TestNonceMakesSendIdempotent(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		c := newChat(t, s)
		const racers = 8
		results := make([]*servertest.Response, racers)
		var wg sync.WaitGroup
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = c.send(t, c.member, map[string]string{"content": "once", "nonce": "nonce-1"})
			}()
		}
		wg.Wait()

		created, ids := 0, map[string]bool{}
		for _, resp := range results {
			var m messageJSON
			resp.JSON(t, &m)
			ids[m.ID] = true
			if resp.StatusCode == http.StatusCreated {
				created++
			} else if resp.StatusCode != http.StatusOK {
				t.Errorf("racing retry: %d %s", resp.StatusCode, resp.Body)
			}
		}
		if created != 1 || len(ids) != 1 {
			t.Errorf("%d created and %d distinct ids, want 1 and 1", created, len(ids))
		}

		other := c.send(t, c.member, map[string]string{"content": "elsewhere", "nonce": "nonce-1"})
		var list []messageJSON
		s.Do(t, "GET", "/api/v1/channels/"+c.channel+"/messages", nil, bearer(c.member.AccessToken)...).JSON(t, &list)
		if len(list) != 1 {
			t.Errorf("history holds %d messages, want 1", len(list))
		}
		if other.StatusCode != http.StatusOK {
			t.Errorf("retry after the race: %d, want 200", other.StatusCode)
		}

		s.Clock.Advance(25 * time.Hour)
		c.member = login(t, s, "member", "d") // the old access token has expired
		late := c.send(t, c.member, map[string]string{"content": "again", "nonce": "nonce-1"})
		if late.StatusCode != http.StatusCreated {
			t.Errorf("same nonce after 24 h: %d, want a new message", late.StatusCode)
		}
	})
}

func TestSequencesGapFreeUnderConcurrentSenders(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		c := newChat(t, s)
		const writers, each = 50, 4
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					resp := c.send(t, c.owner, map[string]string{"content": fmt.Sprintf("w%d m%d", w, i)})
					if resp.StatusCode != http.StatusCreated {
						t.Errorf("send: %d %s", resp.StatusCode, resp.Body)
					}
				}
			}()
		}
		wg.Wait()

		var events []struct {
			Seq int64 `json:"seq"`
		}
		s.Do(t, "GET", "/api/v1/channels/"+c.channel+"/events?limit=1000", nil, bearer(c.owner.AccessToken)...).JSON(t, &events)
		if len(events) != writers*each+1 {
			t.Fatalf("%d events, want %d", len(events), writers*each+1)
		}
		for i, e := range events {
			if e.Seq != int64(i+1) {
				t.Fatalf("event %d has seq %d, want %d", i, e.Seq, i+1)
			}
		}
	}, servertest.WithConfig(generousLimits))
}

func TestHistoryPagination(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		c := newChat(t, s)
		var sent []messageJSON
		for i := range 7 {
			sent = append(sent, c.mustSend(t, c.owner, fmt.Sprintf("m%d", i)))
		}
		deleted := sent[3]
		s.Do(t, "DELETE", "/api/v1/channels/"+c.channel+"/messages/"+deleted.ID, nil, bearer(c.owner.AccessToken)...)

		page := func(query string) []string {
			t.Helper()
			resp := s.Do(t, "GET", "/api/v1/channels/"+c.channel+"/messages?"+query, nil, bearer(c.member.AccessToken)...)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET ?%s: %d %s", query, resp.StatusCode, resp.Body)
			}
			var list []messageJSON
			resp.JSON(t, &list)
			out := make([]string, len(list))
			for i, m := range list {
				out[i] = m.Content
			}
			return out
		}
		tests := []struct {
			query string
			want  string
		}{
			{"", "m0 m1 m2 m4 m5 m6"},
			{"limit=2", "m5 m6"},
			{"limit=2&before=" + sent[5].ID, "m2 m4"},
			{"limit=2&after=" + sent[1].ID, "m2 m4"},
			{"before=" + sent[0].ID, ""},
			{"after=" + sent[6].ID, ""},
			{"after=" + sent[0].ID + "&before=" + sent[5].ID, "m1 m2 m4"},
			{"before=" + deleted.ID, "m0 m1 m2"},
		}
		for _, tt := range tests {
			if got := strings.Join(page(tt.query), " "); got != tt.want {
				t.Errorf("GET ?%s = %q, want %q", tt.query, got, tt.want)
			}
		}

		for _, query := range []string{"limit=0", "limit=101", "before=no-such-message"} {
			resp := s.Do(t, "GET", "/api/v1/channels/"+c.channel+"/messages?"+query, nil, bearer(c.member.AccessToken)...)
			expectStatus(t, "GET ?"+query, resp, http.StatusBadRequest, "validation_error")
		}
	})
}

func TestEditAndDeletePermissions(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		c := newChat(t, s)
		register(t, s, "moderator")
		mod := login(t, s, "moderator", "d")
		var inv struct {
			Code string `json:"code"`
		}
		s.Do(t, "POST", "/api/v1/guilds/"+c.guild+"/invites", map[string]any{}, bearer(c.owner.AccessToken)...).JSON(t, &inv)
		s.Do(t, "POST", "/api/v1/invites/"+inv.Code+"/accept", nil, bearer(mod.AccessToken)...)
		var role struct {
			ID string `json:"id"`
		}
		s.Do(t, "POST", "/api/v1/guilds/"+c.guild+"/roles", map[string]string{"name": "mods", "permissions": "8"}, bearer(c.owner.AccessToken)...).JSON(t, &role)
		s.Do(t, "PUT", "/api/v1/guilds/"+c.guild+"/members/"+mod.User.ID+"/roles/"+role.ID, nil, bearer(c.owner.AccessToken)...)

		m := c.mustSend(t, c.member, "original")
		path := "/api/v1/channels/" + c.channel + "/messages/" + m.ID

		expectStatus(t, "edit by moderator", s.Do(t, "PATCH", path, map[string]string{"content": "x"}, bearer(mod.AccessToken)...), 403, "forbidden")
		expectStatus(t, "edit by owner", s.Do(t, "PATCH", path, map[string]string{"content": "x"}, bearer(c.owner.AccessToken)...), 403, "forbidden")
		edited := s.Do(t, "PATCH", path, map[string]string{"content": "changed"}, bearer(c.member.AccessToken)...)
		var em messageJSON
		edited.JSON(t, &em)
		if edited.StatusCode != http.StatusOK || em.Content != "changed" || em.EditedAt == "" {
			t.Errorf("edit by author: %d %s", edited.StatusCode, edited.Body)
		}

		other := c.mustSend(t, c.owner, "owner's")
		expectStatus(t, "delete by a plain member", s.Do(t, "DELETE", "/api/v1/channels/"+c.channel+"/messages/"+other.ID, nil, bearer(c.member.AccessToken)...), 403, "forbidden")
		if resp := s.Do(t, "DELETE", path, nil, bearer(mod.AccessToken)...); resp.StatusCode != http.StatusNoContent {
			t.Errorf("delete by moderator: %d %s", resp.StatusCode, resp.Body)
		}
		expectStatus(t, "GET deleted message", s.Do(t, "GET", path, nil, bearer(c.member.AccessToken)...), 404, "not_found")
		if resp := s.Do(t, "DELETE", "/api/v1/channels/"+c.channel+"/messages/"+other.ID, nil, bearer(c.owner.AccessToken)...); resp.StatusCode != http.StatusNoContent {
			t.Errorf("delete by author: %d", resp.StatusCode)
		}
	})
}

func TestDeletedContentErasedFromStorage(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		c := newChat(t, s)
		const secret = "my secret plan 7f3a9"
		m := c.mustSend(t, c.member, secret)
		s.Do(t, "PATCH", "/api/v1/channels/"+c.channel+"/messages/"+m.ID, map[string]string{"content": secret + " v2"}, bearer(c.member.AccessToken)...)
		if resp := s.Do(t, "DELETE", "/api/v1/channels/"+c.channel+"/messages/"+m.ID, nil, bearer(c.member.AccessToken)...); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("delete: %d", resp.StatusCode)
		}

		db := openServerDB(t, s)
		for _, query := range []string{
			`SELECT count(*) FROM messages WHERE content LIKE '%7f3a9%'`,
			`SELECT count(*) FROM events WHERE data LIKE '%7f3a9%'`,
		} {
			var n int
			if err := db.QueryRowContext(context.Background(), query).Scan(&n); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
			if n != 0 {
				t.Errorf("%s = %d, want the content gone", query, n)
			}
		}

		var events []struct {
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
		s.Do(t, "GET", "/api/v1/channels/"+c.channel+"/events", nil, bearer(c.member.AccessToken)...).JSON(t, &events)
		last := events[len(events)-1]
		if last.Type != "message_delete" || last.Data["id"] != m.ID || last.Data["content"] != nil {
			t.Errorf("last event %+v, want message_delete with the id and no content", last)
		}
	})
}

// openServerDB opens the test server's database for checks the API
// cannot make.
func openServerDB(t *testing.T, s *servertest.Server) *sql.DB {
	t.Helper()
	url := s.Config.DatabaseURL
	if url == "" {
		url = "sqlite:" + filepath.Join(s.Config.DataDir, store.SQLiteFileName)
	}
	db, err := store.Open(context.Background(), store.Options{URL: url, DataDir: s.Config.DataDir})
	if err != nil {
		t.Fatalf("open server database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db.Reader()
}

func TestReactions(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		c := newChat(t, s)
		m := c.mustSend(t, c.owner, "react to me")
		react := func(tok tokens, method, emoji string) *servertest.Response {
			return s.Do(t, method, "/api/v1/channels/"+c.channel+"/messages/"+m.ID+"/reactions/"+url.PathEscape(emoji)+"/@me", nil, bearer(tok.AccessToken)...)
		}

		for _, tok := range []tokens{c.owner, c.member, c.member} {
			if resp := react(tok, "PUT", "👍"); resp.StatusCode != http.StatusNoContent {
				t.Fatalf("react: %d %s", resp.StatusCode, resp.Body)
			}
		}
		var got messageJSON
		s.Do(t, "GET", "/api/v1/channels/"+c.channel+"/messages/"+m.ID, nil, bearer(c.member.AccessToken)...).JSON(t, &got)
		if len(got.Reactions) != 1 || got.Reactions[0].Count != 2 || !got.Reactions[0].Me {
			t.Errorf("reactions %+v, want 👍 twice including me", got.Reactions)
		}

		for _, bad := range []string{"a", "👍👍", ":smile:"} {
			expectStatus(t, "react with "+bad, react(c.member, "PUT", bad), 400, "validation_error")
		}

		emoji := []string{"😀", "😁", "😂", "🤣", "😃", "😄", "😅", "😆", "😉", "😊", "😋", "😎", "😍", "😘", "🥰", "😗", "😙", "🥲", "😚"}
		for _, e := range emoji {
			if resp := react(c.owner, "PUT", e); resp.StatusCode != http.StatusNoContent {
				t.Fatalf("react %s: %d %s", e, resp.StatusCode, resp.Body)
			}
		}
		expectStatus(t, "21st emoji", react(c.owner, "PUT", "🙃"), 400, "too_many_reactions")
		if resp := react(c.member, "PUT", "😀"); resp.StatusCode != http.StatusNoContent {
			t.Errorf("joining an existing emoji at the cap: %d", resp.StatusCode)
		}

		if resp := react(c.member, "DELETE", "👍"); resp.StatusCode != http.StatusNoContent {
			t.Errorf("remove reaction: %d", resp.StatusCode)
		}
		s.Do(t, "GET", "/api/v1/channels/"+c.channel+"/messages/"+m.ID, nil, bearer(c.member.AccessToken)...).JSON(t, &got)
		if got.Reactions[0].Count != 1 || got.Reactions[0].Me {
			t.Errorf("after removal %+v, want one 👍 not mine", got.Reactions[0])
		}
	})
}

func TestInvisibleChannelAnswers404Everywhere(t *testing.T) {
	s := servertest.Start(t)
	c := newChat(t, s)
	m := c.mustSend(t, c.owner, "secret")
	// Hide the channel from @everyone; the owner still sees it.
	resp := s.Do(t, "PUT", "/api/v1/channels/"+c.channel+"/permissions/"+c.guild,
		map[string]string{"type": "role", "allow": "0", "deny": "1"}, bearer(c.owner.AccessToken)...)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("hide channel: %d %s", resp.StatusCode, resp.Body)
	}

	base := "/api/v1/channels/" + c.channel + "/messages"
	one := base + "/" + m.ID
	routes := []struct {
		method, path string
		body         any
	}{
		{"POST", base, map[string]string{"content": "x"}},
		{"GET", base, nil},
		{"GET", one, nil},
		{"PATCH", one, map[string]string{"content": "x"}},
		{"DELETE", one, nil},
		{"PUT", one + "/reactions/" + url.PathEscape("👍") + "/@me", nil},
		{"DELETE", one + "/reactions/" + url.PathEscape("👍") + "/@me", nil},
		{"GET", "/api/v1/channels/" + c.channel + "/events", nil},
	}
	for _, r := range routes {
		resp := s.Do(t, r.method, r.path, r.body, bearer(c.member.AccessToken)...)
		expectStatus(t, r.method+" "+r.path, resp, http.StatusNotFound, "not_found")
	}
}

func TestMessageRateLimits(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *config.Config) {
		c.Limits.MessagePerUser = config.Rate{Requests: 3, Window: 10 * time.Second}
		c.Limits.PenaltyBase = 30 * time.Second
		c.Limits.PenaltyMax = 2 * time.Minute
		c.Limits.PenaltyDecay = time.Minute
	}))
	c := newChat(t, s)
	for range 3 {
		c.mustSend(t, c.member, "ok")
	}
	before := rejections(t, s, "message_rate_limit")
	resp := c.send(t, c.member, map[string]string{"content": "too many"})
	expectStatus(t, "fourth message", resp, http.StatusTooManyRequests, "rate_limited")
	for _, h := range []string{"Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("429 lacks %s", h)
		}
	}
	if !strings.Contains(string(resp.Body), `"scope":"user"`) {
		t.Errorf("429 body %s, want scope user", resp.Body)
	}
	if after := rejections(t, s, "message_rate_limit"); after != before+1 {
		t.Errorf("message_rate_limit went from %d to %d", before, after)
	}
	if wait := retryAfter(t, resp); wait > 10 {
		t.Errorf("first rejection asks to wait %ds, want at most the 10 s window", wait)
	}

	// Sending again while limited is a strike: a 30 s penalty that
	// outlasts the window.
	resp = c.send(t, c.member, map[string]string{"content": "ignoring the limit"})
	if wait := retryAfter(t, resp); wait < 29 {
		t.Errorf("after a strike Retry-After is %ds, want the 30 s penalty", wait)
	}
	s.Clock.Advance(11 * time.Second)
	expectStatus(t, "send after the window but inside the penalty",
		c.send(t, c.member, map[string]string{"content": "still penalized"}), http.StatusTooManyRequests, "rate_limited")
	if c.send(t, c.owner, map[string]string{"content": "others unaffected"}).StatusCode != http.StatusCreated {
		t.Error("another user was limited by the member's penalty")
	}

	s.Clock.Advance(2 * time.Minute)
	c.mustSend(t, c.member, "after the penalty")
}

// Copies of one send that arrive together, as from a client retrying a
// request still in flight, make one message and count once against the
// limits, even for a user one message short of them.
func TestNonceCopiesCountOnce(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		c := newChat(t, s)
		c.mustSend(t, c.member, "first")

		const copies = 8
		statuses := make([]int, copies)
		var wg sync.WaitGroup
		for i := range copies {
			wg.Go(func() {
				statuses[i] = c.send(t, c.member, map[string]string{"content": "second", "nonce": "copy"}).StatusCode
			})
		}
		wg.Wait()

		slices.Sort(statuses)
		want := append([]int{http.StatusOK, http.StatusOK, http.StatusOK, http.StatusOK, http.StatusOK,
			http.StatusOK, http.StatusOK}, http.StatusCreated)
		if !slices.Equal(statuses, want) {
			t.Errorf("statuses %v, want one 201 and seven 200", statuses)
		}
		if rejected := rejections(t, s, "message_rate_limit"); rejected != 0 {
			t.Errorf("%d sends rejected by the rate limit, want none", rejected)
		}
	}, servertest.WithConfig(func(c *config.Config) {
		c.Limits.MessagePerUser = config.Rate{Requests: 2, Window: 10 * time.Second}
	}))
}

func retryAfter(t *testing.T, resp *servertest.Response) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(resp.Header.Get("Retry-After"), &n); err != nil {
		t.Fatalf("Retry-After %q: %v", resp.Header.Get("Retry-After"), err)
	}
	return n
}

func TestMessageLimitPerIP(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *config.Config) {
		c.Limits.MessagePerIP = config.Rate{Requests: 2, Window: time.Minute}
	}))
	c := newChat(t, s)
	c.mustSend(t, c.owner, "one")
	c.mustSend(t, c.member, "two")
	before := rejections(t, s, "ip_rate_limit")
	resp := c.send(t, c.owner, map[string]string{"content": "three"})
	expectStatus(t, "third from one address", resp, http.StatusTooManyRequests, "rate_limited")
	if !strings.Contains(string(resp.Body), `"scope":"ip"`) {
		t.Errorf("429 body %s, want scope ip", resp.Body)
	}
	if after := rejections(t, s, "ip_rate_limit"); after != before+1 {
		t.Errorf("ip_rate_limit went from %d to %d", before, after)
	}
}

func TestSlowmode(t *testing.T) {
	s := servertest.Start(t)
	c := newChat(t, s)
	resp := s.Do(t, "PATCH", "/api/v1/channels/"+c.channel, map[string]int{"slowmode_seconds": 30}, bearer(c.owner.AccessToken)...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("set slowmode: %d %s", resp.StatusCode, resp.Body)
	}

	c.mustSend(t, c.member, "first")
	before := rejections(t, s, "slowmode")
	resp = c.send(t, c.member, map[string]string{"content": "second"})
	expectStatus(t, "second within slowmode", resp, http.StatusTooManyRequests, "rate_limited")
	if !strings.Contains(string(resp.Body), `"scope":"channel"`) {
		t.Errorf("slowmode body %s, want scope channel", resp.Body)
	}
	if after := rejections(t, s, "slowmode"); after != before+1 {
		t.Errorf("slowmode rejections went from %d to %d", before, after)
	}

	c.mustSend(t, c.owner, "owner one")
	c.mustSend(t, c.owner, "owner two: MANAGE_MESSAGES is exempt")

	s.Clock.Advance(31 * time.Second)
	c.mustSend(t, c.member, "after slowmode")
}

func TestOperatorBans(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		c := newChat(t, s)
		adminCommand(t, s, "", "admin", "ban", "user", c.member.User.ID, "--reason", "spam")
		servertest.Eventually(t, 10*time.Second, func() bool {
			return c.send(t, c.member, map[string]string{"content": "x"}).StatusCode == http.StatusForbidden
		})
		resp := s.Do(t, "GET", "/api/v1/users/@me", nil, bearer(c.member.AccessToken)...)
		expectStatus(t, "banned user on another route", resp, http.StatusForbidden, "forbidden")
		if c.send(t, c.owner, map[string]string{"content": "unaffected"}).StatusCode != http.StatusCreated {
			t.Error("another user was refused")
		}
		if out := adminCommand(t, s, "", "admin", "bans", "list"); !strings.Contains(out, c.member.User.ID) || !strings.Contains(out, "spam") {
			t.Errorf("bans list printed %q", out)
		}

		adminCommand(t, s, "", "admin", "unban", "user", c.member.User.ID)
		servertest.Eventually(t, 10*time.Second, func() bool {
			return c.send(t, c.member, map[string]string{"content": "back"}).StatusCode == http.StatusCreated
		})

		adminCommand(t, s, "", "admin", "ban", "ip", "127.0.0.0/8")
		servertest.Eventually(t, 10*time.Second, func() bool {
			return s.Do(t, "GET", "/api/v1/guilds", nil, bearer(c.owner.AccessToken)...).StatusCode == http.StatusForbidden
		})
		resp = s.Do(t, "POST", "/api/v1/auth/login", map[string]string{"username": "x"})
		expectStatus(t, "login from a banned address", resp, http.StatusForbidden, "forbidden")
	}, servertest.WithConfig(generousLimits))
}

func TestConfiguredBanList(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *config.Config) {
		c.Abuse.BannedIPs = mustPrefixes(t, "127.0.0.1/32")
	}))
	resp := s.Do(t, "POST", "/api/v1/auth/register", map[string]string{"username": "x", "password": testPassword})
	expectStatus(t, "register from a configured banned address", resp, http.StatusForbidden, "forbidden")
}

func TestGeneralLimitsPerIP(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *config.Config) {
		c.Limits.ReadPerIP = config.Rate{Requests: 5, Window: time.Minute}
		c.Limits.WritePerIPRoute = config.Rate{Requests: 2, Window: time.Minute}
	}))
	register(t, s, "alice")
	tok := login(t, s, "alice", "d")

	for range 2 {
		if resp := s.Do(t, "POST", "/api/v1/guilds", map[string]string{"name": "g"}, bearer(tok.AccessToken)...); resp.StatusCode != http.StatusCreated {
			t.Fatalf("create guild: %d", resp.StatusCode)
		}
	}
	expectStatus(t, "third write to one route", s.Do(t, "POST", "/api/v1/guilds", map[string]string{"name": "g"}, bearer(tok.AccessToken)...),
		http.StatusTooManyRequests, "rate_limited")
	if resp := s.Do(t, "PATCH", "/api/v1/users/@me", map[string]string{"display_name": "A"}, bearer(tok.AccessToken)...); resp.StatusCode != http.StatusOK {
		t.Errorf("write to another route: %d, want its own budget", resp.StatusCode)
	}

	for range 5 {
		s.Do(t, "GET", "/api/v1/users/@me", nil, bearer(tok.AccessToken)...)
	}
	expectStatus(t, "sixth read", s.Do(t, "GET", "/api/v1/guilds", nil, bearer(tok.AccessToken)...), http.StatusTooManyRequests, "rate_limited")
	if resp := s.Do(t, "GET", "/health", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("health check limited: %d", resp.StatusCode)
	}
}
