package store_test

import (
	"fmt"
	"maps"
	"testing"

	"github.com/google/uuid"

	"github.com/openguild/openguild/internal/event"
	"github.com/openguild/openguild/internal/guild"
	"github.com/openguild/openguild/internal/message"
	"github.com/openguild/openguild/internal/store"
	"github.com/openguild/openguild/internal/storetest"
)

// The read-state tests use one guild, "rs", owned by the writer. The
// reader's id contains '_', a LIKE wildcard, so that an unescaped
// pattern would match other ids.
const (
	rsGuild    = "rs"
	rsReader   = "reader_1"
	rsWriter   = "writer"
	rsHeldRole = "role-held"
)

// readStateFixture is a database with the read-state users and guild.
type readStateFixture struct {
	*guildsFixture
	reads *store.ReadStates
}

func newReadStateFixture(t *testing.T, db *store.DB) *readStateFixture {
	t.Helper()
	f := &readStateFixture{guildsFixture: newGuildsFixture(t, db), reads: db.ReadStates()}
	f.createUsers(rsReader, rsWriter)
	f.createGuild(rsGuild, rsWriter)
	return f
}

// channel creates a text channel of the guild at a position of its own.
func (f *readStateFixture) channel(id string, position int) string {
	f.t.Helper()
	return f.createChannel(rsGuild, id, guild.KindText, "", position).ID
}

// send appends a message and returns it.
func (f *readStateFixture) send(channelID, authorID string, mentions message.Mentions) message.Message {
	f.t.Helper()
	draft := message.Draft{
		ID: uuid.Must(uuid.NewV7()).String(), ChannelID: channelID, GuildID: rsGuild, AuthorID: authorID,
		Content: "hello", Mentions: mentions, CreatedAt: guildsEpoch(), NonceSince: guildsEpoch(),
	}
	out, err := f.db.Messages().AppendBatch(f.ctx(), []message.Draft{draft})
	if err != nil {
		f.t.Fatalf("AppendBatch in %s: %v", channelID, err)
	}
	if out[0].Err != nil {
		f.t.Fatalf("append message in %s: %v", channelID, out[0].Err)
	}
	return out[0].Message
}

func (f *readStateFixture) delete(m message.Message) {
	f.t.Helper()
	if _, err := f.db.Messages().Delete(f.ctx(), m.ChannelID, m.ID, guildsEpoch()); err != nil {
		f.t.Fatalf("Delete message %s: %v", m.ID, err)
	}
}

func (f *readStateFixture) setRead(userID, channelID string, seq int64) {
	f.t.Helper()
	if err := f.reads.SetReadState(f.ctx(), userID, channelID, seq, guildsEpoch()); err != nil {
		f.t.Fatalf("SetReadState %s in %s to %d: %v", userID, channelID, seq, err)
	}
}

func (f *readStateFixture) readStates(userID string, channelIDs ...string) map[string]int64 {
	f.t.Helper()
	got, err := f.reads.ReadStates(f.ctx(), userID, channelIDs)
	if err != nil {
		f.t.Fatalf("ReadStates of %s: %v", userID, err)
	}
	return got
}

func (f *readStateFixture) unread(roleIDs, channelIDs []string, reads map[string]int64) map[string]message.UnreadCount {
	f.t.Helper()
	got, err := f.reads.Unread(f.ctx(), rsReader, roleIDs, channelIDs, reads)
	if err != nil {
		f.t.Fatalf("Unread: %v", err)
	}
	return got
}

func TestSetReadStateNeverMovesBack(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newReadStateFixture(t, db)
		general := rsGuild + "-general"
		other := f.channel("rs-other", 1)

		steps := []struct {
			name string
			set  int64
			want int64
		}{
			{"first mark", 5, 5},
			{"lower seq", 3, 5},
			{"same seq", 5, 5},
			{"higher seq", 9, 9},
			{"zero", 0, 9},
		}
		for _, step := range steps {
			f.setRead(rsReader, general, step.set)
			if got := f.readStates(rsReader, general)[general]; got != step.want {
				t.Errorf("after %s (%d): read seq %d, want %d", step.name, step.set, got, step.want)
			}
		}

		got := f.readStates(rsReader, general, other)
		if _, ok := got[other]; ok {
			t.Errorf("channel never marked has read seq %d, want it absent", got[other])
		}
		if len(f.readStates(rsWriter, general)) != 0 {
			t.Error("another user's read states include the reader's mark")
		}
		if len(f.readStates(rsReader)) != 0 {
			t.Error("ReadStates without channels returned entries")
		}
	})
}

