package message_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openguild/openguild/internal/guild"
	"github.com/openguild/openguild/internal/message"
	"github.com/openguild/openguild/internal/permission"
	"github.com/openguild/openguild/internal/validate"
)

// These tests cover the service's own logic with fakes. The store's SQL
// is tested on both databases in the store package, and the route end to
// end in httpapi.

var readEpoch = time.Date(2030, time.May, 6, 7, 8, 9, 123_000_000, time.UTC)

type fixedClock struct{}

func (fixedClock) Now() time.Time { return readEpoch }

// visibleChannels lets the caller view exactly the channels it holds.
type visibleChannels map[string]guild.Channel

func (v visibleChannels) ChannelAccess(_ context.Context, _, channelID string) (guild.Channel, permission.Set, error) {
	ch, ok := v[channelID]
	if !ok {
		return guild.Channel{}, 0, guild.ErrNotFound
	}
	return ch, permission.EveryoneDefault, nil
}

// KnownMentions keeps every mention: the read-state tests send none.
func (v visibleChannels) KnownMentions(_ context.Context, _ guild.Channel, userIDs, roleIDs []string) ([]string, []string, error) {
	return userIDs, roleIDs, nil
}

// unreadCall is one call of Unread, with its channel ids sorted.
type unreadCall struct {
	roleIDs    []string
	channelIDs []string
}

// recordingReadStates keeps one user's read seqs in memory and records
// each Unread call. Unread reports one message per channel and one
// mention per role id it was given, so tests can see which roles
// reached which channels.
type recordingReadStates struct {
	seqs  map[string]int64
	at    time.Time
	calls []unreadCall
}

func (r *recordingReadStates) SetReadState(_ context.Context, _, channelID string, seq int64, at time.Time) error {
	r.seqs[channelID] = max(r.seqs[channelID], seq)
	r.at = at
	return nil
}

func (r *recordingReadStates) ReadStates(_ context.Context, _ string, channelIDs []string) (map[string]int64, error) {
	out := make(map[string]int64)
	for _, id := range channelIDs {
		if seq, ok := r.seqs[id]; ok {
			out[id] = seq
		}
	}
	return out, nil
}

func (r *recordingReadStates) Unread(_ context.Context, _ string, roleIDs, channelIDs []string, _ map[string]int64) (map[string]message.UnreadCount, error) {
	r.calls = append(r.calls, unreadCall{roleIDs: roleIDs, channelIDs: slices.Sorted(slices.Values(channelIDs))})
	out := make(map[string]message.UnreadCount)
	for _, id := range channelIDs {
		out[id] = message.UnreadCount{Messages: 1, Mentions: int64(len(roleIDs))}
	}
	return out, nil
}

func newReadService(channels visibleChannels) (*message.Service, *recordingReadStates) {
	reads := &recordingReadStates{seqs: map[string]int64{}}
	return message.NewService(nil, channels, nil, message.Options{Clock: fixedClock{}, ReadStates: reads}), reads
}

func TestMarkRead(t *testing.T) {
	channels := visibleChannels{
		"text":     {ID: "text", GuildID: "g", Kind: guild.KindText, LastSeq: 10},
		"category": {ID: "category", GuildID: "g", Kind: guild.KindCategory, LastSeq: 3},
	}
	tests := []struct {
		name      string
		stored    int64 // read seq before the call
		channelID string
		seq       int64
		wantErr   error // nil, a sentinel, or errInvalidSeq
		wantSeq   int64 // read seq after the call
	}{
		{"zero", 0, "text", 0, nil, 0},
		{"last seq", 0, "text", 10, nil, 10},
		{"lower seq keeps the higher", 10, "text", 4, nil, 10},
		{"negative seq", 0, "text", -1, errInvalidSeq, 0},
		{"beyond last seq", 0, "text", 11, errInvalidSeq, 0},
		{"beyond last seq keeps the stored", 6, "text", 11, errInvalidSeq, 6},
		{"channel not visible", 0, "hidden", 1, message.ErrNotFound, 0},
		{"category", 0, "category", 1, message.ErrNotTextChannel, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, reads := newReadService(channels)
			if tt.stored > 0 {
				reads.seqs[tt.channelID] = tt.stored
			}

			err := s.MarkRead(t.Context(), "u", tt.channelID, tt.seq)
			checkMarkReadErr(t, err, tt.wantErr)
			if got := reads.seqs[tt.channelID]; got != tt.wantSeq {
				t.Errorf("stored seq %d, want %d", got, tt.wantSeq)
			}
			if tt.wantErr == nil && !reads.at.Equal(readEpoch) {
				t.Errorf("stored at %v, want the service clock's %v", reads.at, readEpoch)
			}
		})
	}
}

