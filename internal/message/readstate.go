package message

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/openguild/openguild/internal/guild"
	"github.com/openguild/openguild/internal/validate"
)

// UnreadCount is the tally of one user's unread messages in one channel.
// Its JSON form is a value of the gateway ready payload's unread map.
type UnreadCount struct {
	// Messages counts the live messages after the user's read seq that
	// someone else wrote.
	Messages int64 `json:"messages"`

	// Mentions counts those of Messages that mention the user by id,
	// through one of their roles, or through @everyone.
	Mentions int64 `json:"mentions"`
}

// ReadStates stores how far each user has read each channel. A read seq
// is a seq of the channel's log, and everything up to it counts as read.
// The store package implements it on both dialects.
type ReadStates interface {
	// SetReadState raises userID's read seq in channelID to seq. A seq
	// at or below the stored one changes nothing, so read states never
	// move back.
	SetReadState(ctx context.Context, userID, channelID string, seq int64, at time.Time) error

	// ReadStates returns userID's stored read seq of each listed channel.
	// A channel the user never marked is absent from the map.
	ReadStates(ctx context.Context, userID string, channelIDs []string) (map[string]int64, error)

	// Unread returns an UnreadCount for every listed channel, counting
	// the messages after reads[channel] (0 when absent). roleIDs are the
	// user's roles whose mentions count, and they apply to every listed
	// channel.
	Unread(ctx context.Context, userID string, roleIDs, channelIDs []string, reads map[string]int64) (map[string]UnreadCount, error)
}

// errNoReadStates means the Service was built without Options.ReadStates.
var errNoReadStates = errors.New("read states unavailable: message.Options.ReadStates is not set")

// MarkRead records that userID has read channelID up to seq, a seq of the
// channel's log from 0 to the channel's last_seq. A seq below the stored
// one is accepted and changes nothing, because another device may have
// read further. Errors: ErrNotFound for a channel the user cannot view,
// ErrNotTextChannel, or a *validate.Error on field seq.
func (s *Service) MarkRead(ctx context.Context, userID, channelID string, seq int64) error {
	if s.opts.ReadStates == nil {
		return errNoReadStates
	}
	ch, _, err := s.access(ctx, userID, channelID)
	if err != nil {
		return err
	}
	if seq < 0 || seq > ch.LastSeq {
		return &validate.Error{Field: "seq", Message: fmt.Sprintf("must be from 0 to the channel's last_seq, %d", ch.LastSeq)}
	}
	return s.opts.ReadStates.SetReadState(ctx, userID, ch.ID, seq, s.now())
}

// UnreadSummary returns the user's read seq and unread counts for each
// given channel that holds messages, for the gateway's ready payload.
// Categories and voice channels are left out. A channel never marked
// read has read seq 0. The channels must be ones the user can view,
// because they are not checked again.
//
// roleIDsByGuild maps a guild id to the user's role ids in that guild,
// without the @everyone role: a mention of @everyone is counted through
// the message's everyone flag, which only members with MENTION_EVERYONE
// can set. A role counts only in the channels of its own guild.
func (s *Service) UnreadSummary(ctx context.Context, userID string, channels []guild.Channel, roleIDsByGuild map[string][]string) (reads map[string]int64, unread map[string]UnreadCount, err error) {
	if s.opts.ReadStates == nil {
		return nil, nil, errNoReadStates
	}
	var ids []string
	for _, ch := range channels {
		if holdsMessages(ch) {
			ids = append(ids, ch.ID)
		}
	}
	stored, err := s.opts.ReadStates.ReadStates(ctx, userID, ids)
	if err != nil {
		return nil, nil, err
	}

	reads = make(map[string]int64, len(ids))
	unread = make(map[string]UnreadCount, len(ids))
	pending := make(map[string][]string) // channel ids to count, by guild id, or by "" when no role can match
	for _, ch := range channels {
		if !holdsMessages(ch) {
			continue
		}
		reads[ch.ID] = stored[ch.ID]
		unread[ch.ID] = UnreadCount{}
		if stored[ch.ID] >= ch.LastSeq {
			continue // nothing was appended after the read seq
		}
		group := ""
		if ch.GuildID != "" && len(roleIDsByGuild[ch.GuildID]) > 0 {
			group = ch.GuildID
		}
		pending[group] = append(pending[group], ch.ID)
	}

	// One query per guild whose roles the user holds, and one for every
	// other channel, so that a role of one guild never counts as a
	// mention in another guild's channel.
	for group, channelIDs := range pending {
		var roleIDs []string
		if group != "" {
			roleIDs = roleIDsByGuild[group]
		}
		counts, err := s.opts.ReadStates.Unread(ctx, userID, roleIDs, channelIDs, reads)
		if err != nil {
			return nil, nil, err
		}
		maps.Copy(unread, counts)
	}
	return reads, unread, nil
}

// holdsMessages reports whether a channel's kind carries messages.
func holdsMessages(ch guild.Channel) bool {
	return ch.Kind != guild.KindCategory && ch.Kind != guild.KindVoice
}
