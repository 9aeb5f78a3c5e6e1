package store_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/openguild/openguild/internal/media"
	"github.com/openguild/openguild/internal/message"
	"github.com/openguild/openguild/internal/store"
	"github.com/openguild/openguild/internal/storetest"
)

// batchDraft returns a draft by the writer in a channel of the read-state
// guild.
func batchDraft(channelID, nonce, replyTo string, attachmentIDs ...string) message.Draft {
	return message.Draft{
		ID: uuid.Must(uuid.NewV7()).String(), ChannelID: channelID, GuildID: rsGuild, AuthorID: rsWriter,
		Content: "hello", Nonce: nonce, ReplyTo: replyTo, AttachmentIDs: attachmentIDs,
		CreatedAt: guildsEpoch(), NonceSince: guildsEpoch().Add(-24 * time.Hour),
	}
}

// createMedia records an upload of userID and returns its id.
func createMedia(t *testing.T, db *store.DB, userID string) string {
	t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	m := media.Media{ID: id, UploaderID: userID, Filename: "f.txt", ContentType: "text/plain", Size: 3,
		SHA256: strings.Repeat("a", 63) + id[len(id)-1:], CreatedAt: guildsEpoch()}
	if err := db.Media().Create(t.Context(), m, 1<<30); err != nil {
		t.Fatalf("create media of %s: %v", userID, err)
	}
	return id
}

func TestAppendBatchDraftsFailAlone(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newReadStateFixture(t, db)
		chatA, chatB := f.channel("chat-a", 0), f.channel("chat-b", 1)
		first := f.send(chatA, rsWriter, message.Mentions{})
		own, foreign := createMedia(t, db, rsWriter), createMedia(t, db, rsReader)

		drafts := []message.Draft{
			batchDraft(chatA, "n1", first.ID),
			batchDraft(chatB, "", ""),
			batchDraft(chatA, "n1", ""), // repeats the first draft's nonce
			batchDraft(chatA, "", "unknown-message"),
			batchDraft(chatA, "", "", foreign),
			batchDraft(chatA, "n2", "", own),
			batchDraft(chatB, "", first.ID), // the replied-to message is in another channel
		}
		out, err := db.Messages().AppendBatch(t.Context(), drafts)
		if err != nil {
			t.Fatalf("AppendBatch: %v", err)
		}

		// Each channel's log starts with its channel_create, and chat-a
		// then holds the first message at seq 2.
		for i, want := range []struct {
			seq int64
			err error
		}{{3, nil}, {2, nil}, {3, nil}, {0, message.ErrReplyNotFound}, {0, message.ErrAttachmentNotFound}, {4, nil}, {0, message.ErrReplyNotFound}} {
			if !errors.Is(out[i].Err, want.err) || out[i].Message.Seq != want.seq {
				t.Errorf("draft %d: seq %d, error %v; want seq %d, error %v", i, out[i].Message.Seq, out[i].Err, want.seq, want.err)
			}
		}
		if !out[2].Existing || out[2].Message.ID != drafts[0].ID || len(out[2].Events) != 0 {
			t.Errorf("repeated nonce: existing %v, id %s, %d events; want the first draft's message and no event",
				out[2].Existing, out[2].Message.ID, len(out[2].Events))
		}
		if got := out[5].Message.Attachments; len(got) != 1 || got[0].ID != own {
			t.Errorf("attachments of draft 5: %+v, want media %s", got, own)
		}
		if e := out[5].Events; len(e) != 1 || e[0].Seq != 4 || !strings.Contains(string(e[0].Data), own) {
			t.Errorf("events of draft 5: %d, want one message_create at seq 4 naming its attachment", len(e))
		}

		// Each channel's log has no gaps: the failed drafts took no seq.
		for channelID, want := range map[string]int{chatA: 4, chatB: 2} {
			events, err := db.Events(t.Context(), channelID, 0, 100)
			if err != nil {
				t.Fatalf("Events of %s: %v", channelID, err)
			}
			for i, e := range events {
				if e.Seq != int64(i+1) {
					t.Errorf("log %s: event %d has seq %d", channelID, i, e.Seq)
				}
			}
			if len(events) != want {
				t.Errorf("log %s holds %d events, want %d", channelID, len(events), want)
			}
		}

		// A later batch gets the stored message back, attachments included.
		again, err := db.Messages().AppendBatch(t.Context(), []message.Draft{batchDraft(chatA, "n2", "")})
		if err != nil {
			t.Fatalf("AppendBatch again: %v", err)
		}
		if got := again[0]; !got.Existing || got.Message.ID != drafts[5].ID || len(got.Message.Attachments) != 1 {
			t.Errorf("stored nonce: existing %v, id %s, %d attachments; want draft 5's message with its attachment",
				got.Existing, got.Message.ID, len(got.Message.Attachments))
		}
	})
}
