package httpapi_test

import (
	"database/sql"
	"errors"
	"net/http"
	"testing"

	"github.com/openguild/openguild/internal/servertest"
)

func (c chat) markRead(t *testing.T, tok tokens, channelID string, body any) *servertest.Response {
	t.Helper()
	return c.s.Do(t, "PUT", "/api/v1/channels/"+channelID+"/read", body, bearer(tok.AccessToken)...)
}

// storedReadSeq returns a user's read seq in a channel as stored, or -1
// when there is none.
func storedReadSeq(t *testing.T, db *sql.DB, userID, channelID string) int64 {
	t.Helper()
	var seq int64
	err := db.QueryRowContext(t.Context(),
		`SELECT seq FROM read_states WHERE user_id = $1 AND channel_id = $2`, userID, channelID).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return -1
	}
	if err != nil {
		t.Fatalf("read stored read seq: %v", err)
	}
	return seq
}

// channelLastSeq returns a channel's last_seq as the owner sees it.
func (c chat) channelLastSeq(t *testing.T, channelID string) int64 {
	t.Helper()
	var ch struct {
		LastSeq int64 `json:"last_seq"`
	}
	resp := c.s.Do(t, "GET", "/api/v1/channels/"+channelID, nil, bearer(c.owner.AccessToken)...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET channel %s: %d %s", channelID, resp.StatusCode, resp.Body)
	}
	resp.JSON(t, &ch)
	return ch.LastSeq
}

// expectFieldError checks for 400 validation_error whose details name
// field.
func expectFieldError(t *testing.T, what string, resp *servertest.Response, field string) {
	t.Helper()
	expectStatus(t, what, resp, http.StatusBadRequest, "validation_error")
	var body struct {
		Details []struct {
			Field string `json:"field"`
		} `json:"details"`
	}
	resp.JSON(t, &body)
	if len(body.Details) != 1 || body.Details[0].Field != field {
		t.Errorf("%s: details %s, want one naming %s", what, resp.Body, field)
	}
}

func TestMarkReadMovesOnlyForward(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		c := newChat(t, s)
		first := c.mustSend(t, c.owner, "one")
		c.mustSend(t, c.owner, "two")
		lastSeq := c.channelLastSeq(t, c.channel)
		db := openServerDB(t, s)

		resp := c.markRead(t, c.member, c.channel, map[string]int64{"seq": lastSeq})
		if resp.StatusCode != http.StatusNoContent || len(resp.Body) != 0 {
			t.Fatalf("mark read at last_seq %d: %d %q, want 204 and no body", lastSeq, resp.StatusCode, resp.Body)
		}
		if got := storedReadSeq(t, db, c.member.User.ID, c.channel); got != lastSeq {
			t.Errorf("stored read seq %d, want %d", got, lastSeq)
		}

		resp = c.markRead(t, c.member, c.channel, map[string]int64{"seq": first.Seq})
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("mark read at a lower seq: %d %s, want 204", resp.StatusCode, resp.Body)
		}
		if got := storedReadSeq(t, db, c.member.User.ID, c.channel); got != lastSeq {
			t.Errorf("stored read seq %d after a lower mark, want it kept at %d", got, lastSeq)
		}

		resp = c.markRead(t, c.member, c.channel, map[string]int64{"seq": lastSeq + 1})
		expectFieldError(t, "mark read beyond last_seq", resp, "seq")
		if got := storedReadSeq(t, db, c.member.User.ID, c.channel); got != lastSeq {
			t.Errorf("stored read seq %d after a rejected mark, want %d", got, lastSeq)
		}
		if got := storedReadSeq(t, db, c.owner.User.ID, c.channel); got != -1 {
			t.Errorf("owner has read seq %d, want none: marks are per user", got)
		}
	})
}

func TestMarkReadHiddenChannelIs404(t *testing.T) {
	servertest.Run(t, func(t *testing.T, s *servertest.Server) {
		c := newChat(t, s)
		c.mustSend(t, c.owner, "secret")
		// Deny VIEW_CHANNEL to @everyone, whose role id is the guild id.
		resp := s.Do(t, "PUT", "/api/v1/channels/"+c.channel+"/permissions/"+c.guild,
			map[string]string{"type": "role", "allow": "0", "deny": "1"}, bearer(c.owner.AccessToken)...)
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("hide channel: %d %s", resp.StatusCode, resp.Body)
		}

		resp = c.markRead(t, c.member, c.channel, map[string]int64{"seq": 1})
		expectStatus(t, "mark read in a hidden channel", resp, http.StatusNotFound, "not_found")
		resp = c.markRead(t, c.member, "0190f0c0-0000-7000-8000-000000000000", map[string]int64{"seq": 0})
		expectStatus(t, "mark read in an unknown channel", resp, http.StatusNotFound, "not_found")
		if got := storedReadSeq(t, openServerDB(t, s), c.member.User.ID, c.channel); got != -1 {
			t.Errorf("stored read seq %d in a hidden channel, want none", got)
		}

		resp = c.markRead(t, c.owner, c.channel, map[string]int64{"seq": 1})
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("owner marks the channel read: %d %s, want 204", resp.StatusCode, resp.Body)
		}
	})
}

func TestMarkReadRejections(t *testing.T) {
	s := servertest.Start(t)
	c := newChat(t, s)
	c.mustSend(t, c.owner, "hello")

	var category struct {
		ID string `json:"id"`
	}
	resp := s.Do(t, "POST", "/api/v1/guilds/"+c.guild+"/channels",
		map[string]string{"name": "Topics", "kind": "category"}, bearer(c.owner.AccessToken)...)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create category: %d %s", resp.StatusCode, resp.Body)
	}
	resp.JSON(t, &category)

	tests := []struct {
		name      string
		channelID string
		body      string
		code      string
		field     string // for validation_error
	}{
		{"seq as a string", c.channel, `{"seq":"1"}`, "validation_error", "seq"},
		{"seq as a fraction", c.channel, `{"seq":1.5}`, "validation_error", "seq"},
		{"seq as a boolean", c.channel, `{"seq":true}`, "validation_error", "seq"},
		{"seq missing", c.channel, `{}`, "validation_error", "seq"},
		{"seq null", c.channel, `{"seq":null}`, "validation_error", "seq"},
		{"seq negative", c.channel, `{"seq":-1}`, "validation_error", "seq"},
		{"seq beyond int64", c.channel, `{"seq":9223372036854775808}`, "validation_error", "seq"},
		{"body not JSON", c.channel, `seq=1`, "invalid_json", ""},
		{"body empty", c.channel, ``, "invalid_json", ""},
		{"category", category.ID, `{"seq":0}`, "validation_error", "channel_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := c.markRead(t, c.member, tt.channelID, tt.body)
			if tt.field != "" {
				expectFieldError(t, "mark read", resp, tt.field)
				return
			}
			expectStatus(t, "mark read", resp, http.StatusBadRequest, tt.code)
		})
	}

	resp = s.Do(t, "PUT", "/api/v1/channels/"+c.channel+"/read", `{"seq":0}`)
	expectStatus(t, "mark read without a token", resp, http.StatusUnauthorized, "unauthorized")
}