func TestUnreadCountsLiveMessagesOfOthers(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newReadStateFixture(t, db)
		busy := rsGuild + "-general"
		quiet := f.channel("rs-quiet", 1)
		caughtUp := f.channel("rs-caught-up", 2)
		toUser := message.Mentions{Users: []string{rsReader}}

		read := f.send(busy, rsWriter, message.Mentions{})       // at the read seq: read
		f.send(busy, rsWriter, message.Mentions{})               // unread
		f.send(busy, rsWriter, toUser)                           // unread, mentions the reader
		f.delete(f.send(busy, rsWriter, toUser))                 // deleted: not counted
		f.send(busy, rsReader, message.Mentions{Everyone: true}) // the reader's own: not counted
		last := f.send(caughtUp, rsWriter, toUser)

		reads := map[string]int64{busy: read.Seq, caughtUp: last.Seq}
		got := f.unread(nil, []string{busy, quiet, caughtUp}, reads)
		want := map[string]message.UnreadCount{
			busy:     {Messages: 2, Mentions: 1},
			quiet:    {},
			caughtUp: {},
		}
		if !maps.Equal(got, want) {
			t.Errorf("Unread = %v, want %v", got, want)
		}

		got = f.unread(nil, []string{busy}, nil)
		if want := (message.UnreadCount{Messages: 3, Mentions: 1}); got[busy] != want {
			t.Errorf("Unread with no read seq = %+v, want every live message of others %+v", got[busy], want)
		}
		got = f.unread(nil, []string{busy, busy}, reads)
		if want := (message.UnreadCount{Messages: 2, Mentions: 1}); got[busy] != want {
			t.Errorf("Unread with the channel listed twice = %+v, want %+v", got[busy], want)
		}
		if got := f.unread(nil, nil, nil); len(got) != 0 {
			t.Errorf("Unread without channels = %v, want an empty map", got)
		}
	})
}

func TestUnreadCountsMentions(t *testing.T) {
	tests := []struct {
		name     string
		mentions message.Mentions
		want     int64
	}{
		{"no mentions", message.Mentions{}, 0},
		{"user mentioned", message.Mentions{Users: []string{"someone", rsReader}}, 1},
		{"everyone mentioned", message.Mentions{Everyone: true}, 1},
		{"held role mentioned", message.Mentions{Roles: []string{"role-other", rsHeldRole}}, 1},
		{"user and held role mentioned", message.Mentions{Users: []string{rsReader}, Roles: []string{rsHeldRole}}, 1},
		{"other user mentioned", message.Mentions{Users: []string{"someone"}}, 0},
		{"role not held mentioned", message.Mentions{Roles: []string{"role-other"}}, 0},
		{"id matching the wildcard in the user id", message.Mentions{Users: []string{"readerX1"}}, 0},
		{"id containing the user id", message.Mentions{Users: []string{rsReader + "-2"}}, 0},
		{"role tag naming the user id", message.Mentions{Roles: []string{rsReader}}, 0},
		{"user tag naming the held role id", message.Mentions{Users: []string{rsHeldRole}}, 0},
	}
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newReadStateFixture(t, db)
		channelIDs := make([]string, len(tests))
		for i, tt := range tests {
			channelIDs[i] = f.channel(fmt.Sprintf("rs-mention-%d", i), i+1)
			f.send(channelIDs[i], rsWriter, tt.mentions)
		}

		counts := f.unread([]string{rsHeldRole}, channelIDs, nil)
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got := counts[channelIDs[i]]
				if got.Messages != 1 {
					t.Errorf("messages = %d, want 1", got.Messages)
				}
				if got.Mentions != tt.want {
					t.Errorf("mentions = %d, want %d", got.Mentions, tt.want)
				}
			})
		}
	})
}

func TestUnreadRoleMentionNeedsRoleID(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newReadStateFixture(t, db)
		channelID := rsGuild + "-general"
		f.send(channelID, rsWriter, message.Mentions{Roles: []string{rsHeldRole}})

		if got := f.unread(nil, []string{channelID}, nil)[channelID]; got.Mentions != 0 {
			t.Errorf("mentions without role ids = %d, want 0", got.Mentions)
		}
	})
}

func TestReadStateQueriesSpanChunks(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newReadStateFixture(t, db)

		// 1,200 ids make three chunks of at most 500. Real channels are at
		// the first, a middle and the last index, and the rest name nothing.
		ids := make([]string, 1200)
		for i := range ids {
			ids[i] = fmt.Sprintf("rs-missing-%04d", i)
		}
		known := map[int]string{0: rsGuild + "-general", 700: f.channel("rs-middle", 1), 1199: f.channel("rs-last", 2)}
		reads := map[string]int64{}
		for i, channelID := range known {
			ids[i] = channelID
			read := f.send(channelID, rsWriter, message.Mentions{})
			f.send(channelID, rsWriter, message.Mentions{Users: []string{rsReader}})
			f.setRead(rsReader, channelID, read.Seq)
			reads[channelID] = read.Seq
		}

		if got := f.readStates(rsReader, ids...); !maps.Equal(got, reads) {
			t.Errorf("ReadStates = %v, want %v", got, reads)
		}

		got := f.unread(nil, ids, reads)
		if len(got) != len(ids) {
			t.Errorf("Unread returned %d channels, want all %d", len(got), len(ids))
		}
		for _, channelID := range known {
			if want := (message.UnreadCount{Messages: 1, Mentions: 1}); got[channelID] != want {
				t.Errorf("Unread[%s] = %+v, want %+v", channelID, got[channelID], want)
			}
		}
		if c := got[ids[1]]; c != (message.UnreadCount{}) {
			t.Errorf("Unread of an unknown channel = %+v, want zero", c)
		}
	})
}

// TestMentionsCanonicalLayout pins the stored form of mentions that
// Unread's LIKE patterns depend on: sorted keys, with "users" last.
func TestMentionsCanonicalLayout(t *testing.T) {
	got, err := event.Canonical(message.Mentions{Users: []string{"u1"}, Roles: []string{"r1"}, Everyone: true})
	if err != nil {
		t.Fatalf("Canonical: %v", err)
	}
	if want := `{"everyone":true,"roles":["r1"],"users":["u1"]}`; string(got) != want {
		t.Errorf("canonical mentions %s, want %s", got, want)
	}
}