// errInvalidSeq stands for a *validate.Error on field seq in test tables.
var errInvalidSeq = errors.New("invalid seq")

func checkMarkReadErr(t *testing.T, err, want error) {
	t.Helper()
	if want != errInvalidSeq {
		if !errors.Is(err, want) {
			t.Errorf("MarkRead error %v, want %v", err, want)
		}
		return
	}
	var fieldErr *validate.Error
	if !errors.As(err, &fieldErr) || fieldErr.Field != "seq" {
		t.Errorf("MarkRead error %v, want a validation error on seq", err)
	}
}

func TestMarkReadWithoutStore(t *testing.T) {
	s := message.NewService(nil, visibleChannels{}, nil, message.Options{})
	if err := s.MarkRead(t.Context(), "u", "text", 0); err == nil {
		t.Error("MarkRead without Options.ReadStates succeeded, want an error")
	}
	if _, _, err := s.UnreadSummary(t.Context(), "u", nil, nil); err == nil {
		t.Error("UnreadSummary without Options.ReadStates succeeded, want an error")
	}
}

func TestUnreadSummary(t *testing.T) {
	channels := []guild.Channel{
		{ID: "a-text", GuildID: "a", Kind: guild.KindText, LastSeq: 9},
		{ID: "a-read", GuildID: "a", Kind: guild.KindText, LastSeq: 5},
		{ID: "a-category", GuildID: "a", Kind: guild.KindCategory, LastSeq: 2},
		{ID: "a-voice", GuildID: "a", Kind: guild.KindVoice, LastSeq: 2},
		{ID: "b-text", GuildID: "b", Kind: guild.KindText, LastSeq: 4},
		{ID: "c-text", GuildID: "c", Kind: guild.KindText, LastSeq: 7},
		{ID: "dm", Kind: guild.KindDM, LastSeq: 3},
		{ID: "group", Kind: guild.KindGroupDM, LastSeq: 0},
	}
	roles := map[string][]string{"a": {"a-role"}, "c": {"c-role-1", "c-role-2"}, "": {"not-a-guild"}}
	s, store := newReadService(nil)
	store.seqs["a-text"] = 2
	store.seqs["a-read"] = 5

	reads, unread, err := s.UnreadSummary(t.Context(), "u", channels, roles)
	if err != nil {
		t.Fatalf("UnreadSummary: %v", err)
	}

	wantReads := map[string]int64{"a-text": 2, "a-read": 5, "b-text": 0, "c-text": 0, "dm": 0, "group": 0}
	if !maps.Equal(reads, wantReads) {
		t.Errorf("reads = %v, want %v", reads, wantReads)
	}
	wantUnread := map[string]message.UnreadCount{
		"a-text": {Messages: 1, Mentions: 1},
		"a-read": {},
		"b-text": {Messages: 1},
		"c-text": {Messages: 1, Mentions: 2},
		"dm":     {Messages: 1},
		"group":  {},
	}
	if !maps.Equal(unread, wantUnread) {
		t.Errorf("unread = %v, want %v", unread, wantUnread)
	}

	// Each guild with roles gets its own query, and the other channels
	// share one with no roles. Fully read channels are not queried.
	wantCalls := map[string][]string{
		"a-role":            {"a-text"},
		"c-role-1,c-role-2": {"c-text"},
		"":                  {"b-text", "dm"},
	}
	if len(store.calls) != len(wantCalls) {
		t.Fatalf("Unread called %d times, want %d: %+v", len(store.calls), len(wantCalls), store.calls)
	}
	for _, call := range store.calls {
		key := strings.Join(call.roleIDs, ",")
		if want, ok := wantCalls[key]; !ok || !slices.Equal(call.channelIDs, want) {
			t.Errorf("Unread call with roles %v for channels %v, want roles matching channels %v", call.roleIDs, call.channelIDs, wantCalls)
		}
	}
}
